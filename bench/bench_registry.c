/*
 * callbar benchmarks: the unlock registry.
 *
 * 1. Load: every active record of a SQLite registry of N records (default
 *    10 million) into the decision path's in-memory array of (e164 uint64,
 *    expiry uint32, scope, level): 16 bytes a record.  Baseline: the same
 *    SELECT through the SQLite C API with typed columns straight into the
 *    array.  Candidate: cbar_store_foreach_active() (the back-end neutral
 *    path, values as text).  Goal: N = 10 million in at most 5 s.
 * 2. Durable unlocks per second, per back end.  Baseline: plain single-row
 *    INSERTs, each its own transaction, with the same durability settings
 *    (SQLite WAL + synchronous=FULL; PostgreSQL synchronous_commit on).
 *    Candidate: cbar_store_unlock() (lock, read, limit check, record, audit
 *    entry with its hash, head, NOTIFY).
 *
 *   bench_registry DIR [RECORDS] [PG_URL]
 * DIR holds the SQLite files (made and removed); without PG_URL the
 * PostgreSQL part is skipped and says so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "callbar/store.h"
#include "harness.h"

struct mem_rec {
	uint64_t e164;
	uint32_t expires;
	uint8_t scope, level;
};

static struct mem_rec *arr;
static size_t narr, cap;
static const char *dbpath;

static int add(void *arg, uint64_t e164, unsigned scope, enum cbar_store_level level,
               int64_t expires, int64_t id)
{
	(void)arg;
	(void)id;
	if (narr < cap)
		arr[narr++] = (struct mem_rec){e164, (uint32_t)expires, (uint8_t)scope, (uint8_t)level};
	return 0;
}

static uint64_t load_store(void *arg, size_t n)
{
	(void)n;
	struct cbar_store *s = arg;
	struct cbar_diag d = {0};
	narr = 0;
	if (cbar_store_foreach_active(s, add, NULL, NULL, &d)) {
		fprintf(stderr, "load: %s\n", d.msg);
		exit(1);
	}
	return narr;
}

static uint64_t load_raw(void *arg, size_t n)
{
	(void)n;
	sqlite3 *db = arg;
	sqlite3_stmt *st;
	narr = 0;
	sqlite3_prepare_v2(db,
	                   "SELECT subscriber, scope, level, expires FROM unlock WHERE status = "
	                   "'active'",
	                   -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW && narr < cap) {
		const unsigned char *lv = sqlite3_column_text(st, 2);
		arr[narr++] = (struct mem_rec){(uint64_t)sqlite3_column_int64(st, 0),
		                               (uint32_t)sqlite3_column_int64(st, 3),
		                               (uint8_t)sqlite3_column_int(st, 1),
		                               (uint8_t)(lv && lv[0] == 'v' ? 2 : 1)};
	}
	sqlite3_finalize(st);
	return narr;
}

/* A registry of n active records, written directly (one transaction). */
static void fill(size_t n)
{
	struct cbar_store *s;
	struct cbar_diag d = {0};
	char url[600];
	snprintf(url, sizeof url, "sqlite:%s", dbpath);
	if (cbar_store_open(&s, url, NULL, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		exit(1);
	}
	cbar_store_free(s);
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open(dbpath, &db);
	/* Indexes are built once after the rows, as a bulk load would. */
	sqlite3_exec(db,
	             "PRAGMA synchronous=OFF; BEGIN; DROP INDEX unlock_subscriber; DROP INDEX "
	             "unlock_doc; DROP INDEX unlock_seq",
	             NULL, NULL, NULL);
	sqlite3_prepare_v2(db,
	                   "INSERT INTO unlock VALUES (?, ?, ?, ?, 'active', 1700000000, ?, "
	                   "'keyword', '', '', '', 0, '', '', ?)",
	                   -1, &st, NULL);
	for (size_t i = 1; i <= n; i++) {
		sqlite3_bind_int64(st, 1, (int64_t)i);
		sqlite3_bind_int64(st, 2, (int64_t)(8613000000000ull + i * 7));
		sqlite3_bind_int(st, 3, (int)(i % 15) + 1);
		sqlite3_bind_text(st, 4, i % 3 ? "self" : "verified", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, i % 5 ? 0 : 1900000000);
		sqlite3_bind_int64(st, 6, (int64_t)i);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db,
	             "CREATE INDEX unlock_subscriber ON unlock (subscriber, status); CREATE INDEX "
	             "unlock_doc ON unlock (doc_hash, status); CREATE INDEX unlock_seq ON unlock "
	             "(seq); COMMIT",
	             NULL, NULL, NULL);
	sqlite3_close(db);
}

/* ---- durable writes ----------------------------------------------------- */

struct writer {
	struct cbar_store *s;
	sqlite3 *db;
	PGconn *pg;
	uint64_t next;
};

static uint64_t unlock_n(void *arg, size_t n)
{
	struct writer *w = arg;
	for (size_t i = 0; i < n; i++) {
		struct cbar_store_unlock_req r = {
			.subscriber = 8615000000000ull + w->next++,
			.scope = CBAR_STORE_SCOPE_ALL,
			.level = CBAR_STORE_SELF,
			.channel = CBAR_STORE_CHANNEL_KEYWORD,
			.now = (int64_t)time(NULL),
		};
		struct cbar_store_record out;
		bool changed;
		struct cbar_diag d = {0};
		if (cbar_store_unlock(w->s, &r, &out, &changed, &d)) {
			fprintf(stderr, "unlock: %s\n", d.msg);
			exit(1);
		}
	}
	return n;
}

static uint64_t insert_sqlite(void *arg, size_t n)
{
	struct writer *w = arg;
	sqlite3_stmt *st;
	sqlite3_prepare_v2(w->db, "INSERT INTO plain VALUES (?, ?, 'self', ?)", -1, &st, NULL);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (int64_t)(w->next++));
		sqlite3_bind_int(st, 2, 15);
		sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return n;
}

static uint64_t insert_pg(void *arg, size_t n)
{
	struct writer *w = arg;
	for (size_t i = 0; i < n; i++) {
		char b[24];
		snprintf(b, sizeof b, "%" PRIu64, w->next++);
		const char *p[] = {b};
		PGresult *r = PQexecParams(w->pg, "INSERT INTO plain VALUES ($1, 15, 'self', 0)", 1,
		                           NULL, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "insert: %s", PQerrorMessage(w->pg));
			exit(1);
		}
		PQclear(r);
	}
	return n;
}

static void writes(const char *name, const char *url, bench_fn base, struct writer *bw)
{
	struct writer cw = {0};
	struct cbar_diag d = {0};
	if (cbar_store_open(&cw.s, url, NULL, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		exit(1);
	}
	struct bench_result r = bench_compare(name, base, bw, unlock_n, &cw, 200, 5);
	printf("%-28s baseline %8.0f insert/s  callbar %8.0f unlock/s  ratio %.3f  (goal: ratio "
	       ">= 0.5: one commit each)\n",
	       name, r.base_rate, r.cand_rate, r.ratio);
	cbar_store_free(cw.s);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_registry DIR [RECORDS] [PG_URL]\n");
		return 2;
	}
	size_t n = argc > 2 ? (size_t)atoll(argv[2]) : 10000000;
	const char *pg = argc > 3 ? argv[3] : NULL;
	static char path[600], url[700];
	snprintf(path, sizeof path, "%s/bench_registry.db", argv[1]);
	dbpath = path;
	remove(path);

	/* 1. load */
	uint64_t t0 = bench_now_ns();
	fill(n);
	printf("registry of %zu records written in %.1f s\n", n, (bench_now_ns() - t0) / 1e9);
	cap = n;
	arr = malloc(n * sizeof *arr);
	snprintf(url, sizeof url, "sqlite:%s", path);
	struct cbar_store *s;
	struct cbar_diag d = {0};
	sqlite3 *db;
	if (!arr || cbar_store_open(&s, url, NULL, &d) || sqlite3_open(path, &db)) {
		fprintf(stderr, "open: %s\n", d.msg);
		return 1;
	}
	struct bench_result r = bench_compare("load", load_raw, db, load_store, s, n, 3);
	bench_report("load active records", "rec", &r, "10 million in <= 5 s");
	printf("  load of %zu records: %.2f s (baseline %.2f s); memory %zu bytes a record "
	       "(%.0f MB)\n",
	       n, n / r.cand_rate, n / r.base_rate, sizeof *arr, n * sizeof *arr / 1e6);
	sqlite3_close(db);
	cbar_store_free(s);
	free(arr);
	remove(path);

	/* 2. durable writes, SQLite */
	struct writer bw = {0};
	snprintf(path, sizeof path, "%s/bench_plain.db", argv[1]);
	remove(path);
	sqlite3_open(path, &bw.db);
	sqlite3_exec(bw.db,
	             "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE plain "
	             "(subscriber BIGINT PRIMARY KEY, scope BIGINT, level TEXT, created BIGINT)",
	             NULL, NULL, NULL);
	snprintf(path, sizeof path, "%s/bench_writes.db", argv[1]);
	remove(path);
	snprintf(url, sizeof url, "sqlite:%s", path);
	writes("durable unlocks, sqlite", url, insert_sqlite, &bw);
	sqlite3_close(bw.db);

	/* 2. durable writes, PostgreSQL */
	if (!pg) {
		puts("durable unlocks, postgres: skipped (no PG_URL given)");
		return 0;
	}
	bw = (struct writer){0};
	bw.pg = PQconnectdb(pg);
	PQclear(PQexec(bw.pg, "DROP SCHEMA public CASCADE; CREATE SCHEMA public; "
	                      "SET synchronous_commit = on; CREATE TABLE plain (subscriber BIGINT "
	                      "PRIMARY KEY, scope BIGINT, level TEXT, created BIGINT)"));
	if (PQstatus(bw.pg) != CONNECTION_OK) {
		fprintf(stderr, "%s", PQerrorMessage(bw.pg));
		return 1;
	}
	writes("durable unlocks, postgres", pg, insert_pg, &bw);
	PQfinish(bw.pg);
	return 0;
}
