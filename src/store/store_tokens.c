/*
 * callbar: the daemon's API tokens in the registry (callbar/store.h):
 * changes like the others, each with a seq and an audit entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* ---- API tokens ------------------------------------------------------------ */

/* A token's audit text: its name, role and the first 16 hex digits of its
 * hash (enough to tell tokens apart, never the token). */
static void token_text(const char *name, const char *role, const char *hash, char *buf,
                       size_t cap)
{
	snprintf(buf, cap, "token=%s role=%s sha256=%.16s", name, role, hash);
}

enum cbar_err cbar_store_token_add(struct cbar_store *s, const struct cbar_store_token *t,
                                   const char *who, struct cbar_diag *d)
{
	enum cbar_err err;
	int64_t n = 0;
	char b[24], text[200];
	struct cbar__head h;
	const char *pn[] = {t->name};
	const char *pi[] = {t->name, t->role, t->hash, I64(b, t->created)};
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = cbar__q(s, "SELECT count(*) FROM token WHERE name = ?", 1, pn, cbar__row_int, &n, d)))
		goto fail;
	if (n) {
		err = cbar_diag_set(d, CBAR_TOKEN_NAME, 0, 0, "a token named '%s' exists", t->name);
		goto fail;
	}
	token_text(t->name, t->role, t->hash, text, sizeof text);
	if ((err = cbar__q(s, "INSERT INTO token (name, role, hash, created) VALUES (?, ?, ?, ?)", 4, pi,
	             NULL, NULL, d)) ||
	    (err = cbar__head_get(s, &h, d)) ||
	    (err = cbar__audit_append_text(s, &h, t->created, who, "token-add", 0, 0, "", text, d)))
		goto fail;
	return cbar__finish(s, CBAR_OK, h.seq, d);
fail:
	s->be->rollback(s);
	return err;
}

struct token_walk {
	int (*fn)(void *, const struct cbar_store_token *);
	void *arg;
};

static int row_token(void *arg, int n, const char *const *c)
{
	struct token_walk *w = arg;
	struct cbar_store_token t;
	memset(&t, 0, sizeof t);
	if (n < 4)
		return 1;
	cbar__copy(t.name, sizeof t.name, c[0] ? c[0] : "");
	cbar__copy(t.role, sizeof t.role, c[1] ? c[1] : "");
	cbar__copy(t.hash, sizeof t.hash, c[2] ? c[2] : "");
	t.created = strtoll(c[3] ? c[3] : "0", NULL, 10);
	return w->fn(w->arg, &t);
}

enum cbar_err cbar_store_token_list(struct cbar_store *s,
                                    int (*fn)(void *arg, const struct cbar_store_token *t),
                                    void *arg, struct cbar_diag *d)
{
	struct token_walk w = {fn, arg};
	return cbar__q(s, "SELECT name, role, hash, created FROM token ORDER BY name", 0, NULL, row_token,
	         &w, d);
}

static int row_token_text(void *arg, int n, const char *const *c)
{
	if (n >= 3)
		token_text(c[0] ? c[0] : "", c[1] ? c[1] : "", c[2] ? c[2] : "", arg, 200);
	return 1;
}

enum cbar_err cbar_store_token_revoke(struct cbar_store *s, const char *name, const char *who,
                                      int64_t now, struct cbar_diag *d)
{
	enum cbar_err err;
	char text[200] = "";
	struct cbar__head h;
	const char *p[] = {name};
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = cbar__q(s, "SELECT name, role, hash FROM token WHERE name = ?", 1, p, row_token_text,
	             text, d)))
		goto fail;
	if (!text[0]) {
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0, "no token named '%s'", name);
		goto fail;
	}
	if ((err = cbar__q(s, "DELETE FROM token WHERE name = ?", 1, p, NULL, NULL, d)) ||
	    (err = cbar__head_get(s, &h, d)) ||
	    (err = cbar__audit_append_text(s, &h, now, who, "token-revoke", 0, 0, text, "", d)))
		goto fail;
	return cbar__finish(s, CBAR_OK, h.seq, d);
fail:
	s->be->rollback(s);
	return err;
}
