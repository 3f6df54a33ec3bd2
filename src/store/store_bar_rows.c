/*
 * callbar: an auto-bar row and its audit text (store_impl.h), and the bar
 * table checked against the audit log for cbar_store_audit_verify().  Apart
 * from store_bars.c so that the chain's verification (store_audit.c) and
 * the bars' changes (which append to the chain) do not call each other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* A bar's audit text: everything that says what it is. */
void cbar__bar_text(const struct cbar_store_bar *b, char *buf, size_t cap)
{
	snprintf(buf, cap, "key=%s limit=%s rule=%s reason=%s count=%u until=%" PRId64, b->key,
	         b->limit, b->rule, b->reason[0] ? b->reason : "-", b->count, b->until);
}

void cbar__bar_from_row(struct cbar_store_bar *b, const char *const *c)
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
	cbar__bar_from_row(&b, c);
	cbar__bar_text(&b, text, sizeof text);
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
