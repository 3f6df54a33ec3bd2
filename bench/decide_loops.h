/*
 * callbar benchmarks: the decide benchmarks' timed loops, shared by
 * bench_rules.c (its own generated events) and bench_decide_real.c (events
 * read from a realistic CDR file), so that both time the same code.
 *
 * The events are nev (a power of two) struct cbar_event, stride bytes
 * apart from base (an array of them, or the ev member of an array of
 * struct cbar_event_in); every event has a subscriber.  Each loop does n
 * operations over them in order, wrapping around, and returns something
 * derived from its work (harness.h's bench_fn).
 */
#ifndef CALLBAR_BENCH_DECIDE_LOOPS_H
#define CALLBAR_BENCH_DECIDE_LOOPS_H

#include <stddef.h>
#include <stdint.h>

#include "callbar/rules.h"
#include "store/unlockset.h"

struct decide_bench {
	const struct cbar_rules *rules;
	struct cbar_unlockset *uset;
	const void *base;
	size_t stride, nev;
};

/* Batches of decide_bench_lookup_prefetched() and decide_bench_many(). */
#define DECIDE_BENCH_BATCH 32

/* One lookup of each event's subscriber in the unlock set. */
uint64_t decide_bench_lookup(void *arg, size_t n);
/* cbar_decide() of each event. */
uint64_t decide_bench_decide(void *arg, size_t n);
/* The lookups DECIDE_BENCH_BATCH at a time, every probe of a batch
 * prefetched before the first is read: the fastest a loop of lookups goes. */
uint64_t decide_bench_lookup_prefetched(void *arg, size_t n);
/* cbar_decide_many() of DECIDE_BENCH_BATCH events at a time. */
uint64_t decide_bench_many(void *arg, size_t n);

#endif
