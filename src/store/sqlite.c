/*
 * callbar: the SQLite registry back end (see store_be.h).
 *
 * One file in WAL mode with synchronous=FULL: a commit has reached the
 * disk (fsync of the WAL) before it returns, so nothing is acknowledged
 * that a power cut could take back.  Writers take the write lock at BEGIN
 * (BEGIN IMMEDIATE) and wait busy_ms for it; after that the caller gets
 * CBAR_STORE_BUSY and nothing has been written.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_be.h"

struct lite {
	sqlite3 *db;
	bool txn; /* between our BEGIN and its COMMIT or ROLLBACK */
	char path[512];
};

static enum cbar_err fail(struct cbar_store *s, int rc, struct cbar_diag *d, const char *what)
{
	struct lite *l = s->be_state;
	const char *msg = l && l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc);
	enum cbar_err e;
	if (rc == SQLITE_IOERR_NOMEM)
		rc = SQLITE_NOMEM;
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "%s: out of memory while %s",
		                     l ? l->path : "?", what);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return cbar_diag_set(d, CBAR_STORE_BUSY, 0, 0,
		                     "%s: locked by another writer for longer than the busy "
		                     "timeout (%u ms); nothing was written",
		                     l ? l->path : "?", s->opts.busy_ms);
	case SQLITE_FULL:
		return cbar_diag_set(d, CBAR_STORE_IO, 0, 0,
		                     "%s: disk full while %s; nothing was written",
		                     l ? l->path : "?", what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		e = CBAR_STORE_CORRUPT;
		break;
	case SQLITE_CANTOPEN:
		e = CBAR_STORE_OPEN;
		break;
	default:
		e = CBAR_STORE_IO;
	}
	return cbar_diag_set(d, e, 0, 0, "%s: %s while %s", l ? l->path : "?", msg, what);
}

static enum cbar_err run(struct cbar_store *s, const char *sql, struct cbar_diag *d)
{
	struct lite *l = s->be_state;
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CBAR_OK : fail(s, rc, d, sql);
}

static enum cbar_err lite_open(struct cbar_store *s, const char *target, struct cbar_diag *d)
{
	enum cbar_err err;
	struct lite *l = calloc(1, sizeof *l);
	if (!l)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	snprintf(l->path, sizeof l->path, "%s", target);
	s->be_state = l;
	/* The registry is the owner's alone whatever the umask: SQLite would
	 * make a new file 0644 less the umask, and gives the -wal and -shm
	 * files the main file's mode, so the main file is made here, 0600 (an
	 * empty file is an empty database to SQLite).  An existing file keeps
	 * the mode its owner gave it. */
	if (strcmp(target, ":memory:")) {
		int fd = open(target, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			(void)fchmod(fd, 0600); /* a umask that took the owner's bits */
			close(fd);
		}
	}
	int rc = sqlite3_open_v2(target, &l->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		err = fail(s, rc, d, "opening");
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	sqlite3_busy_timeout(l->db, (int)s->opts.busy_ms);
	/* The first statement reads the header: a file that is not a
	 * database fails here. */
	if ((err = run(s, "PRAGMA journal_mode=WAL", d)) ||
	    (err = run(s, "PRAGMA synchronous=FULL", d)))
		goto fail;
	return CBAR_OK;
fail:
	if (l->db)
		sqlite3_close(l->db);
	free(l);
	s->be_state = NULL;
	return err;
}

static void lite_close(struct cbar_store *s)
{
	struct lite *l = s->be_state;
	if (!l)
		return;
	sqlite3_close(l->db);
	free(l);
	s->be_state = NULL;
}

/*
 * SQLite rolls a transaction back by itself after some errors (out of
 * memory, a full disk, an I/O error), and the statements after it would
 * then each commit on their own: half a change.  So every statement of a
 * transaction first checks that it is still open, and so does COMMIT.
 */
static enum cbar_err lost(struct cbar_store *s, struct cbar_diag *d)
{
	struct lite *l = s->be_state;
	if (!l->txn || !sqlite3_get_autocommit(l->db))
		return CBAR_OK;
	l->txn = false;
	return cbar_diag_set(d, CBAR_STORE_IO, 0, 0,
	                     "%s: SQLite rolled the transaction back (out of memory or an I/O "
	                     "error); nothing was written",
	                     l->path);
}

static void lite_rollback(struct cbar_store *s)
{
	struct lite *l = s->be_state;
	l->txn = false;
	/* A ROLLBACK that fails for want of memory is tried once more; then
	 * the next BEGIN finds the transaction open and ends it. */
	for (int i = 0; i < 2 && !sqlite3_get_autocommit(l->db); i++)
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static enum cbar_err lite_begin(struct cbar_store *s, bool write, struct cbar_diag *d)
{
	struct lite *l = s->be_state;
	if (!sqlite3_get_autocommit(l->db))
		lite_rollback(s); /* left open by a ROLLBACK that failed */
	enum cbar_err err = run(s, write ? "BEGIN IMMEDIATE" : "BEGIN", d);
	l->txn = !err;
	return err;
}

static enum cbar_err lite_commit(struct cbar_store *s, struct cbar_diag *d)
{
	struct lite *l = s->be_state;
	enum cbar_err err = lost(s, d);
	if (!err)
		err = run(s, "COMMIT", d);
	l->txn = false;
	if (err)
		lite_rollback(s);
	return err;
}

/* A parameter that is a canonical integer binds as one, so comparisons
 * and arithmetic on BIGINT columns behave as in PostgreSQL. */
static bool canonical_int(const char *p)
{
	const char *q = p + (*p == '-');
	size_t n = strlen(q);
	if (n == 0 || n > 18 || (q[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++)
		if (q[i] < '0' || q[i] > '9')
			return false;
	return true;
}

static enum cbar_err lite_exec(struct cbar_store *s, const char *sql, int np,
                               const char *const *params, cbar__row_fn fn, void *arg,
                               struct cbar_diag *d)
{
	struct lite *l = s->be_state;
	sqlite3_stmt *st = NULL;
	enum cbar_err err = lost(s, d);
	if (err)
		return err;
	int rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, d, "preparing a statement");
	for (int i = 0; i < np; i++) {
		if (!params[i])
			rc = sqlite3_bind_null(st, i + 1);
		else if (canonical_int(params[i]))
			rc = sqlite3_bind_int64(st, i + 1, strtoll(params[i], NULL, 10));
		else
			rc = sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			err = fail(s, rc, d, "binding");
			goto done;
		}
	}
	int ncols = sqlite3_column_count(st);
	const char *cols[32];
	if (ncols > 32)
		ncols = 32;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!fn)
			continue;
		for (int i = 0; i < ncols; i++) {
			/* NULL is also what SQLite gives when it has no memory
			 * for the text: never read that as SQL NULL */
			bool null = sqlite3_column_type(st, i) == SQLITE_NULL;
			cols[i] = (const char *)sqlite3_column_text(st, i);
			if (!cols[i] && !null) {
				err = fail(s, SQLITE_NOMEM, d, "reading a row");
				goto done;
			}
		}
		if (fn(arg, ncols, cols))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = fail(s, rc, d, "writing or reading");
done:
	sqlite3_finalize(st);
	if (!err)
		err = lost(s, d);
	return err;
}

const struct cbar__store_be cbar__store_sqlite = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.exec = lite_exec,
	.notify = NULL,
	.wait_change = NULL,
};
