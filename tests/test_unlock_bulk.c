/*
 * callbar tests: cbar_unlockset_add_many() makes the set that the same
 * records added one by one with cbar_unlockset_add() make: the same table,
 * byte for byte (the bulk insert only prefetches ahead).  With records
 * that replace earlier ones (same number, scope and level), several records
 * a subscriber, a table that grows in the middle of a run, and a bad record
 * that stops the run where it stands.  And an unlock file read in parts
 * on several threads (cbar_unlocks_parse_threads) gives the set, and the
 * first bad line, that one thread gives.
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
#include "load/rules_load.h"
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

/* An unlock file of n lines: records of several scopes and levels, some
 * numbers twice (replaced), comments, blank lines; about 40 bytes a line. */
static char *unlock_text(size_t n, size_t *len)
{
	static const char *const scope[] = {"all", "voice", "sms", "voice-in,sms-out"};
	char *t = malloc(n * 64 + 1);
	assert_non_null(t);
	size_t at = 0;
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (x % 50 == 0)
			at += (size_t)sprintf(t + at, "%s\n", x % 100 ? "" : "# a comment line");
		else
			at += (size_t)sprintf(t + at, "+86138%08u %s %s%s\n",
			                      (unsigned)(x % 300000u * 331u % 100000000u),
			                      scope[(x >> 20) % 4],
			                      (x >> 30) % 2 ? "self" : "verified",
			                      (x >> 40) % 7 ? "" : " expires=1900000000");
	}
	*len = at;
	return t;
}

static void threads_same_set(void **state)
{
	(void)state;
	struct cbar_numplan *np;
	struct cbar_diag d = {0};
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	size_t len;
	char *t = unlock_text(60000, &len); /* about 2.3 MB: parts of 256 KiB and more */
	struct cbar_unlockset *one = cbar_unlocks_parse(np, cn, t, len, "u.txt", &d);
	assert_non_null(one);
	for (unsigned th = 2; th <= 9; th++) {
		struct cbar_unlockset *many =
		    cbar_unlocks_parse_threads(np, cn, t, len, "u.txt", th, &d);
		assert_non_null(many);
		same_table(one, many);
		cbar_unlockset_free(many);
	}
	/* The last line without its newline is read too. */
	struct cbar_unlockset *cut = cbar_unlocks_parse(np, cn, t, len - 1, "u.txt", &d);
	struct cbar_unlockset *cut4 =
	    cbar_unlocks_parse_threads(np, cn, t, len - 1, "u.txt", 4, &d);
	assert_non_null(cut4);
	same_table(cut, cut4);
	cbar_unlockset_free(cut);
	cbar_unlockset_free(cut4);
	/* Bad lines far into the file: the first one is reported, with the
	 * line and column one thread reports, whichever part it falls in. */
	char *nl = t;
	unsigned bad_line = 1;
	for (; bad_line < 41000 || *nl != '+'; bad_line++)
		nl = strchr(nl, '\n') + 1;
	char *later = strchr(nl, '\n') + 1;
	for (int k = 0; k < 3; k++)
		later = strchr(later, '\n') + 1;
	memcpy(later, "+86x\n", 5); /* a bad number three lines on */
	memcpy(nl + 15, "zz", 2);   /* a bad scope (the number is 14 bytes) */
	struct cbar_diag d1 = {0}, d4 = {0};
	assert_null(cbar_unlocks_parse(np, cn, t, len, "u.txt", &d1));
	assert_int_equal(d1.line, bad_line);
	assert_int_equal(d1.column, 16);
	for (unsigned th = 2; th <= 8; th *= 2) {
		d4 = (struct cbar_diag){0};
		assert_null(cbar_unlocks_parse_threads(np, cn, t, len, "u.txt", th, &d4));
		assert_int_equal(d4.line, d1.line);
		assert_int_equal(d4.column, d1.column);
		assert_string_equal(d4.msg, d1.msg);
	}
	cbar_unlockset_free(one);
	free(t);
	cbar_numplan_free(np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bulk_equals_one_by_one),
	    cmocka_unit_test(bad_record_stops),
	    cmocka_unit_test(threads_same_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
