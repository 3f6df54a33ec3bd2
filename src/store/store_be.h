/*
 * callbar: what a registry back end provides (internal).
 *
 * Like redis' ae.c over ae_epoll.c and ae_kqueue.c: store.c holds the
 * registry's logic once (records, supersede and split, the per-identity
 * limit, the seq, the audit chain, migrations) and speaks SQL through this
 * small table; sqlite.c and postgres.c each translate it to their library.
 * The SQL store.c sends is the common subset of both: '?' placeholders
 * (postgres.c numbers them), BIGINT and TEXT columns, no RETURNING.
 *
 * Values cross as text both ways: parameters as NUL-ended strings (NULL
 * for SQL NULL), result columns the same.
 */
#ifndef CALLBAR_STORE_BE_H
#define CALLBAR_STORE_BE_H

#include <stdbool.h>
#include <stdint.h>

#include "callbar/store.h"

struct cbar_store;

/* A result row; return nonzero to stop. */
typedef int (*cbar__row_fn)(void *arg, int ncols, const char *const *cols);

struct cbar__store_be {
	const char *name;
	/* Connect to target (the URL less "sqlite:", or the whole postgres
	 * URI); set s->be_state. */
	enum cbar_err (*open)(struct cbar_store *s, const char *target, struct cbar_diag *d);
	void (*close)(struct cbar_store *s);
	/* A write transaction excludes every other writer from its start
	 * (SQLite BEGIN IMMEDIATE; PostgreSQL a transaction-scoped advisory
	 * lock), since the audit chain needs one order of changes.  A read
	 * transaction sees one consistent snapshot. */
	enum cbar_err (*begin)(struct cbar_store *s, bool write, struct cbar_diag *d);
	/* Durable when it returns CBAR_OK. */
	enum cbar_err (*commit)(struct cbar_store *s, struct cbar_diag *d);
	void (*rollback)(struct cbar_store *s);
	enum cbar_err (*exec)(struct cbar_store *s, const char *sql, int nparams,
	                      const char *const *params, cbar__row_fn fn, void *arg,
	                      struct cbar_diag *d);
	/* Tell listeners seq is committed (inside the write transaction, so
	 * they hear it on commit); NULL when the back end has no such thing. */
	enum cbar_err (*notify)(struct cbar_store *s, int64_t seq, struct cbar_diag *d);
	/* Wait at most timeout_ms for another connection's notify; NULL when
	 * the back end has none (the caller then just waits). */
	enum cbar_err (*wait_change)(struct cbar_store *s, unsigned timeout_ms,
	                             struct cbar_diag *d);
};

extern const struct cbar__store_be cbar__store_sqlite;
extern const struct cbar__store_be cbar__store_postgres;

struct cbar_store {
	const struct cbar__store_be *be;
	void *be_state;
	struct cbar_store_opts opts;
	char key_id[17]; /* "" until bound */
	bool in_import;
	int64_t import_seq; /* the chain's head inside an import */
	char import_hash[CBAR_STORE_HASH_HEX];
	/* cbar_store_changes(): the last entry it verified (follow_seq 0:
	 * none yet), so a round starts from a known hash without a query;
	 * and the rows beyond the chain it has reported as unaudited, so
	 * each is counted once (store_records.c). */
	int64_t follow_seq;
	char follow_hash[CBAR_STORE_HASH_HEX];
	struct {
		int64_t id, seq;
	} reported[64];
	unsigned nreported;
};

#endif
