/* callbar serve: RCU snapshot slot on liburcu-bp (contract in slot.h). */
#include <stdlib.h>
#include <urcu/urcu-bp.h>

#include "slot.h"

struct slot_entry {
	void *obj;
	void (*release)(void *obj);
};

void cbar_slot_init(struct cbar_snapshot_slot *s)
{
	s->cur = NULL;
	pthread_mutex_init(&s->writer, NULL);
	s->swaps = 0;
}

static void entry_free(struct slot_entry *e)
{
	if (!e)
		return;
	if (e->release)
		e->release(e->obj);
	free(e);
}

void cbar_slot_release(struct cbar_snapshot_slot *s)
{
	entry_free(s->cur);
	s->cur = NULL;
	pthread_mutex_destroy(&s->writer);
}

void cbar_slot_read_begin(void)
{
	urcu_bp_read_lock();
}

void cbar_slot_read_end(void)
{
	urcu_bp_read_unlock();
}

void *cbar_slot_get(struct cbar_snapshot_slot *s)
{
	/* The _sym functions rather than the macros: the macros use GNU
	 * statement expressions, which -Wpedantic rejects. */
	struct slot_entry *e = urcu_bp_dereference_sym(s->cur);
	return e ? e->obj : NULL;
}

enum cbar_err cbar_slot_swap(struct cbar_snapshot_slot *s, void *obj, void (*release)(void *obj))
{
	struct slot_entry *e = NULL;
	if (obj) {
		/* Keep the old object when this fails: a reload that cannot
		 * publish changes nothing. */
		if (!(e = malloc(sizeof *e)))
			return CBAR_NOMEM;
		e->obj = obj;
		e->release = release;
	}
	pthread_mutex_lock(&s->writer);
	struct slot_entry *old = urcu_bp_xchg_pointer_sym((void **)&s->cur, e);
	s->swaps++;
	/* The grace period: every reader that might hold old has left.  Inside
	 * the writer lock, so two reloads free in the order they swapped. */
	urcu_bp_synchronize_rcu();
	pthread_mutex_unlock(&s->writer);
	entry_free(old);
	return CBAR_OK;
}
