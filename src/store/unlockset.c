/*
 * callbar: the in-memory unlock set (unlockset.h).
 *
 * The table is an array of 64-byte buckets, one cache line each, holding
 * five records: five 8-byte keys (the subscriber's E.164 value in the low
 * 50 bits, scope, level and active above it) and five 4-byte expiries.
 * A subscriber has a home bucket and a second one (two hashes scaled to
 * the bucket count, so the count need not be a power of two).  A record
 * goes home when there is room; else one of 31 bits of the home's meta
 * word, picked by the subscriber's hash, is set ("some record of this home
 * with this fingerprint lives away"), and the record goes in the second
 * bucket or, when that is full, in the next bucket with room after it,
 * every full bucket passed being marked overflowed.  A lookup reads the
 * home line and stops there unless the subscriber's fingerprint bit is
 * set; then it reads the run from the second bucket, going on past a
 * bucket only when it is marked.
 *
 * So a lookup reads one line, and the decision path one cache miss, for
 * nearly every subscriber: at the target load factor (0.85) about one
 * record in seven lives away from home, and a subscriber with no record
 * (most of a country) reads 1.04 lines on average, one with records 1.44
 * (bench/unlockset_sim.py simulates it).  The
 * earlier layout put a record in the emptier of its two buckets and read
 * both lines on every lookup: two misses, which at 100 million records (a
 * table far past the caches) halved the decide rate.  A record costs
 * 64 / (5 x 0.85) = 15.1 bytes either way.  (One bucket with linear
 * probing, tried first, read 4.2 lines a lookup at that load: clusters.)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "unlockset.h"

#define PER          5
#define SUB_BITS     50
#define SUB_MASK     ((1ull << SUB_BITS) - 1)
#define SCOPE_SHIFT  50 /* 4 bits */
#define LEVEL_SHIFT  54 /* 2 bits */
#define ACTIVE_SHIFT 56
#define OVERFLOWED   1u /* meta bit 0; bits 1 to 31: the away fingerprints */
/* The load factor a set is sized for, and the one past which it grows. */
#define FIT_LOAD   0.85
#define MAX_LOAD   0.9
#define HUGE_ALIGN (2u << 20)

struct bucket {
	uint64_t key[PER];
	uint32_t exp[PER];
	uint32_t meta;
};
_Static_assert(sizeof(struct bucket) == 64, "a bucket is one cache line");

struct cbar_unlockset {
	struct bucket *b;
	size_t nb; /* buckets, at least 1 */
	size_t n;  /* records */
};

static size_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	x ^= x >> 33;
	return (size_t)x;
}

__extension__ typedef unsigned __int128 u128;

/* The home and the second bucket, hashes scaled to nb without a division,
 * and the subscriber's away bit in its home's meta word.  The bit comes
 * from the low bits of the second hash, which the scaling (the product's
 * high half) hardly depends on. */
static inline void homes(uint64_t subscriber, size_t nb, size_t h[2], uint32_t *away)
{
	uint64_t x = hash64(subscriber), y = hash64(x ^ 0x5bd1e9955bd1e995u);
	h[0] = (size_t)(((u128)x * nb) >> 64);
	h[1] = (size_t)(((u128)y * nb) >> 64);
	*away = 2u << (uint32_t)(y % 31u);
}

static inline unsigned used(const struct bucket *b)
{
	unsigned k = 0;
	for (unsigned j = 0; j < PER; j++)
		k += b->key[j] != 0;
	return k;
}

static inline uint64_t pack(const struct cbar_unlock *u)
{
	return u->subscriber | (uint64_t)(u->scope & 15u) << SCOPE_SHIFT |
	       (uint64_t)(u->level & 3u) << LEVEL_SHIFT |
	       (uint64_t)(u->active != 0) << ACTIVE_SHIFT;
}

static inline struct cbar_unlock unpack(uint64_t key, uint32_t exp)
{
	struct cbar_unlock u = {
	    .subscriber = key & SUB_MASK,
	    .expires = exp,
	    .scope = (uint8_t)(key >> SCOPE_SHIFT & 15u),
	    .level = (uint8_t)(key >> LEVEL_SHIFT & 3u),
	    .active = (uint8_t)(key >> ACTIVE_SHIFT & 1u),
	};
	return u;
}

/* Buckets for n records at the fitted load factor. */
static size_t buckets_for(size_t n)
{
	size_t nb = (size_t)((double)n / (PER * FIT_LOAD)) + 1;
	return nb < 4 ? 4 : nb;
}

/* A zeroed table; a large one on huge pages where the kernel gives them,
 * which saves the decision path a TLB miss on top of the cache miss. */
static struct bucket *table_alloc(size_t nb, bool zero)
{
	size_t bytes = nb * sizeof(struct bucket);
	if (nb > SIZE_MAX / sizeof(struct bucket))
		return NULL;
	struct bucket *t;
	if (bytes >= HUGE_ALIGN) {
		bytes = (bytes + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
		t = aligned_alloc(HUGE_ALIGN, bytes);
#ifdef MADV_HUGEPAGE
		if (t)
			madvise(t, bytes, MADV_HUGEPAGE);
#endif
	} else {
		t = aligned_alloc(64, bytes);
	}
	if (t && zero)
		memset(t, 0, bytes);
	return t;
}

static struct cbar_unlockset *set_new(size_t nb)
{
	struct cbar_unlockset *s = calloc(1, sizeof *s);
	if (s && !(s->b = table_alloc(nb, true))) {
		free(s);
		return NULL;
	}
	if (s)
		s->nb = nb;
	return s;
}

struct cbar_unlockset *cbar_unlockset_new(size_t expect)
{
	return set_new(buckets_for(expect));
}

void cbar_unlockset_free(struct cbar_unlockset *s)
{
	if (s) {
		free(s->b);
		free(s);
	}
}

size_t cbar_unlockset_count(const struct cbar_unlockset *s)
{
	return s->n;
}

size_t cbar_unlockset_bytes(const struct cbar_unlockset *s)
{
	return sizeof *s + s->nb * sizeof(struct bucket);
}

/* Put a record known to be new; the table has room. */
static void put(struct bucket *b, size_t nb, uint64_t key, uint32_t exp)
{
	size_t h[2];
	uint32_t away;
	homes(key & SUB_MASK, nb, h, &away);
	size_t i = h[0];
	if (used(&b[i]) == PER) {
		b[i].meta |= away;
		i = h[1];
	}
	for (;;) {
		for (unsigned j = 0; j < PER; j++)
			if (!b[i].key[j]) {
				b[i].key[j] = key;
				b[i].exp[j] = exp;
				return;
			}
		b[i].meta |= OVERFLOWED;
		i = i + 1 == nb ? 0 : i + 1;
	}
}

static enum cbar_err rebuild(struct cbar_unlockset *s, size_t nb)
{
	struct bucket *t = table_alloc(nb, true);
	if (!t)
		return CBAR_NOMEM;
	for (size_t i = 0; i < s->nb; i++)
		for (unsigned j = 0; j < PER; j++)
			if (s->b[i].key[j])
				put(t, nb, s->b[i].key[j], s->b[i].exp[j]);
	free(s->b);
	s->b = t;
	s->nb = nb;
	return CBAR_OK;
}

enum cbar_err cbar_unlockset_fit(struct cbar_unlockset *s)
{
	size_t nb = buckets_for(s->n);
	if (nb >= s->nb)
		return CBAR_OK;
	return rebuild(s, nb);
}

/* Run BODY on every slot where subscriber's records may be: its home, and
 * when the home's meta has the subscriber's away bit, the run from the
 * second bucket (on past a bucket while it is marked overflowed), less the
 * home if the run crosses it (seen already; none of the subscriber's
 * records went there by the run, since the home was full when they went
 * away).  The run is bounded by the bucket count, so that no table, even a
 * damaged one, makes a lookup loop. */
#define PROBE(s, subscriber, b, j, BODY)                                                           \
	do {                                                                                       \
		size_t h_[2];                                                                      \
		uint32_t away_;                                                                    \
		homes(subscriber, (s)->nb, h_, &away_);                                            \
		b = &(s)->b[h_[0]];                                                                \
		for (unsigned j = 0; j < PER; j++)                                                 \
			BODY if (!(b->meta & away_)) break;                                        \
		size_t i_ = h_[1];                                                                 \
		for (size_t left_ = (s)->nb; left_; left_--) {                                     \
			b = &(s)->b[i_];                                                           \
			if (i_ != h_[0])                                                           \
				for (unsigned j = 0; j < PER; j++)                                 \
					BODY if (!(b->meta & OVERFLOWED)) break;                   \
			i_ = i_ + 1 == (s)->nb ? 0 : i_ + 1;                                       \
		}                                                                                  \
	} while (0)

enum cbar_err cbar_unlockset_add(struct cbar_unlockset *s, const struct cbar_unlock *u)
{
	if (!u->subscriber || u->subscriber > SUB_MASK)
		return CBAR_INVAL;
	uint64_t key = pack(u), same = SUB_MASK | 15ull << SCOPE_SHIFT | 3ull << LEVEL_SHIFT;
	struct bucket *b;
	uint64_t *hit = NULL;
	uint32_t *hit_exp = NULL;
	PROBE(s, u->subscriber, b, j, {
		if (!hit && b->key[j] && !((b->key[j] ^ key) & same)) {
			hit = &b->key[j];
			hit_exp = &b->exp[j];
		}
	});
	if (hit) {
		*hit = key;
		*hit_exp = u->expires;
		return CBAR_OK;
	}
	if ((double)(s->n + 1) > (double)s->nb * PER * MAX_LOAD) {
		enum cbar_err err = rebuild(s, s->nb * 2);
		if (err)
			return err;
	}
	put(s->b, s->nb, key, u->expires);
	s->n++;
	return CBAR_OK;
}

/* How far ahead cbar_unlockset_add_many() prefetches: enough inserts to
 * cover a memory latency (each is a few tens of ns once its lines are in),
 * few enough that the lines are still in L1 when their insert comes. */
#define ADD_AHEAD 16

enum cbar_err cbar_unlockset_add_many(struct cbar_unlockset *s, const struct cbar_unlock *u,
                                      size_t n, size_t *done)
{
	/* Inserted one by one, in order, by cbar_unlockset_add(): the same
	 * set as n calls would make.  What differs is that the home bucket of
	 * the record ADD_AHEAD further on is asked for while this one is
	 * inserted, so that the random misses into the table overlap instead
	 * of coming one after another.  Only the home: most records go there
	 * and the second bucket is read only when the home is full or holds
	 * the record's away bit; prefetching it too cost as much as it saved
	 * (1M random inserts, CPU time: 52-61 ns a record one by one, 54-57
	 * with both prefetched, 31-33 with the home only).  A table that
	 * grows meanwhile only makes some prefetches useless.
	 * The prefetch is written here, not in a helper: GCC finds a function
	 * that only prefetches free of side effects and drops its calls. */
	for (size_t i = 0; i < n + ADD_AHEAD; i++) {
		if (i < n && u[i].subscriber && u[i].subscriber <= SUB_MASK) {
			size_t h[2];
			uint32_t away;
			homes(u[i].subscriber, s->nb, h, &away);
			__builtin_prefetch(&s->b[h[0]]);
		}
		if (i < ADD_AHEAD)
			continue;
		size_t k = i - ADD_AHEAD;
		enum cbar_err err = cbar_unlockset_add(s, &u[k]);
		if (err) {
			if (done)
				*done = k;
			return err;
		}
	}
	if (done)
		*done = n;
	return CBAR_OK;
}

struct cbar_unlockset *cbar_unlockset_clone(const struct cbar_unlockset *s, size_t more)
{
	if ((double)(s->n + more) > (double)s->nb * PER * MAX_LOAD) {
		/* No room: a fitted table for all, filled record by record. */
		struct cbar_unlockset *c = set_new(buckets_for(s->n + more));
		if (!c)
			return NULL;
		for (size_t i = 0; i < s->nb; i++)
			for (unsigned j = 0; j < PER; j++)
				if (s->b[i].key[j])
					put(c->b, c->nb, s->b[i].key[j], s->b[i].exp[j]);
		c->n = s->n;
		return c;
	}
	struct cbar_unlockset *c = calloc(1, sizeof *c);
	if (c && !(c->b = table_alloc(s->nb, false))) {
		free(c);
		return NULL;
	}
	if (c) {
		memcpy(c->b, s->b, s->nb * sizeof *s->b);
		c->nb = s->nb;
		c->n = s->n;
	}
	return c;
}

size_t cbar_unlockset_remove(struct cbar_unlockset *s, uint64_t subscriber)
{
	size_t k = 0;
	struct bucket *b;
	/* A freed slot keeps the overflow marks and away bits it leaves: they
	 * only ever make a lookup read one bucket more, never miss a record. */
	PROBE(s, subscriber, b, j, {
		if (b->key[j] && (b->key[j] & SUB_MASK) == subscriber) {
			b->key[j] = 0;
			b->exp[j] = 0;
			k++;
		}
	});
	s->n -= k;
	return k;
}

enum cbar_err cbar_unlockset_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                  size_t cap, size_t *n)
{
	const struct cbar_unlockset *s = ctx;
	const struct bucket *b;
	size_t k = 0;
	*n = 0;
	if (!subscriber) /* never a number; an empty slot would match it */
		return CBAR_OK;
	PROBE(s, subscriber, b, j, {
		if ((b->key[j] & SUB_MASK) == subscriber && k < cap)
			out[k++] = unpack(b->key[j], b->exp[j]);
	});
	*n = k;
	return CBAR_OK;
}

int cbar_unlockset_foreach(const struct cbar_unlockset *s,
                           int (*fn)(void *arg, const struct cbar_unlock *u), void *arg)
{
	for (size_t i = 0; i < s->nb; i++)
		for (unsigned j = 0; j < PER; j++)
			if (s->b[i].key[j]) {
				struct cbar_unlock u = unpack(s->b[i].key[j], s->b[i].exp[j]);
				int rc = fn(arg, &u);
				if (rc)
					return rc;
			}
	return 0;
}

void cbar_unlockset_prefetch(void *ctx, uint64_t subscriber)
{
	const struct cbar_unlockset *s = ctx;
	size_t h[2];
	uint32_t away;
	/* The home only: the second bucket is read for few subscribers, and a
	 * line fetched for nothing takes a slot of the few misses the core
	 * keeps in flight. */
	homes(subscriber, s->nb, h, &away);
	__builtin_prefetch(&s->b[h[0]]);
}

const void *cbar__unlockset_image(const struct cbar_unlockset *s, size_t *bytes, size_t *nbuckets)
{
	*bytes = s->nb * sizeof(struct bucket);
	*nbuckets = s->nb;
	return s->b;
}

void *cbar__unlockset_image_alloc(size_t nbuckets)
{
	return nbuckets ? table_alloc(nbuckets, false) : NULL;
}

enum cbar_err cbar__unlockset_adopt(void *image, size_t nbuckets, size_t n,
                                    struct cbar_unlockset **out)
{
	struct bucket *b = image;
	size_t have = 0;
	for (size_t i = 0; i < nbuckets; i++)
		for (unsigned j = 0; j < PER; j++)
			if (b[i].key[j]) {
				if (!(b[i].key[j] & SUB_MASK) || b[i].key[j] >> (ACTIVE_SHIFT + 1))
					return CBAR_INVAL;
				have++;
			}
	if (!nbuckets || have != n || (double)n > (double)nbuckets * PER * MAX_LOAD)
		return CBAR_INVAL;
	struct cbar_unlockset *s = calloc(1, sizeof *s);
	if (!s)
		return CBAR_NOMEM;
	s->b = b;
	s->nb = nbuckets;
	s->n = n;
	*out = s;
	return CBAR_OK;
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
			if (strlen(scopes[k].word) == j - i &&
			    !memcmp(scopes[k].word, s + i, j - i))
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

/* Records the parser has read and not yet handed to its sink: handed over
 * in runs, so that the sink (cbar_unlockset_add_many() for a load) works
 * on many at once. */
struct load_run {
	struct cbar_unlock u[CBAR_UNLOCK_RUN];
	unsigned line[CBAR_UNLOCK_RUN];
	size_t n;
};

static enum cbar_err load_flush(struct load_run *r, cbar_unlock_sink sink, void *arg,
                                struct cbar_diag *d)
{
	enum cbar_err err = r->n ? sink(arg, r->u, r->line, r->n, d) : CBAR_OK;
	r->n = 0;
	return err;
}

enum cbar_err cbar_unlockset_parse(const struct cbar_numplan *np, uint16_t country,
                                   const char *text, size_t len, const char *name,
                                   cbar_unlock_sink sink, void *arg, unsigned *lines,
                                   struct cbar_diag *d)
{
	unsigned line = 0;
	struct load_run *run = malloc(sizeof *run);
	enum cbar_err err = CBAR_OK;
	if (d)
		d->file = name;
	if (!run)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	run->n = 0;
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
			err = cbar_number_parse(np, country, f, n, &num, &at);
			if (err) {
				err = cbar_diag_set(
				    d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(f - ls + at) + 1,
				    "bad number '%.*s': %s", (int)(n > 40 ? 40 : n), f,
				    cbar_err_message(err));
				goto fail;
			}
			struct cbar_unlock u = {.subscriber = num.e164, .active = 1};
			size_t bad = 0;
			const char *sf, *lf, *xf;
			size_t sn = field(&p, ce, &sf);
			if (!sn) {
				err = cbar_diag_set(
				    d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(p - ls) + 1,
				    "missing scope (voice, sms, voice,sms or all)");
				goto fail;
			}
			if (parse_scope(sf, sn, &u.scope, &bad)) {
				err = cbar_diag_set(
				    d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(sf - ls + bad) + 1,
				    "bad scope '%.*s': want voice, sms, voice,sms or all",
				    (int)(sn > 40 ? 40 : sn), sf);
				goto fail;
			}
			size_t ln = field(&p, ce, &lf);
			if (ln == 4 && !memcmp(lf, "self", 4))
				u.level = CBAR_UNLOCK_SELF;
			else if (ln == 8 && !memcmp(lf, "verified", 8))
				u.level = CBAR_UNLOCK_VERIFIED;
			else {
				err = cbar_diag_set(d, CBAR_UNLOCK_SYNTAX, line,
				                    (unsigned)(lf - ls) + 1,
				                    "bad level '%.*s': want self or verified",
				                    (int)(ln > 40 ? 40 : ln), lf);
				goto fail;
			}
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
				if (k != xn || xn <= 8 || v == 0 || v > UINT32_MAX) {
					err = cbar_diag_set(
					    d, CBAR_UNLOCK_SYNTAX, line, (unsigned)(xf - ls) + 1,
					    "unexpected '%.*s' after the level (expires=SECONDS "
					    "or revoked)",
					    (int)(xn > 40 ? 40 : xn), xf);
					goto fail;
				}
				u.expires = (uint32_t)v;
			}
			run->u[run->n] = u;
			run->line[run->n++] = line;
			if (run->n == CBAR_UNLOCK_RUN && (err = load_flush(run, sink, arg, d)))
				goto fail;
		}
		p = e + 1;
	}
	err = load_flush(run, sink, arg, d);
	if (lines)
		*lines = line;
	free(run);
	return err;
fail:
	free(run);
	return err;
}

/* A load's sink: the records into the set; a failure names the line of
 * the record that failed. */
static enum cbar_err add_run(void *arg, const struct cbar_unlock *u, const unsigned *line, size_t n,
                             struct cbar_diag *d)
{
	size_t done = 0;
	enum cbar_err err = cbar_unlockset_add_many(arg, u, n, &done);
	if (err)
		return cbar_diag_set(d, err, line[done], 1, "%s", cbar_err_message(err));
	return CBAR_OK;
}

enum cbar_err cbar_unlockset_load(struct cbar_unlockset *s, const struct cbar_numplan *np,
                                  uint16_t country, const char *text, size_t len, const char *name,
                                  struct cbar_diag *d)
{
	return cbar_unlockset_parse(np, country, text, len, name, add_run, s, NULL, d);
}
