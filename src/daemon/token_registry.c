/*
 * callbar: the token store in the unlock registry (interface in
 * token_store.h), so that every node sharing a PostgreSQL registry knows the
 * same tokens.
 *
 * The registry keeps a token's SHA-256, never the token.  The daemon checks
 * a token against a list it keeps in a snapshot slot, read again from the
 * registry when it is older than REFRESH_MS: a token created or revoked on
 * any node is known everywhere within that time, and a request costs no
 * database round trip.  If the registry cannot be read, the list read before
 * stays.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/store.h"
#include "log.h"
#include "slot.h"
#include "token_list.h"
#include "token_store.h"

#define REFRESH_MS 1000

struct tok_reg {
	char *url;
	char who[CBAR_STORE_NAME_MAX];  /* in the audit entries of changes */
	pthread_mutex_t lock;           /* the connection, one caller at a time */
	struct cbar_store *st;          /* NULL until opened, or after it failed */
	struct cbar_snapshot_slot slot; /* struct tok_list */
	_Atomic int64_t loaded_ms;      /* when the published list was read */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The store, opened when needed; under tr->lock. */
static struct cbar_store *store(struct tok_reg *tr, struct cbar_diag *d)
{
	struct cbar_store_opts o = {0};
	if (!tr->st && cbar_store_open(&tr->st, tr->url, &o, d))
		tr->st = NULL;
	return tr->st;
}

/* A call failed: drop the connection so the next one reconnects. */
static void drop(struct tok_reg *tr)
{
	cbar_store_free(tr->st);
	tr->st = NULL;
}

struct build {
	struct tok_list *l;
	size_t cap;
	bool bad;
};

static int add_entry(void *arg, const struct cbar_store_token *t)
{
	struct build *b = arg;
	if (b->l->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct tok_entry *e = realloc(b->l->e, cap * sizeof *e);
		if (!e) {
			b->bad = true;
			return 1;
		}
		b->l->e = e;
		b->cap = cap;
	}
	struct tok_entry *e = &b->l->e[b->l->n];
	memset(e, 0, sizeof *e);
	size_t hl = 0;
	if (sodium_hex2bin(e->hash, sizeof e->hash, t->hash, strlen(t->hash), NULL, &hl, NULL) ||
	    hl != sizeof e->hash || (e->info.role = cbar_role_parse(t->role)) == ROLE_NONE)
		return 0; /* not a token this version understands: skip it */
	snprintf(e->info.name, sizeof e->info.name, "%s", t->name);
	e->info.created = t->created;
	b->l->n++;
	return 0;
}

/* Read the list again when it is older than REFRESH_MS (force: now). */
static void refresh(struct tok_reg *tr, bool force)
{
	if (!force && now_ms() - atomic_load(&tr->loaded_ms) < REFRESH_MS)
		return;
	pthread_mutex_lock(&tr->lock);
	if (force || now_ms() - atomic_load(&tr->loaded_ms) >= REFRESH_MS) {
		struct cbar_diag d = {0};
		struct build b = {calloc(1, sizeof(struct tok_list)), 0, false};
		struct cbar_store *st = b.l ? store(tr, &d) : NULL;
		enum cbar_err err = st ? cbar_store_token_list(st, add_entry, &b, &d) : CBAR_UNAVAILABLE;
		if (err || b.bad) {
			if (err && st)
				drop(tr);
			cbar_tok_list_free(b.l);
			cbar_log_line(LOG_LV_ERROR, "tokens unreadable in the registry; the tokens read before stay",
			         "{s:s}", "error", d.msg[0] ? d.msg : cbar_err_message(err));
		} else if (cbar_slot_swap(&tr->slot, b.l, cbar_tok_list_free)) {
			cbar_tok_list_free(b.l);
		}
		/* Failed or not, wait a while before asking again. */
		atomic_store(&tr->loaded_ms, now_ms());
	}
	pthread_mutex_unlock(&tr->lock);
}

static enum cbar_err tr_verify(void *ctx, const char *token, size_t len, struct token_info *who)
{
	struct tok_reg *tr = ctx;
	if (len == 0 || len > TOKEN_TEXT_MAX)
		return CBAR_UNAUTHENTICATED;
	refresh(tr, false);
	cbar_slot_read_begin();
	enum cbar_err err = cbar_tok_list_find(cbar_slot_get(&tr->slot), token, len, who);
	cbar_slot_read_end();
	return err;
}

static enum cbar_err tr_create(void *ctx, const char *name, enum role role,
                               char token[TOKEN_TEXT_MAX], struct cbar_diag *d)
{
	struct tok_reg *tr = ctx;
	if (!cbar_token_name_ok(name))
		return cbar_diag_set(d, CBAR_TOKEN_NAME, 0, 0,
		                     "a name is 1 to %u of A-Z a-z 0-9 . _ - @", TOKEN_NAME_MAX);
	if (role == ROLE_NONE)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0,
		                     "role must be agent, supervisor, admin or gateway");
	struct cbar_store_token t;
	memset(&t, 0, sizeof t);
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.role, sizeof t.role, "%s", cbar_role_name(role));
	t.created = (int64_t)time(NULL);
	cbar_token_generate(token, t.hash);
	pthread_mutex_lock(&tr->lock);
	struct cbar_store *st = store(tr, d);
	enum cbar_err err = st ? cbar_store_token_add(st, &t, tr->who, d) : CBAR_UNAVAILABLE;
	if (err == CBAR_STORE_DOWN)
		drop(tr);
	pthread_mutex_unlock(&tr->lock);
	if (err)
		sodium_memzero(token, TOKEN_TEXT_MAX);
	else
		refresh(tr, true);
	return err;
}

struct each {
	void (*fn)(void *arg, const struct token_info *t);
	void *arg;
};

static int list_one(void *arg, const struct cbar_store_token *t)
{
	struct each *e = arg;
	struct token_info info;
	memset(&info, 0, sizeof info);
	snprintf(info.name, sizeof info.name, "%s", t->name);
	info.role = cbar_role_parse(t->role);
	info.created = t->created;
	e->fn(e->arg, &info);
	return 0;
}

static enum cbar_err tr_list(void *ctx, void (*each)(void *arg, const struct token_info *t),
                             void *arg, struct cbar_diag *d)
{
	struct tok_reg *tr = ctx;
	struct each e = {each, arg};
	pthread_mutex_lock(&tr->lock);
	struct cbar_store *st = store(tr, d);
	enum cbar_err err = st ? cbar_store_token_list(st, list_one, &e, d) : CBAR_UNAVAILABLE;
	if (err == CBAR_STORE_DOWN)
		drop(tr);
	pthread_mutex_unlock(&tr->lock);
	return err;
}

static enum cbar_err tr_revoke(void *ctx, const char *name, struct cbar_diag *d)
{
	struct tok_reg *tr = ctx;
	pthread_mutex_lock(&tr->lock);
	struct cbar_store *st = store(tr, d);
	enum cbar_err err = st ? cbar_store_token_revoke(st, name, tr->who, (int64_t)time(NULL), d)
	                       : CBAR_UNAVAILABLE;
	if (err == CBAR_STORE_DOWN)
		drop(tr);
	pthread_mutex_unlock(&tr->lock);
	if (err == CBAR_STORE_NOTFOUND)
		return CBAR_NOT_FOUND;
	if (!err)
		refresh(tr, true);
	return err;
}

static void tr_release(void *ctx)
{
	struct tok_reg *tr = ctx;
	cbar_slot_release(&tr->slot);
	cbar_store_free(tr->st);
	pthread_mutex_destroy(&tr->lock);
	free(tr->url);
	free(tr);
}

static const struct token_store_ops registry_ops = {
	.verify = tr_verify,
	.create = tr_create,
	.list = tr_list,
	.revoke = tr_revoke,
	.release = tr_release,
};

enum cbar_err cbar_token_registry_open(struct token_store *ts, const char *url, const char *who,
                                  struct cbar_diag *d)
{
	if (sodium_init() < 0)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "libsodium failed to start");
	struct tok_reg *tr = calloc(1, sizeof *tr);
	if (!tr || !(tr->url = strdup(url))) {
		free(tr);
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	}
	snprintf(tr->who, sizeof tr->who, "%s", who ? who : "");
	pthread_mutex_init(&tr->lock, NULL);
	cbar_slot_init(&tr->slot);
	/* Open now, so a registry that cannot be reached is said at once. */
	struct cbar_diag od = {0};
	if (!store(tr, &od)) {
		tr_release(tr);
		return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0, "registry: %s", od.msg);
	}
	ts->ops = &registry_ops;
	ts->ctx = tr;
	return CBAR_OK;
}
