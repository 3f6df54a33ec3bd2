/*
 * callbar: rule files, compiled snapshots and decisions.
 *
 * Conventions for this header (docs/rules.md is the language reference):
 * - A rule file is text; cbar_rules_compile() turns it into an immutable
 *   snapshot (struct cbar_rules) that any number of threads may read at once.
 *   It never returns anything half-built: on failure *out is NULL and the
 *   diag names the line, the column and what is wrong.
 * - The core does no I/O: files a rule file names (`list NAME file "PATH"`)
 *   are read through a loader the caller supplies; the time of an event is
 *   given in the event; unlock records come through a lookup interface.
 * - cbar_decide() parses nothing and allocates nothing; it reads parsed
 *   numbers (cbar_number_parse()) and writes a verdict the caller owns.
 *   Pointers in a verdict point into the snapshot and live as long as it.
 * - Ownership: the snapshot is the caller's, to free with cbar_rules_free();
 *   it keeps a pointer to the numbering plan it was compiled with, which must
 *   outlive it.
 */
#ifndef CALLBAR_RULES_H
#define CALLBAR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/number.h"

struct cbar_rules;
struct cbar_limit_counter;

enum cbar_service { CBAR_VOICE = 0, CBAR_SMS = 1 };
enum cbar_direction { CBAR_IN = 0, CBAR_OUT = 1 };

/* A scope is a set of service x direction pairs, one bit each. */
#define CBAR_SCOPE_BIT(svc, dir) (1u << ((unsigned)(svc) * 2u + (unsigned)(dir)))
#define CBAR_SCOPE_VOICE (CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_IN) | CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_OUT))
#define CBAR_SCOPE_SMS (CBAR_SCOPE_BIT(CBAR_SMS, CBAR_IN) | CBAR_SCOPE_BIT(CBAR_SMS, CBAR_OUT))
#define CBAR_SCOPE_ALL (CBAR_SCOPE_VOICE | CBAR_SCOPE_SMS)

enum cbar_unlock_level { CBAR_UNLOCK_SELF = 1, CBAR_UNLOCK_VERIFIED = 2 };

/*
 * One unlock record as the decision path sees it: 16 bytes.  A subscriber
 * may have several (one per scope, say).  expires is a UTC instant in
 * seconds (the record holds before it), 0 for never.
 */
struct cbar_unlock {
	uint64_t subscriber; /* E.164 digits as an integer; 0 is never a number */
	uint32_t expires;
	uint8_t scope;       /* CBAR_SCOPE_* bits */
	uint8_t level;       /* enum cbar_unlock_level */
	uint8_t active;      /* 0: revoked */
	uint8_t pad_;
};

/*
 * Where unlock records come from.  find() copies at most cap records of the
 * subscriber into out and sets *n to how many; it returns CBAR_OK (also when
 * there are none) or an error (store unavailable), which makes the verdict
 * `error`.  It must not block for long: it is on the decision path.
 */
struct cbar_unlock_lookup {
	enum cbar_err (*find)(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
	                      size_t cap, size_t *n);
	void *ctx;
	/* Optional (may be NULL): start fetching the subscriber's records
	 * into the cache.  cbar_decide() calls it first thing, so the memory
	 * latency of a big table overlaps the rule matching. */
	void (*prefetch)(void *ctx, uint64_t subscriber);
	/* Optional (may be NULL): the counting state of `limit` statements
	 * (below).  The lookup is the state the caller lends a decision;
	 * without counting state a limit counts nothing and never bars. */
	const struct cbar_limit_counter *limits;
};

/*
 * The counting state of `limit` statements, which the caller provides as it
 * provides the unlock lookup: the core keeps no state between decisions.
 * callbar/limit.h has the pure counter (struct cbar_limiter) that the
 * front ends wrap; a daemon adds its lock and the registry's shared bars.
 *
 * For every event that reaches a limit (its conditions hold, its key is
 * known), the decision calls hit() once, in the order the events are given
 * (cbar_decide_many() keeps that order).  hit() says whether the key is
 * barred at the event's time, and if it is not, counts the event and bars
 * the key when the count goes over the threshold (that event is the first
 * one barred).  An error (state unavailable) makes the verdict error.
 */
struct cbar_limit_query {
	uint32_t limit;       /* the limit's index among the snapshot's limits */
	uint64_t key;         /* see cbar_limit_key_text() */
	uint64_t counterpart; /* distinct counting: whom the key met; else 0 */
	int64_t time;         /* the event's time, UTC seconds */
};

struct cbar_limit_answer {
	bool barred;       /* the key is barred: the limit blocks the event */
	bool new_bar;      /* this event took the key over the threshold */
	uint32_t count;    /* the count in the window, this event included */
	int64_t bar_until; /* when a bar expires (barred); 0 otherwise */
};

struct cbar_limit_counter {
	enum cbar_err (*hit)(void *ctx, const struct cbar_rules *rules,
	                     const struct cbar_limit_query *q, struct cbar_limit_answer *a);
	void *ctx;
	/* Optional (may be NULL): start fetching the state of limit's key.
	 * cbar_decide() calls it first thing for the keys the event has (of
	 * the first CBAR_LIMIT_PREFETCH_MAX limits), so the memory latency
	 * overlaps the rule matching; it must not change anything. */
	void (*prefetch)(void *ctx, const struct cbar_rules *rules, uint32_t limit, uint64_t key);
};
#define CBAR_LIMIT_PREFETCH_MAX 8

/*
 * Reads a file named in a rule file.  path is as written (not NUL-ended),
 * relative to the rule file named rule_file; on success *text is a buffer
 * from malloc() that the compiler frees.  Return CBAR_IO (and optionally a
 * message in d) when it cannot be read.
 */
struct cbar_rules_loader {
	enum cbar_err (*load)(void *ctx, const char *rule_file, const char *path, size_t pathlen,
	                      char **text, size_t *len, struct cbar_diag *d);
	void *ctx;
};

/* Whether our subscriber is roaming (on another network, abroad), when the
 * switch says: a rule's `roaming yes|no` matches only a known state. */
enum cbar_roaming { CBAR_ROAMING_UNKNOWN = 0, CBAR_ROAMING_NO = 1, CBAR_ROAMING_YES = 2 };

/*
 * An event, seen from our subscriber's side (DESIGN.md section 1).
 *
 * peer is the other party, or NULL when it is unknown: no number given,
 * an anonymous caller (withheld, "anonymous@anonymous.invalid"), or one
 * whose number does not parse.  An unknown peer is a fact about the event,
 * not a failure: it is decided like any other, and only rules without a
 * peer condition, or with `from unknown` (`to unknown`), match it; a
 * zone, list or prefix condition, negated or not, never does.  A front
 * end that cannot parse the peer therefore passes NULL rather than
 * failing the event.  subscriber must be given (else the verdict is
 * error), except that an emergency peer is allowed before it is looked at.
 */
struct cbar_event {
	int64_t time;                        /* UTC seconds (civil.h parses them) */
	enum cbar_service service;
	enum cbar_direction direction;
	const struct cbar_number *subscriber;
	const struct cbar_number *peer;      /* NULL: unknown (above) */
	uint8_t carrier;                     /* enum cbar_carrier; NONE: from the number */
	uint8_t region;                      /* region index; CBAR_NONE: from the number */
	const char *ingress;                 /* trunk class, NULL when not known */
	size_t ingress_len;
	uint8_t roaming;                     /* enum cbar_roaming; 0: not known */
	bool peer_alnum;                     /* the peer is an alphanumeric sender (SMPP TON 5):
	                                        peer is NULL, `from alphanumeric` matches */
	/* The caller presented a number the numbering data refuses (unknown
	 * country code, impossible length): peer is then NULL (unknown) and
	 * `from invalid` matches too.  A parsed peer shorter than any
	 * subscriber number of its country is invalid by its own flags. */
	bool peer_invalid;
};

enum cbar_decision { CBAR_ALLOW = 0, CBAR_BLOCK = 1, CBAR_ERROR = 2 };

struct cbar_text {
	const char *lang; /* "zh", "en" */
	const char *text; /* UTF-8 */
};

struct cbar_announcement {
	const char *name;
	const struct cbar_text *texts;
	size_t ntexts;
};

struct cbar_verdict {
	enum cbar_decision decision;
	int rule;                  /* index of the deciding rule, -1 for none */
	const char *file;          /* the rule's file and line, NULL for none */
	unsigned line;
	const char *reason;        /* "emergency", the rule's reason, or NULL */
	const struct cbar_announcement *announcement; /* NULL for none */
	bool exempted;             /* an unlock record exempted the event from a rule */
	struct cbar_unlock exempted_by;
	int exempted_rule;         /* the rule it was exempted from, -1 for none */
	enum cbar_err err;         /* why the decision is CBAR_ERROR */
	/* The limit that barred the event (rule is then that limit), or, when
	 * it passed, the last limit that counted it; limit_rule -1: none. */
	int limit_rule;
	const struct cbar_limit_info *limit; /* its definition, NULL: none */
	uint64_t limit_key;
	uint32_t limit_count;
	int64_t limit_bar_until;   /* when the key's bar expires; 0: not barred */
	bool limit_new_bar;        /* this event took the key over */
	/* The deciding rule says `notify`: the front end may send the barred
	 * subscriber its announcement (the SMPP block notice). */
	bool notify;
};

struct cbar_rules;

/*
 * Compile a rule file.  filename is used in diagnostics and kept (copied) in
 * the snapshot for verdicts; loader may be NULL when the file names no
 * other file.  On success *out is the caller's.  On failure returns an
 * error (CBAR_RULES_SYNTAX and kin, CBAR_NOMEM, CBAR_IO), fills d (line,
 * column, message; d->file = filename) and sets *out to NULL.
 */
enum cbar_err cbar_rules_compile(const struct cbar_numplan *np, const char *text, size_t len,
                                 const char *filename, const struct cbar_rules_loader *loader,
                                 struct cbar_diag *d, struct cbar_rules **out);
void cbar_rules_free(struct cbar_rules *r);

/* The file's time zone as seconds east of UTC. */
int32_t cbar_rules_tz_offset(const struct cbar_rules *r);
size_t cbar_rules_count(const struct cbar_rules *r);
/* Line and reason of rule i (NULL reason when none). */
unsigned cbar_rules_line(const struct cbar_rules *r, size_t i);
const char *cbar_rules_reason(const struct cbar_rules *r, size_t i);
const char *cbar_rules_file(const struct cbar_rules *r);
/* Whether rule i blocks (else it passes). */
bool cbar_rules_blocks(const struct cbar_rules *r, size_t i);

/*
 * Decide one event.  Returns the decision (also in v->decision).  The
 * unlock lookup may be NULL: then no record exists.  Precedence:
 * emergency numbers (a peer that is one is allowed first, before the rest
 * of the event is checked), then rules in file order (first match wins; a
 * rule whose `unless` a record satisfies is skipped and the record named),
 * then the default that ends every file.  An event without a subscriber,
 * or with a service, direction or roaming state out of range, is error
 * (CBAR_INVAL).
 */
enum cbar_decision cbar_decide(const struct cbar_rules *r, const struct cbar_event *ev,
                               const struct cbar_unlock_lookup *lk, struct cbar_verdict *v);

/*
 * Decide n events at once: v[i] is what cbar_decide(r, ev[i], lk, &v[i])
 * gives, for every i.  The events are first decided as far as each goes
 * without its unlock records; those that reach a rule with `unless` have
 * their records prefetched (lk->prefetch), and are finished once the
 * others are: the memory latency of a big unlock table overlaps the other
 * events' work instead of stalling each.  An event no `unless` rule
 * reaches never touches the table.  Front ends that receive events in
 * batches (batch's CSV records, the SIP workers' recvmmsg, the HTTP batch
 * route) call this.  Allocates nothing; n may be any size (taken
 * CBAR_DECIDE_MANY_MAX at a time).
 */
#define CBAR_DECIDE_MANY_MAX 64
void cbar_decide_many(const struct cbar_rules *r, const struct cbar_event *const *ev, size_t n,
                      const struct cbar_unlock_lookup *lk, struct cbar_verdict *v);

/*
 * The same decision by the slow path, rule by rule, telling note() about
 * every rule looked at: whether it matched and, if not, the first condition
 * that failed (a sentence).  Must agree with cbar_decide() (tests check).
 */
typedef void (*cbar_explain_fn)(void *ctx, size_t rule, unsigned line, bool matched,
                                const char *why);
enum cbar_decision cbar_explain(const struct cbar_rules *r, const struct cbar_event *ev,
                                const struct cbar_unlock_lookup *lk, cbar_explain_fn note,
                                void *ctx, struct cbar_verdict *v);

/*
 * Warnings about rules that can never match: shadowed by an earlier rule
 * without `unless` that matches a superset, or an empty date range.
 * Returns how many warnings were given.
 */
/* Whether rule i names regions (`region ...`): such a rule cannot match a
 * subscriber whose region the numbering data does not know. */
bool cbar_rules_names_region(const struct cbar_rules *r, size_t i);
/* Rule i's `since` (UTC seconds; 0: none). */
int64_t cbar_rules_since(const struct cbar_rules *r, size_t i);

typedef void (*cbar_lint_fn)(void *ctx, unsigned line, const char *msg);
size_t cbar_rules_lint(const struct cbar_rules *r, cbar_lint_fn warn, void *ctx);

/*
 * Limits (`limit` statements; docs/rules.md).  A limit is a rule (it has an
 * index i among the rules) and has an index among the limits.
 */
enum cbar_limit_per { CBAR_PER_PEER = 1, CBAR_PER_SUBSCRIBER = 2, CBAR_PER_PEER_PREFIX = 3 };
struct cbar_limit_info {
	size_t rule;           /* its index among the rules */
	unsigned line;
	const char *reason;    /* NULL when none */
	uint64_t id;           /* a hash of its definition: same text, same id */
	enum cbar_limit_per per;
	uint8_t prefix;        /* per peer-prefix N: N */
	uint8_t distinct;      /* 0: counts events; 1: distinct subscribers, 2: peers */
	uint32_t threshold;    /* more than this in the window goes over */
	uint32_t window;       /* seconds */
	uint32_t bar;          /* seconds */
	bool subsecond;        /* the window was written shorter than a second */
};
/* The largest threshold N of N/WINDOW: what one key remembers is bounded
 * by it. */
#define CBAR_LIMIT_THRESHOLD_MAX 10000
size_t cbar_rules_limits(const struct cbar_rules *r);
/* Limit k's definition; NULL when k is out of range. */
const struct cbar_limit_info *cbar_rules_limit(const struct cbar_rules *r, size_t k);
/* A key as text: "+8613805710000", or "+447911*" for a prefix key; buf of
 * at least 24 bytes.  Returns buf. */
const char *cbar_limit_key_text(const struct cbar_limit_info *l, uint64_t key, char *buf,
                                size_t cap);

/* Whether a scope covers the event, and a record holds at time t for a
 * rule needing level (CBAR_UNLOCK_SELF: any level). */
bool cbar_unlock_applies(const struct cbar_unlock *u, enum cbar_service s,
                         enum cbar_direction d, int64_t t, enum cbar_unlock_level level);

#endif
