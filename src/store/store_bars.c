/*
 * callbar: auto-bars in the registry (callbar/store.h): changes like the
 * others, each with a seq and an audit entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

enum cbar_err cbar_store_bar_add(struct cbar_store *s, struct cbar_store_bar *b, const char *who,
                                 bool *added, struct cbar_diag *d)
{
	enum cbar_err err;
	int64_t have = 0;
	char b1[24], b2[24], b3[24], b4[24], text[400];
	struct cbar__head h;
	const char *pk[] = {b->key, b->limit, I64(b1, b->created)};
	*added = false;
	if ((err = s->be->begin(s, true, d)))
		return err;
	/* Two nodes that both saw the key go over write one bar. */
	if ((err = cbar__q(s,
	                   "SELECT coalesce(max(id), 0) FROM bar WHERE bar_key = ? AND limit_id = ? "
	                   "AND lifted_at = 0 AND until > ?",
	                   3, pk, cbar__row_int, &have, d)))
		goto fail;
	if (have) {
		b->id = have;
		s->be->rollback(s);
		return CBAR_OK;
	}
	if ((err = cbar__head_get(s, &h, d)))
		goto fail;
	cbar__bar_text(b, text, sizeof text);
	if ((err = cbar__audit_append_text(s, &h, b->created, who, "auto-bar", 0, 0, "", text, d)))
		goto fail;
	b->id = h.seq;
	b->lifted_at = 0;
	b->lifted_by[0] = 0;
	{
		const char *p[] = {I64(b1, b->id), b->key,    b->limit,          b->rule, b->reason,
		                   I64(b2, b->count), I64(b3, b->created), I64(b4, b->until)};
		if ((err = cbar__q(s,
		                   "INSERT INTO bar (" BAR_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '')",
		                   8, p, NULL, NULL, d)))
			goto fail;
	}
	*added = true;
	return cbar__finish(s, CBAR_OK, h.seq, d);
fail:
	s->be->rollback(s);
	return err;
}

struct bar_walk {
	int (*fn)(void *, const struct cbar_store_bar *);
	void *arg;
	bool vouched; /* pass a row only when its audit entry says what it holds */
};

static int row_bar(void *arg, int n, const char *const *c)
{
	struct bar_walk *w = arg;
	struct cbar_store_bar b;
	if (n < 10 + w->vouched)
		return 1;
	cbar__bar_from_row(&b, c);
	if (w->vouched) {
		/* A bar every node would honour: the `auto-bar` entry with its
		 * seq must be about exactly this bar, or the row was written
		 * behind callbar's back and is left out, as unlock rows are. */
		char text[400];
		cbar__bar_text(&b, text, sizeof text);
		if (!c[10] || strcmp(c[10], text))
			return 0;
	}
	return w->fn(w->arg, &b);
}

enum cbar_err cbar_store_bars(struct cbar_store *s, int64_t now, int64_t since, unsigned limit,
                              int (*fn)(void *arg, const struct cbar_store_bar *b), void *arg,
                              struct cbar_diag *d)
{
	struct bar_walk w = {fn, arg, false};
	char b1[24], b2[24];
	if (since > 0) {
		const char *p[] = {I64(b1, since)};
		return cbar__q(s, "SELECT " BAR_COLS " FROM bar WHERE lifted_at >= ? ORDER BY id", 1, p,
		               row_bar, &w, d);
	}
	if (!now) {
		const char *p[] = {I64(b2, limit ? limit : 100)};
		return cbar__q(s, "SELECT " BAR_COLS " FROM bar ORDER BY id DESC LIMIT ?", 1, p, row_bar,
		               &w, d);
	}
	const char *p[] = {I64(b1, now)};
	w.vouched = true;
	return cbar__q(s,
	               "SELECT " BAR_COLS ", (SELECT a.after FROM audit a WHERE a.seq = bar.id AND "
	               "a.what = 'auto-bar') FROM bar WHERE lifted_at = 0 AND until > ? ORDER BY id",
	               1, p, row_bar, &w, d);
}

struct lift_walk {
	struct cbar_store_bar b[64];
	unsigned n;
};

static int row_lift(void *arg, int n, const char *const *c)
{
	struct lift_walk *w = arg;
	if (n < 10 || w->n >= sizeof w->b / sizeof w->b[0])
		return 1;
	cbar__bar_from_row(&w->b[w->n++], c);
	return 0;
}

enum cbar_err cbar_store_bar_lift(struct cbar_store *s, const char *key, const char *limit,
                                  const char *who, int64_t now, unsigned *n, struct cbar_diag *d)
{
	enum cbar_err err;
	char b1[24], b2[24], text[400];
	struct cbar__head h;
	struct lift_walk *w = calloc(1, sizeof *w);
	*n = 0;
	if (!w)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	if ((err = s->be->begin(s, true, d))) {
		free(w);
		return err;
	}
	const char *p[] = {key, I64(b1, now), limit ? limit : ""};
	if ((err = cbar__q(s,
	                   limit ? "SELECT " BAR_COLS " FROM bar WHERE bar_key = ? AND lifted_at = 0 "
	                           "AND until > ? AND limit_id = ? ORDER BY id"
	                         : "SELECT " BAR_COLS " FROM bar WHERE bar_key = ? AND lifted_at = 0 "
	                           "AND until > ? ORDER BY id",
	                   limit ? 3 : 2, p, row_lift, w, d)))
		goto fail;
	if (!w->n) {
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0, "no active bar of key %s", key);
		goto fail;
	}
	if ((err = cbar__head_get(s, &h, d)))
		goto fail;
	for (unsigned i = 0; i < w->n; i++) {
		cbar__bar_text(&w->b[i], text, sizeof text);
		const char *pu[] = {I64(b1, now), who, I64(b2, w->b[i].id)};
		if ((err = cbar__audit_append_text(s, &h, now, who, "bar-lift", 0, 0, text, "", d)) ||
		    (err = cbar__q(s, "UPDATE bar SET lifted_at = ?, lifted_by = ? WHERE id = ?", 3, pu,
		                   NULL, NULL, d)))
			goto fail;
	}
	*n = w->n;
	free(w);
	return cbar__finish(s, CBAR_OK, h.seq, d);
fail:
	s->be->rollback(s);
	free(w);
	return err;
}

