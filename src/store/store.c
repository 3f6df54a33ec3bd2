/*
 * callbar: the unlock registry (callbar/store.h): open and free, the key's
 * binding and a change's finish; the names of scopes, levels and channels,
 * a record's canonical text and the row helpers are in store_rows.c.
 * The back ends are in sqlite.c and postgres.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_impl.h"

enum cbar_err cbar__finish(struct cbar_store *s, enum cbar_err err, int64_t seq,
                            struct cbar_diag *d)
{
	if (!err && s->be->notify)
		err = s->be->notify(s, seq, d);
	if (!err)
		return s->be->commit(s, d);
	s->be->rollback(s);
	return err;
}

/* ---- open, key ---------------------------------------------------------- */

enum cbar_err cbar_store_open(struct cbar_store **out, const char *url,
                              const struct cbar_store_opts *o, struct cbar_diag *d)
{
	enum cbar_err err;
	*out = NULL;
	if (sodium_init() < 0)
		return cbar_diag_set(d, CBAR_STORE_OPEN, 0, 0, "libsodium failed to initialise");
	const struct cbar__store_be *be;
	const char *target;
	if (!strncmp(url, "sqlite:", 7) && url[7]) {
		be = &cbar__store_sqlite;
		target = url + 7;
	} else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
		be = &cbar__store_postgres;
		target = url;
	} else {
		return cbar_diag_set(d, CBAR_STORE_URL, 0, 0,
		                     "registry '%s': want sqlite:PATH or postgres://...", url);
	}
	struct cbar_store *s = calloc(1, sizeof *s);
	if (!s)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	s->be = be;
	if (o)
		s->opts = *o;
	if (!s->opts.busy_ms)
		s->opts.busy_ms = 5000;
	if (!s->opts.max_per_id)
		s->opts.max_per_id = 5;
	if ((err = be->open(s, target, d)))
		goto fail;
	if ((err = cbar__migrate(s, d)))
		goto fail;
	*out = s;
	return CBAR_OK;
fail:
	if (s->be_state)
		be->close(s);
	free(s);
	return err;
}

void cbar_store_free(struct cbar_store *s)
{
	if (!s)
		return;
	if (s->in_import)
		s->be->rollback(s);
	s->be->close(s);
	free(s);
}

const char *cbar_store_backend(const struct cbar_store *s)
{
	return s->be->name;
}

/* The first binding is a change with an audit entry, so the key id in meta
 * is covered by the chain (cbar_store_audit_verify checks it). */
enum cbar_err cbar_store_bind_key(struct cbar_store *s, const char *key_id, struct cbar_diag *d)
{
	enum cbar_err err;
	char have[CBAR_STORE_HASH_HEX] = "", text[96];
	struct cbar__head h;
	const char *p[] = {key_id};
	if (!key_id || !key_id[0])
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "no key id to bind");
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = cbar__q(s, "SELECT value FROM meta WHERE key = 'key_id'", 0, NULL,
	                   cbar__row_text, have, d)))
		goto fail;
	if (have[0] && strcmp(have, key_id)) {
		err = cbar_diag_set(d, CBAR_KEY_MISMATCH, 0, 0,
		                    "the registry's documents were hashed with key %s, this key is "
		                    "%s: use the registry's key file",
		                    have, key_id);
		goto fail;
	}
	if (have[0]) {
		s->be->rollback(s);
	} else {
		cbar__key_text(key_id, text, sizeof text);
		if ((err = cbar__q(s, "INSERT INTO meta (key, value) VALUES ('key_id', ?)", 1, p, NULL,
		                   NULL, d)) ||
		    (err = cbar__head_get(s, &h, d)) ||
		    (err = cbar__audit_append_text(s, &h, (int64_t)time(NULL), "callbar", KEY_BIND_WHAT,
		                                   0, 0, "", text, d)))
			goto fail;
		if ((err = cbar__finish(s, CBAR_OK, h.seq, d)))
			return err;
	}
	cbar__copy(s->key_id, sizeof s->key_id, key_id);
	return CBAR_OK;
fail:
	s->be->rollback(s);
	return err;
}

enum cbar_err cbar_store_wait_change(struct cbar_store *s, unsigned timeout_ms,
                                     struct cbar_diag *d)
{
	if (s->be->wait_change)
		return s->be->wait_change(s, timeout_ms, d);
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	return CBAR_OK;
}
