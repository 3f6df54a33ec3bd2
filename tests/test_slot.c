/*
 * callbar tests: the RCU snapshot slot.  Reader threads check, on every
 * read, that the object they hold is whole (its fields agree) and still
 * alive (ASan reports a read of a freed one), while a writer swaps in new
 * objects; every object but the last is freed exactly once.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "daemon/slot.h"

#define READERS 4
#define SWAPS 200

struct obj {
	uint64_t n;
	uint64_t twice; /* always 2 * n */
	uint64_t pad[6];
};

static struct cbar_snapshot_slot slot;
static atomic_ulong freed, bad_reads, reads;
static atomic_bool done;

static void obj_free(void *p)
{
	struct obj *o = p;
	o->twice = 1; /* a reader that still held it would see the mismatch */
	atomic_fetch_add(&freed, 1);
	free(o);
}

static struct obj *obj_new(uint64_t n)
{
	struct obj *o = calloc(1, sizeof *o);
	assert_non_null(o);
	o->n = n;
	o->twice = 2 * n;
	return o;
}

static void *reader(void *arg)
{
	uint64_t last = 0;
	(void)arg;
	while (!atomic_load(&done)) {
		cbar_slot_read_begin();
		const struct obj *o = cbar_slot_get(&slot);
		/* Versions only go forward, and an object stays whole while held. */
		if (!o || o->twice != 2 * o->n || o->n < last)
			atomic_fetch_add(&bad_reads, 1);
		else
			last = o->n;
		for (int spin = 0; o && spin < 50; spin++)
			if (o->twice != 2 * o->n)
				atomic_fetch_add(&bad_reads, 1);
		cbar_slot_read_end();
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void swaps_under_readers(void **state)
{
	(void)state;
	pthread_t t[READERS];
	cbar_slot_init(&slot);
	assert_int_equal(cbar_slot_swap(&slot, obj_new(1), obj_free), CBAR_OK);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
	/* Each swap waits until some reader has read since the last one, so
	 * reads and swaps interleave whatever the scheduler does. */
	for (uint64_t n = 2; n <= SWAPS + 1; n++) {
		unsigned long r0 = atomic_load(&reads);
		while (atomic_load(&reads) == r0)
			sched_yield();
		assert_int_equal(cbar_slot_swap(&slot, obj_new(n), obj_free), CBAR_OK);
	}
	atomic_store(&done, true);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&bad_reads), 0);
	assert_int_equal(atomic_load(&freed), SWAPS);
	assert_true(atomic_load(&reads) > 0);
	cbar_slot_read_begin();
	const struct obj *o = cbar_slot_get(&slot);
	assert_int_equal(o->n, SWAPS + 1);
	cbar_slot_read_end();
	cbar_slot_release(&slot);
	assert_int_equal(atomic_load(&freed), SWAPS + 1);
}

static void empty_slot(void **state)
{
	(void)state;
	struct cbar_snapshot_slot s;
	cbar_slot_init(&s);
	cbar_slot_read_begin();
	assert_null(cbar_slot_get(&s));
	cbar_slot_read_end();
	assert_int_equal(cbar_slot_swap(&s, NULL, NULL), CBAR_OK);
	cbar_slot_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_slot),
		cmocka_unit_test(swaps_under_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
