/*
 * callbar tests: following registry changes with a base set and a delta
 * (unlockview.h).  The view must answer as a set rebuilt from scratch would,
 * through chains of deltas and after merging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "store/unlockview.h"

#define SELF CBAR_UNLOCK_SELF
#define VER CBAR_UNLOCK_VERIFIED

static struct cbar_unlock rec(uint64_t sub, uint8_t scope, uint8_t level, bool active)
{
	struct cbar_unlock u = {.subscriber = sub, .scope = scope, .level = level,
	                        .active = active};
	return u;
}

/* The records in force for sub, as (scope << 8 | level), 0 for none. */
static unsigned in_force(struct cbar_unlock_lookup *lk, uint64_t sub)
{
	struct cbar_unlock out[4];
	size_t n = 0;
	assert_int_equal(lk->find(lk->ctx, sub, out, 4, &n), CBAR_OK);
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		if (out[i].active)
			v |= (unsigned)out[i].scope << 8 | out[i].level;
	return v;
}

static void test_follow(void **state)
{
	(void)state;
	struct cbar_unlockset *base = cbar_unlockset_new(8);
	struct cbar_unlock b[] = {
		rec(8613800000001, CBAR_SCOPE_ALL, SELF, true),
		rec(8613800000002, CBAR_SCOPE_VOICE, VER, true),
		rec(8613800000003, CBAR_SCOPE_SMS, SELF, true),
	};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(cbar_unlockset_add(base, &b[i]), CBAR_OK);

	/* 1 relocked; 2 replaced by an sms record; 3 revoked then unlocked
	 * again (the last change wins); 4 new. */
	struct cbar_unlock c1[] = {
		rec(8613800000001, CBAR_SCOPE_ALL, SELF, false),
		rec(8613800000002, CBAR_SCOPE_VOICE, VER, false),
		rec(8613800000002, CBAR_SCOPE_SMS, VER, true),
		rec(8613800000003, CBAR_SCOPE_SMS, SELF, false),
		rec(8613800000003, CBAR_SCOPE_ALL, VER, true),
		rec(8613800000004, CBAR_SCOPE_VOICE, SELF, true),
	};
	struct cbar_unlockset *d1 = NULL;
	assert_int_equal(cbar_unlockdelta_apply(NULL, c1, 6, &d1), CBAR_OK);
	struct cbar_unlockview v = {base, d1};
	struct cbar_unlock_lookup lk = cbar_unlockview_lookup(&v);
	assert_int_equal(in_force(&lk, 8613800000001), 0);
	assert_int_equal(in_force(&lk, 8613800000002), CBAR_SCOPE_SMS << 8 | VER);
	assert_int_equal(in_force(&lk, 8613800000003), CBAR_SCOPE_ALL << 8 | VER);
	assert_int_equal(in_force(&lk, 8613800000004), CBAR_SCOPE_VOICE << 8 | SELF);
	assert_int_equal(in_force(&lk, 8613800000005), 0);

	/* A second round on top of the first: 4 relocked, 1 unlocked again. */
	struct cbar_unlock c2[] = {
		rec(8613800000004, CBAR_SCOPE_VOICE, SELF, false),
		rec(8613800000001, CBAR_SCOPE_SMS, SELF, true),
	};
	struct cbar_unlockset *d2 = NULL;
	assert_int_equal(cbar_unlockdelta_apply(d1, c2, 2, &d2), CBAR_OK);
	struct cbar_unlockview v2 = {base, d2};
	struct cbar_unlock_lookup lk2 = cbar_unlockview_lookup(&v2);
	assert_int_equal(in_force(&lk2, 8613800000001), CBAR_SCOPE_SMS << 8 | SELF);
	assert_int_equal(in_force(&lk2, 8613800000002), CBAR_SCOPE_SMS << 8 | VER);
	assert_int_equal(in_force(&lk2, 8613800000004), 0);
	/* the first view is unchanged: readers on it see what they saw */
	assert_int_equal(in_force(&lk, 8613800000004), CBAR_SCOPE_VOICE << 8 | SELF);

	/* Merged, the base alone answers the same, and keeps no tombstone. */
	struct cbar_unlockset *m = NULL;
	assert_int_equal(cbar_unlockset_merge(base, d2, &m), CBAR_OK);
	struct cbar_unlockview v3 = {m, NULL};
	struct cbar_unlock_lookup lk3 = cbar_unlockview_lookup(&v3);
	for (uint64_t s = 8613800000001; s <= 8613800000005; s++)
		assert_int_equal(in_force(&lk3, s), in_force(&lk2, s));
	assert_int_equal(cbar_unlockset_count(m), 3);

	/* An empty view has nothing. */
	struct cbar_unlockview none = {NULL, NULL};
	struct cbar_unlock_lookup lk4 = cbar_unlockview_lookup(&none);
	assert_int_equal(in_force(&lk4, 8613800000001), 0);

	cbar_unlockset_free(base);
	cbar_unlockset_free(d1);
	cbar_unlockset_free(d2);
	cbar_unlockset_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_follow)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
