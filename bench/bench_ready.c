/*
 * callbar benchmarks: how fast a node is ready, and the registry at size.
 *
 *   bench_ready DIR N [PG_URL [UNLOCKS]]
 *
 * Without PG_URL: an unlock set of N random records (as bench_scale
 * builds it), written as a snapshot in DIR, then read back warm (the file
 * in the page cache, a restart) and cold (its pages dropped with
 * posix_fadvise first, as after a reboot; the disk's speed).
 *
 * With PG_URL (a database the bench may wipe): N active records loaded
 * into the registry's unlock table (COPY, indexes built after), then the
 * node's two ways to be ready timed: the whole registry through
 * cbar_store_foreach_active() (the full load), through COPY ... TO STDOUT
 * (FORMAT binary) straight into the set, and from the snapshot of that
 * set.  Then the sizes of each table and index, and UNLOCKS (default 2000)
 * durable unlocks through cbar_store_unlock(), one at a time, while two
 * followers (each a LISTEN connection and a query connection, as the
 * daemon) apply every change: p50, p99 and max latency, and the audit
 * bytes an entry takes.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "callbar/store.h"
#include "harness.h"
#include "store/unlock_snapshot.h"
#include "store/unlockview.h"

static double now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15u;
	x ^= x >> 29;
	return x;
}

static const uint64_t seg[] = {138, 139, 150, 186, 189, 133, 177, 158};

static uint64_t subscriber(size_t i)
{
	uint64_t r = mix(i * 0x2545f4914f6cdd1du + 77);
	return 8600000000000ull + seg[r % 8] * 100000000ull + (r >> 8) % 100000000ull;
}

static struct cbar_unlockset *random_set(size_t n)
{
	struct cbar_unlockset *s = cbar_unlockset_new(n);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = mix(i);
		struct cbar_unlock u = {.subscriber = subscriber(i),
		                        .scope = (uint8_t)(r % 3 ? 15 : 12),
		                        .level = (uint8_t)(r % 3 ? 1 : 2),
		                        .expires = r % 5 ? 0 : 1900000000u,
		                        .active = 1};
		cbar_unlockset_add(s, &u);
	}
	return s;
}

static void snapshot_times(const char *dir, struct cbar_unlockset *s)
{
	char path[600];
	snprintf(path, sizeof path, "%s/bench.snap", dir);
	struct cbar_unlock_snapshot_id id = {.seq = 1}, got;
	struct cbar_diag d = {0};
	double t0 = now_s();
	if (cbar_unlock_snapshot_write(path, s, &id, &d)) {
		fprintf(stderr, "write: %s\n", d.msg);
		exit(1);
	}
	double t1 = now_s();
	size_t bytes = 0, nb;
	cbar__unlockset_image(s, &bytes, &nb);
	printf("snapshot write: %.2f s (%.0f MB, fsync included)\n", t1 - t0, (double)bytes / 1e6);
	for (int cold = 0; cold < 2; cold++) {
		if (cold) {
			int fd = open(path, O_RDONLY);
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
		struct cbar_unlockset *r = NULL;
		t0 = now_s();
		if (cbar_unlock_snapshot_read(path, &got, &r, &d)) {
			fprintf(stderr, "read: %s\n", d.msg);
			exit(1);
		}
		t1 = now_s();
		printf("ready from snapshot (%s): %.2f s for %zu records (%.0f MB/s); goal < 10 s: "
		       "%s\n",
		       cold ? "cold: pages dropped first" : "warm: in the page cache", t1 - t0,
		       cbar_unlockset_count(r), (double)bytes / 1e6 / (t1 - t0),
		       t1 - t0 < 10 ? "met" : "NOT met");
		if (cold) {
			/* The follower's merge of a full delta (DELTA_MAX changed
			 * subscribers) into this base. */
			struct cbar_unlockset *delta = cbar_unlockset_new(65536), *m = NULL;
			for (size_t i = 0; i < 65536; i++) {
				struct cbar_unlock u = {.subscriber = subscriber(i * 3),
				                        .scope = 15,
				                        .level = 1,
				                        .active = i % 4 != 0};
				cbar_unlockset_add(delta, &u);
			}
			t0 = now_s();
			if (cbar_unlockset_merge(r, delta, &m)) {
				fprintf(stderr, "merge failed\n");
				exit(1);
			}
			printf("merge of 65,536 changed subscribers into the base: %.2f s\n",
			       now_s() - t0);
			cbar_unlockset_free(m);
			cbar_unlockset_free(delta);
		}
		cbar_unlockset_free(r);
	}
	unlink(path);
}

/* ---- PostgreSQL ----------------------------------------------------------- */

static void pg_ok(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
	if (PQresultStatus(r) != want) {
		fprintf(stderr, "%s: %s", what, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
}

static void fill_pg(PGconn *c, size_t n)
{
	double t0 = now_s();
	pg_ok(
	    c,
	    PQexec(c, "DROP INDEX unlock_subscriber; DROP INDEX unlock_doc; DROP INDEX unlock_seq"),
	    PGRES_COMMAND_OK, "drop indexes");
	pg_ok(c, PQexec(c, "COPY unlock FROM STDIN"), PGRES_COPY_IN, "copy in");
	char buf[1 << 16];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = mix(i);
		/* Bulk rows carry seq 0: before the audit chain, so followers
		 * never see them as changes. */
		k += (size_t)snprintf(
		    buf + k, sizeof buf - k,
		    "%zu\t%" PRIu64 "\t%u\t%s\tactive\t1700000000\t%u\t%s\t\t\t\t0\t\t\t0\n",
		    i + 1000000000, subscriber(i), r % 3 ? 15u : 12u, r % 3 ? "self" : "verified",
		    r % 5 ? 0u : 1900000000u, r % 3 ? "keyword" : "shop");
		if (k > sizeof buf - 200) {
			PQputCopyData(c, buf, (int)k);
			k = 0;
		}
	}
	PQputCopyData(c, buf, (int)k);
	PQputCopyEnd(c, NULL);
	pg_ok(c, PQgetResult(c), PGRES_COMMAND_OK, "copy end");
	double t1 = now_s();
	pg_ok(c,
	      PQexec(c, "CREATE INDEX unlock_subscriber ON unlock (subscriber, status); "
	                "CREATE INDEX unlock_doc ON unlock (doc_hash, status); "
	                "CREATE INDEX unlock_seq ON unlock (seq); ANALYZE unlock"),
	      PGRES_COMMAND_OK, "indexes");
	printf("registry filled: %zu rows by COPY in %.1f s, indexes and ANALYZE %.1f s\n", n,
	       t1 - t0, now_s() - t1);
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The active records by COPY binary: subscriber, scope, verified, expires. */
static struct cbar_unlockset *load_copy_binary(PGconn *c)
{
	struct cbar_unlockset *s = cbar_unlockset_new(1024);
	pg_ok(c,
	      PQexec(c, "COPY (SELECT subscriber, scope, level = 'verified', expires FROM unlock "
	                "WHERE status = 'active') TO STDOUT (FORMAT binary)"),
	      PGRES_COPY_OUT, "copy out");
	char *row;
	int len, first = 1;
	while ((len = PQgetCopyData(c, &row, 0)) > 0) {
		const unsigned char *p = (const unsigned char *)row;
		if (first) { /* signature (11), flags (4), extension length (4) */
			p += 19;
			first = 0;
		}
		if ((p[0] << 8 | p[1]) == 0xffff) {
			PQfreemem(row);
			continue;
		}
		/* 4 fields, each a 4-byte length then the value */
		uint64_t sub = be64(p + 6), scope = be64(p + 18);
		unsigned ver = p[30];
		int64_t exp = (int64_t)be64(p + 35);
		struct cbar_unlock u = cbar_unlock_from_store(
		    sub, (unsigned)scope, ver ? CBAR_STORE_VERIFIED : CBAR_STORE_SELF, exp, true);
		if (cbar_unlockset_add(s, &u)) {
			fprintf(stderr, "add failed\n");
			exit(1);
		}
		PQfreemem(row);
	}
	pg_ok(c, PQgetResult(c), PGRES_COMMAND_OK, "copy out end");
	cbar_unlockset_fit(s);
	return s;
}

static void sizes(PGconn *c)
{
	PGresult *r =
	    PQexec(c, "SELECT c.relname, c.relkind, pg_relation_size(c.oid), "
	              "coalesce((SELECT reltuples::bigint FROM pg_class WHERE oid = c.oid), 0) "
	              "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	              "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') ORDER BY 3 DESC");
	printf("%-22s %-6s %12s %12s\n", "relation", "kind", "bytes", "rows (est.)");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%-22s %-6s %12s %12s\n", PQgetvalue(r, i, 0),
		       PQgetvalue(r, i, 1)[0] == 'r' ? "table" : "index", PQgetvalue(r, i, 2),
		       PQgetvalue(r, i, 3));
	PQclear(r);
}

struct follower {
	const char *url;
	atomic_bool *stop;
	int64_t head;
	size_t applied;
};

static int count_change(void *arg, const struct cbar_store_record *r)
{
	(void)r;
	((struct follower *)arg)->applied++;
	return 0;
}

static void *follow(void *arg)
{
	struct follower *f = arg;
	struct cbar_store *w, *q;
	struct cbar_diag d = {0};
	if (cbar_store_open(&w, f->url, NULL, &d) || cbar_store_open(&q, f->url, NULL, &d)) {
		fprintf(stderr, "follower: %s\n", d.msg);
		exit(1);
	}
	cbar_store_chain_head(q, &f->head, NULL, &d);
	while (!atomic_load(f->stop)) {
		cbar_store_wait_change(w, 250, &d);
		int64_t head = f->head;
		if (!cbar_store_changes(q, f->head, count_change, f, &head, NULL, &d))
			f->head = head;
	}
	cbar_store_free(w);
	cbar_store_free(q);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int64_t one_int(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int64_t v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	return v;
}

static void unlock_latency(const char *url, PGconn *c, size_t m)
{
	struct cbar_store *s;
	struct cbar_diag d = {0};
	if (cbar_store_open(&s, url, NULL, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		exit(1);
	}
	atomic_bool stop = false;
	struct follower f[2] = {{url, &stop, 0, 0}, {url, &stop, 0, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, follow, &f[i]);
	int64_t audit0 = one_int(c, "SELECT pg_total_relation_size('audit')");
	int64_t wal0 = one_int(c, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
	double *lat = calloc(m, sizeof *lat);
	for (size_t i = 0; i < m; i++) {
		struct cbar_store_unlock_req r = {
		    .subscriber = 8619900000000ull + mix(i) % 100000000ull,
		    .scope = CBAR_STORE_SCOPE_ALL,
		    .level = CBAR_STORE_SELF,
		    .channel = CBAR_STORE_CHANNEL_API,
		    .now = 1700000000 + (int64_t)i,
		};
		struct cbar_store_record out;
		bool changed;
		double t0 = now_s();
		if (cbar_store_unlock(s, &r, &out, &changed, &d)) {
			fprintf(stderr, "unlock: %s\n", d.msg);
			exit(1);
		}
		lat[i] = (now_s() - t0) * 1e3;
	}
	usleep(600000);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	qsort(lat, m, sizeof *lat, cmp_double);
	printf(
	    "unlock latency, %zu durable unlocks while 2 nodes follow: p50 %.2f ms, p99 %.2f ms, "
	    "max %.2f ms; followers applied %zu and %zu changes\n",
	    m, lat[m / 2], lat[m * 99 / 100], lat[m - 1], f[0].applied, f[1].applied);
	int64_t audit1 = one_int(c, "SELECT pg_total_relation_size('audit')");
	int64_t wal1 = one_int(c, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
	printf("WAL: %.0f bytes an unlock (what a streaming replica receives)\n",
	       (double)(wal1 - wal0) / (double)m);
	int64_t avg = one_int(c, "SELECT avg(pg_column_size(a.*))::bigint FROM audit a");
	printf("audit: %.0f bytes an entry on disk with its indexes (growth over %zu entries), "
	       "%" PRId64 " bytes a row on average\n",
	       (double)(audit1 - audit0) / (double)m, m, avg);
	free(lat);
	cbar_store_free(s);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_ready DIR N [PG_URL [UNLOCKS]]\n");
		return 2;
	}
	const char *dir = argv[1];
	size_t n = strtoull(argv[2], NULL, 10);
	const char *url = argc > 3 ? argv[3] : NULL;
	size_t m = argc > 4 ? strtoull(argv[4], NULL, 10) : 2000;
	if (!url) {
		double t0 = now_s();
		struct cbar_unlockset *s = random_set(n);
		printf("set of %zu records built in %.1f s (%.2f bytes a record)\n",
		       cbar_unlockset_count(s), now_s() - t0,
		       (double)cbar_unlockset_bytes(s) / (double)cbar_unlockset_count(s));
		snapshot_times(dir, s);
		cbar_unlockset_free(s);
		return 0;
	}
	/* A fresh registry: the schema made by cbar_store_open. */
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s", PQerrorMessage(c));
		return 1;
	}
	PQclear(PQexec(c, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"));
	struct cbar_store *st;
	struct cbar_diag d = {0};
	if (cbar_store_open(&st, url, NULL, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	fill_pg(c, n);
	/* The full load, as the daemon without a snapshot. */
	double t0 = now_s();
	struct cbar_unlockset *full = cbar_unlockset_new(1024);
	int64_t head = 0;
	if (cbar_store_foreach_active(st, cbar_unlockset_add_active, full, &head, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	cbar_unlockset_fit(full);
	printf("ready from PostgreSQL, cbar_store_foreach_active: %.2f s for %zu records\n",
	       now_s() - t0, cbar_unlockset_count(full));
	t0 = now_s();
	struct cbar_unlockset *cb = load_copy_binary(c);
	printf("ready from PostgreSQL, COPY binary: %.2f s for %zu records\n", now_s() - t0,
	       cbar_unlockset_count(cb));
	cbar_unlockset_free(cb);
	snapshot_times(dir, full);
	cbar_unlockset_free(full);
	cbar_store_free(st);
	unlock_latency(url, c, m);
	sizes(c);
	PQfinish(c);
	return 0;
}
