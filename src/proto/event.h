/*
 * callbar: from a front end's fields to the one event (struct cbar_event),
 * the same way for every front end.
 *
 * HTTP bodies, SIP requests, CDR records (CSV and JSON lines), `check`'s
 * flags and SMPP PDUs each find the fields of an event in their own bytes;
 * this module reads them.  What it decides once for all of them:
 * - the subscriber is read in the context of the operator's country
 *   (struct cbar_event_ctx.country), the peer in the subscriber's own
 *   country (a Hong Kong subscriber's "61234567" is a Hong Kong number),
 *   so the subscriber is read first;
 * - a time without a zone is in the rule file's zone (ctx.tz);
 * - ingress is kept as given, roaming is yes/no/unknown.
 *
 * Usage: cbar_event_begin(), then the setters in any order except that
 * cbar_event_peer() comes after cbar_event_subscriber(); then in.ev is the
 * event (its number pointers point into in, which must stay put).
 * Ownership: nothing is allocated; ingress points at the caller's bytes,
 * which must live as long as the event.
 *
 * Errors: each setter returns CBAR_OK or a code, and fills the caller's
 * struct cbar_event_error (the field's name as the event calls it:
 * "service", "direction", "subscriber", "peer", "time", "ingress",
 * "roaming", "carrier", "region"), and what is wrong with it, for the
 * front end to put after its own name of the field ("--peer", "[3].peer").
 * A message never quotes the input.
 */
#ifndef CALLBAR_PROTO_EVENT_H
#define CALLBAR_PROTO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/civil.h"
#include "callbar/rules.h"

/* The context every event of a front end is read in. */
struct cbar_event_ctx {
	const struct cbar_numplan *np;
	uint16_t country; /* the operator's country (cbar_numplan_country()) */
	int32_t tz;       /* the rule file's zone, seconds east of UTC */
};

/*
 * An event being read, with the storage its pointers point into.
 *
 * The subscriber and the peer may be missing from the event:
 * - a subscriber that cannot be read leaves ev.subscriber NULL and its
 *   error in sub_err: the engine still sees the event, because a call to an
 *   emergency number passes whatever the caller (cbar_decide() allows it
 *   and gives an error verdict otherwise); the front end then reports
 *   sub_err unless the verdict is allow;
 * - an incoming event's caller (the peer) that is absent, empty or
 *   "anonymous" is unknown: ev.peer NULL, which rules match with
 *   `from unknown`.  A caller's number that does not parse is unknown too
 *   where the front end says the number came from the network
 *   (cbar_event_caller_id(): SIP), and an error where a client wrote it.
 */
struct cbar_event_in {
	struct cbar_event ev;
	struct cbar_number sub, peer;
	enum cbar_err sub_err; /* why ev.subscriber is NULL, CBAR_OK when it is not */
};

struct cbar_event_error {
	enum cbar_err code;
	const char *field;
	char message[160];
};

/* Longest number text read (longer is CBAR_NUM_TOO_LONG). */
#define CBAR_EVENT_NUMBER_MAX 64
/* Longest ingress class. */
#define CBAR_EVENT_TEXT_MAX 64

/* Which forms of time a front end accepts (cbar_event_time()): the civil
 * module's forms (callbar/civil.h), bit for bit. */
enum cbar_event_time_form {
	CBAR_TIME_ZONED = CBAR_CIVIL_ZONED,   /* 2022-05-08T09:30:00+08:00, ...Z */
	CBAR_TIME_LOCAL = CBAR_CIVIL_LOCAL,   /* without a zone: in the rule file's zone */
	CBAR_TIME_DATE = CBAR_CIVIL_DATE,     /* a date alone: midnight in the rule file's zone */
	CBAR_TIME_EPOCH = CBAR_CIVIL_EPOCH,   /* @SECONDS */
	CBAR_TIME_DIGITS = CBAR_CIVIL_DIGITS, /* SECONDS, digits alone (CDR exports) */
};

void cbar_event_begin(struct cbar_event_in *in);
/* A copy of src in dst (for a front end that holds events to decide them
 * in a batch): its number pointers follow to dst's own numbers; ingress
 * still points at the caller's bytes. */
void cbar_event_copy(struct cbar_event_in *dst, const struct cbar_event_in *src);

enum cbar_err cbar_event_service(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e);
enum cbar_err cbar_event_direction(struct cbar_event_in *in, const char *s, size_t len,
                                   struct cbar_event_error *e);
enum cbar_err cbar_event_subscriber(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                                    const char *s, size_t len, struct cbar_event_error *e);
/* The front end has no subscriber at all (no field, no flag, an empty
 * column): as one that cannot be read, CBAR_MISSING_FIELD in sub_err, so
 * that a call to an emergency number is still decided (and allowed). */
enum cbar_err cbar_event_no_subscriber(struct cbar_event_in *in, struct cbar_event_error *e);
enum cbar_err cbar_event_peer(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                              const char *s, size_t len, struct cbar_event_error *e);
/* The caller as the network presented it (s NULL: absent): on an incoming
 * event, one that does not parse is unknown rather than an error; on an
 * outgoing one the peer is the called number, and must parse. */
enum cbar_err cbar_event_caller_id(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                                   const char *s, size_t len, struct cbar_event_error *e);
/* forms: enum cbar_event_time_form bits the front end accepts. */
enum cbar_err cbar_event_time(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                              const char *s, size_t len, unsigned forms,
                              struct cbar_event_error *e);
/* The time as an instant (a front end that reads the clock itself). */
void cbar_event_at(struct cbar_event_in *in, int64_t t);
/* Whether s holds only letters, digits and . _ - : + / (trunk classes,
 * channels, keywords, document types), or with alnum_only letters and
 * digits (a document number).  Every text field of every front end. */
bool cbar_text_ok(const char *s, size_t len, bool alnum_only);
/* A trunk class: 1 to 64 of A-Z a-z 0-9 . _ - : + /; empty means none. */
enum cbar_err cbar_event_ingress(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e);
/* yes, true, 1 / no, false, 0 / empty (not known). */
enum cbar_err cbar_event_roaming(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e);
/* The subscriber's carrier and region when the switch knows them. */
enum cbar_err cbar_event_carrier(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e);
enum cbar_err cbar_event_region(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                                const char *s, size_t len, struct cbar_event_error *e);

/*
 * An instant as `forms` allows, a zoneless one or a date in the zone tz
 * (the civil module's one grammar, callbar/civil.h).  CBAR_OK or
 * CBAR_BAD_TIME.
 */
enum cbar_err cbar_time_read(const char *s, size_t len, int32_t tz, unsigned forms, int64_t *out);

#endif
