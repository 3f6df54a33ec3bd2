/*
 * callbar benchmark: decisions per second, and compiling a big rule file.
 *
 * decide: 1,000 generated rules of the pilots' shape (zones, a list,
 * carriers, regions, dates, unless, a few hundred +prefix peers) and
 * 10 million unlock records; 1M random events (subscribers drawn from the
 * same random mobile numbers, half of them unlocked; peers 60% mainland,
 * 40% abroad), numbers parsed before timing, as the edge does.  Baseline:
 * one random lookup per event in a hash table of the same size (the unlock
 * set itself).  Goal: at least half the baseline's rate.
 *
 * decide_many: the same events decided 32 at a time by cbar_decide_many().
 * Baseline: the same lookups, 32 at a time, each batch's probes prefetched
 * before the first is read (the fastest a loop of lookups goes).  Goal: at
 * least half the baseline's rate.
 *
 * limits: the same events, in time order (a clock advancing a second every
 * 16 events, never going back between runs), decided on the 1,000 rules
 * with three `limit` statements in front of them (per subscriber: events,
 * distinct peers, events of every kind; a limiter of 65,536 keys a limit,
 * so keys are evicted all the time) against the same rules without them.
 * Goal: at least half the rate without limits.  Bytes per tracked key too.
 * Then the same with keys that recur (`50k active`: subscribers drawn from
 * 50,000), labelled as such: the cold keys above are the worst case.
 *
 * compile: 100,000 generated rules, compiled whole (parse + tables).
 * Baseline: one memchr pass counting the lines of the same text.  Goal:
 * under half a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/limit.h"
#include "callbar/rules.h"
#include "decide_loops.h"
#include "harness.h"
#include "store/unlockset.h"

#define NEV (1u << 20)
#define NUNLOCK 10000000u

static struct cbar_numplan *np;
static struct cbar_rules *rules;
static struct cbar_unlockset *uset;
static struct cbar_number *subs, *peers;
static struct cbar_event *events;

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
	return bench_xorshift(&rng);
}

/* The limits benchmark: rules with limits, their counting state, and one
 * clock for both sides so that time only moves on. */
static struct cbar_rules *lrules;
static struct cbar_limiter *limiter;
static uint64_t ticks;

static const char limits_head[] =
	"limit out voice to abroad per subscriber 10/1h bar 2h reason irsf\n"
	"limit in any from abroad per subscriber distinct peer 20/10m bar 1h reason inflood\n"
	"limit any any per subscriber 100/1m bar 1h reason flood\n";

/* A side of a limits line: the events, and whether the rules have the
 * limits.  The warm events are the cold ones with their subscribers drawn
 * from ACTIVE of them: the keys recur (at 16 events a second, a
 * subscriber's next event comes some 52 minutes later, inside the `1h`
 * window) and stay in the limiter (ACTIVE < 65,536 keys). */
#define ACTIVE 50000
struct timed {
	bool limits;
	const struct cbar_event *ev;
};
static struct cbar_event *warm;
static struct timed cold_none, cold_lim, warm_none, warm_lim;

/* The rules a timed run decides on, and its lookup (with the limiter's
 * counter in c when it counts limits). */
static const struct cbar_rules *timed_rules(const struct timed *tm, struct cbar_unlock_lookup *lk,
                                            struct cbar_limit_counter *c)
{
	*lk = cbar_unlockset_lookup(uset);
	if (!tm->limits)
		return rules;
	*c = cbar_limiter_counter(limiter);
	lk->limits = c;
	return lrules;
}

static uint64_t run_timed(void *arg, size_t n)
{
	const struct timed *tm = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk;
	struct cbar_limit_counter c;
	const struct cbar_rules *r = timed_rules(tm, &lk, &c);
	struct cbar_verdict v;
	for (size_t i = 0; i < n; i++) {
		struct cbar_event ev = tm->ev[i & (NEV - 1)];
		ev.time = 1704067200 + (int64_t)(ticks++ >> 4);
		acc += (uint64_t)cbar_decide(r, &ev, &lk, &v) + (uint64_t)v.rule;
	}
	return acc;
}

/* The same, DECIDE_BENCH_BATCH at a time by cbar_decide_many(). */
static uint64_t run_timed_many(void *arg, size_t n)
{
	const struct timed *tm = arg;
	uint64_t acc = 0;
	struct cbar_unlock_lookup lk;
	struct cbar_limit_counter c;
	const struct cbar_rules *r = timed_rules(tm, &lk, &c);
	struct cbar_event evs[DECIDE_BENCH_BATCH];
	const struct cbar_event *ev[DECIDE_BENCH_BATCH];
	struct cbar_verdict v[DECIDE_BENCH_BATCH];
	for (size_t i = 0; i < n; i += DECIDE_BENCH_BATCH) {
		size_t m = n - i < DECIDE_BENCH_BATCH ? n - i : DECIDE_BENCH_BATCH;
		for (size_t j = 0; j < m; j++) {
			evs[j] = tm->ev[(i + j) & (NEV - 1)];
			evs[j].time = 1704067200 + (int64_t)(ticks++ >> 4);
			ev[j] = &evs[j];
		}
		cbar_decide_many(r, ev, m, &lk, v);
		for (size_t j = 0; j < m; j++)
			acc += (uint64_t)v[j].decision + (uint64_t)v[j].rule;
	}
	return acc;
}

static const char *ctext;
static size_t clen;

static uint64_t run_lines(void *arg, size_t n)
{
	(void)arg;
	uint64_t acc = 0;
	for (size_t k = 0; k < n; k++)
		for (const char *p = ctext, *e = ctext + clen; (p = memchr(p, '\n', (size_t)(e - p)));
		     p++)
			acc++;
	return acc;
}

static uint64_t run_compile(void *arg, size_t n)
{
	(void)arg;
	uint64_t acc = 0;
	for (size_t k = 0; k < n; k++) {
		struct cbar_rules *r;
		struct cbar_diag d;
		if (cbar_rules_compile(np, ctext, clen, "gen.rules", NULL, &d, &r)) {
			fprintf(stderr, "gen.rules:%u:%u: %s\n", d.line, d.column, d.msg);
			exit(1);
		}
		acc += cbar_rules_count(r);
		cbar_rules_free(r);
	}
	return acc;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 7;
	if (cbar_numplan_embedded(&np, NULL))
		return 1;
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	size_t len;
	struct cbar_diag d;
	char *text = bench_gen_rules(1000, &len, &rng);
	if (cbar_rules_compile(np, text, len, "gen.rules", NULL, &d, &rules)) {
		fprintf(stderr, "gen.rules:%u:%u: %s\n", d.line, d.column, d.msg);
		return 1;
	}
	/* The same rules with three limits first (after the file's head, which
	 * ends at the announcement). */
	{
		const char *at = strstr(text, "\nannounce a ");
		at = at ? strchr(at + 1, '\n') + 1 : text;
		size_t h = (size_t)(at - text), lh = sizeof limits_head - 1;
		char *lt = malloc(len + lh);
		memcpy(lt, text, h);
		memcpy(lt + h, limits_head, lh);
		memcpy(lt + h + lh, at, len - h);
		if (cbar_rules_compile(np, lt, len + lh, "gen-limits.rules", NULL, &d, &lrules) ||
		    cbar_limiter_new(lrules, NULL, NULL, &limiter)) {
			fprintf(stderr, "gen-limits.rules:%u:%u: %s\n", d.line, d.column, d.msg);
			return 1;
		}
		free(lt);
	}
	free(text);
	/* 10M unlocked subscribers among 20M random mobile numbers. */
	static const char *seg[] = {"138", "139", "150", "186", "189", "133", "177", "158"};
	uset = cbar_unlockset_new(NUNLOCK);
	uint64_t *pool = malloc(2 * (size_t)NUNLOCK * sizeof *pool);
	for (size_t i = 0; i < 2 * (size_t)NUNLOCK; i++) {
		uint64_t r = next();
		pool[i] = 8600000000000ull + strtoull(seg[r % 8], NULL, 10) * 100000000ull +
		          (r >> 8) % 100000000ull;
		if (i < NUNLOCK) {
			struct cbar_unlock u = {.subscriber = pool[i], .scope = (uint8_t)((r >> 40) % 3 ? CBAR_SCOPE_ALL : CBAR_SCOPE_SMS),
			                        .level = (uint8_t)((r >> 42) % 2 + 1), .active = 1};
			cbar_unlockset_add(uset, &u);
		}
	}
	subs = calloc(NEV, sizeof *subs);
	peers = calloc(NEV, sizeof *peers);
	events = calloc(NEV, sizeof *events);
	static const char *abroad[] = {"+85291234567", "+85366123456", "+886912345678",
	                               "+12025550100", "+447911123456", "+4930123456",
	                               "+81312345678", "+2348012345678"};
	for (size_t i = 0; i < NEV; i++) {
		char s[32], p[32];
		uint64_t r = next();
		snprintf(s, sizeof s, "+%llu", (unsigned long long)pool[r % (2 * (size_t)NUNLOCK)]);
		if ((r >> 40) % 10 < 6)
			snprintf(p, sizeof p, "%s%08u", seg[(r >> 44) % 8],
			         (unsigned)((r >> 20) % 100000000));
		else
			snprintf(p, sizeof p, "%s", abroad[(r >> 44) % 8]);
		if (cbar_number_parse(np, cn, s, strlen(s), &subs[i], NULL) ||
		    cbar_number_parse(np, cn, p, strlen(p), &peers[i], NULL)) {
			fprintf(stderr, "bad generated number %s or %s\n", s, p);
			return 1;
		}
		events[i] = (struct cbar_event){.time = 1609459200 + (int64_t)((r >> 8) % 94608000),
		                                .service = (enum cbar_service)((r >> 50) % 2),
		                                .direction = (enum cbar_direction)((r >> 51) % 2),
		                                .subscriber = &subs[i],
		                                .peer = &peers[i],
		                                .ingress = (r >> 52) % 4 ? NULL : "intl-gateway",
		                                .ingress_len = 12};
	}
	free(pool);
	warm = calloc(NEV, sizeof *warm);
	for (size_t i = 0; i < NEV; i++) {
		warm[i] = events[i];
		warm[i].subscriber = &subs[next() % ACTIVE];
	}
	cold_none = (struct timed){false, events};
	cold_lim = (struct timed){true, events};
	warm_none = (struct timed){false, warm};
	warm_lim = (struct timed){true, warm};
	/* A third argument `limits`: the limits lines alone (while working on
	 * them). */
	bool only_limits = argc > 3 && !strcmp(argv[3], "limits");
	struct bench_result res;
	if (only_limits)
		goto limits;
	struct decide_bench db = {rules, uset, events, sizeof *events, NEV};
	res =
	    bench_compare("decide", decide_bench_lookup, &db, decide_bench_decide, &db, n, rounds);
	bench_report("decide (1k rules, 10M unl.)", "dec", &res,
	             res.ratio >= 0.5 ? "goal >= 0.5 x one hash lookup: met"
	                              : "goal >= 0.5 x one hash lookup: NOT met");

	/* Decisions in batches against the prefetched-lookup loop. */
	res = bench_compare("decide_many", decide_bench_lookup_prefetched, &db, decide_bench_many,
	                    &db, n, rounds);
	bench_report("decide_many (batches of 32)", "dec", &res,
	             res.ratio >= 0.5 ? "goal >= 0.5 x prefetched lookups: met"
	                              : "goal >= 0.5 x prefetched lookups: NOT met");

limits:
	/* Three limits against none, the same events in time order. */
	res = bench_compare("limits", run_timed, &cold_none, run_timed, &cold_lim, n, rounds);
	bench_report("decide, 3 limits vs none", "dec", &res,
	             res.ratio >= 0.5 ? "goal >= 0.5 x without limits: met"
	                              : "goal >= 0.5 x without limits: NOT met");
	res = bench_compare("limits_many", run_timed_many, &cold_none, run_timed_many, &cold_lim, n,
	                    rounds);
	bench_report("decide_many, 3 limits vs none", "dec", &res,
	             res.ratio >= 0.5 ? "goal >= 0.5 x without limits: met"
	                              : "goal >= 0.5 x without limits: NOT met");
	/* The same with keys that recur (labelled: the lines above, every key
	 * cold, are the worst case and the goal's). */
	res = bench_compare("limits_warm", run_timed, &warm_none, run_timed, &warm_lim, n, rounds);
	bench_report("decide, 3 limits vs none, 50k active", "dec", &res,
	             "keys recur: not the goal's worst case");
	res = bench_compare("limits_warm_many", run_timed_many, &warm_none, run_timed_many,
	                    &warm_lim, n, rounds);
	bench_report("decide_many, 3 limits vs none, 50k active", "dec", &res,
	             "keys recur: not the goal's worst case");
	printf("  bytes per tracked key:");
	for (size_t k = 0; k < cbar_rules_limits(lrules); k++)
		printf(" %s %zu", cbar_rules_limit(lrules, k)->reason,
		       cbar_limit_key_bytes(cbar_rules_limit(lrules, k)));
	printf("; limiter cap %zu bytes for 65,536 keys a limit\n", cbar_limiter_bytes(limiter));
	cbar_limiter_free(limiter);
	cbar_rules_free(lrules);
	if (only_limits)
		goto done;

	ctext = bench_gen_rules(100000, &clen, &rng);
	res = bench_compare("compile", run_lines, NULL, run_compile, NULL, 1, rounds < 5 ? rounds : 5);
	char goal[120];
	snprintf(goal, sizeof goal, "%.3f s per compile; goal < 0.5 s: %s", 1 / res.cand_rate,
	         1 / res.cand_rate < 0.5 ? "met" : "NOT met");
	bench_report("compile 100k rules", "file", &res, goal);
	free((char *)ctext);
done:
	cbar_rules_free(rules);
	cbar_unlockset_free(uset);
	free(subs);
	free(peers);
	free(events);
	free(warm);
	cbar_numplan_free(np);
	return 0;
}
