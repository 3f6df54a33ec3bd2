/*
 * callbar tests: cbar_unlockset_add_many() makes the set that the same
 * records added one by one with cbar_unlockset_add() make: the same table,
 * byte for byte (the bulk insert only prefetches ahead).  With records
 * that replace earlier ones (same number, scope and level), several records
 * a subscriber, a table that grows in the middle of a run, and a bad record
 * that stops the run where it stands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/unlockset.h"

enum { N = 200000 };

static struct cbar_unlock *records(void)
{
	struct cbar_unlock *u = calloc(N, sizeof *u);
	assert_non_null(u);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* a subscriber among 60,000: about three records each, some
		 * the same number, scope and level again (replaced) */
		u[i].subscriber = 8613000000000ull + (x % 60000u) * 7919u;
		u[i].scope = (uint8_t)(1u << (x >> 20) % 4u);
		u[i].level = (uint8_t)(1 + (x >> 30) % 2u);
		u[i].active = (uint8_t)((x >> 40) % 8u != 0);
		u[i].expires = (x >> 44) % 3u ? 0 : 1800000000u + (uint32_t)(x >> 50);
	}
	return u;
}

static void same_table(const struct cbar_unlockset *a, const struct cbar_unlockset *b)
{
	size_t na, nba, nb, nbb;
	const void *ia = cbar__unlockset_image(a, &na, &nba);
	const void *ib = cbar__unlockset_image(b, &nb, &nbb);
	assert_int_equal(cbar_unlockset_count(a), cbar_unlockset_count(b));
	assert_int_equal(nba, nbb);
	assert_int_equal(na, nb);
	assert_memory_equal(ia, ib, na);
}

/* Sized for all, and started small (grown twice or more in a run). */
static void bulk_equals_one_by_one(void **state)
{
	(void)state;
	struct cbar_unlock *u = records();
	for (size_t expect = N; expect; expect = expect == N ? 100 : 0) {
		struct cbar_unlockset *one = cbar_unlockset_new(expect);
		struct cbar_unlockset *bulk = cbar_unlockset_new(expect);
		assert_non_null(one);
		assert_non_null(bulk);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(cbar_unlockset_add(one, &u[i]), CBAR_OK);
		/* in runs of several sizes, as a loader might */
		size_t done = 0;
		for (size_t i = 0, run = 1; i < N; i += run, run = run * 3 % 1000 + 1) {
			size_t k = run < N - i ? run : N - i;
			assert_int_equal(cbar_unlockset_add_many(bulk, u + i, k, &done), CBAR_OK);
			assert_int_equal(done, k);
		}
		same_table(one, bulk);
		cbar_unlockset_free(one);
		cbar_unlockset_free(bulk);
	}
	free(u);
}

/* A bad record (the number 0, or past 50 bits) stops the run: *done is
 * its index and the records before it are in. */
static void bad_record_stops(void **state)
{
	(void)state;
	struct cbar_unlock *u = records();
	size_t at = 12345;
	for (int k = 0; k < 2; k++) {
		u[at].subscriber = k ? 1ull << 50 : 0;
		struct cbar_unlockset *one = cbar_unlockset_new(N);
		struct cbar_unlockset *bulk = cbar_unlockset_new(N);
		for (size_t i = 0; i < at; i++)
			assert_int_equal(cbar_unlockset_add(one, &u[i]), CBAR_OK);
		size_t done = 0;
		assert_int_equal(cbar_unlockset_add_many(bulk, u, N, &done), CBAR_INVAL);
		assert_int_equal(done, at);
		same_table(one, bulk);
		cbar_unlockset_free(one);
		cbar_unlockset_free(bulk);
	}
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bulk_equals_one_by_one),
		cmocka_unit_test(bad_record_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
