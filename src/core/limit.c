/*
 * callbar: the counting state of `limit` statements (callbar/limit.h) and
 * the snapshot's limit accessors (rules.h).
 *
 * Each limit has one table: max_keys slots in sets of WAYS, each slot a
 * 16-byte header (a set is one 64-byte cache line: finding a key costs one
 * memory access) and, in a second array, a block of room for `threshold`
 * entries: an event's time (counting events: a ring of times, its head and
 * length in the block's first word) or a counterpart and the time it was
 * last seen (counting distinct counterparts: the counterparts, then their
 * times).  A key only needs to know
 * whether more than `threshold` entries fall in the window, so it never
 * keeps more: going over bars the key and empties its entries.
 *
 * Event times are kept rounded into 32 bits (seconds from 1970 to 2106);
 * an event outside that span counts at its edge.
 */
#include <stdlib.h>
#include <string.h>

#include "callbar/limit.h"
#include "rules_impl.h"

#define WAYS 4
#define PF_KEYS 64 /* a batch of cbar_decide_many(), rounded up */

/* A key's top bit says that its block is in use: its events are in its
 * block's ring, or (counting distinct counterparts) its entries are.  Until
 * its second event a key counting events keeps its one event in `newest`,
 * and its block is never touched: most keys are seen once in a window, and
 * a key taken over costs one memory access, not two.  Likewise a key
 * counting distinct counterparts keeps its first one in `first` (beside
 * its set, fetched with it) and its time in `newest` until a second comes:
 * its block, a random line of a table of megabytes, is neither read nor
 * written.  (Writing it cost as much as a read: a store to a line not in
 * the cache holds up every later store until the line comes.) */
#define RING (UINT64_C(1) << 63)
#define KEY(s) ((s)->key & ~RING)

struct slot {
	uint64_t key;       /* 0: free (0 is never an E.164 number nor a prefix); | RING */
	uint32_t bar_until; /* barred while an event's time is before it; 0: not */
	uint32_t newest;    /* time of the key's newest counted event; 0: none */
};

struct table {
	uint64_t id;
	uint32_t threshold, window, bar;
	bool distinct;
	size_t nsets;       /* slots = nsets * WAYS */
	struct slot *slots; /* 64-byte aligned: a set is a cache line */
	uint64_t *first;    /* distinct: a key's first counterpart, a set's 32 bytes */
	unsigned char *data; /* a block of `stride` bytes per slot */
	size_t stride;
	size_t used;
	/* The keys last prefetched and their sets, by the key's low bits: the
	 * hit that follows a prefetch (the same event's, or a batch's of
	 * cbar_decide_many) does not hash its key again. */
	struct {
		uint64_t key;
		size_t set;
	} pf[PF_KEYS];
};

/* Events: the block is a word (ring head | length << 16), then the ring. */
static uint32_t *ring_of(const struct table *t, size_t i)
{
	return (uint32_t *)(void *)(t->data + i * t->stride);
}

/* Distinct: how many entries are used (a word), then the entries, three
 * words each: the counterpart (low, high) and when it was last seen.
 * Entries are used from the first on, so a new key touches the block's
 * first cache line only. */
static uint32_t *used_of(const struct table *t, size_t i)
{
	return (uint32_t *)(void *)(t->data + i * t->stride);
}

#define E_WHO(e, k) ((uint64_t)(e)[3 * (k)] | (uint64_t)(e)[3 * (k) + 1] << 32)
#define E_TM(e, k) ((e)[3 * (k) + 2])

struct cbar_limiter {
	uint32_t tolerance;
	size_t max_keys;
	size_t ntables;
	struct table *t;
};

size_t cbar_rules_limits(const struct cbar_rules *r)
{
	return r ? r->nlimits : 0;
}

const struct cbar_limit_info *cbar_rules_limit(const struct cbar_rules *r, size_t k)
{
	return r && k < r->nlimits ? &r->limits[k] : NULL;
}

const char *cbar_limit_key_text(const struct cbar_limit_info *l, uint64_t key, char *buf,
                                size_t cap)
{
	char d[24];
	size_t n = 0;
	do {
		d[n++] = (char)('0' + key % 10);
		key /= 10;
	} while (key && n < sizeof d);
	size_t k = 0;
	if (cap < 24) {
		if (cap)
			buf[0] = 0;
		return buf;
	}
	buf[k++] = '+';
	while (n)
		buf[k++] = d[--n];
	if (l && l->per == CBAR_PER_PEER_PREFIX)
		buf[k++] = '*';
	buf[k] = 0;
	return buf;
}

/* The block of one key, in words. */
static size_t block_bytes(uint32_t threshold, bool distinct)
{
	size_t b = 4 + (size_t)threshold * (distinct ? 12 : 4);
	return (b + 3) & ~(size_t)3;
}

size_t cbar_limit_key_bytes(const struct cbar_limit_info *l)
{
	return sizeof(struct slot) + (l->distinct ? sizeof(uint64_t) : 0) +
	       block_bytes(l->threshold, l->distinct != 0);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

/* The first place of key's set: the hash scaled to the number of sets by
 * a multiply (Lemire's reduction), not a division, which would cost more
 * than the rest of finding the key. */
__extension__ typedef unsigned __int128 u128;
static size_t set_of(const struct table *t, uint64_t key)
{
	return (size_t)(((u128)mix64(key ^ t->id) * t->nsets) >> 64) * WAYS;
}

/* set_of(), from the last prefetch when it was of key. */
static size_t set_find(const struct table *t, uint64_t key)
{
	size_t k = (size_t)key % PF_KEYS;
	return t->pf[k].key == key ? t->pf[k].set : set_of(t, key);
}

static uint32_t clamp_time(int64_t t)
{
	return t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static void table_release(struct table *t)
{
	free(t->slots);
	free(t->first);
	free(t->data);
	memset(t, 0, sizeof *t);
}

/* calloc: the pages of slots never used are never touched, so a limiter
 * costs what its traffic fills, up to its cap. */
static enum cbar_err table_init(struct table *t, const struct cbar_limit_info *l, size_t max_keys)
{
	memset(t, 0, sizeof *t);
	t->id = l->id;
	t->threshold = l->threshold;
	t->window = l->window;
	t->bar = l->bar;
	t->distinct = l->distinct != 0;
	t->nsets = (max_keys + WAYS - 1) / WAYS;
	size_t nslots = t->nsets * WAYS;
	t->stride = block_bytes(t->threshold, t->distinct);
	t->slots = aligned_alloc(64, nslots * sizeof *t->slots);
	t->data = calloc(nslots, t->stride);
	if (t->distinct)
		t->first = aligned_alloc(64, (nslots * sizeof *t->first + 63) & ~(size_t)63);
	if (!t->slots || !t->data || (t->distinct && !t->first)) {
		table_release(t);
		return CBAR_NOMEM;
	}
	memset(t->slots, 0, nslots * sizeof *t->slots);
	return CBAR_OK;
}

enum cbar_err cbar_limiter_new(const struct cbar_rules *rules, const struct cbar_limiter_config *c,
                               struct cbar_limiter *old, struct cbar_limiter **out)
{
	*out = NULL;
	if (!rules)
		return CBAR_INVAL;
	struct cbar_limiter *lm = calloc(1, sizeof *lm);
	if (!lm)
		return CBAR_NOMEM;
	lm->tolerance = c ? c->tolerance : CBAR_LIMIT_TOLERANCE_DEFAULT;
	lm->max_keys = c && c->max_keys ? c->max_keys : CBAR_LIMIT_MAX_KEYS_DEFAULT;
	lm->ntables = rules->nlimits;
	if (lm->ntables && !(lm->t = calloc(lm->ntables, sizeof *lm->t))) {
		free(lm);
		return CBAR_NOMEM;
	}
	/* First the tables that carry over (taken from old only once every
	 * new one is made, so a failure leaves old as it was). */
	size_t *from = calloc(lm->ntables + 1, sizeof *from);
	if (!from) {
		free(lm->t);
		free(lm);
		return CBAR_NOMEM;
	}
	for (size_t k = 0; k < lm->ntables; k++) {
		const struct cbar_limit_info *l = &rules->limits[k];
		from[k] = SIZE_MAX;
		if (old && old->max_keys == lm->max_keys)
			for (size_t j = 0; j < old->ntables; j++) {
				const struct table *o = &old->t[j];
				bool taken = false;
				for (size_t m = 0; m < k; m++)
					taken |= from[m] == j;
				if (o->slots && !taken && o->id == l->id && o->threshold == l->threshold &&
				    o->window == l->window && o->bar == l->bar &&
				    o->distinct == (l->distinct != 0)) {
					from[k] = j;
					break;
				}
			}
		if (from[k] == SIZE_MAX && table_init(&lm->t[k], l, lm->max_keys)) {
			free(from);
			cbar_limiter_free(lm);
			return CBAR_NOMEM;
		}
	}
	for (size_t k = 0; k < lm->ntables; k++)
		if (from[k] != SIZE_MAX) {
			lm->t[k] = old->t[from[k]];
			memset(&old->t[from[k]], 0, sizeof old->t[0]);
		}
	free(from);
	*out = lm;
	return CBAR_OK;
}

void cbar_limiter_free(struct cbar_limiter *lm)
{
	if (!lm)
		return;
	for (size_t k = 0; k < lm->ntables; k++)
		table_release(&lm->t[k]);
	free(lm->t);
	free(lm);
}

size_t cbar_limiter_bytes(const struct cbar_limiter *lm)
{
	size_t b = sizeof *lm + lm->ntables * sizeof *lm->t;
	for (size_t k = 0; k < lm->ntables; k++) {
		const struct table *t = &lm->t[k];
		b += t->nsets * WAYS *
		     (sizeof(struct slot) + t->stride + (t->distinct ? sizeof(uint64_t) : 0));
	}
	return b;
}

size_t cbar_limiter_keys(const struct cbar_limiter *lm, size_t limit)
{
	return limit < lm->ntables ? lm->t[limit].used : 0;
}

/* Forget a key's entries (its bar stays): its block is left as it is,
 * unread until it is written again. */
static void slot_clear(struct table *t, size_t i)
{
	t->slots[i].key &= ~RING;
	t->slots[i].newest = 0;
}

/* The slot of key in t, made (or taken over) for it at time t0 when it is
 * not there; *evicted when another key had it. */
static size_t find_slot(struct table *t, uint64_t key, int64_t t0, bool *evicted)
{
	*evicted = false;
	size_t base = set_find(t, key);
	size_t victim = SIZE_MAX;
	for (size_t i = base; i < base + WAYS; i++) {
		if (KEY(&t->slots[i]) == key)
			return i;
		if (!t->slots[i].key && victim == SIZE_MAX)
			victim = i;
	}
	if (victim == SIZE_MAX) {
		/* Full: the stalest key that is not barred; else the bar that
		 * ends first. */
		for (size_t i = base; i < base + WAYS; i++) {
			const struct slot *s = &t->slots[i];
			bool barred = t0 < (int64_t)s->bar_until;
			if (victim == SIZE_MAX) {
				victim = i;
				continue;
			}
			const struct slot *v = &t->slots[victim];
			bool vbarred = t0 < (int64_t)v->bar_until;
			if (barred != vbarred ? !barred
			                      : barred ? s->bar_until < v->bar_until : s->newest < v->newest)
				victim = i;
		}
		*evicted = true;
	} else {
		t->used++;
	}
	struct slot *s = &t->slots[victim];
	memset(s, 0, sizeof *s);
	s->key = key;
	if (*evicted)
		slot_clear(t, victim);
	return victim;
}

/* Events in the window (t - window, t] among the ring's times. */
static uint32_t events_in(const struct table *t, const struct slot *s, const uint32_t *block,
                          uint32_t now)
{
	if (!(s->key & RING)) /* none, or the one in newest */
		return s->newest && s->newest <= now && (int64_t)s->newest > (int64_t)now - t->window;
	uint32_t c = 0, head = block[0] & 0xffff, n = block[0] >> 16;
	const uint32_t *ring = block + 1;
	int64_t lo = (int64_t)now - t->window;
	for (uint32_t k = n; k-- > 0;) {
		uint32_t x = ring[(head + k) % t->threshold];
		if (x > now)
			continue; /* a later event, counted before this late one */
		if ((int64_t)x <= lo)
			break;
		c++;
	}
	return c;
}

static void ring_add(const struct table *t, uint32_t *block, uint32_t now);

static void events_add(const struct table *t, struct slot *s, uint32_t *block, uint32_t now)
{
	if (!(s->key & RING)) {
		if (!s->newest)
			return; /* the first: newest holds it */
		block[0] = 0;
		ring_add(t, block, s->newest);
		s->key |= RING;
	}
	ring_add(t, block, now);
}

static void ring_add(const struct table *t, uint32_t *block, uint32_t now)
{
	uint32_t cap = t->threshold, head = block[0] & 0xffff, n = block[0] >> 16;
	uint32_t *ring = block + 1;
	if (n == cap) { /* the oldest goes: outside the window (see hit) */
		head = (head + 1) % cap;
		n--;
	}
	/* Sorted insert from the back: in order, no move at all. */
	uint32_t k = n;
	while (k > 0 && ring[(head + k - 1) % cap] > now) {
		ring[(head + k) % cap] = ring[(head + k - 1) % cap];
		k--;
	}
	ring[(head + k) % cap] = now;
	block[0] = head | (n + 1) << 16;
}

/* Distinct counterparts seen in (t - window, t], this one included; *at
 * its entry (or -1). */
static uint32_t distinct_in(const struct table *t, uint32_t used, const uint32_t *e, uint64_t c,
                            uint32_t now, long *at)
{
	uint32_t n = 1;
	int64_t lo = (int64_t)now - t->window;
	*at = -1;
	for (uint32_t k = 0; k < used; k++) {
		if (E_WHO(e, k) == c) {
			*at = (long)k;
			continue;
		}
		if (E_TM(e, k) <= now && (int64_t)E_TM(e, k) > lo)
			n++;
	}
	return n;
}

static void distinct_add(const struct table *t, uint32_t *used, uint32_t *e, uint64_t c,
                         uint32_t now, long at)
{
	if (at >= 0) {
		if (E_TM(e, at) < now)
			E_TM(e, at) = now;
		return;
	}
	/* The next free entry, else the one seen longest ago: with the count
	 * not over, at most threshold - 1 others are in the window. */
	uint32_t best = 0;
	if (*used < t->threshold) {
		best = (*used)++;
	} else {
		for (uint32_t k = 1; k < t->threshold; k++)
			if (E_TM(e, k) < E_TM(e, best))
				best = k;
	}
	e[3 * best] = (uint32_t)c;
	e[3 * best + 1] = (uint32_t)(c >> 32);
	E_TM(e, best) = now;
}

enum cbar_err cbar_limiter_hit(struct cbar_limiter *lm, const struct cbar_limit_query *q,
                               struct cbar_limit_answer *a)
{
	memset(a, 0, sizeof *a);
	if (!lm || q->limit >= lm->ntables || !q->key || (q->key & RING))
		return CBAR_INVAL;
	struct table *t = &lm->t[q->limit];
	bool evicted;
	size_t i = find_slot(t, q->key, q->time, &evicted);
	struct slot *s = &t->slots[i];
	uint32_t now = clamp_time(q->time);
	uint32_t *used = t->distinct ? used_of(t, i) : NULL;
	uint32_t *e = used ? used + 1 : NULL, *ring = ring_of(t, i);
	if (now < s->bar_until) {
		a->barred = true;
		a->bar_until = s->bar_until;
		a->count = t->threshold + 1;
		return CBAR_OK;
	}
	/* Every entry of the key is out of the window of any event still to
	 * be counted (one that is not later than the tolerance): forget them,
	 * and the key counts from its header again, its block not read. */
	if (s->newest && (int64_t)s->newest + t->window + lm->tolerance <= (int64_t)now)
		slot_clear(t, i);
	bool late = s->newest && (uint64_t)now + lm->tolerance < s->newest;
	long at = -1;
	uint32_t count;
	if (!used)
		count = events_in(t, s, ring, now) + 1;
	else if (s->key & RING)
		count = distinct_in(t, *used, e, q->counterpart, now, &at);
	else /* none, or one in first and newest */
		count = 1 + (s->newest && t->first[i] != q->counterpart && s->newest <= now &&
		             (int64_t)s->newest > (int64_t)now - t->window);
	a->count = count;
	if (late)
		return CBAR_OK; /* beyond the tolerance: decided, not counted */
	if (count > t->threshold) {
		s->bar_until = clamp_time(q->time + (int64_t)t->bar);
		slot_clear(t, i);
		a->barred = true;
		a->new_bar = true;
		a->bar_until = s->bar_until;
		return CBAR_OK;
	}
	if (used) {
		if (!(s->key & RING) && (!s->newest || t->first[i] == q->counterpart)) {
			t->first[i] = q->counterpart; /* newest, below, is its time */
		} else {
			if (!(s->key & RING)) { /* the second: both to the block */
				*used = 1;
				e[0] = (uint32_t)t->first[i];
				e[1] = (uint32_t)(t->first[i] >> 32);
				e[2] = s->newest;
				s->key |= RING;
			}
			distinct_add(t, used, e, q->counterpart, now, at);
		}
	} else
		events_add(t, s, ring, now);
	if (now > s->newest)
		s->newest = now;
	return CBAR_OK;
}

void cbar_limiter_prefetch(struct cbar_limiter *lm, size_t limit, uint64_t key)
{
	if (limit >= lm->ntables || !lm->t[limit].slots)
		return;
	struct table *t = &lm->t[limit];
	size_t base = set_of(t, key);
	t->pf[key % PF_KEYS].key = key;
	t->pf[key % PF_KEYS].set = base;
	__builtin_prefetch(&t->slots[base], 1);
	if (t->first)
		__builtin_prefetch(&t->first[base], 1);
}

static void counter_prefetch(void *ctx, const struct cbar_rules *rules, uint32_t limit,
                             uint64_t key)
{
	(void)rules;
	cbar_limiter_prefetch(ctx, limit, key);
}

static enum cbar_err counter_hit(void *ctx, const struct cbar_rules *rules,
                                 const struct cbar_limit_query *q, struct cbar_limit_answer *a)
{
	(void)rules;
	return cbar_limiter_hit(ctx, q, a);
}

struct cbar_limit_counter cbar_limiter_counter(struct cbar_limiter *lm)
{
	return (struct cbar_limit_counter){.hit = counter_hit, .ctx = lm, .prefetch = counter_prefetch};
}

size_t cbar_limiter_bars(const struct cbar_limiter *lm, int64_t t, cbar_limiter_bar_fn fn,
                         void *ctx)
{
	size_t n = 0;
	for (size_t k = 0; k < lm->ntables; k++) {
		const struct table *tb = &lm->t[k];
		for (size_t i = 0; i < tb->nsets * WAYS; i++)
			if (tb->slots[i].key && t < (int64_t)tb->slots[i].bar_until) {
				if (fn)
					fn(ctx, k, KEY(&tb->slots[i]), tb->slots[i].bar_until);
				n++;
			}
	}
	return n;
}

bool cbar_limiter_lift(struct cbar_limiter *lm, size_t limit, uint64_t key)
{
	if (limit >= lm->ntables || !key)
		return false;
	struct table *t = &lm->t[limit];
	size_t base = set_of(t, key);
	for (size_t i = base; i < base + WAYS; i++)
		if (KEY(&t->slots[i]) == key) {
			bool was = t->slots[i].bar_until != 0;
			t->slots[i].bar_until = 0;
			slot_clear(t, i);
			return was;
		}
	return false;
}
