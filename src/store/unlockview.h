/*
 * callbar: the unlock records a running daemon decides with, following the
 * registry's changes without ever blocking a decision.
 *
 * A view is two immutable unlock sets: a large base (everything loaded at
 * start, 16 bytes a record) and a small delta of what changed since.  The
 * delta holds, per changed subscriber, the records now in force, or a
 * tombstone (one record with active 0 and scope 0) when none is; a
 * subscriber found in the delta is answered from it alone.  The registry
 * keeps at most one active record per subscriber (docs/registry.md), which
 * is what makes a per-subscriber delta exact.
 *
 * Following changes builds a new delta beside the old one
 * (cbar_unlockdelta_apply) and the caller swaps the view it publishes
 * (RCU); when the delta grows large, cbar_unlockset_merge folds it into a
 * new base.  Readers never wait.  Neither function changes its inputs.
 */
#ifndef CALLBAR_STORE_UNLOCKVIEW_H
#define CALLBAR_STORE_UNLOCKVIEW_H

#include "callbar/store.h"
#include "unlockset.h"

/* A registry record as the decision path holds it (16 bytes).  An expiry
 * past 2106 is as good as none. */
static inline struct cbar_unlock cbar_unlock_from_store(uint64_t e164, unsigned scope,
                                                        enum cbar_store_level level,
                                                        int64_t expires, bool active)
{
	struct cbar_unlock u = {
		.subscriber = e164,
		.expires = expires <= 0 || expires > (int64_t)UINT32_MAX ? 0 : (uint32_t)expires,
		.scope = (uint8_t)(scope & CBAR_SCOPE_ALL),
		.level = level == CBAR_STORE_VERIFIED ? CBAR_UNLOCK_VERIFIED : CBAR_UNLOCK_SELF,
		.active = active,
	};
	return u;
}

/* cbar_store_foreach_active()'s callback adding each record to the unlock
 * set arg. */
static inline int cbar_unlockset_add_active(void *arg, uint64_t e164, unsigned scope,
                                            enum cbar_store_level level, int64_t expires,
                                            int64_t id)
{
	(void)id;
	struct cbar_unlock u = cbar_unlock_from_store(e164, scope, level, expires, true);
	return cbar_unlockset_add(arg, &u) == CBAR_OK ? 0 : -1;
}

struct cbar_unlockview {
	const struct cbar_unlockset *base;  /* may be NULL: no records */
	const struct cbar_unlockset *delta; /* may be NULL: no changes */
};

/* The lookup of struct cbar_unlock_lookup, with ctx a struct cbar_unlockview. */
enum cbar_err cbar_unlockview_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                   size_t cap, size_t *n);
void cbar_unlockview_prefetch(void *ctx, uint64_t subscriber);

static inline struct cbar_unlock_lookup cbar_unlockview_lookup(struct cbar_unlockview *v)
{
	struct cbar_unlock_lookup lk = {
		.find = cbar_unlockview_find, .ctx = v, .prefetch = cbar_unlockview_prefetch};
	return lk;
}

/*
 * A new delta: old (may be NULL) with changes applied.  changes[] are the
 * registry's changed records in the order they happened; for each
 * subscriber the last one wins: an active record is what is in force, an
 * inactive one (revoked) leaves nothing in force.  On success *out is the
 * caller's (cbar_unlockset_free).
 */
enum cbar_err cbar_unlockdelta_apply(const struct cbar_unlockset *old,
                                     const struct cbar_unlock *changes, size_t n,
                                     struct cbar_unlockset **out);

/* A new base: base (may be NULL) with delta (may be NULL) folded in; the
 * tombstones of the delta are dropped.  *out is the caller's. */
enum cbar_err cbar_unlockset_merge(const struct cbar_unlockset *base,
                                   const struct cbar_unlockset *delta,
                                   struct cbar_unlockset **out);

#endif
