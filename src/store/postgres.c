/*
 * callbar: the PostgreSQL registry back end (see store_be.h).
 *
 * Several decision nodes share one database.  Writers serialise on a
 * transaction-scoped advisory lock taken first thing in the transaction:
 * the audit chain and the seq need one total order of changes, and it also
 * makes the per-identity limit's count-then-insert safe without retries
 * (the writes are a handful per second; reads never take the lock).
 * Commits are durable (synchronous_commit on, asserted at connect).  Every
 * change sends NOTIFY callbar_changes with the new seq as payload, delivered
 * on commit; a node that missed some catches up with "changes since seq".
 */
#include <stdio.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_be.h"

/* pg_advisory_xact_lock key: "callbar" in ASCII. */
#define WRITER_LOCK "SELECT pg_advisory_xact_lock(27992450286117490)"

struct pg {
	PGconn *conn;
	bool listening; /* LISTEN callbar_changes sent on this connection */
	char sqlbuf[4096];
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The server's message, on one line. */
static const char *msg_of(PGconn *c, const PGresult *r)
{
	static char buf[256];
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
	snprintf(buf, sizeof buf, "%s", m && *m ? m : "unknown error");
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = *(p + 1) ? ' ' : 0;
	return buf;
}

static enum cbar_err fail(struct cbar_store *s, const PGresult *r, struct cbar_diag *d,
                          const char *what)
{
	struct pg *p = s->be_state;
	if (PQstatus(p->conn) != CONNECTION_OK)
		return cbar_diag_set(d, CBAR_STORE_DOWN, 0, 0,
		                     "registry server connection lost while %s: %s", what,
		                     msg_of(p->conn, NULL));
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	enum cbar_err e = CBAR_STORE_IO;
	if (state && !strncmp(state, "53", 2))
		e = CBAR_STORE_IO; /* insufficient resources: disk full, out of memory */
	else if (state && (!strcmp(state, "55P03") || !strcmp(state, "40P01")))
		return cbar_diag_set(d, CBAR_STORE_BUSY, 0, 0,
		                     "locked by another writer for longer than the lock timeout "
		                     "(%u ms); nothing was written",
		                     s->opts.busy_ms);
	else if (state && !strncmp(state, "XX", 2))
		e = CBAR_STORE_CORRUPT;
	return cbar_diag_set(d, e, 0, 0, "registry server error while %s: %s%s%s", what,
	                     msg_of(p->conn, r), state ? " SQLSTATE " : "", state ? state : "");
}

static enum cbar_err run(struct cbar_store *s, const char *sql, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	PGresult *r = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	enum cbar_err err = CBAR_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		err = fail(s, r, d, sql);
	PQclear(r);
	return err;
}

static enum cbar_err pg_open(struct cbar_store *s, const char *target, struct cbar_diag *d)
{
	struct pg *p = calloc(1, sizeof *p);
	if (!p)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	s->be_state = p;
	p->conn = PQconnectdb(target);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		enum cbar_err err = cbar_diag_set(d, CBAR_STORE_DOWN, 0, 0,
		                                  "cannot reach the registry server: %s",
		                                  p->conn ? msg_of(p->conn, NULL) : "out of memory");
		PQfinish(p->conn);
		free(p);
		s->be_state = NULL;
		return err;
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	/* Durable commits; a writer waits busy_ms for another's lock. */
	char sql[64];
	snprintf(sql, sizeof sql, "SET lock_timeout = %u", s->opts.busy_ms);
	enum cbar_err err = run(s, "SET synchronous_commit = on", d);
	if (!err)
		err = run(s, sql, d);
	if (err) {
		PQfinish(p->conn);
		free(p);
		s->be_state = NULL;
	}
	return err;
}

static void pg_close(struct cbar_store *s)
{
	struct pg *p = s->be_state;
	if (!p)
		return;
	PQfinish(p->conn);
	free(p);
	s->be_state = NULL;
}

static enum cbar_err pg_begin(struct cbar_store *s, bool write, struct cbar_diag *d)
{
	enum cbar_err err;
	if (!write)
		return run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", d);
	if ((err = run(s, "BEGIN ISOLATION LEVEL READ COMMITTED", d)))
		return err;
	if ((err = run(s, WRITER_LOCK, d)))
		run(s, "ROLLBACK", NULL);
	return err;
}

static enum cbar_err pg_commit(struct cbar_store *s, struct cbar_diag *d)
{
	return run(s, "COMMIT", d);
}

static void pg_rollback(struct cbar_store *s)
{
	struct pg *p = s->be_state;
	if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		run(s, "ROLLBACK", NULL);
}

/* '?' placeholders to $1, $2...: store.c never puts '?' in a literal. */
static const char *numbered(struct pg *p, const char *sql)
{
	size_t o = 0;
	int n = 0;
	for (const char *c = sql; *c && o + 8 < sizeof p->sqlbuf; c++) {
		if (*c == '?')
			o += (size_t)snprintf(p->sqlbuf + o, sizeof p->sqlbuf - o, "$%d", ++n);
		else
			p->sqlbuf[o++] = *c;
	}
	p->sqlbuf[o] = 0;
	return p->sqlbuf;
}

static enum cbar_err pg_exec(struct cbar_store *s, const char *sql, int np,
                             const char *const *params, cbar__row_fn fn, void *arg,
                             struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	PGresult *r = PQexecParams(p->conn, numbered(p, sql), np, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	enum cbar_err err = CBAR_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		err = fail(s, r, d, "running a statement");
		goto done;
	}
	int rows = PQntuples(r), ncols = PQnfields(r);
	const char *cols[32];
	if (ncols > 32)
		ncols = 32;
	for (int i = 0; fn && i < rows; i++) {
		for (int j = 0; j < ncols; j++)
			cols[j] = PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j);
		if (fn(arg, ncols, cols))
			break;
	}
done:
	PQclear(r);
	return err;
}

static enum cbar_err pg_notify(struct cbar_store *s, int64_t seq, struct cbar_diag *d)
{
	char b[24];
	snprintf(b, sizeof b, "%lld", (long long)seq);
	const char *params[] = {b};
	return pg_exec(s, "SELECT pg_notify('callbar_changes', ?)", 1, params, NULL, NULL, d);
}

/*
 * LISTEN on the first call, then wait for a NOTIFY callbar_changes (sent by
 * every committed change, pg_notify) or the timeout: libpq's asynchronous
 * notification interface, a poll() on its socket.
 */
static enum cbar_err pg_wait_change(struct cbar_store *s, unsigned timeout_ms,
                                    struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	enum cbar_err err;
	if (!p->listening) {
		if ((err = run(s, "LISTEN callbar_changes", d)))
			return err;
		p->listening = true;
	}
	bool heard = false;
	for (int round = 0; round < 2 && !heard; round++) {
		if (!PQconsumeInput(p->conn))
			return fail(s, NULL, d, "waiting for changes");
		PGnotify *n;
		while ((n = PQnotifies(p->conn))) {
			heard = true;
			PQfreemem(n);
		}
		if (heard || round == 1)
			break;
		struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
		if (pfd.fd < 0)
			return fail(s, NULL, d, "waiting for changes");
		int rc = poll(&pfd, 1, (int)timeout_ms);
		if (rc < 0 && errno != EINTR)
			return cbar_diag_set(d, CBAR_STORE_IO, 0, 0, "poll: %s", strerror(errno));
		if (rc <= 0)
			break; /* the timeout (or a signal): nothing heard */
	}
	if (PQstatus(p->conn) != CONNECTION_OK)
		return fail(s, NULL, d, "waiting for changes");
	return CBAR_OK;
}

const struct cbar__store_be cbar__store_postgres = {
	.name = "postgres",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.exec = pg_exec,
	.notify = pg_notify,
	.wait_change = pg_wait_change,
};
