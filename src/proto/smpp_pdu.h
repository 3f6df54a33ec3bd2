/*
 * callbar: SMPP v3.4 PDUs, bytes to structs and back (no sockets).
 *
 * Why callbar has its own codec rather than Debian's libsmpp34: libsmpp34
 * unpacks every PDU into fixed structs with copied strings and a linked
 * list of TLVs allocated per PDU (a malloc per TLV on the relay path, and
 * the TLVs re-encoded rather than kept as sent), and a mutation run of
 * smpp34_unpack2() under valgrind (libsmpp34 1.14.1, Debian 12) found it
 * reading the command_id of a 4-byte buffer it was given, 4 bytes past its
 * end (docs/smpp.md "The codec" has the run).  A firewall must
 * relay a message unchanged, TLVs and all, and read nothing it does not
 * need: this codec reads the header and the few fields a decision needs as
 * slices of the caller's buffer, and keeps the TLVs as one opaque slice,
 * checked only for being well framed.
 *
 * Conventions:
 * - A PDU is the 16-byte header (command_length, command_id,
 *   command_status, sequence_number, big-endian) and a body of
 *   command_length - 16 bytes.  cbar_smpp_frame() says whether a buffer
 *   holds a whole PDU; the parsers take the body alone and never read
 *   outside it.
 * - Strings are SMPP C-octet strings: at most the field's maximum length,
 *   NUL included, and a body that ends before the NUL is malformed.  A
 *   parsed string is a slice (pointer, length without the NUL) into the
 *   caller's buffer, which must outlive the struct.
 * - Parsers return CBAR_OK or CBAR_SMPP; *status then gets the SMPP
 *   command_status to answer with (ESME_RINVCMDLEN, ESME_RINVSRCADR, ...).
 * - Writers append to a struct smpp_w with a fixed capacity; a write past
 *   it marks the writer failed and every later write does nothing.
 */
#ifndef CALLBAR_PROTO_SMPP_PDU_H
#define CALLBAR_PROTO_SMPP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"

#define SMPP_HEADER_LEN 16u
/* The command_length a peer may declare by default (smpp.pdu_max). */
#define SMPP_PDU_MAX_DEFAULT 4096u

#define SMPP_RESP_BIT 0x80000000u
#define SMPP_CMD_MAP(X)                                                                    \
	X(GENERIC_NACK, 0x80000000u, "generic_nack")                                       \
	X(BIND_RECEIVER, 0x00000001u, "bind_receiver")                                     \
	X(BIND_RECEIVER_RESP, 0x80000001u, "bind_receiver_resp")                           \
	X(BIND_TRANSMITTER, 0x00000002u, "bind_transmitter")                               \
	X(BIND_TRANSMITTER_RESP, 0x80000002u, "bind_transmitter_resp")                     \
	X(QUERY_SM, 0x00000003u, "query_sm")                                               \
	X(QUERY_SM_RESP, 0x80000003u, "query_sm_resp")                                     \
	X(SUBMIT_SM, 0x00000004u, "submit_sm")                                             \
	X(SUBMIT_SM_RESP, 0x80000004u, "submit_sm_resp")                                   \
	X(DELIVER_SM, 0x00000005u, "deliver_sm")                                           \
	X(DELIVER_SM_RESP, 0x80000005u, "deliver_sm_resp")                                 \
	X(UNBIND, 0x00000006u, "unbind")                                                   \
	X(UNBIND_RESP, 0x80000006u, "unbind_resp")                                         \
	X(REPLACE_SM, 0x00000007u, "replace_sm")                                           \
	X(CANCEL_SM, 0x00000008u, "cancel_sm")                                             \
	X(BIND_TRANSCEIVER, 0x00000009u, "bind_transceiver")                               \
	X(BIND_TRANSCEIVER_RESP, 0x80000009u, "bind_transceiver_resp")                     \
	X(OUTBIND, 0x0000000Bu, "outbind")                                                 \
	X(ENQUIRE_LINK, 0x00000015u, "enquire_link")                                       \
	X(ENQUIRE_LINK_RESP, 0x80000015u, "enquire_link_resp")                             \
	X(SUBMIT_MULTI, 0x00000021u, "submit_multi")                                       \
	X(ALERT_NOTIFICATION, 0x00000102u, "alert_notification")                           \
	X(DATA_SM, 0x00000103u, "data_sm")                                                 \
	X(DATA_SM_RESP, 0x80000103u, "data_sm_resp")

/* Command ids as constants (above INT_MAX, so not an enum in ISO C). */
#define SMPP_GENERIC_NACK 0x80000000u
#define SMPP_BIND_RECEIVER 0x00000001u
#define SMPP_BIND_RECEIVER_RESP 0x80000001u
#define SMPP_BIND_TRANSMITTER 0x00000002u
#define SMPP_BIND_TRANSMITTER_RESP 0x80000002u
#define SMPP_QUERY_SM 0x00000003u
#define SMPP_QUERY_SM_RESP 0x80000003u
#define SMPP_SUBMIT_SM 0x00000004u
#define SMPP_SUBMIT_SM_RESP 0x80000004u
#define SMPP_DELIVER_SM 0x00000005u
#define SMPP_DELIVER_SM_RESP 0x80000005u
#define SMPP_UNBIND 0x00000006u
#define SMPP_UNBIND_RESP 0x80000006u
#define SMPP_REPLACE_SM 0x00000007u
#define SMPP_CANCEL_SM 0x00000008u
#define SMPP_BIND_TRANSCEIVER 0x00000009u
#define SMPP_BIND_TRANSCEIVER_RESP 0x80000009u
#define SMPP_OUTBIND 0x0000000Bu
#define SMPP_ENQUIRE_LINK 0x00000015u
#define SMPP_ENQUIRE_LINK_RESP 0x80000015u
#define SMPP_SUBMIT_MULTI 0x00000021u
#define SMPP_ALERT_NOTIFICATION 0x00000102u
#define SMPP_DATA_SM 0x00000103u
#define SMPP_DATA_SM_RESP 0x80000103u

/* The command_status values callbar sends or reads (SMPP v3.4 5.1.3). */
enum smpp_status {
	SMPP_ROK = 0x00,
	SMPP_RINVMSGLEN = 0x01,
	SMPP_RINVCMDLEN = 0x02,
	SMPP_RINVCMDID = 0x03,
	SMPP_RINVBNDSTS = 0x04,
	SMPP_RALYBND = 0x05,
	SMPP_RSYSERR = 0x08,
	SMPP_RINVSRCADR = 0x0A,
	SMPP_RINVDSTADR = 0x0B,
	SMPP_RBINDFAIL = 0x0D,
	SMPP_RINVPASWD = 0x0E,
	SMPP_RINVSYSID = 0x0F,
	SMPP_RMSGQFUL = 0x14,
	SMPP_RINVESMCLASS = 0x43,
	SMPP_RTHROTTLED = 0x58,
	SMPP_RX_R_APPN = 0x66,
	SMPP_RINVOPTPARSTREAM = 0xC0,
	SMPP_RINVTLVLEN = 0xC2,
	SMPP_RUNKNOWNERR = 0xFF,
};

/* The name of a command id ("submit_sm"), or NULL for one SMPP v3.4 does
 * not define. */
const char *cbar_smpp_cmd_name(uint32_t id);

struct smpp_slice {
	const uint8_t *p;
	size_t len;
};

struct smpp_hdr {
	uint32_t len, id, status, seq;
};

/* Field limits, NUL included (SMPP v3.4 section 4). */
enum {
	SMPP_SYSTEM_ID_MAX = 16,
	SMPP_PASSWORD_MAX = 9,
	SMPP_SYSTEM_TYPE_MAX = 13,
	SMPP_ADDR_RANGE_MAX = 41,
	SMPP_ADDR_MAX = 21,
	SMPP_DATA_ADDR_MAX = 65, /* data_sm's addresses */
	SMPP_SERVICE_TYPE_MAX = 6,
	SMPP_TIME_MAX = 17,
	SMPP_MESSAGE_ID_MAX = 65,
};

/* What a buffer holds (cbar_smpp_frame). */
enum smpp_frame {
	SMPP_FRAME_MORE = 0,    /* not yet a whole PDU: read more */
	SMPP_FRAME_PDU = 1,     /* a whole PDU of h->len bytes at the start */
	SMPP_FRAME_BAD_LEN = 2, /* command_length below 16 or above max: close */
};

/*
 * Whether buf (len bytes) starts with a whole PDU no longer than max.
 * h is filled as soon as the 16 header bytes are there (SMPP_FRAME_MORE
 * with len >= 16 still fills it, so a too-long PDU is known before its
 * body arrives).
 */
enum smpp_frame cbar_smpp_frame(const uint8_t *buf, size_t len, uint32_t max,
                                struct smpp_hdr *h);

struct smpp_bind {
	struct smpp_slice system_id, password, system_type, address_range;
	uint8_t version, ton, npi;
};

struct smpp_addr {
	uint8_t ton, npi;
	struct smpp_slice addr;
};

/* submit_sm, deliver_sm (same layout) and data_sm (no priority, times,
 * short message: those fields stay zero). */
struct smpp_sm {
	struct smpp_slice service_type;
	struct smpp_addr src, dst;
	uint8_t esm_class, protocol_id, priority, registered_delivery, replace, data_coding,
	    default_msg_id;
	struct smpp_slice schedule, validity;
	struct smpp_slice short_message; /* sm_length bytes */
	struct smpp_slice tlvs;          /* the optional parameters, opaque, well framed */
};

/* Optional parameter tags callbar reads. */
enum {
	SMPP_TLV_RECEIPTED_MESSAGE_ID = 0x001E,
	SMPP_TLV_SAR_MSG_REF_NUM = 0x020C,
	SMPP_TLV_SAR_TOTAL_SEGMENTS = 0x020E,
	SMPP_TLV_SAR_SEGMENT_SEQNUM = 0x020F,
	SMPP_TLV_MESSAGE_PAYLOAD = 0x0424,
};

/* esm_class: the message type bits of a deliver_sm that is a receipt. */
#define SMPP_ESM_TYPE_MASK 0x3Cu
#define SMPP_ESM_RECEIPT 0x04u
#define SMPP_ESM_UDHI 0x40u

/* The three bind requests' body. */
enum cbar_err cbar_smpp_parse_bind(const uint8_t *body, size_t len, struct smpp_bind *b,
                                   uint32_t *status);

/* submit_sm, deliver_sm or data_sm (by id), body only. */
enum cbar_err cbar_smpp_parse_sm(uint32_t id, const uint8_t *body, size_t len,
                                 struct smpp_sm *m, uint32_t *status);

/* A response whose body opens with one C-octet string (submit_sm_resp,
 * data_sm_resp, deliver_sm_resp: message_id; bind_*_resp: system_id); an
 * empty body (allowed on an error status) gives an empty slice. */
enum cbar_err cbar_smpp_parse_resp_id(const uint8_t *body, size_t len, size_t max,
                                      struct smpp_slice *id);

/* Whether tlvs (a well-framed TLV stream) holds tag; *v its value. */
bool cbar_smpp_tlv_find(struct smpp_slice tlvs, uint16_t tag, struct smpp_slice *v);

/* ---- writing ---------------------------------------------------------- */

struct smpp_w {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

void cbar_smpp_w_init(struct smpp_w *w, uint8_t *buf, size_t cap);
/* Open a PDU (its length written by cbar_smpp_w_end). */
void cbar_smpp_w_begin(struct smpp_w *w, uint32_t id, uint32_t status, uint32_t seq);
void cbar_smpp_w_u8(struct smpp_w *w, uint8_t v);
void cbar_smpp_w_u16(struct smpp_w *w, uint16_t v);
void cbar_smpp_w_u32(struct smpp_w *w, uint32_t v);
void cbar_smpp_w_bytes(struct smpp_w *w, const void *p, size_t n);
/* A C-octet string (the NUL added); longer than max - 1 fails the writer. */
void cbar_smpp_w_cstr(struct smpp_w *w, const void *s, size_t n, size_t max);
/* Close the PDU opened at offset start: writes its command_length.  The
 * PDU's length, or 0 when the writer failed. */
size_t cbar_smpp_w_end(struct smpp_w *w, size_t start);

/* A header-only PDU (enquire_link, unbind, their responses, generic_nack). */
size_t cbar_smpp_write_empty(uint8_t *buf, size_t cap, uint32_t id, uint32_t status,
                             uint32_t seq);
/* A response carrying one C-octet string (message_id or system_id); on an
 * error status that string is empty (a bind response's system_id too). */
size_t cbar_smpp_write_resp_id(uint8_t *buf, size_t cap, uint32_t id, uint32_t status,
                               uint32_t seq, const void *s, size_t n);
/* A bind request (callbar's own binds to the home SMSC). */
size_t cbar_smpp_write_bind(uint8_t *buf, size_t cap, uint32_t id, uint32_t seq,
                            const char *system_id, const char *password,
                            const char *system_type);

/* Big-endian reads and the header's sequence number rewritten in place. */
uint32_t cbar_smpp_get32(const uint8_t *p);
void cbar_smpp_put32(uint8_t *p, uint32_t v);

#endif
