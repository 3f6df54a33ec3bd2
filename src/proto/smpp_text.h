/*
 * callbar: the SMS texts of the keyword service, and the event of an SMPP
 * message (no sockets).
 *
 * Only a message addressed to a keyword service number is ever decoded
 * (cbar_smpp_keyword_text); a relayed message's text is never looked at.
 * The reply is written as UCS-2 segments (cbar_smpp_reply_pdus), since the
 * keyword answers are in Chinese and English.
 */
#ifndef CALLBAR_PROTO_SMPP_TEXT_H
#define CALLBAR_PROTO_SMPP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "smpp_pdu.h"

/*
 * A keyword message's text as UTF-8 into out (cap bytes, NUL-ended):
 * data_coding 0 (GSM 03.38 default alphabet, unpacked septets as SMPP
 * carries them), 1 (IA5/ASCII), 3 (Latin-1), 8 (UCS-2, UTF-16 pairs too);
 * the text from message_payload when the message has one, after a UDH
 * when esm_class says there is one; full-width digits and letters
 * (U+FF10..) folded to ASCII, so "１２１９" is "1219".  CBAR_OK, or
 * CBAR_SMPP for a coding it does not read or a text that does not fit.
 */
enum cbar_err cbar_smpp_keyword_text(const struct smpp_sm *m, char *out, size_t cap,
                                     size_t *len);

/* A number's text as the event reads it, from its TON: international
 * (1) gets a '+', the others are given as they are (national in the
 * operator's country); alphanumeric (5) sets *alnum and gives "". */
void cbar_smpp_addr_text(const struct smpp_addr *a, char *out, size_t cap, bool *alnum);

/*
 * The event of a submit_sm or data_sm from a peer whose messages go in
 * direction dir with ingress class via: service sms; direction in: the
 * subscriber is destination_addr and the peer source_addr (out: the other
 * way round); numbers by their TON.  An alphanumeric sender has no number:
 * ev.peer is NULL and ev.peer_alnum true.  A subscriber that cannot be read
 * stays in in->sub_err (the engine still decides, as for any front end).
 */
void cbar_smpp_event(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                     const struct smpp_sm *m, enum cbar_direction dir, const char *via,
                     int64_t now);

/*
 * The keyword answer: text (UTF-8) from the service number `from` to the
 * subscriber `to` (as the deliver_sm gave them: TON/NPI and digits), as
 * one submit_sm in UCS-2, or several with a concatenation UDH (8-bit
 * reference ref) when it is longer than 70 characters.  The PDUs are
 * written one after the other into buf with sequence numbers seq, seq+1,
 * ...; returns how many (0 when they do not fit in cap), *len their bytes.
 */
unsigned cbar_smpp_reply_pdus(const struct smpp_addr *from, const struct smpp_addr *to,
                              const char *text, uint8_t ref, uint32_t seq, uint8_t *buf,
                              size_t cap, size_t *len);

/* UCS-2 (big-endian, n bytes) to UTF-8 (for tests that read a reply). */
size_t cbar_smpp_ucs2_to_utf8(const uint8_t *p, size_t n, char *out, size_t cap);

/* ---- concatenated keyword texts ------------------------------------------ */

/*
 * A keyword sent as a long message arrives in parts (deliver_sm with a UDH
 * whose information element 0x00 (8-bit reference) or 0x08 (16-bit) says
 * reference, count and number).  The parts wait in a table of fixed size,
 * keyed by sender, service number and reference, until all have come; an
 * entry older than ttl_ms, or pushed out by a new one when the table is
 * full, is dropped and counted.  Only parts of texts to a service number
 * are put here (the caller checks): no other text is kept or read.
 * The clock is the caller's (now_ms), so this stays pure.
 */
#define SMPP_CONCAT_SLOTS    64
#define SMPP_CONCAT_PARTS    8
#define SMPP_CONCAT_PART_MAX 256

struct smpp_concat_entry {
	bool used;
	char from[24], to[24];
	uint16_t ref;
	uint8_t total, have, data_coding;
	uint16_t len[SMPP_CONCAT_PARTS];
	bool got[SMPP_CONCAT_PARTS];
	int64_t t_ms;
	uint8_t part[SMPP_CONCAT_PARTS][SMPP_CONCAT_PART_MAX];
};

struct smpp_concat {
	int64_t ttl_ms;
	uint64_t dropped; /* entries expired or pushed out before they were whole */
	struct smpp_concat_entry e[SMPP_CONCAT_SLOTS];
};

enum smpp_concat_res {
	SMPP_CONCAT_NONE,    /* not a part of a longer message: read m as it is */
	SMPP_CONCAT_HELD,    /* a part kept: nothing to read yet */
	SMPP_CONCAT_WHOLE,   /* the last part: *whole is the message to read */
	SMPP_CONCAT_INVALID, /* not a part: count 0 or over 8, number beyond it */
};

/* Drop (and count) the entries older than ttl_ms. */
void cbar_smpp_concat_expire(struct smpp_concat *t, int64_t now_ms);
/*
 * Take message m (from, to: the sender's and service number's text).  On
 * SMPP_CONCAT_WHOLE, *whole is m with the parts' texts joined, without UDH
 * (esm_class UDHI cleared, no TLVs), its short_message in buf (cap bytes).
 */
enum smpp_concat_res cbar_smpp_concat_add(struct smpp_concat *t, const struct smpp_sm *m,
                                          const char *from, const char *to, int64_t now_ms,
                                          struct smpp_sm *whole, uint8_t *buf, size_t cap);

#endif
