/*
 * callbar: the console's state in the daemon, without a clock: sessions
 * (session.c: expiry when idle and at the end of their life, the least
 * recently used pushed out of a full table, sign-out, a revoked token's
 * sessions ended, failed sign-ins limited per address and forgiven when the
 * window ends) and the per-minute series (series.c: counts land in their
 * minute, a slot is cleared when its minute comes round again a day later,
 * labels past SERIES_RULES share "other", the reload history newest first),
 * fed from the decision counts of rule_counts.h as the daemon feeds them.
 * Times are given, never read: "now" is a parameter of every call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/rule_counts.h"
#include "daemon/series.h"
#include "daemon/session.h"

static const char *const TOK = "cbt_0123456789012345678901234567890123456789012";

static void session_life(void **state)
{
	(void)state;
	struct sessions s;
	assert_int_equal(cbar_sessions_init(&s), CBAR_OK);
	char id[SESSION_ID_LEN + 1], csrf[SESSION_ID_LEN + 1];
	struct session_view v;
	assert_int_equal(cbar_session_begin(&s, TOK, strlen(TOK), 1000, id, csrf), CBAR_OK);
	assert_int_equal(strlen(id), SESSION_ID_LEN);
	assert_string_not_equal(id, csrf);
	assert_true(cbar_session_find(&s, id, strlen(id), 1000 + SESSION_IDLE_S - 1, &v));
	assert_string_equal(v.token, TOK);
	assert_string_equal(v.csrf, csrf);
	/* used just now: idle starts again */
	assert_true(cbar_session_find(&s, id, strlen(id), 1000 + 2 * SESSION_IDLE_S - 2, &v));
	/* left idle */
	assert_false(cbar_session_find(&s, id, strlen(id), 1000 + 3 * SESSION_IDLE_S, &v));
	assert_int_equal(cbar_session_count(&s, 1000), 0);

	/* used all the time, it still ends at the end of its life */
	assert_int_equal(cbar_session_begin(&s, TOK, strlen(TOK), 0, id, csrf), CBAR_OK);
	int64_t t = 0;
	for (; t < SESSION_LIFE_S - 60; t += 60)
		assert_true(cbar_session_find(&s, id, strlen(id), t, &v));
	assert_false(cbar_session_find(&s, id, strlen(id), SESSION_LIFE_S, &v));

	/* a wrong id, a cut one, one a character off */
	assert_int_equal(cbar_session_begin(&s, TOK, strlen(TOK), 0, id, csrf), CBAR_OK);
	assert_false(cbar_session_find(&s, id, strlen(id) - 1, 1, &v));
	char other[SESSION_ID_LEN + 1];
	memcpy(other, id, sizeof other);
	other[3] = other[3] == 'A' ? 'B' : 'A';
	assert_false(cbar_session_find(&s, other, strlen(other), 1, &v));
	/* sign-out ends it; a second sign-out finds none */
	assert_true(cbar_session_end(&s, id, strlen(id)));
	assert_false(cbar_session_end(&s, id, strlen(id)));
	assert_false(cbar_session_find(&s, id, strlen(id), 1, &v));
	cbar_sessions_release(&s);
}

static void session_full_and_revoked(void **state)
{
	(void)state;
	struct sessions s;
	assert_int_equal(cbar_sessions_init(&s), CBAR_OK);
	char first[SESSION_ID_LEN + 1], second[SESSION_ID_LEN + 1], id[SESSION_ID_LEN + 1];
	char csrf[SESSION_ID_LEN + 1];
	struct session_view v;
	cbar_session_begin(&s, TOK, strlen(TOK), 1, first, csrf);
	cbar_session_begin(&s, "cbt_other", 9, 2, second, csrf);
	for (int i = 2; i < SESSION_MAX; i++)
		cbar_session_begin(&s, TOK, strlen(TOK), 3, id, csrf);
	assert_int_equal(cbar_session_count(&s, 3), SESSION_MAX);
	assert_true(
	    cbar_session_find(&s, first, SESSION_ID_LEN, 4, &v)); /* used: no longer the oldest */
	cbar_session_begin(&s, TOK, strlen(TOK), 5, id, csrf);    /* pushes out "second" */
	assert_int_equal(cbar_session_count(&s, 5), SESSION_MAX);
	assert_false(cbar_session_find(&s, second, SESSION_ID_LEN, 5, &v));
	assert_true(cbar_session_find(&s, first, SESSION_ID_LEN, 5, &v));
	/* the token revoked: all its sessions end */
	cbar_session_end_token(&s, TOK);
	assert_int_equal(cbar_session_count(&s, 5), 0);
	cbar_sessions_release(&s);
}

static void signin_limit(void **state)
{
	(void)state;
	struct sessions s;
	unsigned retry;
	assert_int_equal(cbar_sessions_init(&s), CBAR_OK);
	for (int i = 0; i < SIGNIN_FAILS_MAX; i++) {
		assert_true(cbar_signin_allowed(&s, "192.0.2.1", 100, &retry));
		cbar_signin_failed(&s, "192.0.2.1", 100);
	}
	assert_false(cbar_signin_allowed(&s, "192.0.2.1", 110, &retry));
	assert_int_equal(retry, SIGNIN_WINDOW_S - 10);
	assert_true(cbar_signin_allowed(&s, "192.0.2.2", 110, &retry)); /* another address */
	assert_true(cbar_signin_allowed(&s, "192.0.2.1", 100 + SIGNIN_WINDOW_S, &retry));
	/* more addresses than the table: still bounded, still answering */
	char a[32];
	for (int i = 0; i < 3 * SIGNIN_ADDRS; i++) {
		snprintf(a, sizeof a, "198.51.100.%d", i);
		cbar_signin_failed(&s, a, 200);
	}
	assert_true(cbar_signin_allowed(&s, "203.0.113.9", 200, &retry));
	assert_true(cbar_session_equal("abc", "abc"));
	assert_false(cbar_session_equal("abc", "abd"));
	assert_false(cbar_session_equal("abc", "abcd"));
	cbar_sessions_release(&s);
}

static const char *front_name(unsigned f)
{
	return f == 0 ? "http" : f == 1 ? "sip" : NULL;
}

static json_int_t at(json_t *j, const char *group, const char *name, size_t i)
{
	json_t *a = json_object_get(json_object_get(j, group), name);
	assert_non_null(a);
	return json_integer_value(json_array_get(a, i));
}

/* One decision, as the decision path counts it (rule_counts.h). */
static void decided(uint32_t label, unsigned front, unsigned verdict)
{
	cbar_rule_count(label, front, 1, 0, verdict);
}

static void series_minutes(void **state)
{
	(void)state;
	uint32_t r1 = cbar_rule_label_intern("series-r1"), r2 = cbar_rule_label_intern("series-r2");
	cbar_series_reset();
	int64_t t0 = 1700000000 / 60 * 60; /* a minute's start */
	decided(r1, 0, 0);
	decided(r2, 0, 1);
	cbar_series_sample(t0 + 59); /* both in minute t0 */
	decided(r2, 1, 1);
	decided(r2, 1, 2);
	cbar_series_sample(t0 + 60);
	cbar_series_sample(t0 + 61); /* nothing new */
	/* the window: minutes t0 - 60, t0, t0 + 60 */
	json_t *j = cbar_series_json(t0 + 60, 3, front_name);
	assert_int_equal(json_integer_value(json_object_get(j, "start")), t0 - 60);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "verdict"), "allow")),
	                 3);
	assert_int_equal(at(j, "verdict", "allow", 0), 0);
	assert_int_equal(at(j, "verdict", "allow", 1), 1);
	assert_int_equal(at(j, "verdict", "block", 1), 1);
	assert_int_equal(at(j, "verdict", "block", 2), 1);
	assert_int_equal(at(j, "verdict", "error", 2), 1);
	assert_int_equal(at(j, "front", "http", 1), 2);
	assert_int_equal(at(j, "front", "sip", 1), 0);
	assert_int_equal(at(j, "front", "sip", 2), 2);
	assert_int_equal(at(j, "rule", "series-r1", 1), 1);
	assert_int_equal(at(j, "rule", "series-r2", 1), 1);
	assert_int_equal(at(j, "rule", "series-r2", 2), 2);
	json_decref(j);
	/* a day later the same slot counts the new minute only */
	decided(r1, 0, 0);
	cbar_series_sample(t0 + 86400);
	j = cbar_series_json(t0 + 86400, 1440, front_name);
	assert_int_equal(at(j, "verdict", "allow", 1439), 1);
	assert_int_equal(at(j, "verdict", "block", 1439), 0);
	/* of the day before, only t0 + 60's minute is still in the window */
	json_int_t sum = 0;
	for (size_t i = 0; i < 1440; i++)
		sum += at(j, "verdict", "block", i) + at(j, "verdict", "error", i);
	assert_int_equal(sum, 2);
	assert_int_equal(at(j, "verdict", "allow", 0), 0);
	json_decref(j);
	/* a sample dated before a slot's minute adds nothing to it */
	decided(r1, 0, 0);
	cbar_series_sample(t0);
	j = cbar_series_json(t0 + 86400, 1, front_name);
	assert_int_equal(at(j, "verdict", "allow", 0), 1);
	json_decref(j);
}

static void series_labels_and_reloads(void **state)
{
	(void)state;
	cbar_series_reset();
	int64_t t = 1700000000;
	/* Labels counted by the test before keep their series. */
	json_t *j = cbar_series_json(t, 1, front_name);
	size_t before = json_object_size(json_object_get(j, "rule")) - 1;
	json_decref(j);
	char name[32];
	for (int i = 0; i < SERIES_RULES + 5; i++) {
		snprintf(name, sizeof name, "lbl-%d", i);
		decided(cbar_rule_label_intern(name), 0, 1);
	}
	j = cbar_series_json(t, 1, front_name);
	assert_int_equal(json_object_size(json_object_get(j, "rule")), SERIES_RULES + 1);
	assert_int_equal(at(j, "rule", "other", 0), 5 + before);
	assert_int_equal(at(j, "rule", "lbl-0", 0), 1);
	assert_int_equal(at(j, "verdict", "block", 0), SERIES_RULES + 5);
	json_decref(j);
	for (int i = 0; i < SERIES_RELOADS + 3; i++)
		cbar_series_reload(t + i, "sighup", i % 2 == 0, (uint64_t)i + 1, "ab",
		                   i % 2 ? "r.rules:3:1: bad" : NULL);
	j = cbar_series_json(t, 1, front_name);
	json_t *r = json_object_get(j, "reloads");
	assert_int_equal(json_array_size(r), SERIES_RELOADS);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "version")),
	                 SERIES_RELOADS + 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "error")),
	                    "r.rules:3:1: bad");
	assert_true(json_is_null(json_object_get(json_array_get(r, 0), "error")));
	json_decref(j);
}

/* The sampling thread starts and stops (it samples on its own; what it
 * samples is tested above with given times). */
static void series_thread(void **state)
{
	(void)state;
	assert_int_equal(cbar_series_start(), CBAR_OK);
	cbar_series_stop();
	cbar_series_stop(); /* once is enough */
	cbar_rule_counts_release();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(session_life),
	    cmocka_unit_test(session_full_and_revoked),
	    cmocka_unit_test(signin_limit),
	    cmocka_unit_test(series_minutes),
	    cmocka_unit_test(series_labels_and_reloads),
	    cmocka_unit_test(series_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
