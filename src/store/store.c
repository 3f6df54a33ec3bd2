/*
 * callbar: the unlock registry's logic, once for every back end
 * (callbar/store.h; the back ends are in sqlite.c and postgres.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_be.h"

/* ---- names ------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned bits;
} scope_words[] = {
	{"voice-in", CBAR_STORE_VOICE_IN}, {"voice-out", CBAR_STORE_VOICE_OUT},
	{"sms-in", CBAR_STORE_SMS_IN},     {"sms-out", CBAR_STORE_SMS_OUT},
	{"voice", CBAR_STORE_VOICE_IN | CBAR_STORE_VOICE_OUT},
	{"sms", CBAR_STORE_SMS_IN | CBAR_STORE_SMS_OUT},
	{"in", CBAR_STORE_VOICE_IN | CBAR_STORE_SMS_IN},
	{"out", CBAR_STORE_VOICE_OUT | CBAR_STORE_SMS_OUT},
	{"all", CBAR_STORE_SCOPE_ALL},
};

unsigned cbar_store_scope_parse(const char *s)
{
	unsigned bits = 0;
	while (s && *s) {
		size_t n = strcspn(s, ",");
		size_t i;
		for (i = 0; i < sizeof scope_words / sizeof scope_words[0]; i++)
			if (strlen(scope_words[i].name) == n && !strncmp(scope_words[i].name, s, n))
				break;
		if (i == sizeof scope_words / sizeof scope_words[0])
			return 0;
		bits |= scope_words[i].bits;
		s += n;
		if (*s == ',')
			s++;
	}
	return bits;
}

char *cbar_store_scope_str(unsigned scope, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < 4; i++)
		if (scope & scope_words[i].bits)
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "",
			                      scope_words[i].name);
	if (!n)
		snprintf(buf, cap, "none");
	return buf;
}

const char *cbar_store_level_key(enum cbar_store_level l)
{
	return l == CBAR_STORE_SELF ? "self" : l == CBAR_STORE_VERIFIED ? "verified" : NULL;
}

enum cbar_store_level cbar_store_level_parse(const char *s)
{
	if (s && !strcmp(s, "self"))
		return CBAR_STORE_SELF;
	if (s && !strcmp(s, "verified"))
		return CBAR_STORE_VERIFIED;
	return 0;
}

static const char *const channels[CBAR_STORE_CHANNEL_COUNT] = {
#define CBAR__CHAN_NAME(name, key) [CBAR_STORE_CHANNEL_##name] = key,
	CBAR_STORE_CHANNEL_MAP(CBAR__CHAN_NAME)
#undef CBAR__CHAN_NAME
};

const char *cbar_store_channel_key(enum cbar_store_channel c)
{
	return c > CBAR_STORE_CHANNEL_NONE && c < CBAR_STORE_CHANNEL_COUNT ? channels[c] : NULL;
}

enum cbar_store_channel cbar_store_channel_parse(const char *s)
{
	for (int c = 1; s && c < CBAR_STORE_CHANNEL_COUNT; c++)
		if (!strcmp(s, channels[c]))
			return (enum cbar_store_channel)c;
	return CBAR_STORE_CHANNEL_NONE;
}

const char *cbar_store_status_key(enum cbar_store_status s)
{
	return s == CBAR_STORE_ACTIVE ? "active" : s == CBAR_STORE_REVOKED ? "revoked" : NULL;
}

/* ---- schema ------------------------------------------------------------ */

/*
 * Migrations: migrations[v - 1] takes a registry from version v - 1 to v.
 * Append only; a shipped migration never changes.  The SQL is the common
 * subset of SQLite and PostgreSQL.
 */
static const char *const migration_1[] = {
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
	"CREATE TABLE unlock ("
	" id BIGINT PRIMARY KEY,"
	" subscriber BIGINT NOT NULL,"
	" scope BIGINT NOT NULL,"
	" level TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" channel TEXT NOT NULL,"
	" agent TEXT NOT NULL,"
	" doc_type TEXT NOT NULL,"
	" doc_hash TEXT NOT NULL,"
	" revoked_at BIGINT NOT NULL,"
	" revoked_by TEXT NOT NULL,"
	" revoked_why TEXT NOT NULL,"
	" seq BIGINT NOT NULL)",
	"CREATE INDEX unlock_subscriber ON unlock (subscriber, status)",
	"CREATE INDEX unlock_doc ON unlock (doc_hash, status)",
	"CREATE INDEX unlock_seq ON unlock (seq)",
	"CREATE TABLE audit ("
	" seq BIGINT PRIMARY KEY,"
	" at BIGINT NOT NULL,"
	" who TEXT NOT NULL,"
	" what TEXT NOT NULL,"
	" subscriber BIGINT NOT NULL,"
	" record BIGINT NOT NULL,"
	" before TEXT NOT NULL,"
	" after TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL)",
	"CREATE INDEX audit_record ON audit (record, seq)",
	"CREATE INDEX audit_at ON audit (at)",
	"INSERT INTO meta (key, value) VALUES ('head_seq', '0')",
	NULL,
};

/* v2: the daemon's API tokens, so every node of a shared registry knows
 * them (the SHA-256 of each token, never the token). */
static const char *const migration_2[] = {
	"CREATE TABLE token ("
	" name TEXT PRIMARY KEY,"
	" role TEXT NOT NULL,"
	" hash TEXT NOT NULL,"
	" created BIGINT NOT NULL)",
	NULL,
};

static const char *const *const migrations[] = {migration_1, migration_2};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- helpers ------------------------------------------------------------- */

static enum cbar_err q(struct cbar_store *s, const char *sql, int n, const char *const *p,
                       cbar__row_fn fn, void *arg, struct cbar_diag *d)
{
	return s->be->exec(s, sql, n, p, fn, arg, d);
}

static int row_int(void *arg, int n, const char *const *c)
{
	*(int64_t *)arg = n > 0 && c[0] ? strtoll(c[0], NULL, 10) : 0;
	return 1;
}

static int row_text(void *arg, int n, const char *const *c)
{
	char *out = arg; /* CBAR_STORE_HASH_HEX or more */
	snprintf(out, CBAR_STORE_HASH_HEX, "%s", n > 0 && c[0] ? c[0] : "");
	return 1;
}

#define I64(buf, v) (snprintf(buf, sizeof buf, "%" PRId64, (int64_t)(v)), buf)
#define U64(buf, v) (snprintf(buf, sizeof buf, "%" PRIu64, (uint64_t)(v)), buf)

/* Copy, cutting to cap - 1 bytes (names and reasons are bounded by the
 * schema's users, not trusted to fit). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

#define REC_COLS                                                                 \
	"id, subscriber, scope, level, status, created, expires, channel, agent, "   \
	"doc_type, doc_hash, revoked_at, revoked_by, revoked_why, seq"
#define REC_NCOLS 15

static void rec_from_row(struct cbar_store_record *r, const char *const *c)
{
	memset(r, 0, sizeof *r);
	r->id = strtoll(c[0] ? c[0] : "0", NULL, 10);
	r->subscriber = strtoull(c[1] ? c[1] : "0", NULL, 10);
	r->scope = (unsigned)strtoul(c[2] ? c[2] : "0", NULL, 10);
	r->level = cbar_store_level_parse(c[3]);
	r->status = c[4] && !strcmp(c[4], "active") ? CBAR_STORE_ACTIVE : CBAR_STORE_REVOKED;
	r->created = strtoll(c[5] ? c[5] : "0", NULL, 10);
	r->expires = strtoll(c[6] ? c[6] : "0", NULL, 10);
	r->channel = cbar_store_channel_parse(c[7]);
	copy(r->agent, sizeof r->agent, c[8]);
	copy(r->doc_type, sizeof r->doc_type, c[9]);
	copy(r->doc_hash, sizeof r->doc_hash, c[10]);
	r->revoked_at = strtoll(c[11] ? c[11] : "0", NULL, 10);
	copy(r->revoked_by, sizeof r->revoked_by, c[12]);
	copy(r->revoked_why, sizeof r->revoked_why, c[13]);
	r->seq = strtoll(c[14] ? c[14] : "0", NULL, 10);
}

struct one_rec {
	struct cbar_store_record *r;
	bool found;
};

static int row_rec(void *arg, int n, const char *const *c)
{
	struct one_rec *o = arg;
	if (n < REC_NCOLS)
		return 1;
	rec_from_row(o->r, c);
	o->found = true;
	return 1;
}

/* Percent-escape everything outside a safe set, so the text is one
 * unambiguous line of key=value pairs. */
static size_t esc(char *out, size_t cap, size_t n, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool safe = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		            (*p >= '0' && *p <= '9') || strchr("._:@/+-,", *p);
		if (safe) {
			if (n + 1 < cap)
				out[n] = (char)*p;
			n++;
		} else {
			if (n + 3 < cap) {
				out[n] = '%';
				out[n + 1] = hexd[*p >> 4];
				out[n + 2] = hexd[*p & 15];
			}
			n += 3;
		}
	}
	if (cap)
		out[n < cap ? n : cap - 1] = 0;
	return n;
}

void cbar_store_record_text(const struct cbar_store_record *r, char *buf, size_t cap)
{
	char sc[64];
	size_t n = (size_t)snprintf(buf, cap,
	                            "id=%" PRId64 " subscriber=+%" PRIu64
	                            " scope=%s level=%s status=%s created=%" PRId64
	                            " expires=%" PRId64 " channel=%s agent=",
	                            r->id, r->subscriber, cbar_store_scope_str(r->scope, sc, sizeof sc),
	                            cbar_store_level_key(r->level) ? cbar_store_level_key(r->level) : "?",
	                            cbar_store_status_key(r->status), r->created, r->expires,
	                            cbar_store_channel_key(r->channel) ? cbar_store_channel_key(r->channel) : "?");
	n = esc(buf, cap, n, r->agent);
	n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " doc_type=");
	n = esc(buf, cap, n, r->doc_type);
	n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0,
	                      " doc_hash=%s revoked_at=%" PRId64 " revoked_by=", r->doc_hash,
	                      r->revoked_at);
	n = esc(buf, cap, n, r->revoked_by);
	n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " revoked_why=");
	n = esc(buf, cap, n, r->revoked_why);
	snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " seq=%" PRId64, r->seq);
}

/* The hash of an audit entry: BLAKE2b-256 over prev_hash (64 hex digits)
 * and the canonical text (docs/registry.md). */
static void audit_hash(const struct cbar_store_audit *a, char out[CBAR_STORE_HASH_HEX])
{
	char canon[2048];
	char who[256];
	esc(who, sizeof who, 0, a->who);
	int n = snprintf(canon, sizeof canon,
	                 "callbar-audit-v1\nseq=%" PRId64 "\nat=%" PRId64
	                 "\nwho=%s\nwhat=%s\nsubscriber=+%" PRIu64 "\nrecord=%" PRId64
	                 "\nbefore=%s\nafter=%s\n",
	                 a->seq, a->at, who, a->what, a->subscriber, a->record, a->before,
	                 a->after);
	unsigned char h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)a->prev_hash, strlen(a->prev_hash));
	crypto_generichash_update(&st, (const unsigned char *)canon,
	                          (size_t)(n < (int)sizeof canon ? n : (int)sizeof canon - 1));
	crypto_generichash_final(&st, h, sizeof h);
	static const char hexd[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hexd[h[i] >> 4];
		out[2 * i + 1] = hexd[h[i] & 15];
	}
	out[64] = 0;
}

static const char genesis[CBAR_STORE_HASH_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* The chain's head inside a write transaction. */
struct head {
	int64_t seq;
	char hash[CBAR_STORE_HASH_HEX];
};

static int row_head(void *arg, int n, const char *const *c)
{
	struct head *h = arg;
	if (n >= 2 && c[0] && c[1]) {
		h->seq = strtoll(c[0], NULL, 10);
		copy(h->hash, sizeof h->hash, c[1]);
	}
	return 1;
}

static enum cbar_err head_get(struct cbar_store *s, struct head *h, struct cbar_diag *d)
{
	h->seq = 0;
	memcpy(h->hash, genesis, sizeof h->hash);
	return q(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", 0, NULL, row_head, h,
	         d);
}

/* Append the audit entry for change h->seq + 1 and advance h; before and
 * after are texts ("" for none). */
static enum cbar_err audit_append_text(struct cbar_store *s, struct head *h, int64_t at,
                                       const char *who, const char *what, uint64_t subscriber,
                                       int64_t record, const char *before, const char *after,
                                       struct cbar_diag *d)
{
	static struct cbar_store_audit a; /* large; one thread per store */
	memset(&a, 0, sizeof a);
	a.seq = h->seq + 1;
	a.at = at;
	copy(a.who, sizeof a.who, who);
	copy(a.what, sizeof a.what, what);
	a.subscriber = subscriber;
	a.record = record;
	copy(a.before, sizeof a.before, before);
	copy(a.after, sizeof a.after, after);
	memcpy(a.prev_hash, h->hash, sizeof a.prev_hash);
	audit_hash(&a, a.hash);
	char b1[24], b2[24], b3[24], b4[24];
	const char *p[] = {I64(b1, a.seq), I64(b2, a.at), a.who, a.what, U64(b3, a.subscriber),
	                   I64(b4, a.record), a.before, a.after, a.prev_hash, a.hash};
	enum cbar_err err = q(s,
	                      "INSERT INTO audit (seq, at, who, what, subscriber, record, before, "
	                      "after, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                      10, p, NULL, NULL, d);
	if (err)
		return err;
	const char *hp[] = {b1};
	if ((err = q(s, "UPDATE meta SET value = ? WHERE key = 'head_seq'", 1, hp, NULL, NULL, d)))
		return err;
	h->seq = a.seq;
	memcpy(h->hash, a.hash, sizeof h->hash);
	return CBAR_OK;
}

/* The same for a change of an unlock record (NULL: none). */
static enum cbar_err audit_append(struct cbar_store *s, struct head *h, int64_t at,
                                  const char *who, const char *what, uint64_t subscriber,
                                  int64_t record, const struct cbar_store_record *before,
                                  const struct cbar_store_record *after, struct cbar_diag *d)
{
	static char bt[640], at_[640]; /* one thread per store */
	bt[0] = at_[0] = '\0';
	if (before)
		cbar_store_record_text(before, bt, sizeof bt);
	if (after)
		cbar_store_record_text(after, at_, sizeof at_);
	return audit_append_text(s, h, at, who, what, subscriber, record, bt, at_, d);
}

static enum cbar_err rec_insert(struct cbar_store *s, const struct cbar_store_record *r,
                                struct cbar_diag *d)
{
	char b[8][24];
	const char *p[REC_NCOLS] = {
		I64(b[0], r->id),         U64(b[1], r->subscriber),
		I64(b[2], r->scope),      cbar_store_level_key(r->level),
		cbar_store_status_key(r->status), I64(b[3], r->created),
		I64(b[4], r->expires),    cbar_store_channel_key(r->channel),
		r->agent,                 r->doc_type,
		r->doc_hash,              I64(b[5], r->revoked_at),
		r->revoked_by,            r->revoked_why,
		I64(b[6], r->seq),
	};
	return q(s, "INSERT INTO unlock (" REC_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	         REC_NCOLS, p, NULL, NULL, d);
}

static enum cbar_err rec_revoke(struct cbar_store *s, const struct cbar_store_record *r,
                                struct cbar_diag *d)
{
	char b1[24], b2[24], b3[24];
	const char *p[] = {I64(b1, r->revoked_at), r->revoked_by, r->revoked_why, I64(b2, r->seq),
	                   I64(b3, r->id)};
	return q(s,
	         "UPDATE unlock SET status = 'revoked', revoked_at = ?, revoked_by = ?, "
	         "revoked_why = ?, seq = ? WHERE id = ?",
	         5, p, NULL, NULL, d);
}

static enum cbar_err active_get(struct cbar_store *s, uint64_t sub, struct cbar_store_record *r,
                                bool *found, struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {U64(b, sub)};
	struct one_rec o = {r, false};
	enum cbar_err err = q(s,
	                      "SELECT " REC_COLS " FROM unlock WHERE subscriber = ? AND "
	                      "status = 'active' ORDER BY id DESC LIMIT 1",
	                      1, p, row_rec, &o, d);
	*found = o.found;
	return err;
}

static enum cbar_err finish(struct cbar_store *s, enum cbar_err err, int64_t seq,
                            struct cbar_diag *d)
{
	if (!err && s->be->notify)
		err = s->be->notify(s, seq, d);
	if (!err)
		return s->be->commit(s, d);
	s->be->rollback(s);
	return err;
}

/* ---- open, migrate ------------------------------------------------------ */

static enum cbar_err migrate(struct cbar_store *s, struct cbar_diag *d)
{
	enum cbar_err err;
	int64_t v = 0;
	/* Up to date (the usual case): no write lock, so readers never wait
	 * for a writer.  Any failure here is looked at again under the lock. */
	if (!q(s, "SELECT max(version) FROM schema_version", 0, NULL, row_int, &v, NULL) &&
	    v == SCHEMA_VERSION)
		return CBAR_OK;
	v = 0;
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = q(s, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", 0,
	             NULL, NULL, NULL, d)) ||
	    (err = q(s, "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL, row_int,
	             &v, d)))
		goto fail;
	if (v > SCHEMA_VERSION) {
		err = cbar_diag_set(d, CBAR_STORE_SCHEMA, 0, 0,
		                    "the registry has schema version %" PRId64
		                    "; this callbar knows up to %d",
		                    v, SCHEMA_VERSION);
		goto fail;
	}
	for (int m = (int)v; m < SCHEMA_VERSION; m++) {
		for (const char *const *sql = migrations[m]; *sql; sql++)
			if ((err = q(s, *sql, 0, NULL, NULL, NULL, d)))
				goto fail;
		char b[24];
		const char *p[] = {I64(b, m + 1)};
		if ((err = q(s, "INSERT INTO schema_version (version) VALUES (?)", 1, p, NULL, NULL,
		             d)))
			goto fail;
	}
	if (v == SCHEMA_VERSION) {
		s->be->rollback(s);
		return CBAR_OK;
	}
	return s->be->commit(s, d);
fail:
	s->be->rollback(s);
	return err;
}

enum cbar_err cbar_store_open(struct cbar_store **out, const char *url,
                              const struct cbar_store_opts *o, struct cbar_diag *d)
{
	enum cbar_err err;
	*out = NULL;
	if (sodium_init() < 0)
		return cbar_diag_set(d, CBAR_STORE_OPEN, 0, 0, "libsodium failed to initialise");
	const struct cbar__store_be *be;
	const char *target;
	if (!strncmp(url, "sqlite:", 7) && url[7]) {
		be = &cbar__store_sqlite;
		target = url + 7;
	} else if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13)) {
		be = &cbar__store_postgres;
		target = url;
	} else {
		return cbar_diag_set(d, CBAR_STORE_URL, 0, 0,
		                     "registry '%s': want sqlite:PATH or postgres://...", url);
	}
	struct cbar_store *s = calloc(1, sizeof *s);
	if (!s)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	s->be = be;
	if (o)
		s->opts = *o;
	if (!s->opts.busy_ms)
		s->opts.busy_ms = 5000;
	if (!s->opts.max_per_id)
		s->opts.max_per_id = 5;
	if ((err = be->open(s, target, d)))
		goto fail;
	if ((err = migrate(s, d)))
		goto fail;
	*out = s;
	return CBAR_OK;
fail:
	if (s->be_state)
		be->close(s);
	free(s);
	return err;
}

void cbar_store_free(struct cbar_store *s)
{
	if (!s)
		return;
	if (s->in_import)
		s->be->rollback(s);
	s->be->close(s);
	free(s);
}

const char *cbar_store_backend(const struct cbar_store *s)
{
	return s->be->name;
}

enum cbar_err cbar_store_bind_key(struct cbar_store *s, const char *key_id, struct cbar_diag *d)
{
	enum cbar_err err;
	char have[CBAR_STORE_HASH_HEX] = "";
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = q(s, "SELECT value FROM meta WHERE key = 'key_id'", 0, NULL, row_text, have, d)))
		goto done;
	if (!have[0]) {
		const char *p[] = {key_id};
		err = q(s, "INSERT INTO meta (key, value) VALUES ('key_id', ?)", 1, p, NULL, NULL, d);
	} else if (strcmp(have, key_id)) {
		err = cbar_diag_set(d, CBAR_KEY_MISMATCH, 0, 0,
		                    "the registry's documents were hashed with key %s, this key is "
		                    "%s: use the registry's key file",
		                    have, key_id);
	}
done:
	if (err) {
		s->be->rollback(s);
		return err;
	}
	if ((err = s->be->commit(s, d)))
		return err;
	copy(s->key_id, sizeof s->key_id, key_id);
	return CBAR_OK;
}

/* ---- changes ------------------------------------------------------------- */

static int64_t later(int64_t a, int64_t b)
{
	return a == 0 || b == 0 ? 0 : a > b ? a : b;
}

enum cbar_err cbar_store_unlock(struct cbar_store *s, const struct cbar_store_unlock_req *r,
                                struct cbar_store_record *out, bool *changed,
                                struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar_store_record have = {0}, rec;
	struct head h;
	bool found;
	bool has_doc = r->doc_hash && r->doc_hash[0];
	*changed = false;
	if (!r->subscriber || !r->scope || (r->scope & ~(unsigned)CBAR_STORE_SCOPE_ALL) ||
	    !cbar_store_level_key(r->level) || !cbar_store_channel_key(r->channel))
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "unlock needs a subscriber, a scope, a "
		                                          "level and a channel");
	if (r->level == CBAR_STORE_VERIFIED && !has_doc)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0,
		                     "a verified unlock needs an identity document");
	if (has_doc && (!r->doc_type || !r->doc_type[0] || strlen(r->doc_hash) != 64))
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "a document needs its type and hash");
	if (has_doc && !s->key_id[0])
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "no hashing key bound to the registry");
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = active_get(s, r->subscriber, &have, &found, d)) || (err = head_get(s, &h, d)))
		goto fail;
	if (found && have.expires && have.expires <= r->now)
		found = false; /* expired: superseded, nothing carried over */
	else if (found)
		goto merge;
	memset(&rec, 0, sizeof rec);
	rec.subscriber = r->subscriber;
	rec.scope = r->scope;
	rec.level = r->level;
	rec.expires = r->expires;
	rec.channel = r->channel;
	copy(rec.agent, sizeof rec.agent, r->agent);
	if (has_doc) {
		copy(rec.doc_type, sizeof rec.doc_type, r->doc_type);
		copy(rec.doc_hash, sizeof rec.doc_hash, r->doc_hash);
	}
	goto limit;
merge:
	rec = have;
	rec.scope = have.scope | r->scope;
	rec.expires = later(have.expires, r->expires);
	if (r->level > have.level || (r->level == have.level && has_doc)) {
		rec.level = r->level;
		rec.channel = r->channel;
		copy(rec.agent, sizeof rec.agent, r->agent);
		copy(rec.doc_type, sizeof rec.doc_type, has_doc ? r->doc_type : "");
		copy(rec.doc_hash, sizeof rec.doc_hash, has_doc ? r->doc_hash : "");
	}
	if (rec.scope == have.scope && rec.level == have.level && rec.expires == have.expires &&
	    !strcmp(rec.doc_hash, have.doc_hash)) {
		s->be->rollback(s);
		*out = have;
		return CBAR_OK;
	}
limit:
	if (has_doc && !strcmp(rec.doc_hash, r->doc_hash)) {
		int64_t n = 0;
		char b1[24], b2[24];
		const char *p[] = {r->doc_hash, U64(b1, r->subscriber), I64(b2, r->now)};
		if ((err = q(s,
		             "SELECT count(*) FROM unlock WHERE doc_hash = ? AND status = 'active' "
		             "AND subscriber <> ? AND (expires = 0 OR expires > ?)",
		             3, p, row_int, &n, d)))
			goto fail;
		if (n >= (int64_t)s->opts.max_per_id) {
			err = cbar_diag_set(d, CBAR_STORE_LIMIT, 0, 0,
			                    "this identity document already has %" PRId64
			                    " active unlocks on other numbers (limit %u, set by "
			                    "the operator); relock one first",
			                    n, s->opts.max_per_id);
			goto fail;
		}
	}
	const char *who = r->agent && r->agent[0] ? r->agent : cbar_store_channel_key(r->channel);
	char whobuf[CBAR_STORE_NAME_MAX + 16];
	snprintf(whobuf, sizeof whobuf, "%s:%s", r->agent && r->agent[0] ? "agent" : "channel",
	         who);
	bool had = found || (have.id && have.status == CBAR_STORE_ACTIVE);
	if (had) {
		struct cbar_store_record old = have;
		have.status = CBAR_STORE_REVOKED;
		have.revoked_at = r->now;
		copy(have.revoked_by, sizeof have.revoked_by, whobuf);
		snprintf(have.revoked_why, sizeof have.revoked_why, "superseded by #%" PRId64,
		         h.seq + 2);
		have.seq = h.seq + 1;
		if ((err = rec_revoke(s, &have, d)) ||
		    (err = audit_append(s, &h, r->now, whobuf, "supersede", have.subscriber, have.id,
		                        &old, &have, d)))
			goto fail;
	}
	rec.id = rec.seq = h.seq + 1;
	rec.status = CBAR_STORE_ACTIVE;
	rec.created = r->now;
	rec.revoked_at = 0;
	rec.revoked_by[0] = rec.revoked_why[0] = 0;
	if ((err = rec_insert(s, &rec, d)) ||
	    (err = audit_append(s, &h, r->now, whobuf, "unlock", rec.subscriber, rec.id, NULL, &rec,
	                        d)))
		goto fail;
	if ((err = finish(s, CBAR_OK, h.seq, d)))
		return err;
	*out = rec;
	*changed = true;
	return CBAR_OK;
fail:
	s->be->rollback(s);
	return err;
}

enum cbar_err cbar_store_relock(struct cbar_store *s, uint64_t subscriber, unsigned scope,
                                const char *who, const char *why, int64_t now,
                                struct cbar_store_record *out, struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar_store_record have, old, rest;
	struct head h;
	bool found;
	char sc[64];
	if (!who || !who[0] || !scope)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "relock needs who and a scope");
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = active_get(s, subscriber, &have, &found, d)) || (err = head_get(s, &h, d)))
		goto fail;
	if (!found || !(have.scope & scope)) {
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0,
		                    "+%" PRIu64 " has no active unlock for %s", subscriber,
		                    cbar_store_scope_str(scope, sc, sizeof sc));
		goto fail;
	}
	old = have;
	have.status = CBAR_STORE_REVOKED;
	have.revoked_at = now;
	copy(have.revoked_by, sizeof have.revoked_by, who);
	copy(have.revoked_why, sizeof have.revoked_why, why);
	have.seq = h.seq + 1;
	if ((err = rec_revoke(s, &have, d)) ||
	    (err = audit_append(s, &h, now, who, "relock", subscriber, have.id, &old, &have, d)))
		goto fail;
	memset(&rest, 0, sizeof rest);
	if (old.scope & ~scope) {
		rest = old;
		rest.scope = old.scope & ~scope;
		rest.id = rest.seq = h.seq + 1;
		rest.created = now;
		if ((err = rec_insert(s, &rest, d)) ||
		    (err = audit_append(s, &h, now, who, "split", subscriber, rest.id, NULL, &rest,
		                        d)))
			goto fail;
	}
	if ((err = finish(s, CBAR_OK, h.seq, d)))
		return err;
	if (out)
		*out = rest;
	return CBAR_OK;
fail:
	s->be->rollback(s);
	return err;
}

/* ---- reads --------------------------------------------------------------- */

enum cbar_err cbar_store_get_active(struct cbar_store *s, uint64_t subscriber,
                                    struct cbar_store_record *out, struct cbar_diag *d)
{
	bool found;
	enum cbar_err err = active_get(s, subscriber, out, &found, d);
	if (!err && !found)
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0,
		                    "+%" PRIu64 " has no active unlock", subscriber);
	return err;
}

struct walk {
	cbar_store_record_fn fn;
	void *arg;
	int64_t last;
};

static int row_walk(void *arg, int n, const char *const *c)
{
	struct walk *w = arg;
	struct cbar_store_record r;
	if (n < REC_NCOLS)
		return 1;
	rec_from_row(&r, c);
	if (r.seq > w->last)
		w->last = r.seq;
	return w->fn(w->arg, &r);
}

enum cbar_err cbar_store_history(struct cbar_store *s, uint64_t subscriber,
                                 cbar_store_record_fn fn, void *arg, struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {U64(b, subscriber)};
	struct walk w = {fn, arg, 0};
	return q(s, "SELECT " REC_COLS " FROM unlock WHERE subscriber = ? ORDER BY id", 1, p,
	         row_walk, &w, d);
}

enum cbar_err cbar_store_foreach(struct cbar_store *s, cbar_store_record_fn fn, void *arg,
                                 struct cbar_diag *d)
{
	struct walk w = {fn, arg, 0};
	return q(s, "SELECT " REC_COLS " FROM unlock ORDER BY id", 0, NULL, row_walk, &w, d);
}

struct active_walk {
	cbar_store_active_fn fn;
	void *arg;
};

static int row_active(void *arg, int n, const char *const *c)
{
	struct active_walk *w = arg;
	if (n < 5 || !c[0] || !c[1] || !c[2] || !c[3] || !c[4])
		return 0;
	return w->fn(w->arg, strtoull(c[0], NULL, 10), (unsigned)strtoul(c[1], NULL, 10),
	             c[2][0] == 'v' ? CBAR_STORE_VERIFIED : CBAR_STORE_SELF,
	             strtoll(c[3], NULL, 10), strtoll(c[4], NULL, 10));
}

enum cbar_err cbar_store_foreach_active(struct cbar_store *s, cbar_store_active_fn fn,
                                        void *arg, int64_t *head, struct cbar_diag *d)
{
	enum cbar_err err;
	struct active_walk w = {fn, arg};
	struct head h;
	if ((err = s->be->begin(s, false, d)))
		return err;
	if ((err = head_get(s, &h, d)) ||
	    (err = q(s,
	             "SELECT subscriber, scope, level, expires, id FROM unlock WHERE status = "
	             "'active'",
	             0, NULL, row_active, &w, d))) {
		s->be->rollback(s);
		return err;
	}
	s->be->rollback(s);
	if (head)
		*head = h.seq;
	return CBAR_OK;
}

enum cbar_err cbar_store_changes(struct cbar_store *s, int64_t since, cbar_store_record_fn fn,
                                 void *arg, int64_t *head, struct cbar_diag *d)
{
	enum cbar_err err;
	struct walk w = {fn, arg, since};
	struct head h;
	char b[24];
	const char *p[] = {I64(b, since)};
	if ((err = s->be->begin(s, false, d)))
		return err;
	if ((err = head_get(s, &h, d)) ||
	    (err = q(s, "SELECT " REC_COLS " FROM unlock WHERE seq > ? ORDER BY seq", 1, p,
	             row_walk, &w, d))) {
		s->be->rollback(s);
		return err;
	}
	s->be->rollback(s);
	if (head)
		*head = h.seq > since ? h.seq : since;
	return CBAR_OK;
}

enum cbar_err cbar_store_wait_change(struct cbar_store *s, unsigned timeout_ms,
                                     struct cbar_diag *d)
{
	if (s->be->wait_change)
		return s->be->wait_change(s, timeout_ms, d);
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
	return CBAR_OK;
}

/* ---- API tokens ------------------------------------------------------------ */

/* A token's audit text: its name, role and the first 16 hex digits of its
 * hash (enough to tell tokens apart, never the token). */
static void token_text(const char *name, const char *role, const char *hash, char *buf,
                       size_t cap)
{
	snprintf(buf, cap, "token=%s role=%s sha256=%.16s", name, role, hash);
}

enum cbar_err cbar_store_token_add(struct cbar_store *s, const struct cbar_store_token *t,
                                   const char *who, struct cbar_diag *d)
{
	enum cbar_err err;
	int64_t n = 0;
	char b[24], text[200];
	struct head h;
	const char *pn[] = {t->name};
	const char *pi[] = {t->name, t->role, t->hash, I64(b, t->created)};
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = q(s, "SELECT count(*) FROM token WHERE name = ?", 1, pn, row_int, &n, d)))
		goto fail;
	if (n) {
		err = cbar_diag_set(d, CBAR_TOKEN_NAME, 0, 0, "a token named '%s' exists", t->name);
		goto fail;
	}
	token_text(t->name, t->role, t->hash, text, sizeof text);
	if ((err = q(s, "INSERT INTO token (name, role, hash, created) VALUES (?, ?, ?, ?)", 4, pi,
	             NULL, NULL, d)) ||
	    (err = head_get(s, &h, d)) ||
	    (err = audit_append_text(s, &h, t->created, who, "token-add", 0, 0, "", text, d)))
		goto fail;
	return finish(s, CBAR_OK, h.seq, d);
fail:
	s->be->rollback(s);
	return err;
}

struct token_walk {
	int (*fn)(void *, const struct cbar_store_token *);
	void *arg;
};

static int row_token(void *arg, int n, const char *const *c)
{
	struct token_walk *w = arg;
	struct cbar_store_token t;
	memset(&t, 0, sizeof t);
	if (n < 4)
		return 1;
	copy(t.name, sizeof t.name, c[0] ? c[0] : "");
	copy(t.role, sizeof t.role, c[1] ? c[1] : "");
	copy(t.hash, sizeof t.hash, c[2] ? c[2] : "");
	t.created = strtoll(c[3] ? c[3] : "0", NULL, 10);
	return w->fn(w->arg, &t);
}

enum cbar_err cbar_store_token_list(struct cbar_store *s,
                                    int (*fn)(void *arg, const struct cbar_store_token *t),
                                    void *arg, struct cbar_diag *d)
{
	struct token_walk w = {fn, arg};
	return q(s, "SELECT name, role, hash, created FROM token ORDER BY name", 0, NULL, row_token,
	         &w, d);
}

static int row_token_text(void *arg, int n, const char *const *c)
{
	if (n >= 3)
		token_text(c[0] ? c[0] : "", c[1] ? c[1] : "", c[2] ? c[2] : "", arg, 200);
	return 1;
}

enum cbar_err cbar_store_token_revoke(struct cbar_store *s, const char *name, const char *who,
                                      int64_t now, struct cbar_diag *d)
{
	enum cbar_err err;
	char text[200] = "";
	struct head h;
	const char *p[] = {name};
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = q(s, "SELECT name, role, hash FROM token WHERE name = ?", 1, p, row_token_text,
	             text, d)))
		goto fail;
	if (!text[0]) {
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0, "no token named '%s'", name);
		goto fail;
	}
	if ((err = q(s, "DELETE FROM token WHERE name = ?", 1, p, NULL, NULL, d)) ||
	    (err = head_get(s, &h, d)) ||
	    (err = audit_append_text(s, &h, now, who, "token-revoke", 0, 0, text, "", d)))
		goto fail;
	return finish(s, CBAR_OK, h.seq, d);
fail:
	s->be->rollback(s);
	return err;
}

/* ---- audit ---------------------------------------------------------------- */

#define AUDIT_COLS "seq, at, who, what, subscriber, record, before, after, prev_hash, hash"

static void audit_from_row(struct cbar_store_audit *a, const char *const *c)
{
	memset(a, 0, sizeof *a);
	a->seq = strtoll(c[0] ? c[0] : "0", NULL, 10);
	a->at = strtoll(c[1] ? c[1] : "0", NULL, 10);
	copy(a->who, sizeof a->who, c[2]);
	copy(a->what, sizeof a->what, c[3]);
	a->subscriber = strtoull(c[4] ? c[4] : "0", NULL, 10);
	a->record = strtoll(c[5] ? c[5] : "0", NULL, 10);
	copy(a->before, sizeof a->before, c[6]);
	copy(a->after, sizeof a->after, c[7]);
	copy(a->prev_hash, sizeof a->prev_hash, c[8]);
	copy(a->hash, sizeof a->hash, c[9]);
}

struct audit_walk {
	cbar_store_audit_fn fn;
	void *arg;
};

static int row_audit(void *arg, int n, const char *const *c)
{
	struct audit_walk *w = arg;
	static struct cbar_store_audit a;
	if (n < 10)
		return 1;
	audit_from_row(&a, c);
	return w->fn(w->arg, &a);
}

enum cbar_err cbar_store_audit(struct cbar_store *s, int64_t since, cbar_store_audit_fn fn,
                               void *arg, struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {I64(b, since)};
	struct audit_walk w = {fn, arg};
	return q(s, "SELECT " AUDIT_COLS " FROM audit WHERE at >= ? ORDER BY seq", 1, p, row_audit,
	         &w, d);
}

/* A token as the audit log last left it. */
struct tok_state {
	char name[65], role[16], fp[17];
	int64_t seq; /* of its last entry */
	bool alive, seen;
};

struct verify {
	int64_t next;
	char prev[CBAR_STORE_HASH_HEX];
	int64_t bad;
	struct cbar_diag *d;
	struct cbar_store_audit a;
	char text[640];
	struct tok_state *tok;
	size_t ntok, captok;
};

/* Follow a token-add or token-revoke entry ("token=N role=R sha256=F"). */
static bool verify_token_entry(struct verify *v)
{
	const char *text = !strcmp(v->a.what, "token-add") ? v->a.after : v->a.before;
	struct tok_state t;
	memset(&t, 0, sizeof t);
	if (sscanf(text, "token=%64s role=%15s sha256=%16s", t.name, t.role, t.fp) != 3)
		return false;
	size_t i;
	for (i = 0; i < v->ntok && strcmp(v->tok[i].name, t.name); i++)
		;
	if (i == v->ntok) {
		if (v->ntok == v->captok) {
			size_t cap = v->captok ? v->captok * 2 : 16;
			struct tok_state *nt = realloc(v->tok, cap * sizeof *nt);
			if (!nt)
				return false;
			v->tok = nt;
			v->captok = cap;
		}
		v->ntok++;
	}
	t.alive = !strcmp(v->a.what, "token-add");
	t.seq = v->a.seq;
	v->tok[i] = t;
	return true;
}

static int row_verify(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	char h[CBAR_STORE_HASH_HEX];
	if (n < 10)
		return 1;
	audit_from_row(&v->a, c);
	if (v->a.seq != v->next) {
		v->bad = v->next;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              v->a.seq > v->next ? "entry %" PRId64 " is missing (the next is %" PRId64 ")"
		                                 : "entry %" PRId64 " is out of order (found %" PRId64 ")",
		              v->next, v->a.seq);
		return 1;
	}
	if (strcmp(v->a.prev_hash, v->prev)) {
		v->bad = v->a.seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entry %" PRId64 " does not follow entry %" PRId64
		              " (prev_hash differs): an entry was removed, reordered or changed",
		              v->a.seq, v->a.seq - 1);
		return 1;
	}
	audit_hash(&v->a, h);
	if (strcmp(h, v->a.hash)) {
		v->bad = v->a.seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entry %" PRId64 " was changed: its hash does not match its content",
		              v->a.seq);
		return 1;
	}
	if (!strncmp(v->a.what, "token-", 6) && !verify_token_entry(v)) {
		v->bad = v->a.seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entry %" PRId64 " is a token change that cannot be read", v->a.seq);
		return 1;
	}
	memcpy(v->prev, v->a.hash, sizeof v->prev);
	v->next++;
	return 0;
}

/* Each token against what the audit log last said of it: a token put in
 * the table by hand (an admin role granted outside callbar) shows. */
static int row_verify_token(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	if (n < 3 || !c[0] || !c[1] || !c[2])
		return 1;
	for (size_t i = 0; i < v->ntok; i++) {
		struct tok_state *t = &v->tok[i];
		if (strcmp(t->name, c[0]))
			continue;
		t->seen = true;
		if (t->alive && !strcmp(t->role, c[1]) && !strncmp(t->fp, c[2], 16))
			return 0;
		v->bad = t->seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "token '%s' differs from what its last audit entry (%" PRId64 ") says",
		              c[0], t->seq);
		return 1;
	}
	v->bad = v->next;
	cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
	              "token '%s' has no audit entry: it was put in the registry outside callbar",
	              c[0]);
	return 1;
}

/* Each record against the after text of its last audit entry. */
static int row_verify_rec(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	struct cbar_store_record r;
	if (n < REC_NCOLS + 1)
		return 1;
	rec_from_row(&r, c);
	cbar_store_record_text(&r, v->text, sizeof v->text);
	if (!c[REC_NCOLS] || strcmp(c[REC_NCOLS], v->text)) {
		v->bad = r.id;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              c[REC_NCOLS] ? "record #%" PRId64
		                             " differs from what its last audit entry says"
		                           : "record #%" PRId64 " has no audit entry",
		              r.id);
		return 1;
	}
	return 0;
}

static int row_missing(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	if (n < 1 || !c[0])
		return 1;
	v->bad = strtoll(c[0], NULL, 10);
	cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
	              "record #%" PRId64 " of the audit log is missing from the registry", v->bad);
	return 1;
}

enum cbar_err cbar_store_audit_verify(struct cbar_store *s, int64_t *n, int64_t *bad,
                                      char *head_hash, struct cbar_diag *d)
{
	enum cbar_err err;
	struct verify *v = calloc(1, sizeof *v);
	int64_t head = 0;
	if (!v)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	v->next = 1;
	memcpy(v->prev, genesis, sizeof v->prev);
	v->d = d;
	*bad = 0;
	*n = 0;
	if ((err = s->be->begin(s, false, d)))
		goto out;
	if ((err = q(s, "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", 0, NULL, row_verify, v,
	             d)))
		goto done;
	if (!v->bad && (err = q(s, "SELECT value FROM meta WHERE key = 'head_seq'", 0, NULL,
	                        row_int, &head, d)))
		goto done;
	if (!v->bad && head != v->next - 1) {
		v->bad = v->next;
		cbar_diag_set(d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entries %" PRId64 " to %" PRId64 " are missing (the last change was %" PRId64 ")",
		              v->next, head, head);
	}
	if (!v->bad &&
	    (err = q(s,
	             "SELECT " REC_COLS ", (SELECT a.after FROM audit a WHERE a.record = u.id "
	             "ORDER BY a.seq DESC LIMIT 1) FROM unlock u ORDER BY id",
	             0, NULL, row_verify_rec, v, d)))
		goto done;
	if (!v->bad &&
	    (err = q(s,
	             "SELECT DISTINCT record FROM audit WHERE record <> 0 AND record NOT IN "
	             "(SELECT id FROM unlock) ORDER BY record",
	             0, NULL, row_missing, v, d)))
		goto done;
	if (!v->bad &&
	    (err = q(s, "SELECT name, role, hash FROM token ORDER BY name", 0, NULL,
	             row_verify_token, v, d)))
		goto done;
	for (size_t i = 0; i < v->ntok && !v->bad; i++)
		if (v->tok[i].alive && !v->tok[i].seen) {
			v->bad = v->tok[i].seq;
			cbar_diag_set(d, CBAR_AUDIT_BROKEN, 0, 0,
			              "token '%s' of the audit log (entry %" PRId64
			              ") is missing from the registry",
			              v->tok[i].name, v->tok[i].seq);
		}
done:
	s->be->rollback(s);
	if (!err && v->bad)
		err = CBAR_AUDIT_BROKEN;
	*bad = v->bad;
	*n = v->next - 1;
	if (head_hash)
		memcpy(head_hash, v->prev, CBAR_STORE_HASH_HEX);
out:
	free(v->tok);
	free(v);
	return err;
}

/* ---- import ---------------------------------------------------------------- */

enum cbar_err cbar_store_import_begin(struct cbar_store *s, struct cbar_diag *d)
{
	enum cbar_err err;
	struct head h;
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = head_get(s, &h, d))) {
		s->be->rollback(s);
		return err;
	}
	s->import_seq = h.seq;
	memcpy(s->import_hash, h.hash, sizeof s->import_hash);
	s->in_import = true;
	return CBAR_OK;
}

enum cbar_err cbar_store_import(struct cbar_store *s, const struct cbar_store_record *in,
                                const char *who, int64_t now, struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar_store_record r = *in, have;
	bool found;
	if (!s->in_import)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "import outside import_begin/_end");
	if (r.status == CBAR_STORE_ACTIVE) {
		if ((err = active_get(s, r.subscriber, &have, &found, d)))
			return err;
		if (found)
			return cbar_diag_set(d, CBAR_INVAL, 0, 0,
			                     "+%" PRIu64 " already has an active unlock (#%" PRId64 ")",
			                     r.subscriber, have.id);
	}
	struct head h = {s->import_seq, ""};
	memcpy(h.hash, s->import_hash, sizeof h.hash);
	r.id = r.seq = h.seq + 1;
	if ((err = rec_insert(s, &r, d)) ||
	    (err = audit_append(s, &h, now, who, "import", r.subscriber, r.id, NULL, &r, d)))
		return err;
	s->import_seq = h.seq;
	memcpy(s->import_hash, h.hash, sizeof s->import_hash);
	return CBAR_OK;
}

enum cbar_err cbar_store_import_end(struct cbar_store *s, bool commit, struct cbar_diag *d)
{
	if (!s->in_import)
		return CBAR_OK;
	s->in_import = false;
	if (!commit) {
		s->be->rollback(s);
		return CBAR_OK;
	}
	return finish(s, CBAR_OK, s->import_seq, d);
}
