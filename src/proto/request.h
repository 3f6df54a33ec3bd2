/*
 * callbar: HTTP/JSON request bodies to structs (no sockets here).
 *
 * Each kind of body has a table of its fields (request.c): name, type,
 * required or not, bounds.  A body is accepted only when it is one JSON
 * object (no duplicate keys), every key is in the table, every required key
 * is there and every value has its type and bounds; numbers are normalised
 * with cbar_number_parse() in the context of the configured country.  The
 * first problem is reported in a struct req_error: a stable code
 * (cbar_err_name()), the field's name ("peer", "document.number", "[3].at"
 * in a batch) and a message.
 *
 * Nothing here logs or keeps a document number: struct unlock_req holds it
 * only until the registry hashes it, and cbar_unlock_req_wipe() clears it.
 *
 * Enumerations use the rule engine's values (voice 0, sms 1; in 0, out 1),
 * and REQ_ANY (2) where a request may name both.
 */
#ifndef CALLBAR_PROTO_REQUEST_H
#define CALLBAR_PROTO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/number.h"
#include "event.h"

enum { REQ_VOICE = 0, REQ_SMS = 1 };
enum { REQ_IN = 0, REQ_OUT = 1 };
enum { REQ_ANY = 2 };
enum { REQ_LEVEL_SELF = 1, REQ_LEVEL_VERIFIED = 2 };

#define REQ_TEXT_MAX 64   /* ingress, channel, keyword, document type */
#define REQ_DOC_MAX 40    /* an identity document number */
#define REQ_NUMBER_MAX 64 /* a number as written */

struct req_error {
	enum cbar_err code;
	char field[72];
	char message[200];
};

/*
 * A decision event, read by the shared event module (event.h): the body's
 * fields service, direction, subscriber, peer, at (ISO 8601 with a zone),
 * ingress, roaming (true/false), carrier and region.  in.ev points into the
 * struct itself: do not copy it.
 */
struct decide_req {
	struct cbar_event_in in;
	bool has_at; /* false: the daemon sets the time of the request */
	/* in.sub_err set: the subscriber could not be read, and this is why;
	 * the event is still decided (an emergency call passes), and the
	 * error answered unless the verdict is allow. */
	struct req_error sub_error;
	char ingress[REQ_TEXT_MAX + 1]; /* "" when not given; in.ev.ingress points here */
};

/* PUT /v1/unlocks/{number}: the subscriber comes from the path. */
struct unlock_req {
	uint8_t service;   /* REQ_VOICE, REQ_SMS, REQ_ANY (default) */
	uint8_t direction; /* REQ_IN, REQ_OUT, REQ_ANY (default) */
	uint8_t level;     /* REQ_LEVEL_SELF (default), REQ_LEVEL_VERIFIED */
	char channel[REQ_TEXT_MAX + 1];   /* shop, app, hotline, keyword, api */
	bool has_document;                /* required for level verified */
	char doc_type[REQ_TEXT_MAX + 1];  /* resident, passport, hk-macao, taiwan */
	char doc_number[REQ_DOC_MAX + 1]; /* raw: hash it, then cbar_unlock_req_wipe() */
	bool has_expires;
	int64_t expires;                  /* UTC seconds */
};

/* POST /v1/keyword: a subscriber texted a keyword to the service number. */
struct keyword_req {
	struct cbar_number subscriber;
	char keyword[REQ_TEXT_MAX + 1];
	bool has_at;
	int64_t at;
	char to[REQ_TEXT_MAX + 1]; /* the service number texted; "": not known */
};

/*
 * Parse a body of len bytes.  A decision is read in the event context c
 * (the snapshot's: numbering plan, country, the rule file's zone); the
 * other bodies take np and country (a cbar_numplan_country() index) for
 * their subscriber.  Returns CBAR_OK and fills *out, or the error code
 * (also in e->code) with e filled.
 */
enum cbar_err cbar_req_decide_parse(const struct cbar_event_ctx *c, const char *body, size_t len,
                               struct decide_req *out, struct req_error *e);
enum cbar_err cbar_req_unlock_parse(const struct cbar_numplan *np, uint16_t country, const char *body,
                               size_t len, struct unlock_req *out, struct req_error *e);
enum cbar_err cbar_req_keyword_parse(const struct cbar_numplan *np, uint16_t country,
                                const char *body, size_t len, struct keyword_req *out,
                                struct req_error *e);

/*
 * A batch: a JSON array of events, or JSON lines (one event per line; blank
 * lines skipped).  each() is called once per event in order, with the
 * event's index and either the parsed event (item_err NULL) or the event's
 * error (ev NULL), so one bad event gets its own answer.  Returns an error
 * (e filled) only when the batch as a whole is malformed or holds more than
 * max events; then each() may have been called for earlier lines.
 */
enum cbar_err cbar_req_batch_parse(const struct cbar_event_ctx *c, const char *body, size_t len,
                              size_t max,
                              void (*each)(void *arg, size_t i, const struct decide_req *ev,
                                           const struct req_error *item_err),
                              void *arg, bool *lines, struct req_error *e);

/* A number from a path or query ("subscriber"): field names it in e. */
enum cbar_err cbar_req_number(const struct cbar_numplan *np, uint16_t country, const char *s,
                         size_t len, const char *field, struct cbar_number *out,
                         struct req_error *e);

/* "voice", "sms", "any" (and "in", "out", "any") to REQ_* values; -1 if
 * none. */
int cbar_req_service(const char *s);
int cbar_req_direction(const char *s);


void cbar_unlock_req_wipe(struct unlock_req *u);

#endif
