/*
 * callbar: the counting state of limits stays within the cap computed from
 * its configured sizes, whatever the traffic.  10 million events, each
 * from a caller never seen before, go through two limits (one counting
 * events, one counting distinct subscribers) of a limiter with max_keys
 * 100,000; the process's resident memory may grow by the limiter's cap
 * (cbar_limiter_bytes(), with the sanitizer's shadow of it) and a little
 * slack, never by what 10 million keys would take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/data.h"
#include "callbar/limit.h"
#include "callbar/rules.h"

#define EVENTS 10000000u
#define MAX_KEYS 100000u

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * 4096u;
}

static const char text[] = "zone abroad !+86\n"
                           "limit in voice from abroad per peer 5/1m bar 1h reason flood\n"
                           "limit in voice from abroad per peer distinct subscriber 20/10m bar "
                           "24h reason wangiri\n"
                           "pass all\n";

static void test_memory(void **state)
{
	(void)state;
	struct cbar_numplan *np;
	struct cbar_rules *rules;
	struct cbar_diag d;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	assert_int_equal(cbar_rules_compile(np, text, sizeof text - 1, "m.rules", NULL, &d, &rules),
	                 CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	struct cbar_number sub, peer;
	assert_int_equal(cbar_number_parse(np, cn, "13805710000", 11, &sub, NULL), CBAR_OK);
	assert_int_equal(cbar_number_parse(np, cn, "+447911000000", 13, &peer, NULL), CBAR_OK);
	size_t before = rss_bytes();
	struct cbar_limiter *lm;
	struct cbar_limiter_config cfg = {.max_keys = MAX_KEYS, .tolerance = 5};
	assert_int_equal(cbar_limiter_new(rules, &cfg, NULL, &lm), CBAR_OK);
	size_t cap = cbar_limiter_bytes(lm);
	struct cbar_limit_counter c = cbar_limiter_counter(lm);
	struct cbar_unlock_lookup lk = {.limits = &c};
	struct cbar_event ev = {.service = CBAR_VOICE,
	                        .direction = CBAR_IN,
	                        .subscriber = &sub,
	                        .peer = &peer,
	                        .time = 1767225600};
	size_t blocked = 0;
	for (uint32_t i = 0; i < EVENTS; i++) {
		/* a new caller every event (the key is the number's value);
		 * time moves a second every 1000 events */
		peer.e164 = 447911000000ull + i;
		sub.e164 = 8613805710000ull + i % 1000;
		ev.time = 1767225600 + i / 1000;
		struct cbar_verdict v;
		blocked += cbar_decide(rules, &ev, &lk, &v) == CBAR_BLOCK;
	}
	size_t after = rss_bytes();
	size_t grew = after > before ? after - before : 0;
	/* The sanitizer shadows every byte with an eighth of a byte. */
	size_t allowed = cap + cap / 8 + (8u << 20);
	print_message("limiter cap %zu bytes (%zu and %zu keys of %zu and %zu bytes); rss grew "
	              "%zu bytes over %u events with new keys\n",
	              cap, cbar_limiter_keys(lm, 0), cbar_limiter_keys(lm, 1),
	              cbar_limit_key_bytes(cbar_rules_limit(rules, 0)),
	              cbar_limit_key_bytes(cbar_rules_limit(rules, 1)), grew, EVENTS);
	assert_int_equal(blocked, 0); /* every caller is new */
	assert_true(cbar_limiter_keys(lm, 0) <= MAX_KEYS + 7);
	assert_true(cbar_limiter_keys(lm, 0) > MAX_KEYS * 9 / 10);
	assert_true(grew <= allowed);
	/* and 10 million keys kept would be far more than the cap */
	assert_true((size_t)EVENTS * cbar_limit_key_bytes(cbar_rules_limit(rules, 1)) > 20 * allowed);
	cbar_limiter_free(lm);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_memory)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
