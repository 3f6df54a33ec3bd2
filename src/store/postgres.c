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
 *
 * A write transaction runs in libpq's pipeline mode: statements whose rows
 * nobody reads (BEGIN, the lock, INSERT, UPDATE, NOTIFY) are sent and not
 * waited for; a statement whose rows are read flushes the queue and reads
 * every result before its own, and COMMIT ends the queue with a sync.  An
 * unlock is then three round trips to the server instead of nine (BEGIN,
 * lock and the record's SELECT; the audit head's SELECT; the writes and
 * COMMIT), the same statements in the same order; a failure anywhere is
 * found at the next read or at COMMIT, and the transaction rolls back.
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

/* Statements are prepared once per connection, found by the address of
 * their text (store.c passes string literals): parsed and planned once.
 * Names are never reused: one prepared in a transaction that failed is
 * forgotten (it may not exist) and prepared again under a new name. */
#define PREPARED_MAX 128

struct pg {
	PGconn *conn;
	bool listening; /* LISTEN callbar_changes sent on this connection */
	bool pipe;      /* in a write transaction, in pipeline mode */
	int pending;    /* statements sent whose results are not read yet */
	struct {
		const char *sql;
		unsigned id;
	} prepared[PREPARED_MAX];
	unsigned nprepared, next_id;
	unsigned prepared_at_begin; /* nprepared when the write transaction began */
	bool failed;                /* a statement of it failed (a prepare may have) */
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
	/* The server going away (class 08, connection; 57, a shutdown or a
	 * crash of the primary, whose FATAL arrives before the socket closes)
	 * or a server that takes no writes (25006, a standby): the registry is
	 * down for now, not broken; a failover ends it and the write may be
	 * retried. */
	if (state && (!strncmp(state, "08", 2) || !strncmp(state, "57", 2) ||
	              !strcmp(state, "25006")))
		return cbar_diag_set(d, CBAR_STORE_DOWN, 0, 0,
		                     "registry server unavailable while %s: %s SQLSTATE %s", what,
		                     msg_of(p->conn, r), state);
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

/* ---- pipeline mode (write transactions) ---------------------------------- */

/* Queue a statement; its result is read later (drain). */
static enum cbar_err send_q(struct cbar_store *s, const char *sql, int np,
                            const char *const *params, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	if (!PQsendQueryParams(p->conn, sql, np, NULL, params, NULL, NULL, 0))
		return fail(s, NULL, d, "sending a statement");
	p->pending++;
	return CBAR_OK;
}

/* The name of store.c's statement sql on this connection, "" when it is
 * not prepared (yet, or the table is full). */
static void prepared_name(const struct pg *p, const char *sql, char name[24], bool *known)
{
	*known = false;
	name[0] = '\0';
	for (unsigned i = 0; i < p->nprepared; i++)
		if (p->prepared[i].sql == sql) {
			snprintf(name, 24, "cb%u", p->prepared[i].id);
			*known = true;
			return;
		}
	if (p->nprepared < PREPARED_MAX)
		snprintf(name, 24, "cb%u", p->next_id);
}

/* A statement just prepared under the name prepared_name() gave. */
static void prepared_add(struct pg *p, const char *sql)
{
	p->prepared[p->nprepared].sql = sql;
	p->prepared[p->nprepared++].id = p->next_id++;
}

/* Queue store.c's statement sql, prepared on first use. */
static enum cbar_err send_prepared(struct cbar_store *s, const char *sql, int np,
                                   const char *const *params, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	char name[24];
	bool known;
	prepared_name(p, sql, name, &known);
	if (!name[0])
		return send_q(s, numbered(p, sql), np, params, d);
	if (!known) {
		if (!PQsendPrepare(p->conn, name, numbered(p, sql), np, NULL))
			return fail(s, NULL, d, "preparing a statement");
		p->pending++;
		prepared_add(p, sql);
	}
	if (!PQsendQueryPrepared(p->conn, name, np, params, NULL, NULL, 0))
		return fail(s, NULL, d, "sending a statement");
	p->pending++;
	return CBAR_OK;
}

/* Read the results of the n oldest queued statements; the first failure
 * is said in d (later ones were skipped by the server: aborted). */
static enum cbar_err drain(struct cbar_store *s, int n, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	enum cbar_err err = CBAR_OK;
	for (; n > 0; n--, p->pending--) {
		PGresult *r = PQgetResult(p->conn);
		if (!r)
			return fail(s, NULL, d, "reading a result");
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			p->failed = true;
		if (!err && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			err = st == PGRES_PIPELINE_ABORTED
			              ? cbar_diag_set(d, CBAR_STORE_IO, 0, 0,
			                              "registry server: statement skipped after an error")
			              : fail(s, r, d, "running a statement");
		PQclear(r);
		while ((r = PQgetResult(p->conn))) /* to the end of this statement's results */
			PQclear(r);
	}
	return err;
}

/* Send a sync, read everything up to it and leave pipeline mode; the
 * first failure in d.  The connection is then as outside a pipeline. */
static enum cbar_err sync_end(struct cbar_store *s, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	enum cbar_err err = CBAR_OK;
	if (!PQpipelineSync(p->conn))
		err = fail(s, NULL, d, "sending a sync");
	if (!err)
		err = drain(s, p->pending, d);
	else
		p->pending = 0;
	for (int guard = 0; guard < 4 && PQstatus(p->conn) == CONNECTION_OK; guard++) {
		PGresult *r = PQgetResult(p->conn);
		ExecStatusType st = r ? PQresultStatus(r) : PGRES_EMPTY_QUERY;
		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	PQexitPipelineMode(p->conn);
	p->pipe = false;
	return err;
}

static enum cbar_err pg_begin(struct cbar_store *s, bool write, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	enum cbar_err err;
	if (!write)
		return run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", d);
	if (!PQenterPipelineMode(p->conn))
		return fail(s, NULL, d, "starting a transaction");
	p->pipe = true;
	p->pending = 0;
	p->prepared_at_begin = p->nprepared;
	p->failed = false;
	if ((err = send_q(s, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, d)) ||
	    (err = send_q(s, WRITER_LOCK, 0, NULL, d))) {
		sync_end(s, NULL);
		run(s, "ROLLBACK", NULL);
	}
	return err;
}

static enum cbar_err pg_commit(struct cbar_store *s, struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	if (!p->pipe)
		return run(s, "COMMIT", d);
	enum cbar_err err = send_q(s, "COMMIT", 0, NULL, d);
	enum cbar_err e2 = sync_end(s, err ? NULL : d);
	if (!err)
		err = e2;
	/* a failure left the transaction open and aborted, COMMIT skipped */
	if (err && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		run(s, "ROLLBACK", NULL);
	if (err || p->failed)
		p->nprepared = p->prepared_at_begin;
	return err;
}

static void pg_rollback(struct cbar_store *s)
{
	struct pg *p = s->be_state;
	if (p->pipe && (sync_end(s, NULL) || p->failed))
		p->nprepared = p->prepared_at_begin; /* a prepare may have failed */
	if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		run(s, "ROLLBACK", NULL);
}

/*
 * Rows to read outside a pipeline, streamed: libpq's single-row mode hands
 * over one row at a time instead of holding the whole result.  A full load
 * of the unlock records (SELECT ... WHERE status = 'active') is the whole
 * table: buffered, 100 million rows took 15.9 GB of the node's memory on
 * top of the set they fill.  Streamed, the client holds one row.  When fn
 * stops early the rest is read and dropped, so the connection is ready
 * for the next statement.
 */
static enum cbar_err stream_rows(struct cbar_store *s, const char *name, const char *sql, int np,
                                 const char *const *params, cbar__row_fn fn, void *arg,
                                 struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	int sent = name[0] ? PQsendQueryPrepared(p->conn, name, np, params, NULL, NULL, 0)
	                   : PQsendQueryParams(p->conn, numbered(p, sql), np, NULL, params, NULL,
	                                       NULL, 0);
	if (!sent)
		return fail(s, NULL, d, "sending a statement");
	if (!PQsetSingleRowMode(p->conn))
		return fail(s, NULL, d, "reading rows one at a time");
	enum cbar_err err = CBAR_OK;
	bool stopped = false;
	const char *cols[32];
	PGresult *r;
	while ((r = PQgetResult(p->conn))) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && !stopped && !err) {
			int ncols = PQnfields(r) < 32 ? PQnfields(r) : 32;
			for (int j = 0; j < ncols; j++)
				cols[j] = PQgetisnull(r, 0, j) ? NULL : PQgetvalue(r, 0, j);
			stopped = fn(arg, ncols, cols) != 0;
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
		           st != PGRES_COMMAND_OK && !err) {
			err = fail(s, r, d, "running a statement");
		}
		PQclear(r);
	}
	return err;
}

static enum cbar_err pg_exec(struct cbar_store *s, const char *sql, int np,
                             const char *const *params, cbar__row_fn fn, void *arg,
                             struct cbar_diag *d)
{
	struct pg *p = s->be_state;
	PGresult *r;
	enum cbar_err err;
	if (p->pipe) {
		/* rows nobody reads: queued; rows to read: flush and read
		 * everything queued before them, then them */
		if ((err = send_prepared(s, sql, np, params, d)) || !fn)
			return err;
		if (!PQsendFlushRequest(p->conn) || PQflush(p->conn))
			return fail(s, NULL, d, "sending statements");
		if ((err = drain(s, p->pending - 1, d))) {
			drain(s, 1, NULL);
			return err;
		}
		r = PQgetResult(p->conn);
		p->pending--;
		PGresult *end;
		while ((end = PQgetResult(p->conn)))
			PQclear(end);
	} else {
		char name[24];
		bool known;
		prepared_name(p, sql, name, &known);
		if (name[0] && !known) {
			PGresult *pr = PQprepare(p->conn, name, numbered(p, sql), np, NULL);
			ExecStatusType pst = PQresultStatus(pr);
			if (pst != PGRES_COMMAND_OK) {
				err = fail(s, pr, d, "preparing a statement");
				PQclear(pr);
				return err;
			}
			PQclear(pr);
			prepared_add(p, sql);
		}
		if (fn)
			return stream_rows(s, name, sql, np, params, fn, arg, d);
		r = name[0] ? PQexecPrepared(p->conn, name, np, params, NULL, NULL, 0)
		            : PQexecParams(p->conn, numbered(p, sql), np, NULL, params, NULL, NULL, 0);
	}
	ExecStatusType st = PQresultStatus(r);
	err = CBAR_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		p->failed = p->failed || p->pipe;
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
