/*
 * callbar serve: the counting state of `limit` statements on this node, and
 * the auto-bars it shares through the registry (docs/limits.md).
 *
 * Counting is per node: one limiter (callbar/limit.h) behind one mutex, fed
 * by every front end through decision.c, so HTTP and SIP count into the
 * same keys.  A key that goes over here is barred here at once and queued;
 * the bars thread (bars.c) writes the queue to the registry (a bar record
 * and an audit entry `auto-bar`), and every node reads the registry's
 * active bars back each BARS_FOLLOW_MS, so a key barred on one node is
 * barred on all within a second.  Lifting a bar (DELETE /v1/bars/{key},
 * `callbar bars lift`) is read back the same way.
 *
 * A reload (cbar_daemon_limits_use()) makes a limiter for the new rules
 * and moves into it the counters of every limit whose definition did not
 * change.  A decision still running on the old rules while that happens is
 * decided without counting (its limits see no state): a reload never
 * counts an event twice or into the wrong limit.
 */
#ifndef CALLBAR_DAEMON_LIMITS_H
#define CALLBAR_DAEMON_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/limit.h"
#include "callbar/rules.h"

#define BARS_FOLLOW_MS 250 /* how often a node reads the registry's bars */
#define BARS_QUEUE_MAX 4096 /* bars waiting to be written; more are counted as lost */

struct daemon_limits;

/* A bar a limit set on this node, waiting for the registry. */
struct daemon_new_bar {
	uint64_t limit_id;
	char key[24];    /* as text: "+447911123456", "+447911*" */
	char rule[128];  /* "file:line" */
	char reason[65]; /* "" for none */
	uint32_t count;
	int64_t at, until;
};

enum cbar_err cbar_daemon_limits_new(struct daemon_limits **out, size_t max_keys,
                                     uint32_t tolerance);
void cbar_daemon_limits_free(struct daemon_limits *dl);

/* Count for rules from now on (the snapshot about to be published),
 * carrying the counters of unchanged limits over.  On failure (memory)
 * nothing is counted until a later call succeeds. */
enum cbar_err cbar_daemon_limits_use(struct daemon_limits *dl, const struct cbar_rules *rules);

/* The counter decisions consult (rules.h, struct cbar_limit_counter). */
const struct cbar_limit_counter *cbar_daemon_limits_counter(struct daemon_limits *dl);

/* For the bars thread: take up to cap queued bars (oldest first). */
size_t cbar_daemon_limits_take(struct daemon_limits *dl, struct daemon_new_bar *out, size_t cap);
/* Replace the registry's active bars this node honours: n bars of (limit
 * id, key text, until); keys that do not read are skipped. */
struct daemon_shared_bar {
	uint64_t limit_id, key;
	int64_t until;
};
void cbar_daemon_limits_shared(struct daemon_limits *dl, struct daemon_shared_bar *bars, size_t n);
/* Lift key (text) in the local counting state: every limit, or the limit
 * with id limit_id (0: every one).  How many bars it lifted. */
unsigned cbar_daemon_limits_lift(struct daemon_limits *dl, uint64_t limit_id, const char *key);

/* Parse a key's text ("+447911123456", "+447911*") into its value. */
bool cbar_daemon_limit_key(const char *s, uint64_t *key);

/* For /metrics: call fn for every limit of the rules in use with its
 * label (its reason, else "line N") and its active bars (local and shared,
 * at now).  Events barred and keys gone over are counted as they happen. */
void cbar_daemon_limits_each(struct daemon_limits *dl, int64_t now,
                             void (*fn)(void *ctx, const char *label, size_t active), void *ctx);
uint64_t cbar_daemon_limits_lost(struct daemon_limits *dl);

#endif
