/*
 * callbar tests: the effective status (callbar/status.h).  For each kind
 * of rule a shop meets: one a self registration lifts, one only an
 * identity document lifts, one no unlock lifts, and a service no rule
 * bars: what is barred, since when, what the record on file does and what
 * would restore it.  The entries must also agree with cbar_decide().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/data.h"
#include "callbar/status.h"

static const char text[] = "timezone +08:00\n"
                           "announce ha zh \"身份证\" en \"bring your ID card\"\n"
                           "block in sms from +852 since 2022-05-07 unless verified reason ha "
                           "announce ha\n"
                           "block out sms to +852 since 2022-05-05 unless unlocked reason he\n"
                           "block in voice from +852 reason hard\n"
                           "pass all\n";

/* A lookup over a fixed list of records. */
struct recs {
	struct cbar_unlock r[4];
	size_t n;
};

static enum cbar_err find(void *ctx, uint64_t sub, struct cbar_unlock *out, size_t cap, size_t *n)
{
	struct recs *rs = ctx;
	*n = 0;
	for (size_t i = 0; i < rs->n && *n < cap; i++)
		if (rs->r[i].subscriber == sub)
			out[(*n)++] = rs->r[i];
	return CBAR_OK;
}

static void test_status(void **state)
{
	(void)state;
	struct cbar_numplan *np = NULL;
	struct cbar_diag d = {0};
	struct cbar_rules *rs = NULL;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	assert_int_equal(cbar_rules_compile(np, text, sizeof text - 1, "s.rules", NULL, &d, &rs),
	                 CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	struct cbar_number sub, peer;
	assert_int_equal(cbar_number_parse(np, cn, "15837100001", 11, &sub, NULL), CBAR_OK);
	assert_int_equal(cbar_number_parse(np, cn, "+85291234567", 12, &peer, NULL), CBAR_OK);
	const int64_t now = 1764547200; /* 2025-12-01 */
	/* A self registration for texts, in and out. */
	struct recs self = {.r = {{.subscriber = sub.e164,
	                           .scope = CBAR_SCOPE_SMS,
	                           .level = CBAR_UNLOCK_SELF,
	                           .active = 1}},
	                    .n = 1};
	struct cbar_unlock_lookup lk = {.find = find, .ctx = &self};
	struct cbar_status_entry e[CBAR_STATUS_ENTRIES];
	cbar_status_effective(rs, &sub, &peer, &lk, now, e);
	char day[16];

	/* voice in: barred by a rule without unless; no unlock restores it */
	assert_int_equal(e[0].service, CBAR_VOICE);
	assert_int_equal(e[0].direction, CBAR_IN);
	assert_int_equal(e[0].decision, CBAR_BLOCK);
	assert_string_equal(e[0].reason, "hard");
	assert_int_equal(e[0].restore_by, CBAR_RESTORE_NONE);
	assert_false(e[0].unlock_restores);
	assert_int_equal(e[0].since, 0);
	/* voice out: no rule bars it */
	assert_int_equal(e[1].decision, CBAR_ALLOW);
	assert_int_equal(e[1].rule, -1);
	assert_null(e[1].reason);
	/* sms in: the self record does not lift an `unless verified` rule */
	assert_int_equal(e[2].decision, CBAR_BLOCK);
	assert_string_equal(e[2].reason, "ha");
	assert_false(e[2].unlock_restores);
	assert_int_equal(e[2].restore_by, CBAR_RESTORE_VERIFIED);
	assert_string_equal(cbar_status_day(e[2].since, 8 * 3600, day, sizeof day), "2022-05-07");
	assert_string_equal(e[2].announcement->name, "ha");
	assert_string_equal(cbar_restore_by_name(e[2].restore_by), "verified");
	/* sms out: the self record restores it; the rule is still named */
	assert_int_equal(e[3].decision, CBAR_ALLOW);
	assert_true(e[3].unlock_restores);
	assert_string_equal(e[3].reason, "he");
	assert_int_equal(e[3].line, 4);
	assert_string_equal(cbar_status_day(e[3].since, 8 * 3600, day, sizeof day), "2022-05-05");

	/* Without records: sms out is barred, and a self registration would do. */
	cbar_status_effective(rs, &sub, &peer, NULL, now, e);
	assert_int_equal(e[3].decision, CBAR_BLOCK);
	assert_int_equal(e[3].restore_by, CBAR_RESTORE_SELF);
	assert_string_equal(cbar_restore_by_name(e[3].restore_by), "self");
	assert_false(e[3].unlock_restores);

	/* A verified record lifts the Henan-like rule. */
	self.r[0].level = CBAR_UNLOCK_VERIFIED;
	cbar_status_effective(rs, &sub, &peer, &lk, now, e);
	assert_int_equal(e[2].decision, CBAR_ALLOW);
	assert_true(e[2].unlock_restores);

	/* Every entry agrees with cbar_decide() on the same event. */
	for (int k = 0; k < CBAR_STATUS_ENTRIES; k++) {
		struct cbar_event ev = {.time = now,
		                        .service = e[k].service,
		                        .direction = e[k].direction,
		                        .subscriber = &sub,
		                        .peer = &peer};
		struct cbar_verdict v;
		assert_int_equal(cbar_decide(rs, &ev, &lk, &v), e[k].decision);
	}
	assert_string_equal(cbar_status_day(0, 0, day, sizeof day), "");
	assert_null(cbar_restore_by_name(CBAR_RESTORE_NONE));
	cbar_rules_free(rs);
	cbar_numplan_free(np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_status)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
