/*
 * callbar benchmarks: the unlock set at national scale.
 *
 *   bench_scale [N...] [-r ROUNDS] [-e EVENTS]   (default N: 1000000 10000000)
 *
 * For each N: build an unlock set of N random mobile subscribers the way
 * the daemon does (an empty set, every record added, then
 * cbar_unlockset_fit()), and print the build time, the bytes it holds per
 * record (table, load factor and header included; goal <= 16) and the
 * mean number of buckets a lookup reads.  Then decide with the pilots-shaped
 * 1,000-rule policy (the generator of bench_rules.c) against the first set
 * (baseline) and the last (candidate) in the same run, rounds alternating;
 * events draw their subscriber half from the set's records, half at random.
 * Goal: the largest set keeps at least 0.7 x the rate of the smallest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/rules.h"
#include "harness.h"
#include "store/unlockset.h"

#define NEV     (1u << 20)
#define MAXSETS 8

static struct cbar_numplan *np;
static struct cbar_rules *rules;

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
	return bench_xorshift(&rng);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15u;
	x ^= x >> 29;
	return x;
}

static const char *seg[] = {"138", "139", "150", "186", "189", "133", "177", "158"};

/* The i-th subscriber of a set: a mobile number of the eight segments. */
static uint64_t subscriber(uint64_t salt, size_t i)
{
	uint64_t r = mix(i * 0x2545f4914f6cdd1du + salt);
	return 8600000000000ull + strtoull(seg[r % 8], NULL, 10) * 100000000ull +
	       (r >> 8) % 100000000ull;
}

struct world {
	size_t n;
	struct cbar_unlockset *set;
	struct cbar_number *subs, *peers;
	struct cbar_event *events;
};

static uint64_t run_decide(void *arg, size_t n)
{
	struct world *w = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(w->set);
	struct cbar_verdict v;
	for (size_t i = 0; i < n; i++)
		acc += (uint64_t)cbar_decide(rules, &w->events[i & (NEV - 1)], &lk, &v) +
		       (uint64_t)v.rule;
	return acc;
}

/* As a front end deciding a batch (SIP datagrams read together, an HTTP
 * batch) can: start the unlock probe AHEAD events before deciding. */
#define AHEAD 8
static uint64_t run_decide_ahead(void *arg, size_t n)
{
	struct world *w = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(w->set);
	struct cbar_verdict v;
	for (size_t i = 0; i < n; i++) {
		cbar_unlockset_prefetch(w->set,
		                        w->events[(i + AHEAD) & (NEV - 1)].subscriber->e164);
		acc += (uint64_t)cbar_decide(rules, &w->events[i & (NEV - 1)], &lk, &v) +
		       (uint64_t)v.rule;
	}
	return acc;
}

/* As the front ends decide what they receive together (SIP recvmmsg, the
 * HTTP batch route, callbar batch): cbar_decide_many over 32 events. */
#define MANY 32
static uint64_t run_decide_many(void *arg, size_t n)
{
	struct world *w = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(w->set);
	struct cbar_verdict v[MANY];
	const struct cbar_event *ev[MANY];
	for (size_t i = 0; i < n; i += MANY) {
		for (size_t k = 0; k < MANY; k++)
			ev[k] = &w->events[(i + k) & (NEV - 1)];
		cbar_decide_many(rules, ev, MANY, &lk, v);
		for (size_t k = 0; k < MANY; k++)
			acc += (uint64_t)v[k].decision + (uint64_t)v[k].rule;
	}
	return acc;
}

static uint64_t run_lookup(void *arg, size_t n)
{
	struct world *w = arg;
	uint64_t acc = 0;
	struct cbar_unlock u[8];
	size_t k;
	for (size_t i = 0; i < n; i++) {
		cbar_unlockset_find(w->set, w->subs[i & (NEV - 1)].e164, u, 8, &k);
		acc += k;
	}
	return acc;
}

static uint64_t run_lookup_ahead(void *arg, size_t n)
{
	struct world *w = arg;
	uint64_t acc = 0;
	struct cbar_unlock u[8];
	size_t k;
	for (size_t i = 0; i < n; i++) {
		cbar_unlockset_prefetch(w->set, w->subs[(i + AHEAD) & (NEV - 1)].e164);
		cbar_unlockset_find(w->set, w->subs[i & (NEV - 1)].e164, u, 8, &k);
		acc += k;
	}
	return acc;
}

static void huge_pages(void)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "AnonHugePages:", 14))
			printf("    %s", line);
	if (f)
		fclose(f);
}

static double now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

static void build(struct world *w, uint64_t salt)
{
	double t0 = now_s();
	w->set = cbar_unlockset_new(1024);
	for (size_t i = 0; i < w->n; i++) {
		uint64_t r = mix(i + salt);
		struct cbar_unlock u = {.subscriber = subscriber(salt, i),
		                        .scope = (uint8_t)(r % 3 ? CBAR_SCOPE_ALL : CBAR_SCOPE_SMS),
		                        .level = (uint8_t)((r >> 2) % 2 + 1),
		                        .expires = r % 5 ? 0 : 1900000000u,
		                        .active = 1};
		if (cbar_unlockset_add(w->set, &u)) {
			fprintf(stderr, "add failed at %zu\n", i);
			exit(1);
		}
	}
	double t1 = now_s();
	size_t grown = cbar_unlockset_bytes(w->set);
	if (cbar_unlockset_fit(w->set)) {
		fprintf(stderr, "fit: out of memory\n");
		exit(1);
	}
	double t2 = now_s();
	size_t cnt = cbar_unlockset_count(w->set), bytes = cbar_unlockset_bytes(w->set);
	printf("set %11zu records: add %.2f s, fit %.2f s; %.2f bytes/record fitted (%.2f before "
	       "fit); goal <= 16: %s\n",
	       cnt, t1 - t0, t2 - t1, (double)bytes / (double)cnt, (double)grown / (double)cnt,
	       (double)bytes / (double)cnt <= 16 ? "met" : "NOT met");
	fflush(stdout);
	/* Events: subscriber half from the set, half at random. */
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	static const char *abroad[] = {"+85291234567", "+85366123456",  "+886912345678",
	                               "+12025550100", "+447911123456", "+4930123456",
	                               "+81312345678", "+2348012345678"};
	w->subs = calloc(NEV, sizeof *w->subs);
	w->peers = calloc(NEV, sizeof *w->peers);
	w->events = calloc(NEV, sizeof *w->events);
	uint64_t hits = 0, seen = 0;
	for (size_t i = 0; i < NEV; i++) {
		char s[32], p[32];
		uint64_t r = next();
		uint64_t sub =
		    r % 2 ? subscriber(salt, (r >> 1) % w->n) : subscriber(~salt, r >> 1);
		snprintf(s, sizeof s, "+%" PRIu64, sub);
		if ((r >> 40) % 10 < 6)
			snprintf(p, sizeof p, "%s%08u", seg[(r >> 44) % 8],
			         (unsigned)((r >> 20) % 100000000));
		else
			snprintf(p, sizeof p, "%s", abroad[(r >> 44) % 8]);
		if (cbar_number_parse(np, cn, s, strlen(s), &w->subs[i], NULL) ||
		    cbar_number_parse(np, cn, p, strlen(p), &w->peers[i], NULL)) {
			fprintf(stderr, "bad generated number %s or %s\n", s, p);
			exit(1);
		}
		w->events[i] =
		    (struct cbar_event){.time = 1609459200 + (int64_t)((r >> 8) % 94608000),
		                        .service = (enum cbar_service)((r >> 50) % 2),
		                        .direction = (enum cbar_direction)((r >> 51) % 2),
		                        .subscriber = &w->subs[i],
		                        .peer = &w->peers[i],
		                        .ingress = (r >> 52) % 4 ? NULL : "intl-gateway",
		                        .ingress_len = 12};
		struct cbar_unlock u[8];
		size_t k;
		cbar_unlockset_find(w->set, w->subs[i].e164, u, 8, &k);
		hits += k != 0;
		seen++;
	}
	printf("    events: %.1f%% of subscribers unlocked\n", 100.0 * (double)hits / (double)seen);
	huge_pages();
}

int main(int argc, char **argv)
{
	struct world w[MAXSETS] = {0};
	int nw = 0, rounds = 7;
	size_t ops = 4000000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-e") && i + 1 < argc)
			ops = strtoull(argv[++i], NULL, 10);
		else if (nw < MAXSETS)
			w[nw++].n = strtoull(argv[i], NULL, 10);
	}
	if (!nw) {
		w[nw++].n = 1000000;
		w[nw++].n = 10000000;
	}
	if (cbar_numplan_embedded(&np, NULL))
		return 1;
	size_t len;
	struct cbar_diag d;
	char *text = bench_gen_rules(1000, &len, &rng);
	if (cbar_rules_compile(np, text, len, "gen.rules", NULL, &d, &rules)) {
		fprintf(stderr, "gen.rules:%u:%u: %s\n", d.line, d.column, d.msg);
		return 1;
	}
	free(text);
	for (int i = 0; i < nw; i++)
		build(&w[i], 0x1234567u * (uint64_t)(i + 1));
	if (nw > 1) {
		char name[80], goal[80];
		snprintf(name, sizeof name, "decide 1k rules, %zu vs %zu", w[0].n, w[nw - 1].n);
		struct bench_result res =
		    bench_compare(name, run_decide, &w[0], run_decide, &w[nw - 1], ops, rounds);
		snprintf(goal, sizeof goal, "goal >= 0.7 x the rate at %zu records: %s", w[0].n,
		         res.ratio >= 0.7 ? "met" : "NOT met");
		bench_report(name, "dec", &res, goal);
		snprintf(name, sizeof name, "decide_many %d, %zu vs %zu", MANY, w[0].n,
		         w[nw - 1].n);
		res = bench_compare(name, run_decide_many, &w[0], run_decide_many, &w[nw - 1], ops,
		                    rounds);
		snprintf(goal, sizeof goal, "goal >= 0.7 x the rate at %zu records: %s", w[0].n,
		         res.ratio >= 0.7 ? "met" : "NOT met");
		bench_report(name, "dec", &res, goal);
		snprintf(name, sizeof name, "decide ahead %d, %zu vs %zu", AHEAD, w[0].n,
		         w[nw - 1].n);
		res = bench_compare(name, run_decide_ahead, &w[0], run_decide_ahead, &w[nw - 1],
		                    ops, rounds);
		snprintf(goal, sizeof goal, "goal >= 0.7 x the rate at %zu records: %s", w[0].n,
		         res.ratio >= 0.7 ? "met" : "NOT met");
		bench_report(name, "dec", &res, goal);
	}
	if (nw > 1 && getenv("BENCH_LOOKUP")) {
		struct bench_result res =
		    bench_compare("lookup", run_lookup, &w[0], run_lookup, &w[nw - 1], ops, rounds);
		bench_report("lookup only, first vs last", "op", &res, "(no goal)");
		res = bench_compare("lookup ahead", run_lookup_ahead, &w[0], run_lookup_ahead,
		                    &w[nw - 1], ops, rounds);
		bench_report("lookup ahead 8, first vs last", "op", &res, "(no goal)");
	}
	for (int i = 0; i < nw; i++) {
		cbar_unlockset_free(w[i].set);
		free(w[i].subs);
		free(w[i].peers);
		free(w[i].events);
	}
	cbar_rules_free(rules);
	cbar_numplan_free(np);
	return 0;
}
