/*
 * callbar: the SMPP firewall's sockets: a listener where interconnect
 * peers bind (callbar plays the SMSC), and callbar's own binds to the home
 * SMSC (callbar plays an ESME), in one event loop thread.
 *
 * Conventions for this header:
 * - Everything about the bytes is src/proto (smpp_pdu.h, smpp_text.h);
 *   this module moves them, keeps the windows and routes responses and
 *   receipts.  It never reads a relayed message's text: only a deliver_sm
 *   from the home SMSC to a service number (hooks.is_service) is decoded,
 *   for the keyword service.
 * - What the daemon decides is asked through hooks (struct smpp_hooks),
 *   called on the loop thread: bind() checks a peer's credentials,
 *   decide() decides an event (between enter() and leave(), which hold the
 *   daemon's snapshot while the verdict is read), keyword() applies a
 *   keyword and writes the answer's text.  The hooks must not keep
 *   pointers into the PDU.
 * - A message a peer submits is answered only once the home SMSC answered
 *   it (with the SMSC's message_id), or at once with an error: blocked
 *   (block_status), the peer's window full or no upstream bind with room
 *   (ESME_RTHROTTLED), malformed.  A message the SMSC never answered, or
 *   whose upstream bind dropped, is answered ESME_RTHROTTLED so the peer
 *   sends it again: nothing is accepted and then lost.
 * - Ownership: cbar_smpp_server_start() copies the configuration; the
 *   numbering plan and the hooks' context are borrowed and must outlive
 *   cbar_smpp_server_stop().
 */
#ifndef CALLBAR_NET_SMPP_SERVER_H
#define CALLBAR_NET_SMPP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "callbar/rules.h"

/* A peer as the daemon's peers file describes it (the bind hook fills it). */
#define SMPP_VIA_MAX 32
struct smpp_peer_info {
	unsigned index;                /* the peer's number in the daemon's list, < SMPP_PEERS_MAX */
	char via[SMPP_VIA_MAX];        /* ingress class of its messages (rules' `via`) */
	enum cbar_direction direction; /* of its messages: in (default) or out */
	unsigned max_binds;            /* binds it may hold at once; 0: 1 */
};
#define SMPP_PEERS_MAX 256
#define SMPP_ADDR_TEXT_MAX 21

/* Why a bind was refused (counted and logged). */
#define SMPP_BIND_FAIL_MAP(X)                                                                \
	X(UNKNOWN_SYSTEM_ID, "unknown_system_id") X(BAD_PASSWORD, "bad_password")           \
	X(ADDRESS, "address_not_allowed") X(LIMIT, "bind_limit") X(ALREADY, "already_bound") \
	X(MALFORMED, "malformed")
enum smpp_bind_fail {
#define SMPP__BF(name, label) SMPP_BF_##name,
	SMPP_BIND_FAIL_MAP(SMPP__BF)
#undef SMPP__BF
	    SMPP_BF_COUNT
};
const char *cbar_smpp_bind_fail_name(enum smpp_bind_fail f);

struct smpp_hooks {
	void *ctx;
	/* system_id and password as sent (NUL-ended), src the peer's address:
	 * 0 and *peer filled, or the bind's error status (ESME_RINVSYSID,
	 * ESME_RINVPASWD, ESME_RBINDFAIL) and *why. */
	uint32_t (*bind)(void *ctx, const char *system_id, const char *password,
	                 const struct sockaddr *src, struct smpp_peer_info *peer,
	                 enum smpp_bind_fail *why);
	enum cbar_decision (*decide)(void *ctx, const struct cbar_event *ev, struct cbar_verdict *v);
	void (*enter)(void *ctx);
	void (*leave)(void *ctx);
	/* Optional: the numbering plan to read numbers with, asked after
	 * enter() (the daemon's snapshot's); NULL: cfg.np. */
	const struct cbar_numplan *(*plan)(void *ctx);
	/* Whether to (len bytes) is a keyword service number. */
	bool (*is_service)(void *ctx, const char *to, size_t len);
	/* A keyword text (UTF-8, decoded) from subscriber `from` to service
	 * number `to`: apply it and write the answer (UTF-8, NUL-ended, the
	 * languages one after the other) into reply. */
	void (*keyword)(void *ctx, const char *from, const char *to, const char *text,
	                size_t len, char *reply, size_t cap);
	/* A line for the daemon's log (level 0 debug .. 3 error); system_id
	 * may be "". */
	void (*log)(void *ctx, int level, const char *what, const char *system_id,
	            const char *addr, uint32_t status);
};

struct smpp_server_cfg {
	struct sockaddr_storage listen; /* port 0: any free port (cbar_smpp_server_port) */
	uint32_t pdu_max;               /* longest command_length accepted */
	unsigned window;                /* a peer bind's outstanding messages */
	unsigned enquire_s;             /* idle seconds before an enquire_link; 0: never */
	uint32_t block_status;          /* answer to a blocked message (0x66) */
	bool fail_relay;                /* error verdict: relay (true) or answer fail_status */
	uint32_t fail_status;           /* ESME_RSYSERR by default */
	unsigned receipt_hold_s;        /* a receipt waits this long for its peer's bind */
	unsigned receipt_hold_max;      /* receipts held at most */
	unsigned receipt_ids;           /* message ids remembered for receipts (power of 2) */
	unsigned max_conns;             /* peer connections at once */
	/* The home SMSC; up_binds 0: no upstream (every allowed message is
	 * throttled). */
	struct sockaddr_storage up;
	char up_system_id[16], up_password[9], up_system_type[13];
	unsigned up_binds, up_window;
	unsigned up_timeout_s; /* a submit the SMSC leaves unanswered this long: throttled */
	const struct cbar_numplan *np;
	uint16_t country;
	struct smpp_hooks hooks;
	int64_t fixed_time; /* tests: every event at this UTC second; 0: clock */
	/* The block notice (rules' `notify`): a barred incoming text's
	 * subscriber is sent the rule's announcement from notify_from (""
	 * : no notices), at most once per notify_period_s per subscriber and
	 * rule, remembered in a table of notify_slots entries (bounded: the
	 * oldest forgotten first). */
	char notify_from[SMPP_ADDR_TEXT_MAX];
	unsigned notify_period_s, notify_slots;
	/* A keyword text sent in parts: the parts wait concat_wait_s for the
	 * rest (proto/smpp_text.h, struct smpp_concat), then are dropped. */
	unsigned concat_wait_s;
};

/* Counters, summed by the loop and read by any thread. */
struct smpp_counters {
	uint64_t connections, pdus_in, pdus_out, generic_nacks, too_long;
	uint64_t binds_ok, bind_fail[SMPP_BF_COUNT];
	uint64_t submits, relayed, blocked, errors_relayed, errors_rejected, malformed;
	uint64_t throttled_window, throttled_upstream, upstream_timeouts, upstream_lost;
	uint64_t receipts_routed, receipts_held, receipts_dropped, receipts_unknown;
	uint64_t keywords, keyword_replies, mo_refused;
	uint64_t concat_held, concat_dropped, concat_invalid; /* keyword texts in parts */
	uint64_t notices_sent, notices_suppressed;
	uint64_t notices_dropped; /* notices of other front ends: the queue was full */
	uint64_t up_connects, up_binds_ok, up_bind_fail, up_disconnects;
	uint64_t up_bound; /* gauge: upstream binds up now */
	uint64_t peers_bound; /* gauge: peer binds now */
};

struct smpp_server;

enum cbar_err cbar_smpp_server_start(const struct smpp_server_cfg *cfg, struct smpp_server **out,
                                     struct cbar_diag *d);
uint16_t cbar_smpp_server_port(const struct smpp_server *s);
void cbar_smpp_server_counters(struct smpp_server *s, struct smpp_counters *c);
/*
 * The block notice of an event another front end decided (a call barred by
 * a rule with `notify`, decided by HTTP or SIP): from any thread, ev's
 * subscriber and v's announcement are copied into a queue of fixed size
 * (full: dropped and counted) that the loop sends from, with the same once
 * per notify_period_s per subscriber and rule as the texts' notices, to the
 * subscriber as an international number.  Neither the caller nor anything
 * else about the call is in it.  Nothing when notify_from is empty, the
 * event is not incoming, or the rule has no announcement.
 */
void cbar_smpp_server_notice(struct smpp_server *s, const struct cbar_event *ev,
                             const struct cbar_verdict *v);
/* Stop: unbind every peer and upstream bind (a short wait for their
 * answers), close, free.  NULL is fine. */
void cbar_smpp_server_stop(struct smpp_server *s);

/* ---- without sockets, for the fuzzer: a peer's byte stream ------------- */

/*
 * A loop with no sockets: the bytes of one peer connection (already
 * bound as `peer` when bound is true) fed in pieces as they come; what the
 * server would send back is discarded.  For fuzz/fuzz_smpp_conn.c.
 */
struct smpp_server *cbar_smpp_test_new(const struct smpp_server_cfg *cfg);
void cbar_smpp_test_feed(struct smpp_server *s, const uint8_t *p, size_t n);
void cbar_smpp_test_free(struct smpp_server *s);

#endif
