/*
 * callbar: the registry's schema and its migrations (store_impl.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"

/* ---- schema ------------------------------------------------------------ */

/*
 * Migrations: migrations[v - 1] takes a registry from version v - 1 to v.
 * Append only; a shipped migration never changes.  The SQL is the common
 * subset of SQLite and PostgreSQL.
 */
static const char *const migration_1[] = {
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
	"CREATE TABLE unlock ("
	" id BIGINT PRIMARY KEY,"
	" subscriber BIGINT NOT NULL,"
	" scope BIGINT NOT NULL,"
	" level TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" channel TEXT NOT NULL,"
	" agent TEXT NOT NULL,"
	" doc_type TEXT NOT NULL,"
	" doc_hash TEXT NOT NULL,"
	" revoked_at BIGINT NOT NULL,"
	" revoked_by TEXT NOT NULL,"
	" revoked_why TEXT NOT NULL,"
	" seq BIGINT NOT NULL)",
	"CREATE INDEX unlock_subscriber ON unlock (subscriber, status)",
	"CREATE INDEX unlock_doc ON unlock (doc_hash, status)",
	"CREATE INDEX unlock_seq ON unlock (seq)",
	"CREATE TABLE audit ("
	" seq BIGINT PRIMARY KEY,"
	" at BIGINT NOT NULL,"
	" who TEXT NOT NULL,"
	" what TEXT NOT NULL,"
	" subscriber BIGINT NOT NULL,"
	" record BIGINT NOT NULL,"
	" before TEXT NOT NULL,"
	" after TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL)",
	"CREATE INDEX audit_record ON audit (record, seq)",
	"CREATE INDEX audit_at ON audit (at)",
	"INSERT INTO meta (key, value) VALUES ('head_seq', '0')",
	NULL,
};

/* v2: the daemon's API tokens, so every node of a shared registry knows
 * them (the SHA-256 of each token, never the token). */
static const char *const migration_2[] = {
	"CREATE TABLE token ("
	" name TEXT PRIMARY KEY,"
	" role TEXT NOT NULL,"
	" hash TEXT NOT NULL,"
	" created BIGINT NOT NULL)",
	NULL,
};

/*
 * v3: the key id joins the chain.  A registry whose key was bound before
 * (meta.key_id without a key-bind entry) gets its key-bind entry now, so
 * that from here on a key id changed by hand fails verification; what the
 * key id is at the time of the migration is taken as the truth.
 */
static enum cbar_err anchor_key(struct cbar_store *s, struct cbar_diag *d)
{
	enum cbar_err err;
	char key[CBAR_STORE_HASH_HEX] = "", text[96];
	int64_t n = 0;
	struct cbar__head h;
	const char *p[] = {KEY_BIND_WHAT};
	if ((err = cbar__q(s, "SELECT value FROM meta WHERE key = 'key_id'", 0, NULL,
	                   cbar__row_text, key, d)) ||
	    (err = cbar__q(s, "SELECT count(*) FROM audit WHERE what = ?", 1, p, cbar__row_int, &n,
	                   d)))
		return err;
	if (!key[0] || n)
		return CBAR_OK;
	cbar__key_text(key, text, sizeof text);
	if ((err = cbar__head_get(s, &h, d)))
		return err;
	return cbar__audit_append_text(s, &h, (int64_t)time(NULL), "callbar:migration",
	                               KEY_BIND_WHAT, 0, 0, "", text, d);
}

static const char *const migration_3[] = {NULL};

/* v4: auto-bars set by `limit` statements, shared by every node. */
static const char *const migration_4[] = {
	"CREATE TABLE bar ("
	" id BIGINT PRIMARY KEY,"
	" bar_key TEXT NOT NULL,"
	" limit_id TEXT NOT NULL,"
	" rule TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" count BIGINT NOT NULL,"
	" created BIGINT NOT NULL,"
	" until BIGINT NOT NULL,"
	" lifted_at BIGINT NOT NULL,"
	" lifted_by TEXT NOT NULL)",
	"CREATE INDEX bar_active ON bar (lifted_at, until)",
	"CREATE INDEX bar_key ON bar (bar_key, lifted_at)",
	NULL,
};

/* migrations[v - 1] takes a registry from version v - 1 to v: its SQL,
 * then its step in C (NULL for none), in the migration's transaction. */
static const struct {
	const char *const *sql;
	enum cbar_err (*step)(struct cbar_store *s, struct cbar_diag *d);
} migrations[] = {
	{migration_1, NULL},
	{migration_2, NULL},
	{migration_3, anchor_key},
	{migration_4, NULL},
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- open, migrate ------------------------------------------------------ */

enum cbar_err cbar__migrate(struct cbar_store *s, struct cbar_diag *d)
{
	enum cbar_err err;
	int64_t v = 0;
	/* Up to date (the usual case): no write lock, so readers never wait
	 * for a writer.  Any failure here is looked at again under the lock. */
	if (!cbar__q(s, "SELECT max(version) FROM schema_version", 0, NULL, cbar__row_int, &v, NULL) &&
	    v == SCHEMA_VERSION)
		return CBAR_OK;
	v = 0;
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = cbar__q(s, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", 0,
	             NULL, NULL, NULL, d)) ||
	    (err = cbar__q(s, "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL, cbar__row_int,
	             &v, d)))
		goto fail;
	if (v > SCHEMA_VERSION) {
		err = cbar_diag_set(d, CBAR_STORE_SCHEMA, 0, 0,
		                    "the registry has schema version %" PRId64
		                    "; this callbar knows up to %d",
		                    v, SCHEMA_VERSION);
		goto fail;
	}
	for (int m = (int)v; m < SCHEMA_VERSION; m++) {
		for (const char *const *sql = migrations[m].sql; *sql; sql++)
			if ((err = cbar__q(s, *sql, 0, NULL, NULL, NULL, d)))
				goto fail;
		if (migrations[m].step && (err = migrations[m].step(s, d)))
			goto fail;
		char b[24];
		const char *p[] = {I64(b, m + 1)};
		if ((err = cbar__q(s, "INSERT INTO schema_version (version) VALUES (?)", 1, p, NULL, NULL,
		             d)))
			goto fail;
	}
	if (v == SCHEMA_VERSION) {
		s->be->rollback(s);
		return CBAR_OK;
	}
	return s->be->commit(s, d);
fail:
	s->be->rollback(s);
	return err;
}
