/* callbar: a base unlock set with a delta of changes on top (unlockview.h). */
#include <stdlib.h>

#include "unlockview.h"

/* Records of one subscriber: the registry keeps one active record each;
 * a file may hold a few (one per scope). */
#define MAX_PER_SUBSCRIBER 16

enum cbar_err cbar_unlockview_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                   size_t cap, size_t *n)
{
	const struct cbar_unlockview *v = ctx;
	*n = 0;
	if (v->delta) {
		struct cbar_unlock tmp[MAX_PER_SUBSCRIBER];
		size_t k = 0, m = 0;
		cbar_unlockset_find((void *)v->delta, subscriber, tmp, MAX_PER_SUBSCRIBER, &k);
		if (k) {
			/* The subscriber changed: the delta alone says what holds;
			 * tombstones say nothing does. */
			for (size_t i = 0; i < k; i++)
				if (tmp[i].active && m < cap)
					out[m++] = tmp[i];
			*n = m;
			return CBAR_OK;
		}
	}
	if (v->base)
		return cbar_unlockset_find((void *)v->base, subscriber, out, cap, n);
	return CBAR_OK;
}

void cbar_unlockview_prefetch(void *ctx, uint64_t subscriber)
{
	const struct cbar_unlockview *v = ctx;
	if (v->base)
		cbar_unlockset_prefetch((void *)v->base, subscriber);
}

struct copy {
	struct cbar_unlockset *to;
	const struct cbar_unlockset *skip; /* subscribers found here are not copied */
	bool drop_tombstones;
	enum cbar_err err;
};

static int copy_one(void *arg, const struct cbar_unlock *u)
{
	struct copy *c = arg;
	if (c->skip) {
		struct cbar_unlock tmp[1];
		size_t k = 0;
		cbar_unlockset_find((void *)c->skip, u->subscriber, tmp, 1, &k);
		if (k)
			return 0;
	}
	if (c->drop_tombstones && !u->active)
		return 0;
	c->err = cbar_unlockset_add(c->to, u);
	return c->err != CBAR_OK;
}

enum cbar_err cbar_unlockdelta_apply(const struct cbar_unlockset *old,
                                     const struct cbar_unlock *changes, size_t n,
                                     struct cbar_unlockset **out)
{
	size_t have = old ? cbar_unlockset_count(old) : 0;
	struct cbar_unlockset *last = cbar_unlockset_new(n), *d = cbar_unlockset_new(have + n);
	enum cbar_err err = CBAR_NOMEM;
	if (!last || !d)
		goto fail;
	/* The state each changed subscriber ends in: walk backwards so the
	 * last change of a subscriber is the one kept. */
	for (size_t i = n; i-- > 0;) {
		struct cbar_unlock tmp[1];
		size_t k = 0;
		cbar_unlockset_find(last, changes[i].subscriber, tmp, 1, &k);
		if (k)
			continue;
		struct cbar_unlock u = changes[i];
		if (!u.active) {
			u.scope = 0; /* a tombstone */
			u.level = 0;
			u.expires = 0;
		}
		if ((err = cbar_unlockset_add(last, &u)))
			goto fail;
	}
	struct copy c = {d, last, false, CBAR_OK};
	if (old && cbar_unlockset_foreach(old, copy_one, &c)) {
		err = c.err;
		goto fail;
	}
	c.skip = NULL;
	if (cbar_unlockset_foreach(last, copy_one, &c)) {
		err = c.err;
		goto fail;
	}
	cbar_unlockset_free(last);
	*out = d;
	return CBAR_OK;
fail:
	cbar_unlockset_free(last);
	cbar_unlockset_free(d);
	return err;
}

struct fold {
	struct cbar_unlockset *to;
	enum cbar_err err;
};

static int drop_subscriber(void *arg, const struct cbar_unlock *u)
{
	struct fold *f = arg;
	cbar_unlockset_remove(f->to, u->subscriber);
	return 0;
}

static int add_active(void *arg, const struct cbar_unlock *u)
{
	struct fold *f = arg;
	if (!u->active)
		return 0;
	f->err = cbar_unlockset_add(f->to, u);
	return f->err != CBAR_OK;
}

/* The base is copied as a block and the delta's subscribers replaced in the
 * copy: at 100 million records a memory copy of 1.5 GB, not 100 million
 * inserts. */
enum cbar_err cbar_unlockset_merge(const struct cbar_unlockset *base,
                                   const struct cbar_unlockset *delta, struct cbar_unlockset **out)
{
	size_t more = delta ? cbar_unlockset_count(delta) : 0;
	struct cbar_unlockset *m =
	    base ? cbar_unlockset_clone(base, more) : cbar_unlockset_new(more);
	if (!m)
		return CBAR_NOMEM;
	struct fold f = {m, CBAR_OK};
	if (delta) {
		cbar_unlockset_foreach(delta, drop_subscriber, &f);
		if (cbar_unlockset_foreach(delta, add_active, &f)) {
			cbar_unlockset_free(m);
			return f.err;
		}
	}
	*out = m;
	return CBAR_OK;
}
