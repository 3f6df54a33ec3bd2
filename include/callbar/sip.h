/*
 * callbar: SIP, bytes to structs and back (RFC 3261), for a stateless
 * redirect server (RFC 3261 section 8.3).  No sockets, no clock, no
 * allocation.
 *
 * Conventions for this header:
 * - Input is (pointer, length).  No NUL is needed and an embedded NUL is an
 *   ordinary byte (refused where the grammar refuses it).
 * - cbar_sip_parse() fills a struct cbar_sip_msg the caller owns, made of
 *   slices (struct cbar_sip_str) that point INTO the caller's buffer: the
 *   buffer must outlive the struct and not change while it is used.  Every
 *   list in the struct has a fixed cap (CBAR_SIP_MAX_*), so one struct per
 *   worker slot is all the memory a message ever takes.
 * - Header values are kept raw: a folded value still holds its CRLF SP
 *   continuation bytes.  Writers (cbar_sip_reply_build) unfold them.
 * - Nothing here keeps state between calls: the same bytes always give the
 *   same struct and the same reply (retransmissions get the same answer,
 *   the To-tag is a hash of Call-ID, From-tag and the top Via branch).
 *
 * A UDP worker, per datagram (see docs/sip.md for the whole loop):
 *
 *	struct cbar_sip_msg m;
 *	uint16_t status;
 *	enum cbar_err e = cbar_sip_parse(buf, len, CBAR_SIP_DGRAM, &m);
 *	switch (cbar_sip_triage(&m, e, &cfg, &status)) {
 *	case CBAR_SIP_DROP:   break;                          // send nothing
 *	case CBAR_SIP_ANSWER: reply.status = status; build; send; break;
 *	case CBAR_SIP_DECIDE: number via cbar_sip_number(); decide;
 *	                      reply.status = cbar_sip_verdict_status(&cfg, v);
 *	                      build; send;
 *	}
 *
 * Over TCP, cbar_sip_frame() cuts the byte stream into messages first.
 */
#ifndef CALLBAR_SIP_H
#define CALLBAR_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/number.h"

/* Largest message accepted, headers and body (larger: 513). */
#define CBAR_SIP_MAX_MSG 65535u
/* Via values kept: RFC 3261 recommends Max-Forwards 70, so a longer Via
 * chain is a loop or an attack; more is refused (CBAR_SIP_TOO_MANY). */
#define CBAR_SIP_MAX_VIA 70
/* Via header lines kept for the reply (each may hold several values). */
#define CBAR_SIP_MAX_VIA_LINES 70
/* Require header lines kept (echoed as Unsupported in a 420). */
#define CBAR_SIP_MAX_REQUIRE 8
/* P-Asserted-Identity values (RFC 3325: at most one sip/sips and one tel). */
#define CBAR_SIP_MAX_PAI 2
/* Longest number text cbar_sip_number_text() writes, NUL included. */
#define CBAR_SIP_NUMBER_MAX 64

/* A slice of the parsed buffer; p is NULL and len 0 when absent. */
struct cbar_sip_str {
	const char *p;
	size_t len;
};

/* Methods callbar knows by name (RFC 3261 and extensions); a table in
 * sip_parse.c maps names to these.  UNKNOWN: any other token. */
#define CBAR_SIP_METHOD_MAP(X)                                                   \
	X(UNKNOWN, "")                                                           \
	X(INVITE, "INVITE")                                                      \
	X(ACK, "ACK")                                                            \
	X(BYE, "BYE")                                                            \
	X(CANCEL, "CANCEL")                                                      \
	X(OPTIONS, "OPTIONS")                                                    \
	X(REGISTER, "REGISTER")                                                  \
	X(MESSAGE, "MESSAGE")                                                    \
	X(PRACK, "PRACK")                                                        \
	X(SUBSCRIBE, "SUBSCRIBE")                                                \
	X(NOTIFY, "NOTIFY")                                                      \
	X(PUBLISH, "PUBLISH")                                                    \
	X(INFO, "INFO")                                                          \
	X(REFER, "REFER")                                                        \
	X(UPDATE, "UPDATE")

enum cbar_sip_method {
#define CBAR__SIP_METHOD_ENUM(name, text) CBAR_SIP_##name,
	CBAR_SIP_METHOD_MAP(CBAR__SIP_METHOD_ENUM)
#undef CBAR__SIP_METHOD_ENUM
	CBAR_SIP_METHOD_COUNT
};

/* "INVITE" for CBAR_SIP_INVITE; "" for UNKNOWN or out of range. */
const char *cbar_sip_method_name(enum cbar_sip_method m);

enum cbar_sip_transport {
	CBAR_SIP_DGRAM,  /* UDP: one datagram, the body runs to Content-Length
	                    or, without one, to the end of the datagram */
	CBAR_SIP_STREAM, /* TCP/TLS: a message cut by cbar_sip_frame() */
};

enum cbar_sip_kind {
	CBAR_SIP_NONE,     /* nothing recognisable (or only CRLF keep-alives) */
	CBAR_SIP_REQUEST,
	CBAR_SIP_RESPONSE, /* callbar never answers a response */
};

enum cbar_sip_scheme {
	CBAR_SIP_SCHEME_NONE,
	CBAR_SIP_SCHEME_SIP,
	CBAR_SIP_SCHEME_SIPS,
	CBAR_SIP_SCHEME_TEL,
	CBAR_SIP_SCHEME_OTHER, /* any other absoluteURI: isbn:, http:... */
};

/* A URI, split.  All slices are raw (still %-escaped). */
struct cbar_sip_uri {
	enum cbar_sip_scheme scheme;
	struct cbar_sip_str raw;      /* the whole URI */
	struct cbar_sip_str user;     /* sip/sips: user part; tel: the number */
	struct cbar_sip_str host;     /* sip/sips: host (IPv6 with brackets) */
	struct cbar_sip_str params;   /* after the first ';' of the URI, no '?' */
	struct cbar_sip_str phone_context; /* tel:, or a sip user's ;phone-context */
	uint16_t port;                /* 0 when absent */
	bool user_phone;              /* ;user=phone */
	bool has_headers;             /* '?' headers present (sip/sips) */
};

/* From, To, Contact, P-Asserted-Identity: name-addr or addr-spec. */
struct cbar_sip_addr {
	struct cbar_sip_str raw;      /* the whole header value */
	struct cbar_sip_str display;  /* without quotes, escapes kept */
	struct cbar_sip_uri uri;
	struct cbar_sip_str tag;      /* ;tag= value; p NULL when no tag */
	bool present;
};

/* What the reply and the To-tag need from the topmost Via. */
struct cbar_sip_via {
	struct cbar_sip_str transport; /* "UDP", "TCP"... */
	struct cbar_sip_str host;
	struct cbar_sip_str branch;
	struct cbar_sip_str received;
	uint16_t port;                 /* 0 when absent */
	bool rport;                    /* ;rport present (RFC 3581) */
};

struct cbar_sip_msg {
	enum cbar_sip_kind kind;
	/* request line */
	enum cbar_sip_method method;
	struct cbar_sip_str method_name;
	struct cbar_sip_uri ruri;
	/* status line */
	uint16_t status;
	struct cbar_sip_str reason;
	/* headers callbar uses */
	struct cbar_sip_addr from, to;
	struct cbar_sip_addr pai[CBAR_SIP_MAX_PAI];
	unsigned npai;
	struct cbar_sip_str call_id;
	uint32_t cseq;
	enum cbar_sip_method cseq_method;
	struct cbar_sip_str cseq_method_name;
	int max_forwards;              /* -1 when absent */
	struct cbar_sip_str via_line[CBAR_SIP_MAX_VIA_LINES]; /* raw values */
	unsigned nvia_lines;
	unsigned nvia;                 /* Via values (comma-separated count) */
	struct cbar_sip_via top_via;
	struct cbar_sip_str require[CBAR_SIP_MAX_REQUIRE];
	unsigned nrequire;
	bool has_content_length;
	uint32_t content_length;
	struct cbar_sip_str body;
	size_t msg_len;                /* bytes the message took (framing) */
	/* the first problem found, when cbar_sip_parse() failed */
	size_t errat;                  /* byte offset in the buffer */
	bool have_cseq, have_call_id;
};

/*
 * Parse one message.  Returns CBAR_OK for a well-formed request or response
 * and fills *m.  On failure returns a CBAR_SIP_* code, m->errat is the byte
 * offset of the problem, and *m still holds whatever could be read (Via
 * lines, From, To, Call-ID, CSeq): parsing goes on after a bad header so
 * that a 400 can still be addressed.  Syntax only: whether the method is
 * allowed, the CSeq method matches and so on is cbar_sip_triage()'s job.
 */
enum cbar_err cbar_sip_parse(const char *buf, size_t len, enum cbar_sip_transport tp,
                             struct cbar_sip_msg *m);

/*
 * TCP framing.  Given the bytes received so far on a stream, say whether
 * they hold a complete message.  Leading CRLFs (keep-alives, RFC 5626
 * "\r\n\r\n" pings) are skipped: *skip is their count and *ping is true
 * when they held a double-CRLF ping (answer "\r\n").  Returns:
 *   CBAR_OK: buf[*skip .. *skip + *msglen) is one message;
 *   CBAR_SIP_MORE: not complete yet (*skip is still valid: drop them);
 *   CBAR_SIP_TOO_BIG: the message would pass CBAR_SIP_MAX_MSG;
 *   CBAR_SIP_CONTENT_LENGTH: bad or repeated Content-Length (the stream
 *   cannot be re-synchronised: close it).
 * A message without Content-Length has an empty body.
 */
enum cbar_err cbar_sip_frame(const char *buf, size_t len, size_t *skip, size_t *msglen,
                             bool *ping);

/* ---- deciding what to do ----------------------------------------------- */

/* Verdicts as the SIP layer sees them (the core's allow / block / error). */
enum cbar_sip_verdict {
	CBAR_SIP_ALLOW,
	CBAR_SIP_BLOCK,
	CBAR_SIP_ERROR,
};

struct cbar_sip_cfg {
	uint16_t block_status;  /* 403 (default when 0) or 603 */
	bool fail_open;         /* error verdict: true 302, false 500 */
	bool ignore_require;    /* true: no 420 for Require (not RFC 3261) */
};

enum cbar_sip_next {
	CBAR_SIP_DROP,   /* send nothing: responses, ACK, unanswerable junk */
	CBAR_SIP_ANSWER, /* reply *status without a decision */
	CBAR_SIP_DECIDE, /* INVITE or MESSAGE: decide, then reply */
};

/*
 * What to do with a message cbar_sip_parse() returned perr for (docs/sip.md
 * has the table).  In short: responses, ACK and anything without a request
 * line and a Via are dropped; parse errors get 400 (505 for the version,
 * 513 for the size); unknown methods 501, known but unsupported ones 405;
 * a CSeq method other than the request's 400; a Request-URI scheme other
 * than sip, sips, tel 416; Require 420; OPTIONS and CANCEL 200; INVITE and
 * MESSAGE with Max-Forwards 0 483, else DECIDE.
 */
enum cbar_sip_next cbar_sip_triage(const struct cbar_sip_msg *m, enum cbar_err perr,
                                   const struct cbar_sip_cfg *cfg, uint16_t *status);

/* 302 for allow; cfg->block_status (403 or 603) for block; 302 or 500 for
 * error by cfg->fail_open. */
uint16_t cbar_sip_verdict_status(const struct cbar_sip_cfg *cfg, enum cbar_sip_verdict v);

/* ---- numbers ------------------------------------------------------------- */

enum cbar_sip_source {
	CBAR_SIP_SRC_RURI, /* Request-URI: the called number */
	CBAR_SIP_SRC_TO,
	CBAR_SIP_SRC_FROM,
	CBAR_SIP_SRC_PAI,  /* P-Asserted-Identity: the tel value if any, else the first */
};

/*
 * The number a header carries, as text cbar_number_parse() accepts: a
 * sip/sips user part with %HH unescaped ("+85291234567", "13805710000"),
 * "tel:NUMBER;phone-context=CTX" for a sip user part or tel URI with a
 * phone-context, else the tel number.  Writes at most cap bytes with a NUL
 * and sets *len.  CBAR_SIP_NO_NUMBER when the source is absent, has no user
 * part or another scheme; CBAR_SIP_BUFFER when cap is too small.
 */
enum cbar_err cbar_sip_number_text(const struct cbar_sip_msg *m, enum cbar_sip_source src,
                                   char *buf, size_t cap, size_t *len);

/*
 * The value of the first header field called name (any case; compact forms
 * are not expanded) in the message's header section, buf[0..len), blanks
 * around it trimmed.  For the fields callbar keeps no copy of, such as one a
 * switch adds with the subscriber's carrier.  Returns false when absent;
 * folded (obsolete multi-line) values give their first line only.
 */
bool cbar_sip_header_find(const char *buf, size_t len, const char *name, size_t nlen,
                          struct cbar_sip_str *out);

/* cbar_sip_number_text() then cbar_number_parse() in the given country. */
enum cbar_err cbar_sip_number(const struct cbar_numplan *np, uint16_t country,
                              const struct cbar_sip_msg *m, enum cbar_sip_source src,
                              struct cbar_number *out);

/* ---- replies --------------------------------------------------------------- */

/* Header names callbar adds to 403/603 replies (docs/sip.md). */
#define CBAR_SIP_HDR_RULE "X-Callbar-Rule"
#define CBAR_SIP_HDR_ANNOUNCEMENT "X-Callbar-Announcement"
/* On 3xx: the allowing rule's reason (a block's goes in Reason). */
#define CBAR_SIP_HDR_REASON "X-Callbar-Reason"
/* On any decided answer: the unlock record that exempted the call,
 * "+8613805710003;scope=voice-in,voice-out;level=self". */
#define CBAR_SIP_HDR_UNLOCK "X-Callbar-Unlock"
/* Methods callbar answers, for Allow in 405 and 501 and 200 to OPTIONS. */
#define CBAR_SIP_ALLOW_METHODS "INVITE, MESSAGE, OPTIONS, ACK, CANCEL"

struct cbar_sip_reply {
	uint16_t status;           /* 100..699 */
	/* 403/603: Reason: Q.850;cause=CAUSE;text="REASON" (cause 21 when 0),
	 * X-Callbar-Rule: RULE, X-Callbar-Announcement: ANNOUNCEMENT; any of
	 * them may be NULL/0 and is then left out.  Control characters are
	 * dropped, '"' and '\' in the reason are escaped. */
	const char *reason;
	size_t reason_len;
	const char *rule;
	size_t rule_len;
	const char *announcement;
	size_t announcement_len;
	/* 3xx: X-Callbar-Rule and X-Callbar-Reason from rule and reason;
	 * 3xx to 6xx: X-Callbar-Unlock from unlock (NULL: none). */
	const char *unlock;
	size_t unlock_len;
	uint8_t q850_cause;
	/* 403/603: Warning: 399 callbar "TEXT" (RFC 3261 20.43), the text the
	 * caller's phone may show: the announcement in the rule file's first
	 * language.  A quoted-string: '"' and '\' escaped, control characters
	 * dropped.  NULL: none. */
	const char *warning;
	size_t warning_len;
	/* 3xx: the Contact instead of the Request-URI (an announcement
	 * server's RFC 4240 annc URI, for a block answered by redirect);
	 * NULL: the Request-URI. */
	const char *contact;
	size_t contact_len;
};

/*
 * Write the response to m as r says into out (cap bytes; no NUL is
 * written): status line; every Via line in order; From; To, with a
 * deterministic tag added when the request's To has none (not for 100);
 * Call-ID; CSeq; Contact: <Request-URI> for 3xx; Reason and the X-Callbar
 * headers for 403/603; Allow for 405, 501 and 200 to OPTIONS; Unsupported
 * (the Require values) for 420; Content-Length: 0.  Headers the request
 * lacked are left out.  Returns CBAR_OK and sets *outlen, or
 * CBAR_SIP_BUFFER when cap is too small (nothing past out + cap is ever
 * written; out's content is then unspecified), or CBAR_INVAL for a status
 * outside 100..699.
 */
enum cbar_err cbar_sip_reply_build(const struct cbar_sip_msg *m, const struct cbar_sip_reply *r,
                                   char *out, size_t cap, size_t *outlen);

/* The reason phrase callbar writes for a status ("Moved Temporarily"). */
const char *cbar_sip_status_phrase(uint16_t status);

/* The To-tag callbar adds: 16 lowercase hex digits of a 64-bit FNV-1a
 * hash of Call-ID, From-tag and top Via branch.  buf gets 17 bytes. */
void cbar_sip_to_tag(const struct cbar_sip_msg *m, char buf[17]);

#endif
