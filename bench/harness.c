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

uint64_t bench_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The pilots-shaped policy of the decide and scale benchmarks: zones, a
 * scam list, announcements, and n block rules over random directions,
 * services, peers, carriers, regions, dates, ingress classes and unless
 * clauses, then the default. */
static const char *regions[] = {"CN-ZJ", "CN-HA", "CN-JX", "CN-LN", "CN-GZ", "CN-HE", "CN-BJ",
                                "CN-SH", "CN-GD", "CN-JS", "CN-SD", "CN-SC", "CN-HB", "CN-HN",
                                "CN-FJ", "CN-AH", "CN-YN", "CN-SX", "CN-SN", "CN-GX"};
static const char *carriers[] = {"cmcc", "cucc", "ctcc", "cmcc,cucc", "cucc,ctcc", "cmcc,ctcc"};
static const char *peerz[] = {"abroad", "hkmotw", "!mainland", "<scam>", "overseas"};

char *bench_gen_rules(size_t n, size_t *len, uint64_t *rng)
{
	size_t cap = 4096 + n * 200;
	char *t = malloc(cap), *p = t;
	p += sprintf(p, "timezone +08:00\nzone mainland +86\nzone hkmotw +852 +853 +886\n"
	                "zone abroad !mainland\nzone greater mainland hkmotw\nzone overseas !greater\n"
	                "emergency 110 112 119 120 122\nlist scam");
	for (int i = 0; i < 500; i++)
		p += sprintf(p, " +8617%05d", (int)(bench_xorshift(rng) % 100000));
	p += sprintf(p, "\nannounce a zh \"发送1219到10086\" en \"text 1219 to 10086\"\n");
	for (size_t i = 0; i < n; i++) {
		uint64_t r = bench_xorshift(rng);
		const char *dir = r % 3 == 0 ? "out" : "in", *svc = (r >> 2) % 2 ? "voice" : "sms";
		p += sprintf(p, "block %s %s %s ", dir, svc, dir[0] == 'o' ? "to" : "from");
		if ((r >> 4) % 4 == 0)
			p += sprintf(p, "+%u", (unsigned)(1 + (r >> 8) % 300) + 200);
		else
			p += sprintf(p, "%s", peerz[(r >> 8) % 5]);
		if ((r >> 16) % 2)
			p += sprintf(p, " carrier %s", carriers[(r >> 18) % 6]);
		p += sprintf(p, " region %s", regions[(r >> 22) % 20]);
		if ((r >> 28) % 2)
			p += sprintf(p, " since 20%02u-%02u-%02u", (unsigned)(21 + (r >> 30) % 3),
			             (unsigned)(1 + (r >> 33) % 12), (unsigned)(1 + (r >> 37) % 28));
		if ((r >> 42) % 3 == 0)
			p += sprintf(p, " via intl-gateway");
		if ((r >> 44) % 3)
			p += sprintf(p, " unless %s", (r >> 46) % 4 ? "unlocked" : "verified");
		p += sprintf(p, " reason r%zu announce a\n", i);
	}
	p += sprintf(p, "pass all\n");
	*len = (size_t)(p - t);
	return t;
}
