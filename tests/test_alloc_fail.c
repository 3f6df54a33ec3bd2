/*
 * callbar tests: allocation failure, in the manner of SQLite's fault tests.
 *
 * Every allocation the rule compiler and the registry make fails in turn:
 * for N = 1, 2, ... the Nth allocation fails (transient: only that one;
 * persistent: that one and every later one), until the operation runs
 * without reaching N.  Each run must either fail with an error (and leave
 * nothing half done: no snapshot, the registry as it was and still usable)
 * or succeed with everything there (the same decisions as a snapshot
 * compiled without failures; the registry's records and chain as they
 * should be).  No run may leak: the wrappers count live allocations, and
 * after each run the count is back where it was.
 *
 * The allocations are seen by linking with --wrap=malloc,calloc,realloc,
 * free,strdup,strndup (callbar's code is in static archives, so its calls
 * reach the wrappers; a shared library's do not), and SQLite's own through
 * sqlite3_config(SQLITE_CONFIG_MALLOC).  Under ASan __real_malloc is ASan's
 * malloc, so its checks still apply.
 *
 *   test_alloc_fail PILOTS.rules LANGUAGE.rules WORKDIR
 * ALLOC_TRACE=1 in the environment prints every run's result.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "callbar/data.h"
#include "callbar/number.h"
#include "callbar/rules.h"
#include "callbar/store.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

/* ---- the counting allocator ---------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static long counted;    /* allocations seen since the last arm() */
static long fail_at;    /* 0: none fails */
static bool persistent; /* every allocation from fail_at on fails */
static long nfailed;    /* failures injected since arm() */
static long seen_wrap, seen_sqlite; /* allocations ever seen, by route */

static bool fault(void)
{
	counted++;
	if (fail_at && (counted == fail_at || (persistent && counted > fail_at))) {
		nfailed++;
		return true;
	}
	return false;
}

static void arm(long n, bool persist)
{
	counted = 0;
	nfailed = 0;
	fail_at = n;
	persistent = persist;
}

static long disarm(void)
{
	fail_at = 0;
	return nfailed;
}

/* Live pointers from the wrappers: an open-addressing set (1 marks a
 * removed slot), so a pointer some library allocated and callbar frees is
 * told apart. */
#define LIVE_CAP (1u << 20)
static uintptr_t *live;
static long nlive;

static size_t slot_of(uintptr_t p)
{
	return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 44) & (LIVE_CAP - 1);
}

static void live_add(void *p)
{
	if (!p)
		return;
	size_t i = slot_of((uintptr_t)p);
	while (live[i] > 1)
		i = (i + 1) & (LIVE_CAP - 1);
	live[i] = (uintptr_t)p;
	nlive++;
}

static void live_del(void *p)
{
	if (!p)
		return;
	for (size_t i = slot_of((uintptr_t)p), k = 0; live[i] && k < LIVE_CAP;
	     i = (i + 1) & (LIVE_CAP - 1), k++)
		if (live[i] == (uintptr_t)p) {
			live[i] = 1;
			nlive--;
			return;
		}
}

void *__wrap_malloc(size_t n)
{
	seen_wrap++;
	if (fault())
		return NULL;
	void *p = __real_malloc(n);
	live_add(p);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	seen_wrap++;
	if (fault())
		return NULL;
	void *p = __real_calloc(n, size);
	live_add(p);
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	if (p && !n) {
		__wrap_free(p);
		return NULL;
	}
	seen_wrap++;
	if (fault())
		return NULL;
	void *q = __real_realloc(p, n);
	if (q) {
		live_del(p);
		live_add(q);
	}
	return q;
}

void __wrap_free(void *p)
{
	live_del(p);
	__real_free(p);
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = __wrap_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	size_t k = strnlen(s, n);
	char *p = __wrap_malloc(k + 1);
	if (p) {
		memcpy(p, s, k);
		p[k] = '\0';
	}
	return p;
}

/* SQLite's allocations, through its own interface: a size word before
 * each block for xSize. */
static long sq_live;

static void *sq_malloc(int n)
{
	seen_sqlite++;
	if (fault())
		return NULL;
	int64_t *p = __real_malloc((size_t)n + 8);
	if (!p)
		return NULL;
	p[0] = n;
	sq_live++;
	return p + 1;
}

static void sq_free(void *p)
{
	if (!p)
		return;
	sq_live--;
	__real_free((int64_t *)p - 1);
}

static void *sq_realloc(void *p, int n)
{
	seen_sqlite++;
	if (fault())
		return NULL;
	int64_t *q = __real_realloc((int64_t *)p - 1, (size_t)n + 8);
	if (!q)
		return NULL;
	q[0] = n;
	return q + 1;
}

static int sq_size(void *p)
{
	return p ? (int)((int64_t *)p)[-1] : 0;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *x)
{
	(void)x;
	return 0;
}

static void sq_shutdown(void *x)
{
	(void)x;
}

/* ---- the loop ------------------------------------------------------------ */

static int failures;

#define CHECK(cond, ...)                                                         \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "FAIL %s N=%ld%s: ", op->name, n_now,    \
			        persistent_now ? " persistent" : "");           \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
			failures++;                                              \
		}                                                                \
	} while (0)

static long n_now;
static bool persistent_now;

struct op {
	const char *name;
	void (*setup)(void);                           /* not armed */
	enum cbar_err (*run)(struct cbar_diag *d);     /* armed */
	/* not armed: the state after a run that returned e, with or
	 * without a failure injected */
	void (*check)(const struct op *op, enum cbar_err e, const struct cbar_diag *d);
	void (*teardown)(void);
	/* errors a failing run may return besides CBAR_NOMEM */
	enum cbar_err also[3];
};

/* Run op with the Nth allocation failing, N = 1, 2, ... until it runs
 * without reaching N; returns how many allocations it made. */
static long loop(const struct op *op, bool persist)
{
	long n;
	persistent_now = persist;
	for (n = 1; n < 200000; n++) {
		n_now = n;
		long base = nlive, base_sq = sq_live;
		struct cbar_diag d = {0};
		op->setup();
		arm(n, persist);
		enum cbar_err e = op->run(&d);
		long failed = disarm();
		if (getenv("ALLOC_TRACE"))
			fprintf(stderr, "%s N=%ld: %s %s\n", op->name, n, cbar_err_name(e), d.msg);
		if (failed && e) {
			bool known = e == CBAR_NOMEM;
			for (int i = 0; i < 3; i++)
				known = known || (op->also[i] && e == op->also[i]);
			CHECK(known, "error %s (%s) for an allocation failure", cbar_err_name(e), d.msg);
		}
		CHECK(failed || !e, "error %s (%s) with no failure injected", cbar_err_name(e),
		      d.msg);
		op->check(op, e, &d);
		op->teardown();
		CHECK(nlive == base, "%ld allocations leaked", nlive - base);
		CHECK(sq_live == base_sq, "%ld SQLite allocations leaked", sq_live - base_sq);
		if (failures > 20) {
			fprintf(stderr, "too many failures\n");
			exit(1);
		}
		if (!failed)
			break;
	}
	return n - 1;
}

/* ---- the rule compiler ----------------------------------------------------- */

static struct cbar_numplan *np;
static uint16_t cn;
static const char *rules_path;
static char *rules_text;
static size_t rules_len;
static struct cbar_rules *compiled;
static uint64_t reference;

/* Decisions over a grid of events, folded into one number: a snapshot
 * that compiled "successfully" with a piece missing decides differently. */
static uint64_t fingerprint(const struct cbar_rules *r)
{
	static const char *subs[] = {"13805710000", "13305710000", "18605710000", "15837100000",
	                             "18637100000", "13907910000", "13904110000", "13985100000",
	                             "13805710001"};
	static const char *peers[] = {"+85291234567", "+85366123456", "+886912345678",
	                              "+12025550100",  "13812345678",  "110",
	                              "+8617000123",   "+85261234567", "+85291110000",
	                              "+442071234567"};
	static const int64_t times[] = {1628438400, 1630454400, 1654041600, 1704067200};
	uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
	MIX(cbar_rules_count(r));
	for (size_t i = 0; i < cbar_rules_count(r); i++) {
		MIX(cbar_rules_line(r, i));
		MIX(cbar_rules_blocks(r, i));
		for (const char *c = cbar_rules_reason(r, i); c && *c; c++)
			MIX(*c);
	}
	for (size_t a = 0; a < sizeof subs / sizeof subs[0]; a++)
		for (size_t b = 0; b < sizeof peers / sizeof peers[0]; b++) {
			struct cbar_number sub, peer;
			size_t errat;
			if (cbar_number_parse(np, cn, subs[a], strlen(subs[a]), &sub, &errat) ||
			    cbar_number_parse(np, cn, peers[b], strlen(peers[b]), &peer, &errat))
				continue;
			for (int t = 0; t < 4; t++)
				for (int k = 0; k < 4; k++) {
					struct cbar_event ev = {
						.time = times[t],
						.service = k & 1 ? CBAR_SMS : CBAR_VOICE,
						.direction = k & 2 ? CBAR_OUT : CBAR_IN,
						.subscriber = &sub,
						.peer = &peer,
					};
					struct cbar_verdict v;
					MIX(cbar_decide(r, &ev, NULL, &v));
					MIX(v.rule);
					MIX(v.line);
					for (const char *c = v.reason; c && *c; c++)
						MIX(*c);
				}
		}
#undef MIX
	return h;
}

static void rules_setup(void)
{
	compiled = NULL;
}

static enum cbar_err rules_run(struct cbar_diag *d)
{
	struct cbar_rules_loader loader = {cbar_rules_load_list, NULL};
	return cbar_rules_compile(np, rules_text, rules_len, rules_path, &loader, d, &compiled);
}

static void rules_check(const struct op *op, enum cbar_err e, const struct cbar_diag *d)
{
	(void)d;
	if (e) {
		CHECK(!compiled, "a snapshot from a failed compile");
		return;
	}
	CHECK(compiled, "no snapshot from a compile that succeeded");
	if (compiled)
		CHECK(fingerprint(compiled) == reference, "the snapshot decides differently");
}

static void rules_teardown(void)
{
	cbar_rules_free(compiled);
	compiled = NULL;
}

static const struct op rules_op = {"rules_compile", rules_setup, rules_run, rules_check,
                                   rules_teardown, {CBAR_IO, 0, 0}};

static void rules_file(const char *path)
{
	free(rules_text);
	rules_path = path;
	rules_text = cbar_file_read(path, 1 << 24, &rules_len);
	if (!rules_text) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(2);
	}
	struct cbar_diag d = {0};
	struct cbar_rules_loader loader = {cbar_rules_load_list, NULL};
	struct cbar_rules *r = NULL;
	if (cbar_rules_compile(np, rules_text, rules_len, path, &loader, &d, &r)) {
		fprintf(stderr, "%s:%u: %s\n", path, d.line, d.msg);
		exit(2);
	}
	reference = fingerprint(r);
	cbar_rules_free(r);
}

/* ---- the registry ----------------------------------------------------------- */

static char tmpl_path[600], work_path[600], work_url[620];
static struct cbar_store *st;
static int64_t tmpl_head;
static struct cbar_store_record tmpl_a; /* the verified record of A */

#define SUB_A 8613805710000ull
#define SUB_B 8613805710001ull
#define KEY_ID "0123456789abcdef"
#define HASH1 "1111111111111111111111111111111111111111111111111111111111111111"

static void die(const char *what, enum cbar_err e, const struct cbar_diag *d)
{
	fprintf(stderr, "%s: %s: %s\n", what, cbar_err_name(e), d->msg);
	exit(2);
}

static void rm_db(const char *path)
{
	char f[640];
	const char *sfx[] = {"", "-wal", "-shm", "-journal"};
	for (int i = 0; i < 4; i++) {
		snprintf(f, sizeof f, "%s%s", path, sfx[i]);
		unlink(f);
	}
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t k;
	if (!a || !b) {
		fprintf(stderr, "copy %s to %s failed\n", from, to);
		exit(2);
	}
	while ((k = fread(buf, 1, sizeof buf, a)) > 0)
		fwrite(buf, 1, k, b);
	fclose(a);
	fclose(b);
}

static struct cbar_store_unlock_req req_a(void)
{
	struct cbar_store_unlock_req r = {
		.subscriber = SUB_A,
		.scope = CBAR_STORE_SCOPE_ALL,
		.level = CBAR_STORE_VERIFIED,
		.channel = CBAR_STORE_CHANNEL_SHOP,
		.agent = "alice",
		.doc_type = "cn-resident",
		.doc_hash = HASH1,
		.now = 1700000100,
	};
	return r;
}

/* The template: a bound key, A unlocked (verified, voice-in), B unlocked
 * (self, all) then relocked in part, a token. */
static void make_template(const char *dir)
{
	snprintf(tmpl_path, sizeof tmpl_path, "%s/alloc_tmpl.db", dir);
	snprintf(work_path, sizeof work_path, "%s/alloc_work.db", dir);
	snprintf(work_url, sizeof work_url, "sqlite:%s", work_path);
	rm_db(tmpl_path);
	char url[620];
	snprintf(url, sizeof url, "sqlite:%s", tmpl_path);
	struct cbar_diag d = {0};
	struct cbar_store *s = NULL;
	enum cbar_err e;
	struct cbar_store_record out;
	bool changed;
	if ((e = cbar_store_open(&s, url, NULL, &d)) || (e = cbar_store_bind_key(s, KEY_ID, &d)))
		die("template", e, &d);
	struct cbar_store_unlock_req r = req_a();
	r.scope = CBAR_STORE_VOICE_IN;
	r.now = 1700000000;
	if ((e = cbar_store_unlock(s, &r, &tmpl_a, &changed, &d)))
		die("template unlock", e, &d);
	r = (struct cbar_store_unlock_req){.subscriber = SUB_B,
	                                   .scope = CBAR_STORE_SCOPE_ALL,
	                                   .level = CBAR_STORE_SELF,
	                                   .channel = CBAR_STORE_CHANNEL_KEYWORD,
	                                   .now = 1700000000};
	if ((e = cbar_store_unlock(s, &r, &out, &changed, &d)) ||
	    (e = cbar_store_relock(s, SUB_B, CBAR_STORE_SMS_IN, "agent:bob", "asked", 1700000050,
	                           &out, &d)))
		die("template B", e, &d);
	struct cbar_store_token t = {"shop-1", "agent", HASH1, 1700000000};
	if ((e = cbar_store_token_add(s, &t, "test", &d)))
		die("template token", e, &d);
	char hh[CBAR_STORE_HASH_HEX];
	if ((e = cbar_store_chain_head(s, &tmpl_head, hh, &d)))
		die("template head", e, &d);
	cbar_store_free(s);
}

/* The registry after a run is whole: the chain verifies at head seq and
 * A's active record has scope. */
static void registry_whole(const struct op *op, int64_t head, unsigned scope_a)
{
	struct cbar_diag d = {0};
	int64_t n = 0, bad = 0;
	char hh[CBAR_STORE_HASH_HEX];
	enum cbar_err e = cbar_store_audit_verify(st, &n, &bad, hh, &d);
	CHECK(!e, "verify after the run: %s: %s", cbar_err_name(e), d.msg);
	CHECK(n == head, "%" PRId64 " entries, want %" PRId64, n, head);
	struct cbar_store_record r;
	e = cbar_store_get_active(st, SUB_A, &r, &d);
	CHECK(!e && r.scope == scope_a, "A's record: %s, scope %u, want %u", cbar_err_name(e),
	      e ? 0 : r.scope, scope_a);
}

static void work_open(void)
{
	struct cbar_diag d = {0};
	enum cbar_err e;
	rm_db(work_path);
	copy_file(tmpl_path, work_path);
	if ((e = cbar_store_open(&st, work_url, NULL, &d)))
		die("open the work copy", e, &d);
	if ((e = cbar_store_bind_key(st, KEY_ID, &d)))
		die("bind", e, &d);
}

static void work_close(void)
{
	cbar_store_free(st);
	st = NULL;
}

/* open: a new registry (created and migrated), then an existing one */
static struct cbar_store *opened;
static bool open_fresh;

static void open_setup(void)
{
	opened = NULL;
	rm_db(work_path);
	if (!open_fresh)
		copy_file(tmpl_path, work_path);
}

static enum cbar_err open_run(struct cbar_diag *d)
{
	return cbar_store_open(&opened, work_url, NULL, d);
}

static void open_check(const struct op *op, enum cbar_err e, const struct cbar_diag *d0)
{
	(void)d0;
	struct cbar_diag d = {0};
	if (e) {
		CHECK(!opened, "a store from a failed open");
		/* a failed open leaves a registry the next open takes */
		e = cbar_store_open(&st, work_url, NULL, &d);
		CHECK(!e, "open after a failed open: %s: %s", cbar_err_name(e), d.msg);
	} else {
		st = opened;
		opened = NULL;
	}
	if (!st)
		return;
	int64_t n = 0, bad = 0;
	char hh[CBAR_STORE_HASH_HEX];
	e = cbar_store_audit_verify(st, &n, &bad, hh, &d);
	CHECK(!e && n == (open_fresh ? 0 : tmpl_head), "verify: %s %" PRId64 " entries: %s",
	      cbar_err_name(e), n, d.msg);
}

static void open_teardown(void)
{
	cbar_store_free(opened);
	opened = NULL;
	work_close();
}

static const struct op open_op = {"store_open", open_setup, open_run, open_check,
                                  open_teardown, {CBAR_STORE_OPEN, CBAR_STORE_IO, 0}};

/* unlock: A again with every scope, superseding its record */
static enum cbar_err unlock_run(struct cbar_diag *d)
{
	struct cbar_store_unlock_req r = req_a();
	struct cbar_store_record out;
	bool changed = false;
	enum cbar_err e = cbar_store_unlock(st, &r, &out, &changed, d);
	if (!e && (!changed || out.scope != CBAR_STORE_SCOPE_ALL))
		return CBAR_INVAL; /* success with the wrong result */
	return e;
}

static void unlock_check(const struct op *op, enum cbar_err e, const struct cbar_diag *d)
{
	(void)d;
	if (e)
		registry_whole(op, tmpl_head, tmpl_a.scope);
	else
		registry_whole(op, tmpl_head + 2, CBAR_STORE_SCOPE_ALL);
}

static const struct op unlock_op = {"store_unlock", work_open, unlock_run, unlock_check,
                                    work_close, {CBAR_STORE_IO, 0, 0}};

/* relock: part of A's scope, the rest split into a new record */
static enum cbar_err relock_run(struct cbar_diag *d)
{
	return cbar_store_relock(st, SUB_A, CBAR_STORE_VOICE_IN, "agent:bob", "asked", 1700000200,
	                         NULL, d);
}

static void relock_setup(void)
{
	work_open();
	struct cbar_store_unlock_req r = req_a();
	struct cbar_store_record out;
	bool changed;
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_unlock(st, &r, &out, &changed, &d);
	if (e)
		die("relock setup", e, &d);
}

static void relock_check(const struct op *op, enum cbar_err e, const struct cbar_diag *d)
{
	(void)d;
	if (e)
		registry_whole(op, tmpl_head + 2, CBAR_STORE_SCOPE_ALL);
	else
		registry_whole(op, tmpl_head + 4, CBAR_STORE_SCOPE_ALL & ~CBAR_STORE_VOICE_IN);
}

static const struct op relock_op = {"store_relock", relock_setup, relock_run, relock_check,
                                    work_close, {CBAR_STORE_IO, 0, 0}};

/* verify: never "broken" for want of memory */
static int64_t verify_n;

static enum cbar_err verify_run(struct cbar_diag *d)
{
	int64_t bad = 0;
	char hh[CBAR_STORE_HASH_HEX];
	verify_n = -1;
	return cbar_store_audit_verify(st, &verify_n, &bad, hh, d);
}

static void verify_check(const struct op *op, enum cbar_err e, const struct cbar_diag *d)
{
	(void)d;
	if (!e)
		CHECK(verify_n == tmpl_head, "verified %" PRId64 " entries, want %" PRId64, verify_n,
		      tmpl_head);
	registry_whole(op, tmpl_head, tmpl_a.scope);
}

static const struct op verify_op = {"store_audit_verify", work_open, verify_run, verify_check,
                                    work_close, {CBAR_STORE_IO, 0, 0}};

/* changes: every record from the start, none unaudited */
static int nchanges;

static int count_change(void *arg, const struct cbar_store_record *r)
{
	(void)arg;
	(void)r;
	nchanges++;
	return 0;
}

static enum cbar_err changes_run(struct cbar_diag *d)
{
	struct cbar_store_unaudited u;
	int64_t head = -1;
	nchanges = 0;
	enum cbar_err e = cbar_store_changes(st, 0, count_change, NULL, &head, &u, d);
	if (!e && (nchanges != 3 || head != tmpl_head || u.rows || u.broken_at))
		return CBAR_INVAL;
	return e;
}

static void changes_check(const struct op *op, enum cbar_err e, const struct cbar_diag *d)
{
	(void)e;
	(void)d;
	registry_whole(op, tmpl_head, tmpl_a.scope);
}

static const struct op changes_op = {"store_changes", work_open, changes_run, changes_check,
                                     work_close, {CBAR_STORE_IO, 0, 0}};

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: test_alloc_fail PILOTS.rules LANGUAGE.rules WORKDIR\n");
		return 2;
	}
	live = __real_calloc(LIVE_CAP, sizeof *live);
	static const sqlite3_mem_methods mem = {sq_malloc, sq_free,     sq_realloc, sq_size,
	                                        sq_roundup, sq_init, sq_shutdown, NULL};
	if (!live || sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK) {
		fprintf(stderr, "cannot set up the counting allocator\n");
		return 2;
	}
	struct cbar_diag d = {0};
	if (cbar_numplan_embedded(&np, &d))
		die("numbering plan", CBAR_NOMEM, &d);
	cn = cbar_numplan_country(np, "CN", 2);

	struct {
		const struct op *op;
		const char *what;
	} runs[] = {
		{&rules_op, argv[1]}, {&rules_op, argv[2]}, {&open_op, "fresh"},
		{&open_op, "existing"}, {&unlock_op, ""}, {&relock_op, ""},
		{&verify_op, ""},      {&changes_op, ""},
	};
	make_template(argv[3]);
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		const struct op *op = runs[i].op;
		if (op == &rules_op)
			rules_file(runs[i].what);
		open_fresh = !strcmp(runs[i].what, "fresh");
		long w0 = seen_wrap, s0 = seen_sqlite;
		long n1 = loop(op, false);
		long n2 = loop(op, true);
		printf("%-20s %-28s %5ld allocations, each failed in turn (then %ld runs failing "
		       "for good); seen in all: callbar %ld, SQLite %ld\n",
		       op->name, runs[i].what, n1, n2, seen_wrap - w0, seen_sqlite - s0);
		/* the wrappers must see the allocations, or this tests nothing */
		if (n1 <= 0 || seen_wrap - w0 <= 0 || (op != &rules_op && seen_sqlite - s0 <= 0)) {
			fprintf(stderr, "FAIL %s: the counting allocator saw no allocations\n",
			        op->name);
			failures++;
		}
	}
	free(rules_text);
	cbar_numplan_free(np);
	rm_db(tmpl_path);
	rm_db(work_path);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("alloc_fail: all passed\n");
	return 0;
}
