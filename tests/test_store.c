/*
 * callbar tests: the registry API the decision path uses (snapshot of the
 * active records, changes since a seq), against the back end named by the
 * URL argument: test_store sqlite:PATH | postgres://...
 * (A PostgreSQL database is expected empty: tests/pg.sh makes it so.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "callbar/store.h"

static const char *url;
static struct cbar_store *s;

#define H(c) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" c

struct seen {
	unsigned n;
	uint64_t e164[16];
	unsigned scope[16];
	int level[16];
	int64_t expires[16], id[16];
};

static int on_active(void *arg, uint64_t e164, unsigned scope, enum cbar_store_level level,
                     int64_t expires, int64_t id)
{
	struct seen *v = arg;
	if (v->n < 16) {
		v->e164[v->n] = e164;
		v->scope[v->n] = scope;
		v->level[v->n] = level;
		v->expires[v->n] = expires;
		v->id[v->n] = id;
	}
	v->n++;
	return 0;
}

struct changes {
	unsigned n;
	struct cbar_store_record r[16];
};

static int on_change(void *arg, const struct cbar_store_record *r)
{
	struct changes *c = arg;
	if (c->n < 16)
		c->r[c->n] = *r;
	c->n++;
	return 0;
}

static void unlock(uint64_t sub, unsigned scope, enum cbar_store_level level, const char *hash,
                   int64_t expires, enum cbar_err want)
{
	struct cbar_store_unlock_req r = {
		.subscriber = sub,
		.scope = scope,
		.level = level,
		.expires = expires,
		.channel = hash ? CBAR_STORE_CHANNEL_SHOP : CBAR_STORE_CHANNEL_KEYWORD,
		.agent = hash ? "alice" : NULL,
		.doc_type = hash ? "cn-resident" : NULL,
		.doc_hash = hash,
		.now = 1700000000,
	};
	struct cbar_store_record out;
	bool changed;
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_unlock(s, &r, &out, &changed, &d);
	if (e != want)
		fail_msg("unlock +%llu: want %s, got %s: %s", (unsigned long long)sub,
		         cbar_err_name(want), cbar_err_name(e), d.msg);
}

static void snapshot_and_changes(void **state)
{
	(void)state;
	struct cbar_diag d = {0};
	struct seen v = {0};
	int64_t head = -1;
	assert_int_equal(cbar_store_foreach_active(s, on_active, &v, &head, &d), CBAR_OK);
	assert_int_equal(v.n, 0);
	assert_int_equal(head, 0);

	assert_int_equal(cbar_store_bind_key(s, "0123456789abcdef", &d), CBAR_OK);
	assert_int_equal(cbar_store_bind_key(s, "0123456789abcdef", &d), CBAR_OK);
	assert_int_equal(cbar_store_bind_key(s, "fedcba9876543210", &d), CBAR_KEY_MISMATCH);

	/* The key's binding was change 1 (key-bind). */
	unlock(8613805710000, CBAR_STORE_VOICE_IN | CBAR_STORE_SMS_IN, CBAR_STORE_VERIFIED, H("1"),
	       0, CBAR_OK);                                              /* seq 2 */
	unlock(8613805710001, CBAR_STORE_SMS_OUT, CBAR_STORE_SELF, NULL, 1800000000, CBAR_OK); /* 3 */
	v = (struct seen){0};
	assert_int_equal(cbar_store_foreach_active(s, on_active, &v, &head, &d), CBAR_OK);
	assert_int_equal(v.n, 2);
	assert_int_equal(head, 3);
	for (unsigned i = 0; i < 2; i++) {
		if (v.e164[i] == 8613805710000) {
			assert_int_equal(v.scope[i], 5);
			assert_int_equal(v.level[i], CBAR_STORE_VERIFIED);
			assert_int_equal(v.expires[i], 0);
			assert_int_equal(v.id[i], 2);
		} else {
			assert_true(v.e164[i] == 8613805710001);
			assert_int_equal(v.scope[i], 8);
			assert_int_equal(v.level[i], CBAR_STORE_SELF);
			assert_int_equal(v.expires[i], 1800000000);
			assert_int_equal(v.id[i], 3);
		}
	}

	/* Changes after the snapshot: a partial relock of +...0000 revokes
	 * record 2 (seq 4) and continues the rest in record 5 (seq 5). */
	struct cbar_store_record rest;
	assert_int_equal(cbar_store_relock(s, 8613805710000, CBAR_STORE_SMS_IN, "agent:bob", "test",
	                                   1700000100, &rest, &d),
	                 CBAR_OK);
	assert_int_equal(rest.id, 5);
	assert_int_equal(rest.scope, CBAR_STORE_VOICE_IN);
	struct changes c = {0};
	struct cbar_store_unaudited u;
	int64_t next = -1;
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(next, 5);
	assert_int_equal(c.n, 2);
	assert_int_equal(u.rows, 0);
	assert_int_equal(u.broken_at, 0);
	assert_int_equal(c.r[0].id, 2);
	assert_int_equal(c.r[0].status, CBAR_STORE_REVOKED);
	assert_int_equal(c.r[0].seq, 4);
	assert_string_equal(c.r[0].revoked_by, "agent:bob");
	assert_int_equal(c.r[1].id, 5);
	assert_int_equal(c.r[1].status, CBAR_STORE_ACTIVE);
	assert_int_equal(c.r[1].seq, 5);
	/* Nothing new: nothing, and the same head. */
	c = (struct changes){0};
	assert_int_equal(cbar_store_changes(s, next, on_change, &c, &next, NULL, &d), CBAR_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(next, 5);
	/* From the start, on a connection that has checked nothing: the
	 * same records in their state now. */
	c = (struct changes){0};
	assert_int_equal(cbar_store_changes(s, 0, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(next, 5);
	assert_int_equal(c.n, 3);
	assert_int_equal(u.rows, 0);

	/* The limit per identity, counted over other subscribers. */
	struct cbar_store_opts o = {0};
	(void)o;
	for (uint64_t n = 1; n < 5; n++)
		unlock(8613905710000 + n, CBAR_STORE_SCOPE_ALL, CBAR_STORE_VERIFIED, H("2"), 0, CBAR_OK);
	unlock(8613905710005, CBAR_STORE_SCOPE_ALL, CBAR_STORE_VERIFIED, H("2"), 0, CBAR_OK);
	unlock(8613905710006, CBAR_STORE_SCOPE_ALL, CBAR_STORE_VERIFIED, H("2"), 0,
	       CBAR_STORE_LIMIT);
	/* ... but the same subscriber again is no new identity use. */
	unlock(8613905710005, CBAR_STORE_SCOPE_ALL, CBAR_STORE_VERIFIED, H("2"), 0, CBAR_OK);
	/* A subscriber that already uses the document may unlock again. */
	unlock(8613905710001, CBAR_STORE_SCOPE_ALL, CBAR_STORE_VERIFIED, H("2"), 0, CBAR_OK);

	/* Bad requests change nothing. */
	unlock(0, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, NULL, 0, CBAR_INVAL);
	unlock(8613805710009, 0, CBAR_STORE_SELF, NULL, 0, CBAR_INVAL);
	unlock(8613805710009, 16, CBAR_STORE_SELF, NULL, 0, CBAR_INVAL);
	unlock(8613805710009, 1, CBAR_STORE_VERIFIED, NULL, 0, CBAR_INVAL);

	int64_t n, bad;
	char hh[CBAR_STORE_HASH_HEX];
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_OK);
	assert_int_equal(strlen(hh), 64);
	v = (struct seen){0};
	assert_int_equal(cbar_store_foreach_active(s, on_active, &v, &head, &d), CBAR_OK);
	assert_int_equal(head, n);
	assert_int_equal(v.n, 7);
}

static void scopes(void **state)
{
	(void)state;
	char b[64];
	assert_int_equal(cbar_store_scope_parse("voice,sms"), 15);
	assert_int_equal(cbar_store_scope_parse("voice-in"), 1);
	assert_int_equal(cbar_store_scope_parse("voice-out,sms-out"), 10);
	assert_int_equal(cbar_store_scope_parse("in"), 5);
	assert_int_equal(cbar_store_scope_parse("all"), 15);
	assert_int_equal(cbar_store_scope_parse("fax"), 0);
	assert_int_equal(cbar_store_scope_parse("voice,"), 3);
	assert_int_equal(cbar_store_scope_parse(""), 0);
	assert_string_equal(cbar_store_scope_str(6, b, sizeof b), "voice-out,sms-in");
	assert_string_equal(cbar_store_scope_str(0, b, sizeof b), "none");
	assert_int_equal(cbar_store_level_parse("verified"), CBAR_STORE_VERIFIED);
	assert_int_equal(cbar_store_level_parse("gold"), 0);
	assert_int_equal(cbar_store_channel_parse("keyword"), CBAR_STORE_CHANNEL_KEYWORD);
	assert_null(cbar_store_channel_key(CBAR_STORE_CHANNEL_COUNT));
}

static void bad_urls(void **state)
{
	(void)state;
	struct cbar_store *x;
	struct cbar_diag d = {0};
	assert_int_equal(cbar_store_open(&x, "mysql://h/db", NULL, &d), CBAR_STORE_URL);
	assert_null(x);
	assert_int_equal(cbar_store_open(&x, "sqlite:", NULL, &d), CBAR_STORE_URL);
	assert_int_equal(cbar_store_open(&x, "sqlite:/nonexistent/dir/x.db", NULL, &d),
	                 CBAR_STORE_OPEN);
	/* Nothing listens on port 1. */
	assert_int_equal(cbar_store_open(&x, "postgres://127.0.0.1:1/x?connect_timeout=2", NULL,
	                                 &d),
	                 CBAR_STORE_DOWN);
	assert_non_null(strstr(d.msg, "cannot reach the registry server"));
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A change made through one connection wakes another that waits for it:
 * on PostgreSQL at once (NOTIFY), well before the wait's 5 s are up; on
 * SQLite, which has no such signal, the wait takes its whole time. */
static void wait_change(void **state)
{
	(void)state;
	struct cbar_store *w = NULL;
	struct cbar_diag d = {0};
	assert_int_equal(cbar_store_open(&w, url, NULL, &d), CBAR_OK);
	bool pg = !strcmp(cbar_store_backend(w), "postgres");
	/* The first call starts listening; nothing has changed yet. */
	double t0 = now_ms();
	assert_int_equal(cbar_store_wait_change(w, 200, &d), CBAR_OK);
	assert_true(now_ms() - t0 >= 150);
	struct cbar_store_unlock_req r = {
		.subscriber = 8613900000077,
		.scope = CBAR_STORE_SCOPE_ALL,
		.level = CBAR_STORE_SELF,
		.channel = CBAR_STORE_CHANNEL_API,
		.now = 1700000000,
	};
	struct cbar_store_record rec;
	bool changed;
	assert_int_equal(cbar_store_unlock(s, &r, &rec, &changed, &d), CBAR_OK);
	t0 = now_ms();
	assert_int_equal(cbar_store_wait_change(w, pg ? 5000 : 100, &d), CBAR_OK);
	double took = now_ms() - t0;
	if (pg)
		assert_true(took < 4000);
	else
		assert_true(took >= 90);
	cbar_store_free(w);
}

/* SQL behind callbar's back, on either back end (what an operator with
 * sqlite3 or psql could do). */
static void sql(const char *q)
{
	if (!strncmp(url, "sqlite:", 7)) {
		sqlite3 *db = NULL;
		char *err = NULL;
		assert_int_equal(sqlite3_open(url + 7, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
			fail_msg("%s: %s", q, err);
		sqlite3_close(db);
		return;
	}
	PGconn *c = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

/*
 * PostgreSQL runs a write in pipeline mode (postgres.c): a statement that
 * fails in the middle (the audit insert, refused by a constraint added
 * behind callbar's back) fails the whole change, which leaves nothing; the
 * same connection then writes again once the constraint is gone, its
 * statements prepared anew where the failed transaction had prepared them.
 */
static void failed_write(void **state)
{
	(void)state;
	if (strcmp(cbar_store_backend(s), "postgres"))
		skip(); /* SQLite writes one statement at a time */
	struct cbar_diag d = {0};
	struct cbar_store *w = NULL; /* a fresh connection: nothing prepared yet */
	assert_int_equal(cbar_store_open(&w, url, NULL, &d), CBAR_OK);
	sql("ALTER TABLE audit ADD CONSTRAINT test_refuse CHECK (seq < 0) NOT VALID");
	struct cbar_store_unlock_req r = {
		.subscriber = 8613900000091,
		.scope = CBAR_STORE_SCOPE_ALL,
		.level = CBAR_STORE_SELF,
		.channel = CBAR_STORE_CHANNEL_API,
		.now = 1700000000,
	};
	struct cbar_store_record rec;
	bool changed = false;
	enum cbar_err e = cbar_store_unlock(w, &r, &rec, &changed, &d);
	assert_int_equal(e, CBAR_STORE_IO);
	assert_non_null(strstr(d.msg, "test_refuse"));
	assert_false(changed);
	sql("ALTER TABLE audit DROP CONSTRAINT test_refuse");
	struct changes ch = {0};
	int64_t head = 0;
	assert_int_equal(cbar_store_changes(w, 0, on_change, &ch, &head, NULL, &d), CBAR_OK);
	for (unsigned i = 0; i < ch.n && i < 16; i++)
		assert_true(ch.r[i].subscriber != r.subscriber); /* nothing of it written */
	for (int k = 0; k < 3; k++) { /* again, on the same connection */
		r.subscriber = 8613900000091 + (uint64_t)k;
		memset(&d, 0, sizeof d);
		e = cbar_store_unlock(w, &r, &rec, &changed, &d);
		if (e)
			fail_msg("unlock after the failure: %s: %s", cbar_err_name(e), d.msg);
		assert_true(changed);
	}
	int64_t n = 0, bad = 0;
	char hh[CBAR_STORE_HASH_HEX];
	assert_int_equal(cbar_store_audit_verify(w, &n, &bad, hh, &d), CBAR_OK);
	cbar_store_free(w);
}

static void sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sqlf(const char *fmt, ...)
{
	char q[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	sql(q);
}

static int64_t follow_head(void)
{
	struct changes c = {0};
	struct cbar_diag d = {0};
	int64_t head = -1;
	assert_int_equal(cbar_store_changes(s, 0, on_change, &c, &head, NULL, &d), CBAR_OK);
	return head;
}

static void keyword_unlock(uint64_t sub)
{
	unlock(sub, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, NULL, 0, CBAR_OK);
}

/*
 * A record row changed behind callbar's back (an INSERT or an UPDATE with
 * sqlite3 or psql) is not passed on to the follower: it is counted once in
 * unaudited, and the changes callbar makes afterwards still flow, in
 * order, with the same head.  An audit entry edited by hand stops the
 * follower before it until it is repaired.
 */
static void unaudited_rows(void **state)
{
	(void)state;
	struct cbar_diag d = {0};
	struct changes c = {0};
	struct cbar_store_unaudited u;
	int64_t head = follow_head(), next = -1;
	struct cbar_store_record victim;
	assert_int_equal(cbar_store_get_active(s, 8613805710001, &victim, &d), CBAR_OK);

	/* a verified unlock of every scope that nobody made */
	sqlf("INSERT INTO unlock (id, subscriber, scope, level, status, created, expires, channel, "
	     "agent, doc_type, doc_hash, revoked_at, revoked_by, revoked_why, seq) VALUES (%lld, "
	     "8613800009999, 15, 'verified', 'active', 1700000000, 0, 'shop', 'mallory', '', '', 0, "
	     "'', '', %lld)",
	     900000LL, (long long)(head + 1));
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(next, head);
	assert_int_equal(u.rows, 1);
	assert_int_equal(u.id, 900000);
	assert_int_equal(u.seq, head + 1);
	assert_int_equal(u.broken_at, 0);
	/* Seen again by the next round, counted once. */
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(u.rows, 0);

	/* an active record widened in place, its seq moved on to be followed */
	sqlf("UPDATE unlock SET scope = 15, seq = %lld WHERE id = %lld", (long long)(head + 2),
	     (long long)victim.id);
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(u.rows, 1);
	assert_int_equal(u.id, victim.id);

	/* callbar's own changes take seqs head + 1 and head + 2: they flow,
	 * the rows that claimed those seqs do not, and are not counted twice */
	keyword_unlock(8613800000501);
	keyword_unlock(8613800000502);
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(next, head + 2);
	assert_int_equal(c.n, 2);
	assert_true(c.r[0].subscriber == 8613800000501 && c.r[0].id == head + 1);
	assert_true(c.r[1].subscriber == 8613800000502 && c.r[1].id == head + 2);
	assert_int_equal(u.rows, 0);
	/* ... while audit --verify names them */
	int64_t n = 0, bad = 0;
	char hh[CBAR_STORE_HASH_HEX];
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_AUDIT_BROKEN);

	/* repaired */
	sql("DELETE FROM unlock WHERE id = 900000");
	char q[200];
	snprintf(q, sizeof q, "UPDATE unlock SET scope = %u, seq = %lld WHERE id = %lld",
	         victim.scope, (long long)victim.seq, (long long)victim.id);
	sql(q);
	head = next;

	/* an audit entry edited by hand: following stops before it */
	keyword_unlock(8613800000503);
	sqlf("UPDATE audit SET who = 'agent:mallory' WHERE seq = %lld", (long long)(head + 1));
	c = (struct changes){0};
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(next, head);
	assert_int_equal(u.broken_at, head + 1);
	assert_int_equal(u.rows, 0);
	sqlf("UPDATE audit SET who = 'channel:keyword' WHERE seq = %lld", (long long)(head + 1));
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &u, &d), CBAR_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(next, head + 1);
	assert_int_equal(u.broken_at, 0);
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_OK);
}

/* The key id is covered by the chain: changed or removed by hand, verify
 * fails at the key-bind entry.  cbar_store_chain_head() is verify's head. */
/* Auto-bars (limits): one bar per key and limit while it holds, listed
 * while active, lifted with an audit entry each, the chain still whole. */
static int count_bar(void *arg, const struct cbar_store_bar *b)
{
	(void)b;
	(*(int *)arg)++;
	return 0;
}

static void bars(void **state)
{
	(void)state;
	struct cbar_diag d = {0};
	struct cbar_store_bar b = {.count = 21, .created = 1772330400, .until = 1772416800};
	bool added = false;
	int n = 0;
	unsigned lifted = 0;
	snprintf(b.key, sizeof b.key, "+447700900001");
	snprintf(b.limit, sizeof b.limit, "00112233aabbccdd");
	snprintf(b.rule, sizeof b.rule, "fraud.rules:29");
	snprintf(b.reason, sizeof b.reason, "wangiri");
	assert_int_equal(cbar_store_bar_add(s, &b, "callbar@a", &added, &d), CBAR_OK);
	assert_true(added);
	int64_t id = b.id;
	assert_true(id > 0);
	/* another node saw the same key go over: no second bar */
	b.created += 5;
	assert_int_equal(cbar_store_bar_add(s, &b, "callbar@b", &added, &d), CBAR_OK);
	assert_false(added);
	assert_int_equal(b.id, id);
	assert_int_equal(cbar_store_bars(s, 1772330500, 0, 0, count_bar, &n, &d), CBAR_OK);
	assert_int_equal(n, 1);
	n = 0; /* expired at its until */
	assert_int_equal(cbar_store_bars(s, 1772416800, 0, 0, count_bar, &n, &d), CBAR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cbar_store_bar_lift(s, "+447700900001", NULL, "sup", 1772330600, &lifted, &d),
	                 CBAR_OK);
	assert_int_equal(lifted, 1);
	n = 0;
	assert_int_equal(cbar_store_bars(s, 1772330700, 0, 0, count_bar, &n, &d), CBAR_OK);
	assert_int_equal(n, 0);
	n = 0; /* the lifts since a time, for the nodes to follow */
	assert_int_equal(cbar_store_bars(s, 1772330700, 1772330600, 0, count_bar, &n, &d), CBAR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cbar_store_bar_lift(s, "+447700900001", NULL, "sup", 1772330700, &lifted, &d),
	                 CBAR_STORE_NOTFOUND);
	int64_t entries, bad;
	char head[CBAR_STORE_HASH_HEX];
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_OK);
	/* A bar written by hand, or one lengthened by hand, is not honoured. */
	sql("INSERT INTO bar VALUES (999999, '+447700900002', '00112233aabbccdd', 'x:1', 'x', 1, "
	    "1772330400, 1772416800, 0, '')");
	assert_int_equal(cbar_store_bar_add(s, &b, "callbar@a", &added, &d), CBAR_OK);
	assert_true(added);
	n = 0;
	assert_int_equal(cbar_store_bars(s, 1772330800, 0, 0, count_bar, &n, &d), CBAR_OK);
	assert_int_equal(n, 1);
	/* ... and audit --verify names it (ids run in order: the bar added
	 * after it has the smaller id, and is whole) */
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, 999999);
	assert_non_null(strstr(d.msg, "bar #999999 (key +447700900002) has no auto-bar entry"));
	sql("DELETE FROM bar WHERE id = 999999");
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_OK);
	sqlf("UPDATE bar SET until = 1900000000 WHERE id = %lld", (long long)b.id);
	n = 0;
	assert_int_equal(cbar_store_bars(s, 1772330800, 0, 0, count_bar, &n, &d), CBAR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, b.id);
	assert_non_null(strstr(d.msg, "differs from what its auto-bar entry says"));
	sqlf("UPDATE bar SET until = %lld WHERE id = %lld", (long long)b.until, (long long)b.id);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_OK);
	/* a lifted bar put back in force by hand, or one lifted by hand */
	sqlf("UPDATE bar SET lifted_at = 0, lifted_by = '' WHERE id = %lld", (long long)id);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, id);
	assert_non_null(strstr(d.msg, "but its row says it holds"));
	sqlf("UPDATE bar SET lifted_at = 1772330600, lifted_by = 'mallory' WHERE id = %lld",
	     (long long)id);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, id);
	assert_non_null(strstr(d.msg, "differs from its bar-lift entry"));
	sqlf("UPDATE bar SET lifted_by = 'sup' WHERE id = %lld", (long long)id);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_OK);
	sqlf("UPDATE bar SET lifted_at = 1772330650, lifted_by = 'sup' WHERE id = %lld",
	     (long long)b.id);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, b.id);
	assert_non_null(strstr(d.msg, "is marked lifted without a bar-lift entry"));
	sqlf("UPDATE bar SET lifted_at = 0, lifted_by = '' WHERE id = %lld", (long long)b.id);
	/* a bar deleted by hand */
	sqlf("DELETE FROM bar WHERE id = %lld", (long long)b.id);
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, b.id);
	assert_non_null(strstr(d.msg, "is missing from the registry"));
	/* the bars' rows back as callbar left them: the tests after verify */
	{
		char b1[24], b2[24];
		snprintf(b1, sizeof b1, "%lld", (long long)b.id);
		snprintf(b2, sizeof b2, "%lld", (long long)b.until);
		sqlf("INSERT INTO bar VALUES (%s, '%s', '%s', '%s', '%s', %u, %lld, %s, 0, '')", b1,
		     b.key, b.limit, b.rule, b.reason, b.count, (long long)b.created, b2);
	}
	assert_int_equal(cbar_store_audit_verify(s, &entries, &bad, head, &d), CBAR_OK);
}

/*
 * Which of many subscribers have an active unlock, asked 256 at a time:
 * actives in the first, second and third run are found with their ids, a
 * relocked one is not, a subscriber asked twice is answered twice, and
 * inside an import the records imported so far count.
 */
static void active_many(void **state)
{
	(void)state;
	enum { N = 700 };
	struct cbar_diag d = {0};
	static uint64_t sub[N];
	static int64_t ids[N];
	const uint64_t base = 8615900000000;
	const size_t on[] = {3, 300, 650, 699};
	int64_t want[4];
	for (size_t k = 0; k < 4; k++) {
		struct cbar_store_record r;
		keyword_unlock(base + on[k]);
		assert_int_equal(cbar_store_get_active(s, base + on[k], &r, &d), CBAR_OK);
		want[k] = r.id;
	}
	keyword_unlock(base + 100);
	assert_int_equal(cbar_store_relock(s, base + 100, CBAR_STORE_SCOPE_ALL, "dave", "test",
	                                   1700000000, NULL, &d),
	                 CBAR_OK);
	for (size_t i = 0; i < N; i++)
		sub[i] = base + i;
	sub[10] = base + 650; /* asked twice, in two runs */
	sub[20] = 0;
	memset(ids, 0xff, sizeof ids);
	assert_int_equal(cbar_store_active_many(s, sub, N, ids, &d), CBAR_OK);
	for (size_t i = 0, k = 0; i < N; i++) {
		int64_t w = 0;
		if (k < 4 && i == on[k])
			w = want[k++];
		if (i == 10)
			w = want[2];
		if (ids[i] != w)
			fail_msg("ids[%zu] = %lld, want %lld", i, (long long)ids[i], (long long)w);
	}
	/* a short run; nothing at all */
	assert_int_equal(cbar_store_active_many(s, sub + 299, 3, ids, &d), CBAR_OK);
	assert_true(ids[0] == 0 && ids[1] == want[1] && ids[2] == 0);
	assert_int_equal(cbar_store_active_many(s, sub, 0, NULL, &d), CBAR_OK);

	/* inside an import: what it has imported is active; rolled back, not */
	struct cbar_store_record rec = {
	    .subscriber = base + 500,
	    .scope = CBAR_STORE_SCOPE_ALL,
	    .level = CBAR_STORE_SELF,
	    .status = CBAR_STORE_ACTIVE,
	    .created = 1700000000,
	    .channel = CBAR_STORE_CHANNEL_IMPORT,
	};
	size_t failed = 0;
	assert_int_equal(cbar_store_import_begin(s, &d), CBAR_OK);
	assert_int_equal(cbar_store_import_many(s, &rec, 1, "test", 1700000000, &failed, &d),
	                 CBAR_OK);
	assert_int_equal(cbar_store_active_many(s, sub, N, ids, &d), CBAR_OK);
	assert_true(ids[500] > want[3] && ids[650] == want[2] && ids[499] == 0);
	assert_int_equal(cbar_store_import_end(s, false, &d), CBAR_OK);
	assert_int_equal(cbar_store_active_many(s, sub, N, ids, &d), CBAR_OK);
	assert_true(ids[500] == 0 && ids[650] == want[2]);
}

static void key_in_chain(void **state)
{
	(void)state;
	struct cbar_diag d = {0};
	int64_t n = 0, bad = 0, seq = -1;
	char hh[CBAR_STORE_HASH_HEX], ch[CBAR_STORE_HASH_HEX];
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_OK);
	assert_int_equal(cbar_store_chain_head(s, &seq, ch, &d), CBAR_OK);
	assert_int_equal(seq, n);
	assert_string_equal(ch, hh);

	sql("UPDATE meta SET value = 'fedcba9876543210' WHERE key = 'key_id'");
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(d.msg, "key id differs"));
	sql("DELETE FROM meta WHERE key = 'key_id'");
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, 1);
	sql("INSERT INTO meta (key, value) VALUES ('key_id', '0123456789abcdef')");
	assert_int_equal(cbar_store_audit_verify(s, &n, &bad, hh, &d), CBAR_OK);
}

/*
 * A registry whose key was bound before the key joined the chain (schema
 * version 2: meta.key_id and no key-bind entry) gets its key-bind entry
 * when it is opened, and is then covered like a new one.  Last: it empties
 * the registry.
 */
static void key_migration(void **state)
{
	(void)state;
	struct cbar_diag d = {0};
	struct cbar_store *m = NULL;
	int64_t n = 0, bad = 0;
	char hh[CBAR_STORE_HASH_HEX];
	sql("DELETE FROM audit");
	sql("DELETE FROM unlock");
	sql("DELETE FROM token");
	sql("UPDATE meta SET value = '0' WHERE key = 'head_seq'");
	/* back to version 2: the later migrations run again (v4 makes the
	 * auto-bar table) */
	sql("DELETE FROM schema_version WHERE version >= 3");
	sql("DROP TABLE bar");
	assert_int_equal(cbar_store_open(&m, url, NULL, &d), CBAR_OK);
	assert_int_equal(cbar_store_audit_verify(m, &n, &bad, hh, &d), CBAR_OK);
	assert_int_equal(n, 1);
	sql("UPDATE meta SET value = 'fedcba9876543210' WHERE key = 'key_id'");
	assert_int_equal(cbar_store_audit_verify(m, &n, &bad, hh, &d), CBAR_AUDIT_BROKEN);
	assert_int_equal(bad, 1);
	cbar_store_free(m);
}

/* The SQLite registry and its -wal and -shm are the owner's alone,
 * whatever the umask. */
static void file_modes(void **state)
{
	(void)state;
	if (strncmp(url, "sqlite:", 7))
		skip();
	char path[600], u2[620], f[640];
	snprintf(path, sizeof path, "%s.modes", url + 7);
	snprintf(u2, sizeof u2, "sqlite:%s", path);
	const char *sfx[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(f, sizeof f, "%s%s", path, sfx[i]);
		remove(f);
	}
	mode_t old = umask(0);
	struct cbar_store *m = NULL;
	struct cbar_diag d = {0};
	assert_int_equal(cbar_store_open(&m, u2, NULL, &d), CBAR_OK);
	struct cbar_store_unlock_req r = {
		.subscriber = 8613900000066,
		.scope = CBAR_STORE_SCOPE_ALL,
		.level = CBAR_STORE_SELF,
		.channel = CBAR_STORE_CHANNEL_API,
		.now = 1700000000,
	};
	struct cbar_store_record rec;
	bool changed;
	assert_int_equal(cbar_store_unlock(m, &r, &rec, &changed, &d), CBAR_OK);
	umask(old);
	for (int i = 0; i < 3; i++) {
		struct stat st;
		snprintf(f, sizeof f, "%s%s", path, sfx[i]);
		if (stat(f, &st))
			fail_msg("%s: missing", f);
		if ((st.st_mode & 0777) != 0600)
			fail_msg("%s: mode %o, want 600", f, (unsigned)(st.st_mode & 0777));
	}
	cbar_store_free(m);
	for (int i = 0; i < 3; i++) {
		snprintf(f, sizeof f, "%s%s", path, sfx[i]);
		remove(f);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_store URL\n");
		return 2;
	}
	url = argv[1];
	if (!strncmp(url, "sqlite:", 7))
		remove(url + 7);
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_open(&s, url, NULL, &d);
	if (e) {
		fprintf(stderr, "%s: %s\n", url, d.msg);
		return 2;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scopes),
	    cmocka_unit_test(bad_urls),
	    cmocka_unit_test(snapshot_and_changes),
	    cmocka_unit_test(wait_change),
	    cmocka_unit_test(failed_write),
	    cmocka_unit_test(unaudited_rows),
	    cmocka_unit_test(bars),
	    cmocka_unit_test(active_many),
	    cmocka_unit_test(key_in_chain),
	    cmocka_unit_test(file_modes),
	    cmocka_unit_test(key_migration),
	};
	int failed = cmocka_run_group_tests_name(cbar_store_backend(s), tests, NULL, NULL);
	cbar_store_free(s);
	return failed ? 1 : 0;
}
