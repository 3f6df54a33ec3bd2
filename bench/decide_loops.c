/* callbar benchmarks: the decide benchmarks' timed loops (decide_loops.h). */
#include "decide_loops.h"

static const struct cbar_event *event(const struct decide_bench *d, size_t i)
{
	return (const struct cbar_event *)((const char *)d->base + (i & (d->nev - 1)) * d->stride);
}

uint64_t decide_bench_lookup(void *arg, size_t n)
{
	const struct decide_bench *d = arg;
	uint64_t acc = 0;
	struct cbar_unlock u[8];
	size_t k;
	for (size_t i = 0; i < n; i++) {
		cbar_unlockset_find(d->uset, event(d, i)->subscriber->e164, u, 8, &k);
		acc += k;
	}
	return acc;
}

uint64_t decide_bench_decide(void *arg, size_t n)
{
	const struct decide_bench *d = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(d->uset);
	struct cbar_verdict v;
	for (size_t i = 0; i < n; i++)
		acc += (uint64_t)cbar_decide(d->rules, event(d, i), &lk, &v) + (uint64_t)v.rule;
	return acc;
}

uint64_t decide_bench_lookup_prefetched(void *arg, size_t n)
{
	const struct decide_bench *d = arg;
	uint64_t acc = 0;
	struct cbar_unlock u[8];
	size_t k;
	for (size_t i = 0; i < n; i += DECIDE_BENCH_BATCH) {
		size_t m = n - i < DECIDE_BENCH_BATCH ? n - i : DECIDE_BENCH_BATCH;
		for (size_t j = 0; j < m; j++)
			cbar_unlockset_prefetch(d->uset, event(d, i + j)->subscriber->e164);
		for (size_t j = 0; j < m; j++) {
			cbar_unlockset_find(d->uset, event(d, i + j)->subscriber->e164, u, 8, &k);
			acc += k;
		}
	}
	return acc;
}

uint64_t decide_bench_many(void *arg, size_t n)
{
	const struct decide_bench *d = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(d->uset);
	const struct cbar_event *ev[DECIDE_BENCH_BATCH];
	struct cbar_verdict v[DECIDE_BENCH_BATCH];
	for (size_t i = 0; i < n; i += DECIDE_BENCH_BATCH) {
		size_t m = n - i < DECIDE_BENCH_BATCH ? n - i : DECIDE_BENCH_BATCH;
		for (size_t j = 0; j < m; j++)
			ev[j] = event(d, i + j);
		cbar_decide_many(d->rules, ev, m, &lk, v);
		for (size_t j = 0; j < m; j++)
			acc += (uint64_t)v[j].decision + (uint64_t)v[j].rule;
	}
	return acc;
}
