/* callbar: the names of scopes, levels, channels and statuses, a record's
 * canonical text (what the audit chain hashes), and the row readers every
 * part of the store shares (store_impl.h); a leaf, so the store's files
 * depend on it and on nothing in a circle. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "callbar/scope.h"
#include "store_impl.h"

/* ---- names ------------------------------------------------------------- */

/* One table of scope words for the whole of callbar (callbar/scope.h):
 * the registry's audit entries keep its form. */
unsigned cbar_store_scope_parse(const char *s)
{
	return s ? cbar_scope_parse(s, strlen(s)) : 0;
}

char *cbar_store_scope_str(unsigned scope, char *buf, size_t cap)
{
	return cbar_scope_str(scope, buf, cap);
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

void cbar_store_record_text(const struct cbar_store_record *r, char *buf, size_t cap)
{
	char sc[64];
	size_t n = (size_t)snprintf(
	    buf, cap,
	    "id=%" PRId64 " subscriber=+%" PRIu64 " scope=%s level=%s status=%s created=%" PRId64
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

void cbar__key_text(const char *key_id, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "key_id=");
	cbar__esc(buf, cap, n, key_id);
}
