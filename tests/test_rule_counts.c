/*
 * callbar: rule_counts.c, every front end's decision counts by rule.  Four
 * threads count at once into labels interned before and while they run,
 * while this thread scrapes: the sums at the end are exact, every scrape
 * in between is no more than the end and never goes down (a counter), and
 * an unknown slot is ignored.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/rule_counts.h"

#define THREADS 4
#define PER 200000

static uint32_t ids[3];

static void *counter(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	char name[32];
	snprintf(name, sizeof name, "thread-%u", t); /* interned while others count */
	uint32_t own = cbar_rule_label_intern(name);
	for (unsigned i = 0; i < PER; i++) {
		cbar_rule_count(ids[i % 3], t % 2, i % 2, (i / 2) % 2, i % 3 == 2 ? 1 : 0);
		cbar_rule_count(own, 1, 1, 1, 2);
	}
	return NULL;
}

struct sums {
	uint64_t by_label[3], own, total;
};

static void add(void *arg, const char *label, unsigned front, unsigned service,
                unsigned direction, unsigned verdict, uint64_t n)
{
	struct sums *s = arg;
	(void)front, (void)service, (void)direction, (void)verdict;
	for (int k = 0; k < 3; k++) {
		char want[16];
		snprintf(want, sizeof want, "rule-%d", k);
		if (!strcmp(label, want))
			s->by_label[k] += n;
	}
	if (!strncmp(label, "thread-", 7))
		s->own += n;
	s->total += n;
}

static void concurrent(void **state)
{
	(void)state;
	for (int k = 0; k < 3; k++) {
		char name[16];
		snprintf(name, sizeof name, "rule-%d", k);
		ids[k] = cbar_rule_label_intern(name);
	}
	assert_int_equal(cbar_rule_label_intern("rule-1"), ids[1]); /* the same id again */
	cbar_rule_count(ids[0], 0, 2, 0, 0); /* no such service: ignored */
	cbar_rule_count(ids[0], 4, 0, 0, 0); /* no such front end: ignored */
	cbar_rule_count(ids[0], 0, 0, 0, 3); /* no such verdict: ignored */
	pthread_t th[THREADS];
	for (unsigned t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, counter, (void *)(uintptr_t)t), 0);
	uint64_t last = 0;
	for (int i = 0; i < 50; i++) {
		struct sums s = {0};
		cbar_rule_counts_each(add, &s);
		assert_true(s.total >= last);
		assert_true(s.total <= (uint64_t)THREADS * PER * 2);
		last = s.total;
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	struct sums s = {0};
	cbar_rule_counts_each(add, &s);
	assert_int_equal(s.total, (uint64_t)THREADS * PER * 2);
	assert_int_equal(s.own, (uint64_t)THREADS * PER);
	for (int k = 0; k < 3; k++) /* PER / 3 each, the remainder to the first */
		assert_int_equal(s.by_label[k], (uint64_t)THREADS * (PER / 3 + (k < PER % 3)));
	cbar_rule_counts_release();
	struct sums z = {0};
	cbar_rule_counts_each(add, &z);
	assert_int_equal(z.total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(concurrent)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
