/*
 * callbar: the counting state of `limit` statements (docs/limits.md).
 *
 * Conventions:
 * - A limiter counts the events of every limit of one rule snapshot, on
 *   event time (the event's own `time`, never a clock), so the same events
 *   give the same verdicts live and in `callbar batch`.  It is pure state:
 *   no I/O, no clock, no lock.  One thread at a time may use it; the
 *   daemon puts its lock around it, batch gives each shard its own.
 * - Memory is bounded and allocated once, at cbar_limiter_new(): every
 *   limit has a table of max_keys keys (rounded up to a multiple of 4), and
 *   every key remembers at most its limit's threshold of events or
 *   counterparts (a key that goes over is barred and forgets them).
 *   cbar_limiter_bytes() is the whole cap; cbar_limit_key_bytes() the size
 *   of one tracked key.
 * - Eviction: a key hashes to a set of 4 places (one cache line).  A new
 *   key when all 4 are taken replaces, among the keys that are not barred
 *   at the event's time, the one whose newest event is oldest; when all 4
 *   are barred, the
 *   one whose bar ends first.  A key evicted while counting starts again
 *   from zero the next time it is seen.
 * - Event order: an event up to `tolerance` seconds older than the newest
 *   event of its key is counted in its place.  An older one is decided
 *   against the key's bar and its count, but neither counted nor able to
 *   bar the key.  An event earlier than a bar's start but before its end is
 *   barred like any other.
 * - Ownership: the limiter is the caller's, freed with cbar_limiter_free();
 *   it keeps no pointer to the snapshot it was made for (only each limit's
 *   id, threshold, window and bar), but its limit indexes are that
 *   snapshot's.
 */
#ifndef CALLBAR_LIMIT_H
#define CALLBAR_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/rules.h"

struct cbar_limiter_config {
	size_t max_keys;    /* keys tracked per limit; 0: CBAR_LIMIT_MAX_KEYS_DEFAULT */
	uint32_t tolerance; /* seconds an event may be late and still count */
};

#define CBAR_LIMIT_MAX_KEYS_DEFAULT 65536
#define CBAR_LIMIT_TOLERANCE_DEFAULT 5

struct cbar_limiter;

/*
 * A limiter for the limits of rules.  With old (may be NULL), the counters
 * and bars of every limit whose definition did not change (the same id
 * and the same max_keys) move from old to the new limiter; old keeps the
 * rest and is still to be freed.  On failure *out is NULL and old is
 * unchanged.
 */
enum cbar_err cbar_limiter_new(const struct cbar_rules *rules, const struct cbar_limiter_config *c,
                               struct cbar_limiter *old, struct cbar_limiter **out);
void cbar_limiter_free(struct cbar_limiter *lm);

/* Count one event (struct cbar_limit_counter's hit). */
enum cbar_err cbar_limiter_hit(struct cbar_limiter *lm, const struct cbar_limit_query *q,
                               struct cbar_limit_answer *a);

/* Start fetching the set of key in limit k (no change to what lm counts;
 * it remembers the set for the hit that follows). */
void cbar_limiter_prefetch(struct cbar_limiter *lm, size_t limit, uint64_t key);

/* The counter interface over lm (hit and prefetch), for struct
 * cbar_unlock_lookup.limits. */
struct cbar_limit_counter cbar_limiter_counter(struct cbar_limiter *lm);

/* Bytes the limiter holds at most (its tables), and one tracked key of l. */
size_t cbar_limiter_bytes(const struct cbar_limiter *lm);
size_t cbar_limit_key_bytes(const struct cbar_limit_info *l);

/* Keys of limit k tracked now (counting or barred). */
size_t cbar_limiter_keys(const struct cbar_limiter *lm, size_t limit);

/* Every key barred at time t, limit by limit; fn's bar_until is the end. */
typedef void (*cbar_limiter_bar_fn)(void *ctx, size_t limit, uint64_t key, int64_t bar_until);
size_t cbar_limiter_bars(const struct cbar_limiter *lm, int64_t t, cbar_limiter_bar_fn fn,
                         void *ctx);

/* Lift key's bar in limit k (its counting starts again); whether it was
 * barred. */
bool cbar_limiter_lift(struct cbar_limiter *lm, size_t limit, uint64_t key);

#endif
