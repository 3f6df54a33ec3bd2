/*
 * callbar: the unlock registry (callbar/store.h): open and free, the key's
 * binding, the names of scopes, levels and channels, a record's canonical
 * text, and the helpers the registry's other files share (store_impl.h).
 * The back ends are in sqlite.c and postgres.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_impl.h"

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


/* ---- helpers ------------------------------------------------------------- */

int cbar__row_int(void *arg, int n, const char *const *c)
{
	*(int64_t *)arg = n > 0 && c[0] ? strtoll(c[0], NULL, 10) : 0;
	return 1;
}

int cbar__row_text(void *arg, int n, const char *const *c)
{
	char *out = arg; /* CBAR_STORE_HASH_HEX or more */
	snprintf(out, CBAR_STORE_HASH_HEX, "%s", n > 0 && c[0] ? c[0] : "");
	return 1;
}

/* Copy, cutting to cap - 1 bytes (names and reasons are bounded by the
 * schema's users, not trusted to fit). */
void cbar__copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

void cbar__rec_from_row(struct cbar_store_record *r, const char *const *c)
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
	cbar__copy(r->agent, sizeof r->agent, c[8]);
	cbar__copy(r->doc_type, sizeof r->doc_type, c[9]);
	cbar__copy(r->doc_hash, sizeof r->doc_hash, c[10]);
	r->revoked_at = strtoll(c[11] ? c[11] : "0", NULL, 10);
	cbar__copy(r->revoked_by, sizeof r->revoked_by, c[12]);
	cbar__copy(r->revoked_why, sizeof r->revoked_why, c[13]);
	r->seq = strtoll(c[14] ? c[14] : "0", NULL, 10);
}

/* Percent-escape everything outside a safe set, so the text is one
 * unambiguous line of key=value pairs. */
size_t cbar__esc(char *out, size_t cap, size_t n, const char *s)
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
	n = cbar__esc(buf, cap, n, r->agent);
	n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " doc_type=");
	n = cbar__esc(buf, cap, n, r->doc_type);
	n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0,
	                      " doc_hash=%s revoked_at=%" PRId64 " revoked_by=", r->doc_hash,
	                      r->revoked_at);
	n = cbar__esc(buf, cap, n, r->revoked_by);
	n += (size_t)snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " revoked_why=");
	n = cbar__esc(buf, cap, n, r->revoked_why);
	snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, " seq=%" PRId64, r->seq);
}


enum cbar_err cbar__finish(struct cbar_store *s, enum cbar_err err, int64_t seq,
                            struct cbar_diag *d)
{
	if (!err && s->be->notify)
		err = s->be->notify(s, seq, d);
	if (!err)
		return s->be->commit(s, d);
	s->be->rollback(s);
	return err;
}

/* ---- open, key ---------------------------------------------------------- */

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
	if ((err = cbar__migrate(s, d)))
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

void cbar__key_text(const char *key_id, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "key_id=");
	cbar__esc(buf, cap, n, key_id);
}

/* The first binding is a change with an audit entry, so the key id in meta
 * is covered by the chain (cbar_store_audit_verify checks it). */
enum cbar_err cbar_store_bind_key(struct cbar_store *s, const char *key_id, struct cbar_diag *d)
{
	enum cbar_err err;
	char have[CBAR_STORE_HASH_HEX] = "", text[96];
	struct cbar__head h;
	const char *p[] = {key_id};
	if (!key_id || !key_id[0])
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "no key id to bind");
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = cbar__q(s, "SELECT value FROM meta WHERE key = 'key_id'", 0, NULL,
	                   cbar__row_text, have, d)))
		goto fail;
	if (have[0] && strcmp(have, key_id)) {
		err = cbar_diag_set(d, CBAR_KEY_MISMATCH, 0, 0,
		                    "the registry's documents were hashed with key %s, this key is "
		                    "%s: use the registry's key file",
		                    have, key_id);
		goto fail;
	}
	if (have[0]) {
		s->be->rollback(s);
	} else {
		cbar__key_text(key_id, text, sizeof text);
		if ((err = cbar__q(s, "INSERT INTO meta (key, value) VALUES ('key_id', ?)", 1, p, NULL,
		                   NULL, d)) ||
		    (err = cbar__head_get(s, &h, d)) ||
		    (err = cbar__audit_append_text(s, &h, (int64_t)time(NULL), "callbar", KEY_BIND_WHAT,
		                                   0, 0, "", text, d)))
			goto fail;
		if ((err = cbar__finish(s, CBAR_OK, h.seq, d)))
			return err;
	}
	cbar__copy(s->key_id, sizeof s->key_id, key_id);
	return CBAR_OK;
fail:
	s->be->rollback(s);
	return err;
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
