/* callbar benchmarks: the same-run baseline harness (see harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

static double rate(bench_fn fn, void *arg, size_t n)
{
	uint64_t t0 = bench_now_ns();
	sink += fn(arg, n);
	uint64_t t1 = bench_now_ns();
	return (double)n * 1e9 / (double)(t1 - t0 ? t1 - t0 : 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct bench_result bench_compare(const char *name, bench_fn base, void *base_arg,
                                  bench_fn cand, void *cand_arg, size_t n, int rounds)
{
	double b[64], c[64], r[64];
	if (rounds > 64)
		rounds = 64;
	(void)name;
	/* Warm caches and branch predictors once. */
	sink += base(base_arg, n / 10 + 1) + cand(cand_arg, n / 10 + 1);
	for (int i = 0; i < rounds; i++) {
		if (i % 2) {
			c[i] = rate(cand, cand_arg, n);
			b[i] = rate(base, base_arg, n);
		} else {
			b[i] = rate(base, base_arg, n);
			c[i] = rate(cand, cand_arg, n);
		}
		r[i] = c[i] / b[i];
	}
	struct bench_result res = {median(b, rounds), median(c, rounds), median(r, rounds)};
	return res;
}

void bench_report(const char *name, const char *unit, const struct bench_result *r,
                  const char *goal)
{
	printf("%-28s baseline %8.2f M%s/s  callbar %8.2f M%s/s  ratio %.3f  (%s)\n", name,
	       r->base_rate / 1e6, unit, r->cand_rate / 1e6, unit, r->ratio, goal);
}
