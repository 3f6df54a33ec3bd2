/* callbar tests: zones (longest-prefix sets, union, complement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/zone.h"

/* Build a compiled zone from a space-separated term list. */
static void build(struct cbar_zone *z, const char *terms)
{
	cbar_zone_init(z);
	const char *p = terms;
	while (*p) {
		const char *e = strchr(p, ' ');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		assert_int_equal(cbar_zone_add(z, p, n), CBAR_OK);
		p += n + (e != NULL);
	}
	assert_int_equal(cbar_zone_compile(z), CBAR_OK);
}

static bool has(const struct cbar_zone *z, const char *digits)
{
	return cbar_zone_has_digits(z, digits, strlen(digits));
}

static void test_positive(void **state)
{
	(void)state;
	struct cbar_zone z;
	build(&z, "+852 +853 +886");
	assert_true(has(&z, "85291234567"));
	assert_true(has(&z, "85312345678"));
	assert_true(has(&z, "886912345678"));
	assert_false(has(&z, "8613805710000"));
	assert_false(has(&z, "85"));
	assert_false(has(&z, "1"));
	cbar_zone_release(&z);
}

static void test_negative_only(void **state)
{
	(void)state;
	struct cbar_zone z;
	build(&z, "!+86");
	assert_false(has(&z, "8613805710000"));
	assert_true(has(&z, "85291234567"));
	assert_true(has(&z, "12025550100"));
	assert_true(has(&z, "8"));
	cbar_zone_release(&z);
}

static void test_longest_wins(void **state)
{
	(void)state;
	struct cbar_zone z;
	build(&z, "+8 !+86 +8610");
	assert_true(has(&z, "81312345678"));
	assert_false(has(&z, "8613805710000"));
	assert_true(has(&z, "861012345678"));
	assert_false(has(&z, "4420"));
	cbar_zone_release(&z);
}

static void test_replace_and_errors(void **state)
{
	(void)state;
	struct cbar_zone z;
	cbar_zone_init(&z);
	assert_int_equal(cbar_zone_add(&z, "+852", 4), CBAR_OK);
	assert_int_equal(cbar_zone_add(&z, "!+852", 5), CBAR_OK);
	assert_int_equal(z.nterms, 1);
	assert_int_equal(cbar_zone_add(&z, "852", 3), CBAR_ZONE_PREFIX);
	assert_int_equal(cbar_zone_add(&z, "+", 1), CBAR_ZONE_PREFIX);
	assert_int_equal(cbar_zone_add(&z, "+0", 2), CBAR_ZONE_PREFIX);
	assert_int_equal(cbar_zone_add(&z, "+85a", 4), CBAR_ZONE_PREFIX);
	assert_int_equal(cbar_zone_add(&z, "+1234567890123456", 17), CBAR_ZONE_PREFIX);
	assert_int_equal(cbar_zone_add(&z, "!", 1), CBAR_ZONE_PREFIX);
	/* Not compiled yet: nothing is a member. */
	assert_false(has(&z, "85291234567"));
	cbar_zone_release(&z);
}

static void test_invert(void **state)
{
	(void)state;
	struct cbar_zone z;
	build(&z, "+86");
	assert_int_equal(cbar_zone_invert(&z), CBAR_OK);
	assert_int_equal(cbar_zone_compile(&z), CBAR_OK);
	assert_false(has(&z, "8613805710000"));
	assert_true(has(&z, "85291234567"));
	assert_int_equal(cbar_zone_invert(&z), CBAR_OK);
	assert_int_equal(cbar_zone_compile(&z), CBAR_OK);
	assert_true(has(&z, "8613805710000"));
	assert_false(has(&z, "85291234567"));
	cbar_zone_release(&z);
}

/* Union and complement agree with the set definition on every number
 * formed from a small alphabet, for a few tricky pairs of zones. */
static void test_algebra_exhaustive(void **state)
{
	(void)state;
	static const char *pairs[][2] = {
		{"+86", "+852 +853 +886"},
		{"!+86", "+8610"},
		{"+8 !+86", "!+85 +852"},
		{"!+1", "!+12"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		struct cbar_zone a, b, u, na;
		build(&a, pairs[i][0]);
		build(&b, pairs[i][1]);
		build(&u, pairs[i][0]);
		build(&na, pairs[i][0]);
		assert_int_equal(cbar_zone_union(&u, &b), CBAR_OK);
		assert_int_equal(cbar_zone_compile(&u), CBAR_OK);
		assert_int_equal(cbar_zone_invert(&na), CBAR_OK);
		assert_int_equal(cbar_zone_compile(&na), CBAR_OK);
		char d[6] = {0};
		/* every string of 1..5 digits over {0,1,2,3,5,6,8} */
		static const char alpha[] = "0123568";
		for (int len = 1; len <= 5; len++) {
			int total = 1;
			for (int k = 0; k < len; k++)
				total *= 7;
			for (int x = 0; x < total; x++) {
				int y = x;
				for (int k = 0; k < len; k++) {
					d[k] = alpha[y % 7];
					y /= 7;
				}
				d[len] = 0;
				bool ia = has(&a, d), ib = has(&b, d);
				if (has(&u, d) != (ia || ib) || has(&na, d) == ia) {
					print_error("pair %zu number %s: a=%d b=%d u=%d na=%d\n", i,
					            d, ia, ib, has(&u, d), has(&na, d));
					fail();
				}
			}
		}
		cbar_zone_release(&a);
		cbar_zone_release(&b);
		cbar_zone_release(&u);
		cbar_zone_release(&na);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive),
		cmocka_unit_test(test_negative_only),
		cmocka_unit_test(test_longest_wins),
		cmocka_unit_test(test_replace_and_errors),
		cmocka_unit_test(test_invert),
		cmocka_unit_test(test_algebra_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
