/* callbar: the in-memory unlock set (unlockset.h). */
#include <stdlib.h>
#include <string.h>

#include "unlockset.h"

#define MAX_SLOTS (1ull << 31)

struct cbar_unlockset {
	struct cbar_unlock *slot;
	size_t mask; /* slots - 1, a power of two minus one */
	size_t n;
};

_Static_assert(sizeof(struct cbar_unlock) == 16, "unlock records are 16 bytes");

static size_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	x ^= x >> 33;
	return (size_t)x;
}

struct cbar_unlockset *cbar_unlockset_new(size_t expect)
{
	struct cbar_unlockset *s = calloc(1, sizeof *s);
	size_t cap = 64;
	while (cap < MAX_SLOTS && cap / 4 * 3 < expect)
		cap *= 2;
	if (s && !(s->slot = calloc(cap, sizeof *s->slot))) {
		free(s);
		return NULL;
	}
	if (s)
		s->mask = cap - 1;
	return s;
}

void cbar_unlockset_free(struct cbar_unlockset *s)
{
	if (s) {
		free(s->slot);
		free(s);
	}
}

size_t cbar_unlockset_count(const struct cbar_unlockset *s)
{
	return s->n;
}

static void put(struct cbar_unlock *slot, size_t mask, const struct cbar_unlock *u)
{
	size_t i = hash64(u->subscriber) & mask;
	while (slot[i].subscriber)
		i = (i + 1) & mask;
	slot[i] = *u;
}

static enum cbar_err grow(struct cbar_unlockset *s)
{
	size_t cap = (s->mask + 1) * 2;
	if (cap > MAX_SLOTS)
		return CBAR_UNLOCK_FULL;
	struct cbar_unlock *ns = calloc(cap, sizeof *ns);
	if (!ns)
		return CBAR_NOMEM;
	for (size_t i = 0; i <= s->mask; i++)
		if (s->slot[i].subscriber)
			put(ns, cap - 1, &s->slot[i]);
	free(s->slot);
	s->slot = ns;
	s->mask = cap - 1;
	return CBAR_OK;
}

enum cbar_err cbar_unlockset_add(struct cbar_unlockset *s, const struct cbar_unlock *u)
{
	if (!u->subscriber)
		return CBAR_INVAL;
	for (size_t i = hash64(u->subscriber) & s->mask; s->slot[i].subscriber;
	     i = (i + 1) & s->mask) {
		struct cbar_unlock *o = &s->slot[i];
		if (o->subscriber == u->subscriber && o->scope == u->scope && o->level == u->level) {
			*o = *u;
			return CBAR_OK;
		}
	}
	if (s->n + 1 > (s->mask + 1) / 4 * 3) {
		enum cbar_err err = grow(s);
		if (err)
			return err;
	}
	put(s->slot, s->mask, u);
	s->n++;
	return CBAR_OK;
}

enum cbar_err cbar_unlockset_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                  size_t cap, size_t *n)
{
	const struct cbar_unlockset *s = ctx;
	size_t k = 0;
	for (size_t i = hash64(subscriber) & s->mask; s->slot[i].subscriber; i = (i + 1) & s->mask)
		if (s->slot[i].subscriber == subscriber && k < cap)
			out[k++] = s->slot[i];
	*n = k;
	return CBAR_OK;
}

int cbar_unlockset_foreach(const struct cbar_unlockset *s,
                           int (*fn)(void *arg, const struct cbar_unlock *u), void *arg)
{
	for (size_t i = 0; i <= s->mask; i++)
		if (s->slot[i].subscriber) {
			int rc = fn(arg, &s->slot[i]);
			if (rc)
				return rc;
		}
	return 0;
}

void cbar_unlockset_prefetch(void *ctx, uint64_t subscriber)
{
	const struct cbar_unlockset *s = ctx;
	__builtin_prefetch(&s->slot[hash64(subscriber) & s->mask]);
}

static const struct {
	const char *word;
	uint8_t scope;
} scopes[] = {
	{"voice", CBAR_SCOPE_VOICE},
	{"sms", CBAR_SCOPE_SMS},
	{"all", CBAR_SCOPE_ALL},
	{"voice-in", CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_IN)},
	{"voice-out", CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_OUT)},
	{"sms-in", CBAR_SCOPE_BIT(CBAR_SMS, CBAR_IN)},
	{"sms-out", CBAR_SCOPE_BIT(CBAR_SMS, CBAR_OUT)},
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next blank-separated field of [*p, e): its start in *f, length out. */
static size_t field(const char **p, const char *e, const char **f)
{
	while (*p < e && is_blank(**p))
		(*p)++;
	*f = *p;
	while (*p < e && !is_blank(**p))
		(*p)++;
	return (size_t)(*p - *f);
}

static enum cbar_err parse_scope(const char *s, size_t n, uint8_t *scope, size_t *bad)
{
	*scope = 0;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		size_t k;
		for (k = 0; k < sizeof scopes / sizeof scopes[0]; k++)
			if (strlen(scopes[k].word) == j - i && !memcmp(scopes[k].word, s + i, j - i))
				break;
		if (k == sizeof scopes / sizeof scopes[0]) {
			*bad = i;
			return CBAR_UNLOCK_SYNTAX;
		}
		*scope |= scopes[k].scope;
		i = j + 1;
	}
	return CBAR_OK;
}

enum cbar_err cbar_unlockset_load(struct cbar_unlockset *s, const struct cbar_numplan *np,
                                  uint16_t country, const char *text, size_t len,
                                  const char *name, struct cbar_diag *d)
{
	unsigned line = 0;
	if (d)
		d->file = name;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		line++;
		const char *ls = p, *ce = memchr(p, '#', (size_t)(e - p));
		if (!ce)
			ce = e;
		const char *f;
		size_t n = field(&p, ce, &f);
		if (n) {
			struct cbar_number num;
			size_t at = 0;
			enum cbar_err err = cbar_number_parse(np, country, f, n, &num, &at);
			if (err)
				return cbar_diag_set(d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(f - ls + at) + 1,
				                     "bad number '%.*s': %s", (int)(n > 40 ? 40 : n), f,
				                     cbar_err_message(err));
			struct cbar_unlock u = {.subscriber = num.e164, .active = 1};
			size_t bad = 0;
			const char *sf, *lf, *xf;
			size_t sn = field(&p, ce, &sf);
			if (!sn)
				return cbar_diag_set(d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(p - ls) + 1,
				                     "missing scope (voice, sms, voice,sms or all)");
			if (parse_scope(sf, sn, &u.scope, &bad))
				return cbar_diag_set(d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(sf - ls + bad) + 1,
				                     "bad scope '%.*s': want voice, sms, voice,sms or all",
				                     (int)(sn > 40 ? 40 : sn), sf);
			size_t ln = field(&p, ce, &lf);
			if (ln == 4 && !memcmp(lf, "self", 4))
				u.level = CBAR_UNLOCK_SELF;
			else if (ln == 8 && !memcmp(lf, "verified", 8))
				u.level = CBAR_UNLOCK_VERIFIED;
			else
				return cbar_diag_set(d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(lf - ls) + 1,
				                     "bad level '%.*s': want self or verified",
				                     (int)(ln > 40 ? 40 : ln), lf);
			/* Optional: expires=EPOCH-SECONDS (UTC), revoked. */
			size_t xn;
			while ((xn = field(&p, ce, &xf))) {
				if (xn == 7 && !memcmp(xf, "revoked", 7)) {
					u.active = 0;
					continue;
				}
				uint64_t v = 0;
				size_t k = 8;
				if (xn > 8 && xn <= 18 && !memcmp(xf, "expires=", 8))
					for (; k < xn && xf[k] >= '0' && xf[k] <= '9'; k++)
						v = v * 10 + (uint64_t)(xf[k] - '0');
				if (k != xn || xn <= 8 || v == 0 || v > UINT32_MAX)
					return cbar_diag_set(d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(xf - ls) + 1,
					                     "unexpected '%.*s' after the level (expires=SECONDS "
					                     "or revoked)",
					                     (int)(xn > 40 ? 40 : xn), xf);
				u.expires = (uint32_t)v;
			}
			if ((err = cbar_unlockset_add(s, &u)))
				return cbar_diag_set(d, err, line, 1, "%s", cbar_err_message(err));
		}
		p = e + 1;
	}
	return CBAR_OK;
}
