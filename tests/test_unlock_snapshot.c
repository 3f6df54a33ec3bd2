/*
 * callbar tests: the unlock set's local snapshot (store/unlock_snapshot.h).
 *
 * A snapshot read back is the set written; every damage to the file (each
 * header field, the records, the trailer; cut short or grown) is refused
 * with CBAR_SNAPSHOT; a snapshot of another registry, another history or
 * another key is refused against the registry; and a set read from a
 * snapshot plus the registry's changes since its sequence is the set a full
 * load gives.  Registries are SQLite files in a fresh folder.
 *
 *   test_unlock_snapshot [DIR]   (default: a folder under /tmp)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/unlock_snapshot.h"
#include "store/unlockview.h"

static char dir[512];
static const char *KEY = "0123456789abcdef";

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void unlock(struct cbar_store *s, uint64_t sub, unsigned scope, enum cbar_store_level lv,
                   int64_t expires);

/* A registry; first (when not 0) is unlocked before the key is bound, so
 * that its audit entry 1 is its own. */
static struct cbar_store *open_reg_first(const char *name, uint64_t first)
{
	char p[600], url[640];
	path_of(p, sizeof p, name);
	snprintf(url, sizeof url, "sqlite:%s", p);
	struct cbar_store *s = NULL;
	struct cbar_diag d = {0};
	if (cbar_store_open(&s, url, NULL, &d))
		fail_msg("open %s: %s", url, d.msg);
	if (first)
		unlock(s, first, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	if (cbar_store_bind_key(s, KEY, &d))
		fail_msg("bind key: %s", d.msg);
	return s;
}

static struct cbar_store *open_reg(const char *name)
{
	return open_reg_first(name, 0);
}

static void unlock(struct cbar_store *s, uint64_t sub, unsigned scope, enum cbar_store_level lv,
                   int64_t expires)
{
	struct cbar_store_unlock_req r = {
	    .subscriber = sub,
	    .scope = scope,
	    .level = lv,
	    .expires = expires,
	    .channel = lv == CBAR_STORE_VERIFIED ? CBAR_STORE_CHANNEL_SHOP : CBAR_STORE_CHANNEL_API,
	    .agent = lv == CBAR_STORE_VERIFIED ? "alice" : NULL,
	    .doc_type = lv == CBAR_STORE_VERIFIED ? "cn-resident" : NULL,
	    .doc_hash = lv == CBAR_STORE_VERIFIED
	                    ? "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	                    : NULL,
	    .now = 1700000000,
	};
	char doc[65];
	snprintf(doc, sizeof doc, "%064llx", (unsigned long long)sub);
	if (lv == CBAR_STORE_VERIFIED)
		r.doc_hash = doc; /* one document each: the per-document limit is not tested here */
	struct cbar_store_record out;
	bool changed;
	struct cbar_diag d = {0};
	if (cbar_store_unlock(s, &r, &out, &changed, &d))
		fail_msg("unlock +%llu: %s", (unsigned long long)sub, d.msg);
}

/* The whole registry as the daemon loads it, and the seq it is at. */
static struct cbar_unlockset *full_load(struct cbar_store *s, int64_t *head)
{
	struct cbar_unlockset *set = cbar_unlockset_new(16);
	struct cbar_diag d = {0};
	assert_non_null(set);
	if (cbar_store_foreach_active(s, cbar_unlockset_add_active, set, head, &d))
		fail_msg("load: %s", d.msg);
	assert_int_equal(cbar_unlockset_fit(set), CBAR_OK);
	return set;
}

/* Every record of a is in b, the same. */
static const struct cbar_unlockset *other;
static int same_in_other(void *arg, const struct cbar_unlock *u)
{
	(void)arg;
	struct cbar_unlock out[16];
	size_t n = 0;
	cbar_unlockset_find((void *)other, u->subscriber, out, 16, &n);
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&out[i], u, sizeof *u))
			return 0;
	return 1;
}

static void assert_same_set(const struct cbar_unlockset *a, const struct cbar_unlockset *b)
{
	assert_int_equal(cbar_unlockset_count(a), cbar_unlockset_count(b));
	other = b;
	assert_int_equal(cbar_unlockset_foreach(a, same_in_other, NULL), 0);
	other = a;
	assert_int_equal(cbar_unlockset_foreach(b, same_in_other, NULL), 0);
}

static void round_trip(void **state)
{
	(void)state;
	struct cbar_unlockset *s = cbar_unlockset_new(16), *r = NULL;
	for (uint64_t i = 0; i < 5000; i++) {
		struct cbar_unlock u = {.subscriber = 8613800000000 + i * 7919,
		                        .scope = (uint8_t)(1 + i % 15),
		                        .level = (uint8_t)(1 + i % 2),
		                        .expires = i % 3 ? 0 : (uint32_t)(1800000000 + i),
		                        .active = (uint8_t)(i % 11 != 0)};
		assert_int_equal(cbar_unlockset_add(s, &u), CBAR_OK);
		if (i % 100 == 0) { /* a second record of the subscriber */
			u.scope = CBAR_SCOPE_SMS;
			u.level = CBAR_UNLOCK_VERIFIED;
			u.scope ^= 1;
			assert_int_equal(cbar_unlockset_add(s, &u), CBAR_OK);
		}
	}
	assert_int_equal(cbar_unlockset_fit(s), CBAR_OK);
	struct cbar_unlock_snapshot_id id = {.seq = 4242}, got;
	memset(id.registry, 'a', 64);
	memset(id.at_hash, 'b', 64);
	snprintf(id.key_id, sizeof id.key_id, "%s", KEY);
	char p[600];
	path_of(p, sizeof p, "rt.snap");
	struct cbar_diag d = {0};
	assert_int_equal(cbar_unlock_snapshot_write(p, s, &id, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_read(p, &got, &r, &d), CBAR_OK);
	assert_int_equal(got.seq, 4242);
	assert_string_equal(got.registry, id.registry);
	assert_string_equal(got.at_hash, id.at_hash);
	assert_string_equal(got.key_id, KEY);
	assert_same_set(s, r);
	/* An empty set too. */
	struct cbar_unlockset *e = cbar_unlockset_new(0), *er = NULL;
	assert_int_equal(cbar_unlock_snapshot_write(p, e, &id, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_read(p, &got, &er, &d), CBAR_OK);
	assert_int_equal(cbar_unlockset_count(er), 0);
	cbar_unlockset_free(e);
	cbar_unlockset_free(er);
	cbar_unlockset_free(s);
	cbar_unlockset_free(r);
}

/* The set itself, filled to its limit so that probe runs meet: every
 * subscriber's lookup gives exactly its records, after adds, replaces,
 * removes, a fit, a clone and a merge. */
static void dense_set_exact(void **state)
{
	(void)state;
	enum { N = 3000 };
	static uint8_t want[N]; /* scope bits of the record, 0: none */
	static uint32_t want_exp[N];
	struct cbar_unlockset *s = cbar_unlockset_new(N);
	for (int round = 0; round < 3; round++)
		for (uint64_t i = 0; i < N; i++) {
			struct cbar_unlock u = {.subscriber = 8613100000000 + i * 101,
			                        .scope = (uint8_t)(1 + i % 15),
			                        .expires = 1800000000u + (uint32_t)round,
			                        .level = 1,
			                        .active = 1};
			/* the same number, scope and level: replaced */
			assert_int_equal(cbar_unlockset_add(s, &u), CBAR_OK);
			want[i] = u.scope;
			want_exp[i] = u.expires;
		}
	for (uint64_t i = 0; i < N; i += 3)
		assert_int_equal(cbar_unlockset_remove(s, 8613100000000 + i * 101), 1);
	for (uint64_t i = 0; i < N; i += 3)
		want[i] = 0;
	assert_int_equal(cbar_unlockset_fit(s), CBAR_OK);
	struct cbar_unlockset *c = cbar_unlockset_clone(s, 0);
	assert_non_null(c);
	const struct cbar_unlockset *sets[] = {s, c};
	for (size_t k = 0; k < 2; k++)
		for (uint64_t i = 0; i < N; i++) {
			struct cbar_unlock out[4];
			size_t n = 9;
			cbar_unlockset_find((void *)sets[k], 8613100000000 + i * 101, out, 4, &n);
			assert_int_equal(n, want[i] ? 1 : 0);
			if (n) {
				assert_int_equal(out[0].scope, want[i]);
				assert_int_equal(out[0].expires, want_exp[i]);
			}
		}
	size_t n = 9;
	struct cbar_unlock out[1];
	cbar_unlockset_find(s, 0, out, 1, &n);
	assert_int_equal(n, 0);
	assert_int_equal(cbar_unlockset_count(c), cbar_unlockset_count(s));
	assert_true(cbar_unlockset_bytes(s) <= 16 * cbar_unlockset_count(s) + 256);
	cbar_unlockset_free(c);
	cbar_unlockset_free(s);
}

/* Several records a subscriber (scopes and levels apart), in a table grown
 * by doubling and kept dense: many records then live away from their home
 * bucket, and a lookup must find them all, after removes and adds again,
 * and none of another subscriber's. */
static void several_records_away(void **state)
{
	(void)state;
	enum { N = 4000 };
	static uint16_t want[N]; /* bit scope (1..15): a record of that scope */
	struct cbar_unlockset *s = cbar_unlockset_new(4);
	uint64_t r = 88172645463325252u;
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t i = 0; i < N; i++) {
			unsigned k = 1 + (unsigned)(i % 3);
			for (unsigned m = 0; m < k; m++) {
				r ^= r << 13, r ^= r >> 7, r ^= r << 17;
				uint8_t scope = (uint8_t)(1 + r % 15);
				struct cbar_unlock u = {.subscriber = 8615000000000 + i * 7919,
				                        .scope = scope,
				                        .level = 1,
				                        .active = 1};
				assert_int_equal(cbar_unlockset_add(s, &u), CBAR_OK);
				want[i] |= (uint16_t)(1u << scope);
			}
		}
		for (uint64_t i = (uint64_t)pass; i < N; i += 4) {
			size_t gone = cbar_unlockset_remove(s, 8615000000000 + i * 7919);
			assert_int_equal(gone, (size_t)__builtin_popcount(want[i]));
			want[i] = 0;
		}
	}
	for (uint64_t i = 0; i < N; i++) {
		struct cbar_unlock out[16];
		size_t n = 99;
		cbar_unlockset_find(s, 8615000000000 + i * 7919, out, 16, &n);
		uint16_t got = 0;
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(out[j].subscriber, 8615000000000 + i * 7919);
			got |= (uint16_t)(1u << out[j].scope);
		}
		assert_int_equal(n, (size_t)__builtin_popcount(want[i]));
		assert_int_equal(got, want[i]);
		n = 99;
		cbar_unlockset_find(s, 8615000000000 + i * 7919 + 1, out, 16, &n);
		assert_int_equal(n, 0);
	}
	cbar_unlockset_free(s);
}

static long file_size(const char *p)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	assert_non_null(a);
	assert_non_null(b);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, a)))
		assert_int_equal(fwrite(buf, 1, n, b), n);
	fclose(a);
	fclose(b);
}

static void expect_refused(const char *p, const char *what)
{
	struct cbar_unlock_snapshot_id id;
	struct cbar_unlockset *r = (void *)1;
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_unlock_snapshot_read(p, &id, &r, &d);
	if (e != CBAR_SNAPSHOT)
		fail_msg("%s: want SNAPSHOT, got %s: %s", what, cbar_err_name(e), d.msg);
	assert_null(r);
	assert_true(d.msg[0] != '\0');
}

static void every_corruption_refused(void **state)
{
	(void)state;
	struct cbar_unlockset *s = cbar_unlockset_new(16);
	for (uint64_t i = 0; i < 300; i++) {
		struct cbar_unlock u = {
		    .subscriber = 8613900000000 + i * 31, .scope = 15, .level = 1, .active = 1};
		assert_int_equal(cbar_unlockset_add(s, &u), CBAR_OK);
	}
	struct cbar_unlock_snapshot_id id = {.seq = 7};
	snprintf(id.key_id, sizeof id.key_id, "%s", KEY);
	char good[600], bad[600];
	path_of(good, sizeof good, "good.snap");
	path_of(bad, sizeof bad, "bad.snap");
	struct cbar_diag d = {0};
	assert_int_equal(cbar_unlock_snapshot_write(good, s, &id, &d), CBAR_OK);
	long size = file_size(good);
	assert_int_equal((size - 256 - 16) % 64, 0);
	/* One byte changed in every field of the header, in the records, in
	 * the checksum and in the end mark. */
	long at[] = {0,   7,   8,        12,        16,        24,       32,       40,
	             48,  56,  119,      120,       184,       200,      208,      255,
	             256, 300, size / 2, size - 17, size - 16, size - 9, size - 8, size - 1};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		copy_file(good, bad);
		FILE *f = fopen(bad, "r+b");
		assert_non_null(f);
		fseek(f, at[i], SEEK_SET);
		int c = fgetc(f);
		fseek(f, at[i], SEEK_SET);
		fputc(c ^ 0x20, f);
		fclose(f);
		char what[64];
		snprintf(what, sizeof what, "byte %ld changed", at[i]);
		expect_refused(bad, what);
	}
	/* Cut short anywhere, or grown. */
	long cut[] = {0, 1, 8, 255, 256, 257, 256 + 64, size - 16, size - 1};
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		copy_file(good, bad);
		assert_int_equal(truncate(bad, cut[i]), 0);
		char what[64];
		snprintf(what, sizeof what, "cut to %ld bytes", cut[i]);
		expect_refused(bad, what);
	}
	copy_file(good, bad);
	assert_int_equal(truncate(bad, size + 64), 0);
	expect_refused(bad, "grown by 64 bytes");
	/* The good one still reads. */
	struct cbar_unlock_snapshot_id got;
	struct cbar_unlockset *r = NULL;
	assert_int_equal(cbar_unlock_snapshot_read(good, &got, &r, &d), CBAR_OK);
	assert_same_set(s, r);
	cbar_unlockset_free(r);
	/* No file: an I/O error, not a refusal of its content. */
	path_of(bad, sizeof bad, "none.snap");
	assert_int_equal(cbar_unlock_snapshot_read(bad, &got, &r, &d), CBAR_IO);
	cbar_unlockset_free(s);
}

struct changes {
	struct cbar_unlock v[4096];
	size_t n;
};

static int add_change(void *arg, const struct cbar_store_record *r)
{
	struct changes *c = arg;
	if (c->n == sizeof c->v / sizeof c->v[0])
		return -1;
	c->v[c->n++] = cbar_unlock_from_store(r->subscriber, r->scope, r->level, r->expires,
	                                      r->status == CBAR_STORE_ACTIVE);
	return 0;
}

/* A snapshot, then changes (new unlocks, relocks, supersedes): the
 * snapshot plus the changes since its seq is the full load. */
static void catch_up_equals_full_load(void **state)
{
	(void)state;
	struct cbar_store *a = open_reg("a.db");
	struct cbar_diag d = {0};
	for (uint64_t i = 0; i < 400; i++)
		unlock(a, 8613700000000 + i * 13, i % 3 ? CBAR_STORE_SCOPE_ALL : CBAR_STORE_SMS_IN,
		       i % 4 ? CBAR_STORE_SELF : CBAR_STORE_VERIFIED, i % 5 ? 0 : 1900000000);
	int64_t head = 0;
	struct cbar_unlockset *base = full_load(a, &head);
	struct cbar_unlock_snapshot_id id;
	assert_int_equal(cbar_unlock_snapshot_id_of(a, head, KEY, &id, &d), CBAR_OK);
	char p[600];
	path_of(p, sizeof p, "a.snap");
	assert_int_equal(cbar_unlock_snapshot_write(p, base, &id, &d), CBAR_OK);
	cbar_unlockset_free(base);

	for (uint64_t i = 0; i < 100; i++) /* new */
		unlock(a, 8613600000000 + i, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	for (uint64_t i = 0; i < 400; i += 7) { /* relocked, whole or in part */
		struct cbar_store_record out;
		assert_int_equal(cbar_store_relock(a, 8613700000000 + i * 13,
		                                   i % 2 ? CBAR_STORE_SCOPE_ALL : CBAR_STORE_SMS_IN,
		                                   "bob", "asked", 1700000100, &out, &d),
		                 CBAR_OK);
	}
	for (uint64_t i = 1; i < 400; i += 11) /* superseded: scopes joined, level raised */
		unlock(a, 8613700000000 + i * 13, CBAR_STORE_VOICE_OUT, CBAR_STORE_VERIFIED, 0);

	struct cbar_unlock_snapshot_id got;
	struct cbar_unlockset *snap = NULL, *delta = NULL, *merged = NULL;
	assert_int_equal(cbar_unlock_snapshot_read(p, &got, &snap, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_check(a, KEY, &got, &d), CBAR_OK);
	static struct changes c;
	int64_t now_head = 0;
	assert_int_equal(cbar_store_changes(a, got.seq, add_change, &c, &now_head, NULL, &d),
	                 CBAR_OK);
	assert_true(c.n > 0);
	assert_int_equal(cbar_unlockdelta_apply(NULL, c.v, c.n, &delta), CBAR_OK);
	assert_int_equal(cbar_unlockset_merge(snap, delta, &merged), CBAR_OK);
	int64_t full_head = 0;
	struct cbar_unlockset *full = full_load(a, &full_head);
	assert_int_equal(now_head, full_head);
	assert_same_set(full, merged);
	/* And the view (snapshot base, delta on top) answers as the full set. */
	struct cbar_unlockview v = {snap, delta};
	for (uint64_t i = 0; i < 400; i++) {
		uint64_t sub = 8613700000000 + i * 13;
		struct cbar_unlock x[4], y[4];
		size_t nx = 0, ny = 0;
		cbar_unlockview_find(&v, sub, x, 4, &nx);
		cbar_unlockset_find(full, sub, y, 4, &ny);
		assert_int_equal(nx, ny);
		if (nx)
			assert_memory_equal(x, y, nx * sizeof x[0]);
	}
	cbar_unlockset_free(full);
	cbar_unlockset_free(merged);
	cbar_unlockset_free(delta);
	cbar_unlockset_free(snap);
	cbar_store_free(a);
}

/* Another registry, another key, a seq past the head, another history:
 * each refused, saying which. */
static void identity_refused(void **state)
{
	(void)state;
	struct cbar_store *a = open_reg_first("id-a.db", 8613500000999),
	                  *b = open_reg_first("id-b.db", 8613400000999);
	struct cbar_diag d = {0};
	for (uint64_t i = 0; i < 20; i++)
		unlock(a, 8613500000000 + i, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	for (uint64_t i = 0; i < 20; i++)
		unlock(b, 8613400000000 + i, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	int64_t head = 0;
	assert_int_equal(cbar_store_chain_head(a, &head, NULL, &d), CBAR_OK);
	struct cbar_unlock_snapshot_id id;
	assert_int_equal(cbar_unlock_snapshot_id_of(a, head, KEY, &id, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_check(a, KEY, &id, &d), CBAR_OK);

	assert_int_equal(cbar_unlock_snapshot_check(b, KEY, &id, &d), CBAR_SNAPSHOT);
	assert_non_null(strstr(d.msg, "another registry"));
	assert_int_equal(cbar_unlock_snapshot_check(a, "fedcba9876543210", &id, &d), CBAR_SNAPSHOT);
	assert_non_null(strstr(d.msg, "another document key"));
	assert_int_equal(cbar_unlock_snapshot_check(a, NULL, &id, &d), CBAR_SNAPSHOT);
	struct cbar_unlock_snapshot_id ahead = id;
	ahead.seq = head + 5;
	assert_int_equal(cbar_unlock_snapshot_check(a, KEY, &ahead, &d), CBAR_SNAPSHOT);
	assert_non_null(strstr(d.msg, "past this registry"));

	/* A copy of a that went another way after seq head: same entry 1,
	 * another entry head + 1. */
	/* Two registries whose entries 1 are the same (the key bound in the
	 * same second) are told apart by the entry at seq. */
	struct cbar_store *e = open_reg("id-e.db"), *f = open_reg("id-f.db");
	unlock(e, 8613300000001, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	unlock(f, 8613300000002, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	assert_int_equal(cbar_unlock_snapshot_id_of(e, 2, KEY, &ahead, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_check(e, KEY, &ahead, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_check(f, KEY, &ahead, &d), CBAR_SNAPSHOT);
	cbar_store_free(e);
	cbar_store_free(f);

	cbar_store_free(a);
	char pa[600], pc[600];
	path_of(pa, sizeof pa, "id-a.db");
	path_of(pc, sizeof pc, "id-c.db");
	copy_file(pa, pc);
	a = open_reg("id-a.db");
	struct cbar_store *c = open_reg("id-c.db");
	unlock(a, 8613500000100, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	unlock(c, 8613500000200, CBAR_STORE_SCOPE_ALL, CBAR_STORE_SELF, 0);
	assert_int_equal(cbar_unlock_snapshot_id_of(a, head + 1, KEY, &id, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_check(a, KEY, &id, &d), CBAR_OK);
	assert_int_equal(cbar_unlock_snapshot_check(c, KEY, &id, &d), CBAR_SNAPSHOT);
	assert_non_null(strstr(d.msg, "history differs"));
	cbar_store_free(a);
	cbar_store_free(b);
	cbar_store_free(c);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		snprintf(dir, sizeof dir, "%s", argv[1]);
	} else {
		snprintf(dir, sizeof dir, "/tmp/callbar-snap-XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dense_set_exact),
	    cmocka_unit_test(several_records_away),
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(every_corruption_refused),
	    cmocka_unit_test(catch_up_equals_full_load),
	    cmocka_unit_test(identity_refused),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (argc <= 1 && system(cmd))
		rc = rc ? rc : 1;
	return rc;
}
