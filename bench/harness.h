/*
 * callbar benchmarks: timing against a baseline measured in the same run.
 *
 * Machines here are noisy, so a result is never an absolute number alone:
 * each round times the baseline and the candidate back to back, and the
 * report gives the median over rounds of the rate of each and of their
 * ratio.  Rounds alternate which goes first.
 */
#ifndef CALLBAR_BENCH_HARNESS_H
#define CALLBAR_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Do n operations; return something derived from the work so the
 * compiler cannot drop it. */
typedef uint64_t (*bench_fn)(void *arg, size_t n);

struct bench_result {
	double base_rate, cand_rate; /* operations per second, medians */
	double ratio;                /* median of cand_rate / base_rate */
};

struct bench_result bench_compare(const char *name, bench_fn base, void *base_arg,
                                  bench_fn cand, void *cand_arg, size_t n, int rounds);

/* Print one result line: name, both rates, the ratio and the goal. */
void bench_report(const char *name, const char *unit, const struct bench_result *r,
                  const char *goal);

/* Nanosecond monotonic clock. */
uint64_t bench_now_ns(void);

/* xorshift64: the benchmarks' random numbers (*s must not be 0). */
uint64_t bench_xorshift(uint64_t *s);

/* A rule file of n rules (plus the default) in a new buffer from
 * malloc(), drawn with *rng: the pilots-shaped policy the decide and
 * scale benchmarks share. */
char *bench_gen_rules(size_t n, size_t *len, uint64_t *rng);

#endif
