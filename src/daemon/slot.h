/*
 * callbar serve: a live snapshot slot (read-copy-update).
 *
 * A slot holds a pointer to one immutable object (the compiled rules, the
 * token list) together with the function that frees it.  Readers take the
 * current object without a shared lock and keep it, unchanged, until they
 * say they are done: a request that started on one rule file finishes on
 * it.  A writer builds a new object beside the old one, swaps it in with
 * one atomic exchange, waits for a grace period (every reader that could
 * still see the old object has finished) and only then frees the old one.
 *
 * It uses liburcu's "bulletproof" flavour (urcu-bp): the request threads
 * belong to libmicrohttpd's pool and we get no hook when one starts or
 * ends, so the flavours that need each reader thread registered (memb) or
 * announcing quiescent states (qsbr) do not fit; urcu-bp registers a
 * thread on its first read and cleans up when it exits.  Its read side is
 * a few instructions, a little more than memb's.
 *
 * Rules for readers: cbar_slot_read_begin() / cbar_slot_read_end() pair on one
 * thread, may nest, and must not wait on a writer (a reader that called
 * cbar_slot_swap() inside its read section would wait for itself).  A reader
 * must not block for long inside: reloads wait for it.
 *
 * Ownership: the slot owns the current object; cbar_slot_swap() takes the new
 * one (NULL empties the slot) and frees the old one.
 * cbar_slot_release() frees the current object.
 */
#ifndef CALLBAR_DAEMON_SLOT_H
#define CALLBAR_DAEMON_SLOT_H

#include <pthread.h>
#include <stdint.h>

#include "callbar/error.h"

struct slot_entry; /* the object with its release function, private */

struct cbar_snapshot_slot {
	struct slot_entry *cur;  /* RCU-protected: read only through cbar_slot_get() */
	pthread_mutex_t writer;  /* one swap at a time */
	uint64_t swaps;          /* how many swaps so far (under writer) */
};

void cbar_slot_init(struct cbar_snapshot_slot *s);
/* Free the current object; no reader may be inside. */
void cbar_slot_release(struct cbar_snapshot_slot *s);

void cbar_slot_read_begin(void);
void cbar_slot_read_end(void);

/* The current object, or NULL when the slot is empty.  Only between
 * cbar_slot_read_begin() and cbar_slot_read_end(); the pointer is not to be used
 * after cbar_slot_read_end(). */
void *cbar_slot_get(struct cbar_snapshot_slot *s);

/* Publish obj (freed one day with release(obj)), wait for readers of the
 * old object to finish, and free it.  On CBAR_NOMEM nothing changed and
 * obj is still the caller's. */
enum cbar_err cbar_slot_swap(struct cbar_snapshot_slot *s, void *obj, void (*release)(void *obj));

#endif
