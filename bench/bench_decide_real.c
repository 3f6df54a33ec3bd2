/*
 * callbar benchmark: decisions in batches on realistic events.
 *
 * bench_rules times cbar_decide_many() on its own generated events (random
 * mobiles of eight segments).  This one reads its events from a realistic
 * CDR file (bench/gen_cdr.awk, as bench/batch.sh makes it: subscribers
 * over every allocated mobile block, peers at home and abroad, times over
 * a year), the way `callbar batch` reads them (the CDR cut and the event
 * module), and decides them by a real rule file against an unlock set of
 * 10 million records: the file's unlocked numbers, then random numbers of
 * every allocated mobile block up to 10M.
 *
 * Baselines, measured in the same run, on the same events' subscribers in
 * the same table: one lookup an event (for cbar_decide), and the same
 * lookups 32 at a time with every probe of a batch prefetched before the
 * first is read (for cbar_decide_many: the fastest a loop of lookups goes).
 * Goal: decide in batches at least half the prefetched rate.
 *   bench_decide_real CSV UNLOCKED RULES [N [ROUNDS [profile]]]
 * profile: only cbar_decide_many(), N events ROUNDS times, untimed (to
 * run under perf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/rules.h"
#include "decide_loops.h"
#include "harness.h"
#include "load/rules_load.h"
#include "proto/cdr.h"
#include "proto/event.h"
#include "store/unlockset.h"

#define NEV     (1u << 20)
#define NUNLOCK 10000000u

static struct cbar_event_in *evs;

static int copy_record(void *arg, const struct cbar_unlock *u)
{
	return cbar_unlockset_add(arg, u) != CBAR_OK;
}

/* The first NEV records of the CSV read into events as `callbar batch`
 * reads them; the bad ones left out (counted). */
static size_t read_events(const char *path, const struct cbar_event_ctx *ec, size_t *bad)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	char line[1024];
	size_t k = 0;
	*bad = 0;
	while (k < NEV && fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\r\n");
		if (!len || !strncmp(line, "time,", 5))
			continue;
		const char *fs[CBAR_CDR_FIELDS];
		size_t ns[CBAR_CDR_FIELDS], nf = CBAR_CDR_FIELDS;
		struct cbar_event_in *in = &evs[k];
		struct cbar_event_error e;
		cbar_event_begin(in);
		if (cbar_cdr_fixed(line, len, fs, ns, &nf) ||
		    cbar_event_time(in, ec, fs[0], ns[0],
		                    CBAR_TIME_DIGITS | CBAR_TIME_ZONED | CBAR_TIME_LOCAL, &e) ||
		    cbar_event_service(in, fs[1], ns[1], &e) ||
		    cbar_event_direction(in, fs[2], ns[2], &e) ||
		    cbar_event_subscriber(in, ec, fs[3], ns[3], &e) ||
		    cbar_event_peer(in, ec, fs[4], ns[4], &e)) {
			(*bad)++;
			continue;
		}
		k++;
	}
	fclose(f);
	return k;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_decide_real CSV UNLOCKED RULES [N [ROUNDS]]\n");
		return 2;
	}
	size_t n = argc > 4 ? strtoull(argv[4], NULL, 10) : 4000000;
	int rounds = argc > 5 ? atoi(argv[5]) : 5;
	struct cbar_numplan *np;
	if (cbar_numplan_embedded(&np, NULL))
		return 1;
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	struct cbar_rules *rules = cbar_rules_load(np, argv[3]);
	if (!rules)
		return 1;
	struct cbar_unlockset *file = cbar_unlocks_load(np, cn, argv[2], 2);
	if (!file)
		return 1;
	/* The allocated mobile blocks: the seven-digit prefixes the numbering
	 * data places in a city. */
	uint32_t *blocks = malloc(700000 * sizeof *blocks);
	size_t nblocks = 0;
	for (uint32_t p = 1300000; p < 2000000; p++) {
		char s[24];
		struct cbar_number num;
		snprintf(s, sizeof s, "+86%u0000", p);
		if (!cbar_number_parse(np, cn, s, strlen(s), &num, NULL) && num.city != CBAR_NONE)
			blocks[nblocks++] = p;
	}
	struct cbar_unlockset *uset = cbar_unlockset_new(NUNLOCK);
	if (!uset || !nblocks || cbar_unlockset_foreach(file, copy_record, uset)) {
		fprintf(stderr, "bench_decide_real: cannot build the unlock set\n");
		return 1;
	}
	uint64_t rng = 0x9e3779b97f4a7c15u;
	while (cbar_unlockset_count(uset) < NUNLOCK) {
		uint64_t r = bench_xorshift(&rng);
		struct cbar_unlock u = {
		    .subscriber = 8600000000000ull + (uint64_t)blocks[r % nblocks] * 10000u +
		                  (r >> 32) % 10000u,
		    .scope = (uint8_t)((r >> 20) % 3 ? CBAR_SCOPE_ALL : CBAR_SCOPE_SMS),
		    .level = (uint8_t)((r >> 22) % 2 + 1),
		    .active = 1};
		cbar_unlockset_add(uset, &u);
	}
	cbar_unlockset_free(file);
	free(blocks);
	evs = calloc(NEV, sizeof *evs);
	const struct cbar_event_ctx ec = {
	    .np = np, .country = cn, .tz = cbar_rules_tz_offset(rules)};
	size_t bad;
	size_t nev = read_events(argv[1], &ec, &bad);
	if (!nev) {
		fprintf(stderr, "bench_decide_real: no events in %s\n", argv[1]);
		return 1;
	}
	while (nev & (nev - 1)) /* a power of two, for the loops */
		nev &= nev - 1;
	printf("  %zu realistic events of %s (%zu bad left out), %zu allocated mobile blocks, "
	       "%zu unlock records\n",
	       nev, argv[1], bad, nblocks, cbar_unlockset_count(uset));
	struct decide_bench db = {rules, uset, &evs[0].ev, sizeof *evs, nev};
	if (argc > 6 && !strcmp(argv[6], "profile")) {
		uint64_t acc = 0;
		for (int r = 0; r < rounds; r++)
			acc += decide_bench_many(&db, n);
		printf("  profile: %zu decisions x %d (%llu)\n", n, rounds,
		       (unsigned long long)acc);
		return 0;
	}
	struct bench_result res = bench_compare("decide_real", decide_bench_lookup, &db,
	                                        decide_bench_decide, &db, n, rounds);
	bench_report("decide, realistic events", "dec", &res, "against one lookup an event");
	res = bench_compare("decide_many_real", decide_bench_lookup_prefetched, &db,
	                    decide_bench_many, &db, n, rounds);
	bench_report("decide_many, realistic events", "dec", &res,
	             res.ratio >= 0.5 ? "goal >= 0.5 x prefetched lookups: met"
	                              : "goal >= 0.5 x prefetched lookups: NOT met");
	cbar_unlockset_free(uset);
	cbar_rules_free(rules);
	free(evs);
	cbar_numplan_free(np);
	return 0;
}
