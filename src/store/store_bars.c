/*
 * callbar: auto-bars in the registry (callbar/store.h): changes like the
 * others, each with a seq and an audit entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* A bar's audit text: everything that says what it is. */
static void bar_text(const struct cbar_store_bar *b, char *buf, size_t cap)
{
	snprintf(buf, cap, "key=%s limit=%s rule=%s reason=%s count=%u until=%" PRId64, b->key,
	         b->limit, b->rule, b->reason[0] ? b->reason : "-", b->count, b->until);
}

#define BAR_COLS "id, bar_key, limit_id, rule, reason, count, created, until, lifted_at, lifted_by"

static void bar_from_row(struct cbar_store_bar *b, const char *const *c)
{
	memset(b, 0, sizeof *b);
	b->id = strtoll(c[0] ? c[0] : "0", NULL, 10);
	cbar__copy(b->key, sizeof b->key, c[1] ? c[1] : "");
	cbar__copy(b->limit, sizeof b->limit, c[2] ? c[2] : "");
	cbar__copy(b->rule, sizeof b->rule, c[3] ? c[3] : "");
	cbar__copy(b->reason, sizeof b->reason, c[4] ? c[4] : "");
	b->count = (uint32_t)strtoul(c[5] ? c[5] : "0", NULL, 10);
	b->created = strtoll(c[6] ? c[6] : "0", NULL, 10);
	b->until = strtoll(c[7] ? c[7] : "0", NULL, 10);
	b->lifted_at = strtoll(c[8] ? c[8] : "0", NULL, 10);
	cbar__copy(b->lifted_by, sizeof b->lifted_by, c[9] ? c[9] : "");
}

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
	bar_text(b, text, sizeof text);
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
	bar_from_row(&b, c);
	if (w->vouched) {
		/* A bar every node would honour: the `auto-bar` entry with its
		 * seq must be about exactly this bar, or the row was written
		 * behind callbar's back and is left out, as unlock rows are. */
		char text[400];
		bar_text(&b, text, sizeof text);
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
	bar_from_row(&w->b[w->n++], c);
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
		bar_text(&w->b[i], text, sizeof text);
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

/* ---- verification against the audit log --------------------------------- */

bool cbar__bar_log_add(struct cbar__bar_log *l, const struct cbar_store_audit *a)
{
	bool lift = !strcmp(a->what, "bar-lift");
	if (!lift && strcmp(a->what, "auto-bar"))
		return true;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct cbar__bar_entry *ne = realloc(l->e, cap * sizeof *ne);
		if (!ne)
			return false;
		l->e = ne;
		l->cap = cap;
	}
	struct cbar__bar_entry *e = &l->e[l->n];
	*e = (struct cbar__bar_entry){.seq = a->seq, .at = a->at, .lift = lift};
	e->who = strdup(a->who);
	e->text = strdup(lift ? a->before : a->after);
	if (!e->who || !e->text) {
		free(e->who);
		free(e->text);
		return false;
	}
	l->n++;
	return true;
}

void cbar__bar_log_free(struct cbar__bar_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].who);
		free(l->e[i].text);
	}
	free(l->e);
	*l = (struct cbar__bar_log){0};
}

struct bar_verify {
	struct cbar__bar_log *l;
	int64_t bad;
	struct cbar_diag *d;
};

static struct cbar__bar_entry *log_find(struct cbar__bar_log *l, int64_t seq)
{
	size_t lo = 0, hi = l->n; /* in seq order: the chain was walked in order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->e[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->e[lo].seq == seq ? &l->e[lo] : NULL;
}

/*
 * A row as its entries say: the `auto-bar` entry with its id holds exactly
 * its text, and it is lifted (at, by) exactly when a later `bar-lift` entry
 * of that text says so.  Rows come in id order, so each takes the first
 * lift of its text not taken by an earlier bar of the same text.
 */
static int row_verify_bar(void *arg, int n, const char *const *c)
{
	struct bar_verify *v = arg;
	struct cbar_store_bar b;
	char text[400];
	if (n < 10)
		return 1;
	bar_from_row(&b, c);
	bar_text(&b, text, sizeof text);
	struct cbar__bar_entry *e = log_find(v->l, b.id);
	if (!e || e->lift) {
		v->bad = b.id;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "bar #%" PRId64 " (key %s) has no auto-bar entry: it was put in the "
		              "registry outside callbar",
		              b.id, b.key);
		return 1;
	}
	e->used = true;
	if (strcmp(e->text, text)) {
		v->bad = b.id;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "bar #%" PRId64 " (key %s) differs from what its auto-bar entry says", b.id,
		              b.key);
		return 1;
	}
	struct cbar__bar_entry *lift = NULL;
	for (size_t i = (size_t)(e - v->l->e) + 1; i < v->l->n && !lift; i++)
		if (v->l->e[i].lift && !v->l->e[i].used && !strcmp(v->l->e[i].text, text))
			lift = &v->l->e[i];
	if (lift)
		lift->used = true;
	if (!b.lifted_at && lift) {
		v->bad = b.id;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "bar #%" PRId64 " (key %s) was lifted (entry %" PRId64
		              ") but its row says it holds",
		              b.id, b.key, lift->seq);
		return 1;
	}
	if (b.lifted_at && (!lift || lift->at != b.lifted_at || !c[9] || strcmp(lift->who, c[9]))) {
		v->bad = b.id;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              lift ? "bar #%" PRId64 " (key %s) differs from its bar-lift entry"
		                   : "bar #%" PRId64 " (key %s) is marked lifted without a bar-lift entry",
		              b.id, b.key);
		return 1;
	}
	return 0;
}

enum cbar_err cbar__bars_verify(struct cbar_store *s, struct cbar__bar_log *l, int64_t *bad,
                                struct cbar_diag *d)
{
	struct bar_verify v = {l, 0, d};
	enum cbar_err err =
		cbar__q(s, "SELECT " BAR_COLS " FROM bar ORDER BY id", 0, NULL, row_verify_bar, &v, d);
	for (size_t i = 0; !err && !v.bad && i < l->n; i++) {
		if (l->e[i].used)
			continue;
		v.bad = l->e[i].seq;
		cbar_diag_set(d, CBAR_AUDIT_BROKEN, 0, 0,
		              l->e[i].lift ? "entry %" PRId64 " lifts a bar the registry does not have"
		                           : "bar #%" PRId64 " of the audit log is missing from the registry",
		              l->e[i].seq);
	}
	*bad = v.bad;
	return err;
}
