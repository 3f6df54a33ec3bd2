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

	unlock(8613805710000, CBAR_STORE_VOICE_IN | CBAR_STORE_SMS_IN, CBAR_STORE_VERIFIED, H("1"),
	       0, CBAR_OK);                                              /* seq 1 */
	unlock(8613805710001, CBAR_STORE_SMS_OUT, CBAR_STORE_SELF, NULL, 1800000000, CBAR_OK); /* 2 */
	v = (struct seen){0};
	assert_int_equal(cbar_store_foreach_active(s, on_active, &v, &head, &d), CBAR_OK);
	assert_int_equal(v.n, 2);
	assert_int_equal(head, 2);
	for (unsigned i = 0; i < 2; i++) {
		if (v.e164[i] == 8613805710000) {
			assert_int_equal(v.scope[i], 5);
			assert_int_equal(v.level[i], CBAR_STORE_VERIFIED);
			assert_int_equal(v.expires[i], 0);
			assert_int_equal(v.id[i], 1);
		} else {
			assert_true(v.e164[i] == 8613805710001);
			assert_int_equal(v.scope[i], 8);
			assert_int_equal(v.level[i], CBAR_STORE_SELF);
			assert_int_equal(v.expires[i], 1800000000);
			assert_int_equal(v.id[i], 2);
		}
	}

	/* Changes after the snapshot: a partial relock of +...0000 revokes
	 * record 1 (seq 3) and continues the rest in record 4 (seq 4). */
	struct cbar_store_record rest;
	assert_int_equal(cbar_store_relock(s, 8613805710000, CBAR_STORE_SMS_IN, "agent:bob", "test",
	                                   1700000100, &rest, &d),
	                 CBAR_OK);
	assert_int_equal(rest.id, 4);
	assert_int_equal(rest.scope, CBAR_STORE_VOICE_IN);
	struct changes c = {0};
	int64_t next = -1;
	assert_int_equal(cbar_store_changes(s, head, on_change, &c, &next, &d), CBAR_OK);
	assert_int_equal(next, 4);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].id, 1);
	assert_int_equal(c.r[0].status, CBAR_STORE_REVOKED);
	assert_int_equal(c.r[0].seq, 3);
	assert_string_equal(c.r[0].revoked_by, "agent:bob");
	assert_int_equal(c.r[1].id, 4);
	assert_int_equal(c.r[1].status, CBAR_STORE_ACTIVE);
	assert_int_equal(c.r[1].seq, 4);
	/* Nothing new: nothing, and the same head. */
	c = (struct changes){0};
	assert_int_equal(cbar_store_changes(s, next, on_change, &c, &next, &d), CBAR_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(next, 4);

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

static void sql(const char *q)
{
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
	assert_int_equal(cbar_store_changes(w, 0, on_change, &ch, &head, &d), CBAR_OK);
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
	};
	int failed = cmocka_run_group_tests_name(cbar_store_backend(s), tests, NULL, NULL);
	cbar_store_free(s);
	return failed ? 1 : 0;
}
