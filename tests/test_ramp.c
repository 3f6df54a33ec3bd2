/*
 * callbar tests: staged rollouts ("ramp"): before 'since' nobody is
 * reached, after the ramp date everybody; in between the share reached
 * grows with time, spread evenly over subscribers, and a subscriber once
 * reached stays reached.  explain agrees with decide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/data.h"
#include "callbar/rules.h"

#define N 4000

static const char text[] = "timezone +08:00\n"
                           "block in voice from +852 since 2024-01-01 ramp 2024-01-11 reason staged\n"
                           "pass all\n";

static void note(void *ctx, size_t rule, unsigned line, bool matched, const char *why)
{
	(void)rule, (void)line, (void)matched;
	if (why && strstr(why, "ramp"))
		(*(int *)ctx)++;
}

static void test_ramp(void **state)
{
	(void)state;
	struct cbar_numplan *np = NULL;
	struct cbar_diag d = {0};
	struct cbar_rules *rs = NULL;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	assert_int_equal(cbar_rules_compile(np, text, sizeof text - 1, "ramp.rules", NULL, &d, &rs),
	                 CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	static struct cbar_number subs[N];
	struct cbar_number peer;
	char buf[32];
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof buf, "138%08d", i * 2477);
		assert_int_equal(cbar_number_parse(np, cn, buf, strlen(buf), &subs[i], NULL), CBAR_OK);
	}
	assert_int_equal(cbar_number_parse(np, cn, "+85291234567", 12, &peer, NULL), CBAR_OK);
	/* 2024-01-01T00:00+08:00 is 1704038400 UTC; ten days of ramp. */
	const int64_t since = 1704038400, day = 86400;
	const int64_t at[] = {since - 1, since, since + 2 * day + 7200, since + 5 * day,
	                      since + 9 * day, since + 10 * day - 1, since + 10 * day};
	static bool was[N];
	memset(was, 0, sizeof was);
	for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
		int blocked = 0;
		for (int i = 0; i < N; i++) {
			struct cbar_event ev = {.time = at[k], .service = CBAR_VOICE,
			                        .direction = CBAR_IN, .subscriber = &subs[i],
			                        .peer = &peer};
			struct cbar_verdict v, ve;
			int ramp_notes = 0;
			enum cbar_decision dd = cbar_decide(rs, &ev, NULL, &v);
			assert_int_equal(cbar_explain(rs, &ev, NULL, note, &ramp_notes, &ve), dd);
			bool b = dd == CBAR_BLOCK;
			/* explain says why an unreached subscriber passes */
			if (!b && at[k] >= since && at[k] < since + 10 * day)
				assert_int_equal(ramp_notes, 1);
			/* once reached, always reached */
			if (was[i])
				assert_true(b);
			was[i] = b;
			blocked += b;
		}
		double want = at[k] < since ? 0 : at[k] >= since + 10 * day ? 1
		            : (double)(at[k] - since) / (10.0 * day);
		double got = (double)blocked / N;
		print_message("at %+lld s: %d of %d reached (want %.3f)\n",
		              (long long)(at[k] - since), blocked, N, want);
		/* spread evenly: within 3 points of the planned share */
		assert_true(got > want - 0.03 && got < want + 0.03);
	}
	cbar_rules_free(rs);
	cbar_numplan_free(np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_ramp)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
