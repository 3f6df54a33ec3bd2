/*
 * callbar: cbar_decide_many() gives, for every event, what cbar_decide()
 * gives for it alone: the decision, the rule, the exempting record and
 * rule, the error.  Random events against a generated rule file with
 * `unless unlocked` and `unless verified` rules in many orders, an unlock
 * set holding half the subscribers (some records expired, revoked or of
 * one scope), in batches of every size up to past CBAR_DECIDE_MANY_MAX;
 * also with no lookup, a lookup without prefetch, one that fails (every
 * event reaching an `unless` is then an error) and events unfit to decide.
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
#include "store/unlockset.h"

#define NEV 20000

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char rules_text[] =
    "timezone +08:00\n"
    "zone mainland +86\n"
    "zone hkmotw +852 +853 +886\n"
    "zone abroad !mainland\n"
    "emergency 110 112 119 120 122\n"
    "block in  sms   from abroad carrier cmcc region CN-ZJ since 2021-08-10 unless unlocked reason "
    "a\n"
    "block in  voice from hkmotw unless verified reason b\n"
    "block out any   to +44 since 2022-03-01 reason c\n"
    "block out voice to abroad unless unlocked reason d\n"
    "block in  any   from abroad region CN-HA unless verified reason e\n"
    "block in  any   from unknown via intl-gateway reason f\n"
    "block any sms   to abroad until 2022-06-01 unless unlocked reason g\n"
    "pass all\n";

static const char *const segs[] = {"138057", "133057", "150371", "189371",
                                   "139079", "186041", "135123", "177777"};
static const char *const peers[] = {"+85291234567",   "+447911123456", "+12025550100",
                                    "13805710000",    "110",           "+886912345678",
                                    "+8613905710000", "+4930123456"};

static enum cbar_err fail_find(void *ctx, uint64_t s, struct cbar_unlock *out, size_t cap,
                               size_t *n)
{
	(void)ctx, (void)s, (void)out, (void)cap;
	*n = 0;
	return CBAR_UNLOCK_STORE;
}

static void same_verdict(const struct cbar_verdict *a, const struct cbar_verdict *b, size_t i)
{
	if (a->decision != b->decision || a->rule != b->rule || a->exempted != b->exempted ||
	    a->exempted_rule != b->exempted_rule || a->err != b->err ||
	    (a->exempted && a->exempted_by.subscriber != b->exempted_by.subscriber) ||
	    a->reason != b->reason)
		fail_msg("event %zu: decide_many %d rule %d, decide %d rule %d", i, b->decision,
		         b->rule, a->decision, a->rule);
}

static void many_with(const char *text, size_t len)
{
	struct cbar_numplan *np;
	struct cbar_rules *rules;
	struct cbar_diag d;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	assert_int_equal(cbar_rules_compile(np, text, len, "t.rules", NULL, &d, &rules), CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	struct cbar_unlockset *us = cbar_unlockset_new(NEV);
	struct cbar_number *subs = calloc(NEV, sizeof *subs), *pn = calloc(NEV, sizeof *pn);
	struct cbar_event *ev = calloc(NEV, sizeof *ev);
	const struct cbar_event **evp = calloc(NEV, sizeof *evp);
	struct cbar_verdict *one = calloc(NEV, sizeof *one), *many = calloc(NEV, sizeof *many);
	assert_non_null(us && subs && pn && ev && evp && one && many);
	for (size_t i = 0; i < NEV; i++) {
		uint64_t r = next();
		char s[32];
		snprintf(s, sizeof s, "%s%05u", segs[r % 8], (unsigned)((r >> 8) % 100000));
		assert_int_equal(cbar_number_parse(np, cn, s, strlen(s), &subs[i], NULL), CBAR_OK);
		const char *p = peers[(r >> 30) % 8];
		assert_int_equal(cbar_number_parse(np, cn, p, strlen(p), &pn[i], NULL), CBAR_OK);
		ev[i] = (struct cbar_event){
		    .time = 1609459200 + (int64_t)((r >> 33) % 63072000),
		    .service = (enum cbar_service)((r >> 60) & 1),
		    .direction = (enum cbar_direction)((r >> 61) & 1),
		    .subscriber = (r >> 20) % 50 ? &subs[i] : NULL, /* a few unfit */
		    .peer = (r >> 26) % 10 ? &pn[i] : NULL,         /* some unknown */
		    .ingress = (r >> 40) % 3 ? NULL : "intl-gateway",
		    .ingress_len = 12,
		};
		evp[i] = &ev[i];
		if ((r >> 44) % 2) {
			struct cbar_unlock u = {
			    .subscriber = subs[i].e164,
			    .scope = (uint8_t)((r >> 46) % 3 ? CBAR_SCOPE_ALL : CBAR_SCOPE_SMS),
			    .level = (uint8_t)((r >> 48) % 2 + 1),
			    .active = (r >> 50) % 8 != 0,
			    .expires =
			        (r >> 53) % 5 ? 0 : (uint32_t)(1609459200 + (r >> 55) % 63072000)};
			assert_int_equal(cbar_unlockset_add(us, &u), CBAR_OK);
		}
	}
	struct cbar_unlock_lookup with = cbar_unlockset_lookup(us), nopf = with;
	nopf.prefetch = NULL;
	const struct cbar_unlock_lookup failing = {.find = fail_find};
	const struct cbar_unlock_lookup *lks[] = {&with, &nopf, &failing, NULL};
	size_t exempted = 0, errors = 0;
	for (size_t l = 0; l < 4; l++) {
		for (size_t i = 0; i < NEV; i++)
			cbar_decide(rules, &ev[i], lks[l], &one[i]);
		/* batches of every size from 1 to 2 * CBAR_DECIDE_MANY_MAX + 1 */
		for (size_t i = 0, k = 1; i < NEV;
		     i += k, k = k % (2 * CBAR_DECIDE_MANY_MAX + 1) + 1)
			cbar_decide_many(rules, evp + i, NEV - i < k ? NEV - i : k, lks[l],
			                 many + i);
		for (size_t i = 0; i < NEV; i++) {
			same_verdict(&one[i], &many[i], i);
			exempted += one[i].exempted;
			errors += one[i].decision == CBAR_ERROR;
		}
	}
	assert_true(exempted > NEV / 50); /* the unless paths were taken */
	assert_true(errors > NEV / 20);   /* and the failing lookup's */
	free(subs);
	free(pn);
	free(ev);
	free(evp);
	free(one);
	free(many);
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
}

static void test_many(void **state)
{
	(void)state;
	many_with(rules_text, sizeof rules_text - 1);
}

/* Rules `via` many ingress classes: every event decided by cbar_decide(),
 * in batches and by the slow path (cbar_explain), with no ingress, a class
 * the rules name, and one they do not. */
static void ingress_classes(unsigned classes)
{
	struct cbar_numplan *np;
	struct cbar_rules *rules;
	struct cbar_diag d;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	char *t = malloc(64 * 1024);
	assert_non_null(t);
	size_t len = (size_t)sprintf(t, "zone abroad !+86\n");
	for (unsigned k = 0; k < 3 * classes; k++)
		len += (size_t)sprintf(t + len, "block %s %s %s abroad via trunk%u reason v%u\n",
		                       k % 2 ? "in" : "out", k % 3 ? "sms" : "voice",
		                       k % 2 ? "from" : "to", k % classes, k);
	len += (size_t)sprintf(t + len, "block in any from abroad reason all\npass all\n");
	assert_int_equal(cbar_rules_compile(np, t, len, "v.rules", NULL, &d, &rules), CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	struct cbar_number sub, peer;
	assert_int_equal(cbar_number_parse(np, cn, "13805710000", 11, &sub, NULL), CBAR_OK);
	assert_int_equal(cbar_number_parse(np, cn, "+447911123456", 13, &peer, NULL), CBAR_OK);
	char via[32];
	for (unsigned e = 0; e < 8 * (classes + 2); e++) {
		unsigned k = e / 8; /* trunk0.. trunkN+1: the last two named by no rule */
		snprintf(via, sizeof via, "trunk%u", k);
		struct cbar_event ev = {.time = 1700000000,
		                        .service = (enum cbar_service)(e % 2),
		                        .direction = (enum cbar_direction)(e / 2 % 2),
		                        .subscriber = &sub,
		                        .peer = &peer,
		                        .ingress = e % 4 == 3 ? NULL : via,
		                        .ingress_len = strlen(via)};
		const struct cbar_event *evp = &ev;
		struct cbar_verdict one, many, slow;
		cbar_decide(rules, &ev, NULL, &one);
		cbar_decide_many(rules, &evp, 1, NULL, &many);
		cbar_explain(rules, &ev, NULL, NULL, NULL, &slow);
		same_verdict(&slow, &one, e);
		same_verdict(&slow, &many, e);
	}
	free(t);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
}

static void test_ingress_classes(void **state)
{
	(void)state;
	ingress_classes(5);
	ingress_classes(16);
	ingress_classes(17);
	ingress_classes(40);
}

/* The same rules far apart in a file of about 500: a decision in batches
 * goes on from a rule in a later word of the bitmaps than the first. */
static void test_many_far(void **state)
{
	(void)state;
	size_t cap = 64 * 1024, len = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	const char *body = strstr(rules_text, "block ");
	len += (size_t)snprintf(t, cap, "%.*s", (int)(body - rules_text), rules_text);
	unsigned f = 0;
	for (const char *l = body; *l;) {
		const char *e = strchr(l, '\n');
		for (int k = 0; k < 70 && strncmp(l, "pass", 4); k++, f++)
			len += (size_t)snprintf(
			    t + len, cap - len,
			    "block out voice to +380%u since 2021-01-0%u reason f%u\n", f % 97,
			    1 + f % 9, f);
		len += (size_t)snprintf(t + len, cap - len, "%.*s", (int)(e - l + 1), l);
		l = e + 1;
	}
	assert_true(len < cap);
	many_with(t, len);
	free(t);
}

/*
 * With limits among `unless` rules: limits count events in the order
 * given, so a batch decided at once must bar the same events as one by
 * one, with two limiters fed the same events.  Few callers and
 * subscribers, events in time order, so keys go over and bars expire.
 */
static const char limits_text[] =
    "timezone +08:00\n"
    "zone mainland +86\n"
    "zone abroad !mainland\n"
    "emergency 110 112 119 120 122\n"
    "limit in voice from abroad per peer distinct subscriber 5/10m bar 1h reason wangiri\n"
    "block in sms from abroad unless unlocked reason a\n"
    "limit out any per subscriber 4/1h bar 30m reason irsf\n"
    "block out voice to abroad unless verified reason b\n"
    "limit in any from abroad per peer-prefix 4 12/1m bar 10m reason range\n"
    "pass all\n";

static void same_limit(const struct cbar_verdict *a, const struct cbar_verdict *b, size_t i)
{
	same_verdict(a, b, i);
	if (a->limit_rule != b->limit_rule || a->limit_key != b->limit_key ||
	    a->limit_count != b->limit_count || a->limit_bar_until != b->limit_bar_until ||
	    a->limit_new_bar != b->limit_new_bar)
		fail_msg("event %zu: limit %d key %llu count %u vs limit %d key %llu count %u", i,
		         b->limit_rule, (unsigned long long)b->limit_key, b->limit_count,
		         a->limit_rule, (unsigned long long)a->limit_key, a->limit_count);
}

static void test_many_limits(void **state)
{
	(void)state;
	struct cbar_numplan *np;
	struct cbar_rules *rules;
	struct cbar_diag d;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	assert_int_equal(cbar_rules_compile(np, limits_text, sizeof limits_text - 1, "l.rules",
	                                    NULL, &d, &rules),
	                 CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	struct cbar_unlockset *us = cbar_unlockset_new(NEV);
	struct cbar_number *subs = calloc(NEV, sizeof *subs), *pn = calloc(NEV, sizeof *pn);
	struct cbar_event *ev = calloc(NEV, sizeof *ev);
	const struct cbar_event **evp = calloc(NEV, sizeof *evp);
	struct cbar_verdict *one = calloc(NEV, sizeof *one), *many = calloc(NEV, sizeof *many);
	assert_non_null(us && subs && pn && ev && evp && one && many);
	int64_t t = 1767225600;
	for (size_t i = 0; i < NEV; i++) {
		uint64_t r = next();
		char s[32], p[32];
		snprintf(s, sizeof s, "1380571%04u", (unsigned)(r % 40));
		assert_int_equal(cbar_number_parse(np, cn, s, strlen(s), &subs[i], NULL), CBAR_OK);
		snprintf(p, sizeof p, "+44791100%04u", (unsigned)((r >> 8) % 12));
		assert_int_equal(cbar_number_parse(np, cn, p, strlen(p), &pn[i], NULL), CBAR_OK);
		t += (int64_t)((r >> 16) % 7);
		ev[i] = (struct cbar_event){
		    .time = t,
		    .service = (enum cbar_service)((r >> 60) & 1),
		    .direction = (enum cbar_direction)((r >> 61) & 1),
		    .subscriber = &subs[i],
		    .peer = (r >> 26) % 10 ? &pn[i] : NULL,
		};
		evp[i] = &ev[i];
		if ((r >> 44) % 3 == 0) {
			struct cbar_unlock u = {.subscriber = subs[i].e164,
			                        .scope = CBAR_SCOPE_ALL,
			                        .level = (uint8_t)((r >> 48) % 2 + 1),
			                        .active = 1};
			assert_int_equal(cbar_unlockset_add(us, &u), CBAR_OK);
		}
	}
	struct cbar_limiter *la, *lb;
	struct cbar_limiter_config cfg = {.max_keys = 256, .tolerance = 5};
	assert_int_equal(cbar_limiter_new(rules, &cfg, NULL, &la), CBAR_OK);
	assert_int_equal(cbar_limiter_new(rules, &cfg, NULL, &lb), CBAR_OK);
	struct cbar_limit_counter ca = cbar_limiter_counter(la), cb = cbar_limiter_counter(lb);
	struct cbar_unlock_lookup a = cbar_unlockset_lookup(us), b = a;
	a.limits = &ca;
	b.limits = &cb;
	for (size_t i = 0; i < NEV; i++)
		cbar_decide(rules, &ev[i], &a, &one[i]);
	for (size_t i = 0, k = 1; i < NEV; i += k, k = k % (2 * CBAR_DECIDE_MANY_MAX + 1) + 1)
		cbar_decide_many(rules, evp + i, NEV - i < k ? NEV - i : k, &b, many + i);
	size_t barred = 0, news = 0;
	for (size_t i = 0; i < NEV; i++) {
		same_limit(&one[i], &many[i], i);
		barred += one[i].limit_bar_until != 0;
		news += one[i].limit_new_bar;
	}
	assert_true(barred > NEV / 20); /* the limits went over */
	assert_true(news > 10);         /* and bars expired and came again */
	cbar_limiter_free(la);
	cbar_limiter_free(lb);
	free(subs);
	free(pn);
	free(ev);
	free(evp);
	free(one);
	free(many);
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_many),
	                                   cmocka_unit_test(test_many_far),
	                                   cmocka_unit_test(test_ingress_classes),
	                                   cmocka_unit_test(test_many_limits)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
