/*
 * callbar: the counting state of `limit` statements (callbar/limit.h) and
 * the snapshot's limit accessors (rules.h).
 *
 * Each limit has one table: max_keys slots in sets of WAYS, each slot a
 * 24-byte header and room for `threshold` entries beside it.  An entry is
 * an event's time (counting events) or a counterpart and the time it was
 * last seen (counting distinct counterparts).  A key only needs to know
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

#define WAYS 8

struct slot {
	uint64_t key;       /* 0: free (0 is never an E.164 number nor a prefix) */
	int64_t bar_until;  /* barred while an event's time is before it; 0: not */
	uint32_t newest;    /* time of the key's newest counted event */
	uint16_t head, n;   /* events: ring of n sorted times from head */
};

struct table {
	uint64_t id;
	uint32_t threshold, window, bar;
	bool distinct;
	size_t nsets;       /* slots = nsets * WAYS */
	struct slot *slots;
	uint32_t *times;    /* threshold per slot */
	uint64_t *who;      /* distinct: threshold per slot */
	size_t used;
};

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

size_t cbar_limit_key_bytes(const struct cbar_limit_info *l)
{
	return sizeof(struct slot) + (size_t)l->threshold * (l->distinct ? 12 : 4);
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static uint32_t clamp_time(int64_t t)
{
	return t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static void table_release(struct table *t)
{
	free(t->slots);
	free(t->times);
	free(t->who);
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
	t->slots = calloc(nslots, sizeof *t->slots);
	t->times = calloc(nslots, (size_t)t->threshold * sizeof *t->times);
	if (t->distinct)
		t->who = calloc(nslots, (size_t)t->threshold * sizeof *t->who);
	if (!t->slots || !t->times || (t->distinct && !t->who)) {
		table_release(t);
		return CBAR_NOMEM;
	}
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
		b += t->nsets * WAYS * (sizeof(struct slot) + (size_t)t->threshold * (t->distinct ? 12 : 4));
	}
	return b;
}

size_t cbar_limiter_keys(const struct cbar_limiter *lm, size_t limit)
{
	return limit < lm->ntables ? lm->t[limit].used : 0;
}

static void slot_clear(struct slot *s)
{
	s->head = s->n = 0;
}

/* The slot of key in t, made (or taken over) for it at time t0 when it is
 * not there; *evicted when another key had it. */
static size_t find_slot(struct table *t, uint64_t key, int64_t t0, bool *evicted)
{
	*evicted = false;
	size_t base = (size_t)(mix64(key ^ t->id) % t->nsets) * WAYS;
	size_t victim = SIZE_MAX;
	for (size_t i = base; i < base + WAYS; i++) {
		if (t->slots[i].key == key)
			return i;
		if (!t->slots[i].key && victim == SIZE_MAX)
			victim = i;
	}
	if (victim == SIZE_MAX) {
		/* Full: the stalest key that is not barred; else the bar that
		 * ends first. */
		for (size_t i = base; i < base + WAYS; i++) {
			const struct slot *s = &t->slots[i];
			bool barred = t0 < s->bar_until;
			if (victim == SIZE_MAX) {
				victim = i;
				continue;
			}
			const struct slot *v = &t->slots[victim];
			bool vbarred = t0 < v->bar_until;
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
	return victim;
}

/* Events in the window (t - window, t] among the ring's times. */
static uint32_t events_in(const struct table *t, const struct slot *s, const uint32_t *ring,
                          uint32_t now)
{
	uint32_t c = 0;
	int64_t lo = (int64_t)now - t->window;
	for (uint32_t k = s->n; k-- > 0;) {
		uint32_t x = ring[(s->head + k) % t->threshold];
		if (x > now)
			continue; /* a later event, counted before this late one */
		if ((int64_t)x <= lo)
			break;
		c++;
	}
	return c;
}

static void events_add(const struct table *t, struct slot *s, uint32_t *ring, uint32_t now)
{
	uint32_t cap = t->threshold;
	if (s->n == cap) { /* the oldest goes: outside the window (see hit) */
		s->head = (uint16_t)((s->head + 1) % cap);
		s->n--;
	}
	/* Sorted insert from the back: in order, no move at all. */
	uint32_t k = s->n;
	while (k > 0 && ring[(s->head + k - 1) % cap] > now) {
		ring[(s->head + k) % cap] = ring[(s->head + k - 1) % cap];
		k--;
	}
	ring[(s->head + k) % cap] = now;
	s->n++;
}

/* Distinct counterparts seen in (t - window, t], this one included; *at
 * its entry (or -1). */
static uint32_t distinct_in(const struct table *t, const uint64_t *who, const uint32_t *tm,
                            uint64_t c, uint32_t now, long *at)
{
	uint32_t n = 1;
	int64_t lo = (int64_t)now - t->window;
	*at = -1;
	for (uint32_t k = 0; k < t->threshold; k++) {
		if (!who[k])
			continue;
		if (who[k] == c) {
			*at = (long)k;
			continue;
		}
		if (tm[k] <= now && (int64_t)tm[k] > lo)
			n++;
	}
	return n;
}

static void distinct_add(const struct table *t, uint64_t *who, uint32_t *tm, uint64_t c,
                         uint32_t now, long at)
{
	if (at >= 0) {
		if (tm[at] < now)
			tm[at] = now;
		return;
	}
	/* A free entry, else the one seen longest ago: with the count not
	 * over, at most threshold - 1 others are in the window. */
	uint32_t best = 0;
	for (uint32_t k = 0; k < t->threshold; k++) {
		if (!who[k]) {
			best = k;
			break;
		}
		if (tm[k] < tm[best])
			best = k;
	}
	who[best] = c;
	tm[best] = now;
}

enum cbar_err cbar_limiter_hit(struct cbar_limiter *lm, const struct cbar_limit_query *q,
                               struct cbar_limit_answer *a)
{
	memset(a, 0, sizeof *a);
	if (!lm || q->limit >= lm->ntables || !q->key)
		return CBAR_INVAL;
	struct table *t = &lm->t[q->limit];
	bool evicted;
	size_t i = find_slot(t, q->key, q->time, &evicted);
	struct slot *s = &t->slots[i];
	uint32_t now = clamp_time(q->time);
	size_t off = i * (size_t)t->threshold;
	if (evicted && t->distinct)
		memset(t->who + off, 0, (size_t)t->threshold * sizeof *t->who);
	if (q->time < s->bar_until) {
		a->barred = true;
		a->bar_until = s->bar_until;
		a->count = t->threshold + 1;
		return CBAR_OK;
	}
	bool late = s->n && (uint64_t)now + lm->tolerance < s->newest;
	long at = -1;
	uint32_t count = t->distinct
	                         ? distinct_in(t, t->who + off, t->times + off, q->counterpart, now, &at)
	                         : events_in(t, s, t->times + off, now) + 1;
	a->count = count;
	if (late)
		return CBAR_OK; /* beyond the tolerance: decided, not counted */
	if (count > t->threshold) {
		s->bar_until = q->time + (int64_t)t->bar;
		slot_clear(s);
		if (t->distinct)
			memset(t->who + off, 0, (size_t)t->threshold * sizeof *t->who);
		a->barred = true;
		a->new_bar = true;
		a->bar_until = s->bar_until;
		return CBAR_OK;
	}
	if (t->distinct) {
		distinct_add(t, t->who + off, t->times + off, q->counterpart, now, at);
		s->n = 1; /* something is remembered */
	} else {
		events_add(t, s, t->times + off, now);
	}
	if (now > s->newest)
		s->newest = now;
	return CBAR_OK;
}

static enum cbar_err counter_hit(void *ctx, const struct cbar_rules *rules,
                                 const struct cbar_limit_query *q, struct cbar_limit_answer *a)
{
	(void)rules;
	return cbar_limiter_hit(ctx, q, a);
}

struct cbar_limit_counter cbar_limiter_counter(struct cbar_limiter *lm)
{
	return (struct cbar_limit_counter){.hit = counter_hit, .ctx = lm};
}

size_t cbar_limiter_bars(const struct cbar_limiter *lm, int64_t t, cbar_limiter_bar_fn fn,
                         void *ctx)
{
	size_t n = 0;
	for (size_t k = 0; k < lm->ntables; k++) {
		const struct table *tb = &lm->t[k];
		for (size_t i = 0; i < tb->nsets * WAYS; i++)
			if (tb->slots[i].key && t < tb->slots[i].bar_until) {
				if (fn)
					fn(ctx, k, tb->slots[i].key, tb->slots[i].bar_until);
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
	size_t base = (size_t)(mix64(key ^ t->id) % t->nsets) * WAYS;
	for (size_t i = base; i < base + WAYS; i++)
		if (t->slots[i].key == key) {
			bool was = t->slots[i].bar_until != 0;
			t->slots[i].bar_until = 0;
			slot_clear(&t->slots[i]);
			return was;
		}
	return false;
}
