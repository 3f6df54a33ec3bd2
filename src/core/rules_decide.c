/*
 * callbar: deciding events against a compiled snapshot (rules.h), the slow
 * path that explains, and lint.
 *
 * Truth table of one rule for an event (first match wins):
 *   conditions hold | unless  | record applies | result
 *   no              | -       | -              | next rule
 *   yes             | none    | -              | the rule decides
 *   yes             | some    | no             | the rule decides
 *   yes             | some    | yes            | next rule; the record is named
 *   lookup fails    | some    | ?              | error (never a guess)
 * The file's last rule is unconditional (the compiler insists), so some
 * rule always decides.
 */
#include <stdio.h>
#include <string.h>

#include "callbar/civil.h"
#include "rules_impl.h"

#define MAX_UNLOCKS 8 /* records per subscriber considered */

int32_t cbar_rules_tz_offset(const struct cbar_rules *r)
{
	return r->tz;
}

size_t cbar_rules_count(const struct cbar_rules *r)
{
	return r->nrules;
}

unsigned cbar_rules_line(const struct cbar_rules *r, size_t i)
{
	return i < r->nrules ? r->rules[i].line : 0;
}

const char *cbar_rules_reason(const struct cbar_rules *r, size_t i)
{
	return i < r->nrules ? r->rules[i].reason : NULL;
}

const char *cbar_rules_file(const struct cbar_rules *r)
{
	return r->file;
}

bool cbar_rules_names_region(const struct cbar_rules *r, size_t i)
{
	return i < r->nrules && !r->rules[i].any_region;
}

int64_t cbar_rules_since(const struct cbar_rules *r, size_t i)
{
	/* a rule without `since` holds from the beginning of time (INT64_MIN) */
	return i < r->nrules && r->rules[i].since != INT64_MIN ? r->rules[i].since : 0;
}

bool cbar_rules_blocks(const struct cbar_rules *r, size_t i)
{
	return i < r->nrules && r->rules[i].block;
}

bool cbar_unlock_applies(const struct cbar_unlock *u, enum cbar_service s,
                         enum cbar_direction d, int64_t t, enum cbar_unlock_level level)
{
	return u->active && (u->scope & CBAR_SCOPE_BIT(s, d)) && (!u->expires || t < u->expires) &&
	       u->level >= level;
}

/* Whether the peer is an emergency number: the numbering data's, or the
 * file's list read in the subscriber's country (any country when the
 * event has no subscriber).  An unknown peer is not one. */
bool cbar__is_emergency(const struct cbar_rules *rs, const struct cbar_event *ev)
{
	const struct cbar_number *p = ev->peer;
	if (!p)
		return false;
	if (p->flags & CBAR_NUM_EMERGENCY)
		return true;
	if (!rs->nemerg || (ev->subscriber && p->cc != ev->subscriber->cc))
		return false;
	const char *nsn = cbar_number_national(p);
	size_t n = (size_t)(p->ndigits - p->cc_len);
	for (size_t i = 0; i < rs->nemerg; i++)
		if (rs->emerg[i].len == n && !memcmp(rs->emerg[i].digits, nsn, n))
			return true;
	return false;
}

bool cbar__rule_peer(const struct cbar_rules *rs, const struct cbar__rule *r,
                     const struct cbar_number *peer)
{
	if (!peer)
		return r->set < 0;
	if (r->set < 0)
		return !r->unknown && !r->alnum;
	return cbar_zone_has(&rs->sets[r->set].z, peer) ^ r->neg;
}

/* Unlock records of the subscriber, fetched once per decision. */
struct unlocks {
	bool fetched;
	enum cbar_err err;
	size_t n;
	struct cbar_unlock rec[MAX_UNLOCKS];
};

/* Whether a record exempts the event from rule r: 1 yes (in *out), 0 no,
 * -1 the lookup failed. */
static int exempt(const struct cbar__rule *r, const struct cbar_event *ev,
                  const struct cbar_unlock_lookup *lk, struct unlocks *u,
                  const struct cbar_unlock **out)
{
	if (!r->unless)
		return 0;
	if (!u->fetched) {
		u->fetched = true;
		u->n = 0;
		if (lk && lk->find && ev->subscriber)
			u->err = lk->find(lk->ctx, ev->subscriber->e164, u->rec, MAX_UNLOCKS, &u->n);
		if (u->n > MAX_UNLOCKS)
			u->n = MAX_UNLOCKS;
	}
	if (u->err)
		return -1;
	enum cbar_unlock_level lv =
		r->unless == CBAR__UNLESS_VERIFIED ? CBAR_UNLOCK_VERIFIED : CBAR_UNLOCK_SELF;
	for (size_t i = 0; i < u->n; i++)
		if (cbar_unlock_applies(&u->rec[i], ev->service, ev->direction, ev->time, lv)) {
			*out = &u->rec[i];
			return 1;
		}
	return 0;
}

static void verdict_init(struct cbar_verdict *v)
{
	/* Field by field, which GCC writes with a few vector stores: a
	 * memset() of the 120 bytes (or the copy of a constant, which it
	 * turns back into one) became `rep stos`, whose start-up cost was a
	 * tenth of a decision in batches on 1,000 rules (perf annotate,
	 * bench_decide_real).  Padding is left as it is: nothing compares
	 * verdicts as bytes. */
	v->decision = CBAR_ALLOW;
	v->rule = -1;
	v->file = NULL;
	v->line = 0;
	v->reason = NULL;
	v->announcement = NULL;
	v->exempted = false;
	v->exempted_by = (struct cbar_unlock){0};
	v->exempted_rule = -1;
	v->err = CBAR_OK;
	v->limit_rule = -1;
	v->limit = NULL;
	v->limit_key = 0;
	v->limit_count = 0;
	v->limit_bar_until = 0;
	v->limit_new_bar = false;
	v->notify = false;
}

static enum cbar_decision set_error(struct cbar_verdict *v, enum cbar_err e)
{
	v->decision = CBAR_ERROR;
	v->err = e;
	return CBAR_ERROR;
}

static enum cbar_decision set_rule(const struct cbar_rules *rs, size_t i, struct cbar_verdict *v)
{
	const struct cbar__rule *r = &rs->rules[i];
	v->decision = r->block ? CBAR_BLOCK : CBAR_ALLOW;
	v->rule = (int)i;
	v->file = rs->file;
	v->line = r->line;
	v->reason = r->reason;
	v->announcement = r->announce >= 0 ? &rs->ann[r->announce] : NULL;
	v->notify = r->notify;
	return v->decision;
}

/* The peer may be NULL (unknown); everything else must be there. */
static bool event_ok(const struct cbar_event *ev)
{
	return ev->subscriber && (ev->service == CBAR_VOICE || ev->service == CBAR_SMS) &&
	       (ev->direction == CBAR_IN || ev->direction == CBAR_OUT) &&
	       ev->roaming <= CBAR_ROAMING_YES;
}

/* What the conditions checked after the bitmaps say: 0 holds, else a
 * reason it does not. */
/*
 * A subscriber's place in a staged rollout, 0 to 9999: a fixed mix of the
 * number, so a subscriber once reached stays reached as the share grows,
 * and subscribers are spread evenly whatever their numbering.
 */
static unsigned ramp_slot(uint64_t e164)
{
	uint64_t x = e164 + 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	x ^= x >> 31;
	return (unsigned)(x % 10000u);
}

/* Whether the rollout from r->since to r->ramp_end has reached the
 * subscriber at t: the share reached grows linearly, in ten-thousandths. */
static bool ramp_reached(const struct cbar__rule *r, const struct cbar_event *ev)
{
	if (!r->ramp_end || ev->time >= r->ramp_end)
		return true;
	uint64_t done = (uint64_t)(ev->time - r->since), span = (uint64_t)(r->ramp_end - r->since);
	unsigned share = (unsigned)(done * 10000u / span);
	return ramp_slot(ev->subscriber->e164) < share;
}

static const char *late_conditions(const struct cbar__rule *r, const struct cbar_event *ev)
{
	/* `from invalid` and `from self` ride in the bitmaps as "any peer";
	 * their own test is here. */
	if (r->invalid && (ev->peer || !ev->peer_invalid))
		return "the caller ID is not an invalid number";
	if (r->self && (!ev->peer || ev->peer->e164 != ev->subscriber->e164))
		return "the caller is not the called subscriber";
	if (ev->time < r->since)
		return "before its 'since' date";
	if (ev->time >= r->until)
		return "on or after its 'until' date";
	if (!ramp_reached(r, ev))
		return "its staged rollout ('ramp') has not reached the subscriber yet";
	if (r->ingress && (!ev->ingress || ev->ingress_len != r->ingress_len ||
	                   memcmp(ev->ingress, r->ingress, r->ingress_len)))
		return "the event did not come in via its ingress";
	if (r->roaming && ev->roaming != r->roaming)
		return ev->roaming == CBAR_ROAMING_UNKNOWN
		               ? "it needs the subscriber's roaming state, which the event does not give"
		               : r->roaming == CBAR_ROAMING_YES ? "the subscriber is not roaming"
		                                                : "the subscriber is roaming";
	return NULL;
}

static uint8_t ev_carrier(const struct cbar_event *ev)
{
	uint8_t c = ev->carrier ? ev->carrier : ev->subscriber->carrier;
	return c < CBAR_CARRIER_COUNT ? c : CBAR_CARRIER_NONE;
}

static uint8_t ev_region(const struct cbar_rules *rs, const struct cbar_event *ev)
{
	uint8_t g = ev->region ? ev->region : ev->subscriber->region;
	return g < rs->nregion ? g : CBAR_NONE;
}

static void set_emergency(struct cbar_verdict *v)
{
	v->decision = CBAR_ALLOW;
	v->reason = "emergency";
}

/* What decide_from() returns when it stops at a rule needing the unlock
 * records (stop_unless), beside the enum cbar_decision values. */
#define NEED_UNLOCKS 3
/* decide_from()'s stop modes: where the first pass of cbar_decide_many()
 * stops.  STOP_LIMIT: also at a limit, once an earlier event of the batch
 * waits, so that limits count the events in the order they were given. */
enum { STOP_NONE = 0, STOP_UNLESS = 1, STOP_LIMIT = 2 };

/* The key and counterpart of limit l for the event; false when the event
 * has none (an unknown peer is not a key nor a counterpart). */
static bool limit_key(const struct cbar_limit_info *l, const struct cbar_event *ev,
                      struct cbar_limit_query *q)
{
	const struct cbar_number *p = ev->peer;
	q->counterpart = 0;
	if (l->distinct) {
		const struct cbar_number *c = l->distinct == 1 ? ev->subscriber : p;
		if (!c)
			return false;
		q->counterpart = c->e164;
	}
	switch (l->per) {
	case CBAR_PER_SUBSCRIBER:
		q->key = ev->subscriber->e164;
		return true;
	case CBAR_PER_PEER:
		if (!p)
			return false;
		q->key = p->e164;
		return true;
	case CBAR_PER_PEER_PREFIX:
		if (!p)
			return false;
		q->key = 0;
		for (unsigned k = 0; k < l->prefix && k < p->ndigits; k++)
			q->key = q->key * 10 + (uint64_t)(p->digits[k] - '0');
		return true;
	}
	return false;
}

/* Start fetching the counting state of the event's keys (the first limits'),
 * before the rules are matched (struct cbar_limit_counter.prefetch). */
static void limits_prefetch(const struct cbar_rules *rs, const struct cbar_event *ev,
                            const struct cbar_unlock_lookup *lk)
{
	if (!lk || !lk->limits || !lk->limits->prefetch)
		return;
	for (size_t k = 0; k < rs->nlimits && k < CBAR_LIMIT_PREFETCH_MAX; k++) {
		struct cbar_limit_query q;
		const struct cbar__rule *r = &rs->rules[rs->limits[k].rule];
		if ((r->scope & CBAR_SCOPE_BIT(ev->service, ev->direction)) &&
		    limit_key(&rs->limits[k], ev, &q))
			lk->limits->prefetch(lk->limits->ctx, rs, (uint32_t)k, q.key);
	}
}

/*
 * Limit rule r for the event: -1 the counting state failed (*err), 1 the
 * key is barred (the verdict is the limit's block), 0 the event was
 * counted or not counted and the decision goes on.  Without counting
 * state a limit is passed over.
 */
static int limit_hit(const struct cbar_rules *rs, size_t ri, const struct cbar_event *ev,
                     const struct cbar_unlock_lookup *lk, struct cbar_verdict *v,
                     enum cbar_err *err, struct cbar_limit_query *qo, struct cbar_limit_answer *ao)
{
	const struct cbar__rule *r = &rs->rules[ri];
	const struct cbar_limit_info *l = &rs->limits[r->lim - 1];
	struct cbar_limit_query q = {.limit = r->lim - 1, .time = ev->time};
	struct cbar_limit_answer a = {0};
	if (qo)
		qo->key = 0;
	if (!lk || !lk->limits || !lk->limits->hit || !limit_key(l, ev, &q))
		return 0;
	if ((*err = lk->limits->hit(lk->limits->ctx, rs, &q, &a)))
		return -1;
	if (qo) {
		*qo = q;
		*ao = a;
	}
	/* The verdict names the limit that bars, else the first that counted. */
	if (a.barred || v->limit_rule < 0) {
		v->limit_rule = (int)ri;
		v->limit = l;
		v->limit_key = q.key;
		v->limit_count = a.count;
		v->limit_bar_until = a.barred ? a.bar_until : 0;
		v->limit_new_bar = a.new_bar;
	}
	return a.barred;
}

/* What candidate() returns when the decision goes on to the next rule. */
#define GO_ON (-1)

/*
 * Rule ri, a candidate of the bitmaps, for the event: GO_ON when it does
 * not decide (a late condition fails, a limit counts without barring, an
 * unlock record exempts the event: noted in v), else decide_from()'s
 * answer (the decision, or NEED_UNLOCKS with *at = ri).
 */
static int candidate(const struct cbar_rules *rs, size_t ri, const struct cbar_event *ev,
                     const struct cbar_unlock_lookup *lk, struct cbar_verdict *v, struct unlocks *u,
                     int stop, size_t *at)
{
	const struct cbar__rule *r = &rs->rules[ri];
	if (late_conditions(r, ev))
		return GO_ON;
	if ((stop >= STOP_UNLESS && r->unless) || (stop == STOP_LIMIT && r->lim)) {
		*at = ri;
		return NEED_UNLOCKS;
	}
	if (r->lim) {
		enum cbar_err le = CBAR_OK;
		int x = limit_hit(rs, ri, ev, lk, v, &le, NULL, NULL);
		if (x < 0)
			return set_error(v, le);
		return x > 0 ? (int)set_rule(rs, ri, v) : GO_ON;
	}
	const struct cbar_unlock *rec = NULL;
	int x = exempt(r, ev, lk, u, &rec);
	if (x < 0)
		return set_error(v, u->err);
	if (x == 0)
		return set_rule(rs, ri, v);
	if (!v->exempted) {
		v->exempted = true;
		v->exempted_by = *rec;
		v->exempted_rule = (int)ri;
	}
	return GO_ON;
}

/*
 * The decision from rule `from` on, the bitmaps' candidates in file order.
 * With stop_unless it stops at the first candidate whose other conditions
 * hold and that has an `unless` (before any record is fetched), returns
 * NEED_UNLOCKS and sets *at to that rule: cbar_decide_many() then prefetches
 * the records and goes on from there.  Before that rule nothing was
 * exempted (an exemption needs the records), so going on from it decides as
 * one call would.
 */
static int decide_from(const struct cbar_rules *rs, const struct cbar_event *ev,
                       const struct cbar_unlock_lookup *lk, struct cbar_verdict *v, size_t from,
                       int stop, size_t *at)
{
	/* The peer's bitmap: the deepest node on its digits that has one; an
	 * unknown peer has its own. */
	const struct cbar__node *trie = rs->trie;
	const struct cbar_number *p = ev->peer;
	uint32_t vec = ev->peer_alnum && !p ? rs->alnum_vec : rs->unknown_vec;
	if (p) {
		uint32_t node = 0;
		unsigned k = 0;
		vec = trie[0].vec;
		/* The first digits' walk in one load (rs->jump); a number has at
		 * least three digits, and they are digits. */
		if (p->ndigits >= CBAR__JUMP_DIGITS) {
			const struct cbar__jump *j =
			    &rs->jump[(unsigned)(p->digits[0] - '0') * 100u +
			              (unsigned)(p->digits[1] - '0') * 10u +
			              (unsigned)(p->digits[2] - '0')];
			node = j->node;
			vec = j->vec;
			k = node ? CBAR__JUMP_DIGITS : p->ndigits;
		}
		for (; k < p->ndigits; k++) {
			unsigned d = (unsigned)(p->digits[k] - '0');
			if (d > 9 || !(node = trie[node].child[d]))
				break;
			if (trie[node].vec != CBAR__NOVEC)
				vec = trie[node].vec;
		}
	}
	size_t w = rs->words;
	const uint64_t *pv = rs->vecbits + (size_t)vec * w;
	const uint64_t *sd = rs->svcdir + (size_t)(ev->service * 2 + ev->direction) * w;
	const uint64_t *cv = rs->carrier + (size_t)ev_carrier(ev) * w;
	const uint64_t *gv = rs->region + (size_t)ev_region(rs, ev) * w;
	struct unlocks u;
	u.fetched = false;
	u.err = CBAR_OK;
	/* The four bitmaps are ANDed CBAR__WORDS_STEP words at a time (a loop
	 * of fixed length the compiler does in vector registers; w is a
	 * multiple of it, the words past the last rule zero), then their bits
	 * are taken in file order, those before `from` cleared. */
	size_t first = from / 64;
	for (size_t i0 = first / CBAR__WORDS_STEP * CBAR__WORDS_STEP; i0 < w;
	     i0 += CBAR__WORDS_STEP) {
		uint64_t mm[CBAR__WORDS_STEP];
		for (size_t t = 0; t < CBAR__WORDS_STEP; t++)
			mm[t] = pv[i0 + t] & sd[i0 + t] & cv[i0 + t] & gv[i0 + t];
		for (size_t t = 0; t < CBAR__WORDS_STEP; t++) {
			size_t i = i0 + t;
			uint64_t m = i > first    ? mm[t]
			             : i == first ? mm[t] & ~UINT64_C(0) << (from % 64)
			                          : 0;
			for (; m; m &= m - 1) {
				int x = candidate(rs, i * 64 + (size_t)__builtin_ctzll(m), ev, lk,
				                  v, &u, stop, at);
				if (x != GO_ON)
					return x;
			}
		}
	}
	return set_error(v, CBAR_INVAL); /* unreachable: the default matches */
}

/* What every decision checks first: NULL rules or event, an emergency
 * peer, an event not fit to decide.  -1 when the rules are to be looked
 * at, else the decision (made). */
static int decide_first(const struct cbar_rules *rs, const struct cbar_event *ev,
                        struct cbar_verdict *v)
{
	verdict_init(v);
	if (!rs || !ev)
		return set_error(v, CBAR_INVAL);
	/* Emergency numbers before anything that can fail: a call to 110
	 * passes even when the rest of the event is not usable. */
	if (cbar__is_emergency(rs, ev)) {
		set_emergency(v);
		return CBAR_ALLOW;
	}
	if (!event_ok(ev))
		return set_error(v, CBAR_INVAL);
	return -1;
}

enum cbar_decision cbar_decide(const struct cbar_rules *rs, const struct cbar_event *ev,
                               const struct cbar_unlock_lookup *lk, struct cbar_verdict *v)
{
	int d = decide_first(rs, ev, v);
	if (d >= 0)
		return (enum cbar_decision)d;
	if (lk && lk->prefetch && rs->any_unless)
		lk->prefetch(lk->ctx, ev->subscriber->e164);
	if (rs->nlimits)
		limits_prefetch(rs, ev, lk);
	return (enum cbar_decision)decide_from(rs, ev, lk, v, 0, STOP_NONE, NULL);
}

void cbar_decide_many(const struct cbar_rules *rs, const struct cbar_event *const *ev, size_t n,
                      const struct cbar_unlock_lookup *lk, struct cbar_verdict *v)
{
	/* First pass: every event decided as far as it goes without its
	 * unlock records; the ones that need them are noted and their records
	 * prefetched.  Second pass: those go on from the rule that needs the
	 * records, by then (mostly) in the cache.  Events that no `unless`
	 * rule reaches never touch the unlock table.  Limits count events in
	 * the order given: once one event waits, the later ones stop at their
	 * first limit too and count in the second pass, in order. */
	size_t wait[CBAR_DECIDE_MANY_MAX], at[CBAR_DECIDE_MANY_MAX];
	while (n) {
		size_t k = n < CBAR_DECIDE_MANY_MAX ? n : CBAR_DECIDE_MANY_MAX, nw = 0;
		bool pf = lk && lk->prefetch;
		/* The limits' state of every event first: a batch's fetches
		 * overlap each other and the first events' rule matching. */
		if (rs && rs->nlimits)
			for (size_t i = 0; i < k; i++)
				if (ev[i] && event_ok(ev[i]))
					limits_prefetch(rs, ev[i], lk);
		/* So are the unlock records of every event that may need them,
		 * before any rule is matched: each fetch then overlaps the whole
		 * first pass, not only the events after its own.  With a table
		 * far past the caches (100 M records) the fetches of the last
		 * events of a batch otherwise arrive after the second pass
		 * wants them.  A line fetched for an event that no `unless`
		 * rule reaches is wasted, one home line of the table. */
		if (pf && rs && rs->any_unless)
			for (size_t i = 0; i < k; i++)
				if (ev[i] && event_ok(ev[i]))
					lk->prefetch(lk->ctx, ev[i]->subscriber->e164);
		for (size_t i = 0; i < k; i++) {
			if (decide_first(rs, ev[i], &v[i]) >= 0)
				continue;
			int stop = nw && rs->nlimits ? STOP_LIMIT : STOP_UNLESS;
			if (decide_from(rs, ev[i], lk, &v[i], 0, stop, &at[nw]) != NEED_UNLOCKS)
				continue;
			wait[nw++] = i;
		}
		for (size_t j = 0; j < nw; j++) {
			size_t i = wait[j];
			decide_from(rs, ev[i], lk, &v[i], at[j], STOP_NONE, NULL);
		}
		ev += k;
		v += k;
		n -= k;
	}
}

/* Tell note() about rule i: why, then ": arg" when there is one. */
static void notef(cbar_explain_fn note, void *ctx, size_t i, const struct cbar__rule *r,
                  bool matched, const char *why, const char *arg)
{
	char buf[200];
	snprintf(buf, sizeof buf, "%s%s%s", why, arg ? ": " : "", arg ? arg : "");
	note(ctx, i, r->line, matched, buf);
}

/* Why rule r's peer condition does not hold for the event (explain). */
static const char *peer_why(const struct cbar_rules *rs, const struct cbar__rule *r,
                            const struct cbar_event *ev, const char **arg)
{
	bool in = ev->direction == CBAR_IN;
	if (!ev->peer && ev->peer_alnum)
		return r->unknown ? "the sender is alphanumeric, not unknown"
		                  : "the sender is alphanumeric, and its peer condition needs a number";
	if (!ev->peer && r->alnum)
		return "the caller is unknown; it is for alphanumeric senders";
	if (r->alnum)
		return "the peer is a number; it is for alphanumeric senders";
	if (!ev->peer)
		return in ? "the caller is unknown, and its peer condition needs a number"
		          : "the called number is unknown, and its peer condition needs a number";
	if (r->unknown)
		return in ? "the caller is known; it is for unknown callers"
		          : "the called number is known; it is for unknown ones";
	*arg = rs->sets[r->set].name ? rs->sets[r->set].name : "its prefix";
	return r->neg ? "the peer is in the negated set" : "the peer is not in";
}

/* What explain says of a limit its conditions match: the key, the count
 * and, when barred, until when (in the file's zone). */
static void limit_note(const struct cbar_rules *rs, size_t i, const struct cbar_limit_query *q,
                       const struct cbar_limit_answer *a, cbar_explain_fn note, void *ctx)
{
	const struct cbar__rule *r = &rs->rules[i];
	const struct cbar_limit_info *l = &rs->limits[r->lim - 1];
	char buf[200], key[32], until[40];
	if (!q->key) {
		note(ctx, i, r->line, false,
		     "limit: no counting state, or the event has no key for it (unknown peer): "
		     "not counted");
		return;
	}
	cbar_limit_key_text(l, q->key, key, sizeof key);
	if (a->barred) {
		cbar_civil_format(a->bar_until, rs->tz, until, sizeof until);
		snprintf(buf, sizeof buf,
		         "limit: key %s %s, count %u (more than %u in %us): block until %s", key,
		         a->new_bar ? "goes over now" : "is barred", a->count, l->threshold,
		         l->window, until);
	} else {
		snprintf(buf, sizeof buf, "limit: key %s counted, %u of at most %u in %us; not barred",
		         key, a->count, l->threshold, l->window);
	}
	note(ctx, i, r->line, a->barred, buf);
}

enum cbar_decision cbar_explain(const struct cbar_rules *rs, const struct cbar_event *ev,
                                const struct cbar_unlock_lookup *lk, cbar_explain_fn note,
                                void *ctx, struct cbar_verdict *v)
{
	verdict_init(v);
	if (!rs || !ev)
		return set_error(v, CBAR_INVAL);
	if (cbar__is_emergency(rs, ev)) {
		if (note)
			note(ctx, (size_t)-1, 0, true,
			     "the peer is an emergency number: never barred, no rule looked at");
		set_emergency(v);
		return CBAR_ALLOW;
	}
	if (!event_ok(ev))
		return set_error(v, CBAR_INVAL);
	/* Who the peer is, in explain's sentences. */
	const char *who = ev->direction == CBAR_IN ? "caller" : "called number";
	uint8_t car = ev_carrier(ev), reg = ev_region(rs, ev);
	struct unlocks u;
	u.fetched = false;
	u.err = CBAR_OK;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cbar__rule *r = &rs->rules[i];
		const char *why = NULL, *arg = NULL;
		if (!(r->scope & CBAR_SCOPE_BIT(ev->service, ev->direction)))
			why = "not for this service and direction";
		else if (!cbar__rule_peer(rs, r, ev->peer) ||
		         (!ev->peer && (ev->peer_alnum ? r->unknown : r->alnum))) {
			why = peer_why(rs, r, ev, &arg);
		} else if (r->carriers && !(r->carriers >> car & 1)) {
			why = "the subscriber's carrier is not among its carriers";
			arg = car ? cbar_carrier_key(car) : "unknown";
		} else if (!r->any_region && !(r->regions[reg / 64] >> (reg % 64) & 1)) {
			why = "the subscriber's region is not among its regions";
			arg = reg ? cbar_numplan_region_code(rs->np, reg) : "unknown";
		} else {
			why = late_conditions(r, ev);
		}
		if (why) {
			if (note)
				notef(note, ctx, i, r, false, why, arg);
			continue;
		}
		if (r->lim) {
			enum cbar_err le = CBAR_OK;
			struct cbar_limit_query q;
			struct cbar_limit_answer a;
			int x = limit_hit(rs, i, ev, lk, v, &le, &q, &a);
			if (x < 0) {
				if (note)
					notef(note, ctx, i, r, false, "counting state unavailable",
					      cbar_err_message(le));
				return set_error(v, le);
			}
			if (note)
				limit_note(rs, i, &q, &a, note, ctx);
			if (x > 0)
				return set_rule(rs, i, v);
			continue;
		}
		const struct cbar_unlock *rec = NULL;
		int x = exempt(r, ev, lk, &u, &rec);
		if (x < 0) {
			if (note)
				notef(note, ctx, i, r, false, "unlock records unavailable",
				      cbar_err_message(u.err));
			return set_error(v, u.err);
		}
		if (x > 0) {
			if (note)
				notef(note, ctx, i, r, false,
				      "matches, but an unlock record exempts the event; level",
				      rec->level == CBAR_UNLOCK_VERIFIED ? "verified" : "self");
			if (!v->exempted) {
				v->exempted = true;
				v->exempted_by = *rec;
				v->exempted_rule = (int)i;
			}
			continue;
		}
		if (note) {
			char m[64];
			snprintf(m, sizeof m, "matches%s%s%s", r->unknown || r->alnum ? " (the " : "",
			         r->unknown || r->alnum ? who : "",
			         r->unknown ? " is unknown)" : r->alnum ? " is alphanumeric)" : "");
			notef(note, ctx, i, r, true, m, r->block ? "block" : "pass");
		}
		return set_rule(rs, i, v);
	}
	return set_error(v, CBAR_INVAL);
}

/* Whether rule a matches every event rule b matches (a has no unless). */
static bool covers(const struct cbar_rules *rs, const struct cbar__rule *a, size_t ai,
                   const struct cbar__rule *b, size_t bi)
{
	if ((a->scope & b->scope) != b->scope || a->since > b->since || a->until < b->until)
		return false;
	if (a->carriers && (!b->carriers || (b->carriers & ~a->carriers)))
		return false;
	if (!a->any_region) {
		if (b->any_region)
			return false;
		for (int k = 0; k < CBAR__REGION_WORDS; k++)
			if (b->regions[k] & ~a->regions[k])
				return false;
	}
	if (a->ingress && (!b->ingress || b->ingress_len != a->ingress_len ||
	                   memcmp(a->ingress, b->ingress, a->ingress_len)))
		return false;
	if (a->roaming && a->roaming != b->roaming)
		return false;
	if ((a->invalid && !b->invalid) || (a->self && !b->self))
		return false;
	if (a->set < 0 && !a->unknown && !a->alnum)
		return true;
	/* The peer bitmaps cover every number, and the unknown peer
	 * (unknown_vec is one of them): b's bit must imply a's. */
	size_t w = rs->words;
	for (size_t v = 0; v < rs->nvec; v++) {
		const uint64_t *bits = rs->vecbits + v * w;
		if ((bits[bi / 64] >> (bi % 64) & 1) && !(bits[ai / 64] >> (ai % 64) & 1))
			return false;
	}
	return true;
}

/* The lint of a limit's own numbers. */
static size_t limit_lint(const struct cbar_rules *rs, const struct cbar__rule *b,
                         cbar_lint_fn warn, void *ctx)
{
	const struct cbar_limit_info *l = &rs->limits[b->lim - 1];
	size_t n = 0;
	if (l->subsecond) {
		if (warn)
			warn(ctx, b->line,
			     "window shorter than a second: events are timed in seconds, so the "
			     "limit sees one event at a time and never goes over");
		n++;
	}
	if (l->bar < l->window) {
		if (warn)
			warn(ctx, b->line,
			     "bar shorter than the window: a key let go after its bar counts from "
			     "zero, so it can pass more than the threshold in one window");
		n++;
	}
	return n;
}

size_t cbar_rules_lint(const struct cbar_rules *rs, cbar_lint_fn warn, void *ctx)
{
	size_t n = 0;
	char buf[200];
	for (size_t j = 0; j < rs->nrules; j++) {
		const struct cbar__rule *b = &rs->rules[j];
		if (b->since >= b->until) {
			if (warn)
				warn(ctx, b->line,
				     "empty date range: 'since' is not before 'until', the rule never matches");
			n++;
			continue;
		}
		if (b->lim)
			n += limit_lint(rs, b, warn, ctx);
		for (size_t i = 0; i < j; i++) {
			const struct cbar__rule *a = &rs->rules[i];
			/* A limit decides only while its key is barred: it shadows
			 * nothing. */
			if (a->unless || a->ramp_end || a->since >= a->until || a->lim ||
			    !covers(rs, a, i, b, j))
				continue;
			snprintf(buf, sizeof buf,
			         b->lim ? "never counts: the rule at line %u before this limit decides "
			                  "every event it would count"
			                : "never matches: shadowed by the rule at line %u, which matches "
			                  "every event this one does",
			         a->line);
			if (warn)
				warn(ctx, b->line, buf);
			n++;
			break;
		}
	}
	return n;
}
