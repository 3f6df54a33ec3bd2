/* callbar: the effective status of a line (callbar/status.h). */
#include <stdio.h>
#include <string.h>

#include "callbar/civil.h"
#include "callbar/status.h"

/* The records on file with one more: a registration the subscriber does
 * not have, to ask the engine what it would change.  The added record
 * comes first, so that the engine's cap on records per subscriber never
 * drops it. */
struct with_one {
	const struct cbar_unlock_lookup *inner;
	struct cbar_unlock extra;
};

static enum cbar_err with_one_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                   size_t cap, size_t *n)
{
	struct with_one *w = ctx;
	*n = 0;
	if (!cap)
		return CBAR_OK;
	out[0] = w->extra;
	size_t m = 0;
	enum cbar_err e = CBAR_OK;
	if (w->inner && w->inner->find)
		e = w->inner->find(w->inner->ctx, subscriber, out + 1, cap - 1, &m);
	*n = 1 + (m < cap - 1 ? m : cap - 1);
	return e;
}

/* Whether an unlock of level lv for this entry's scope lets ev through. */
static bool restores(const struct cbar_rules *r, const struct cbar_event *ev,
                     const struct cbar_unlock_lookup *lk, enum cbar_unlock_level lv)
{
	struct with_one w = {.inner = lk,
	                     .extra = {.subscriber = ev->subscriber->e164,
	                               .scope = (uint8_t)CBAR_SCOPE_BIT(ev->service, ev->direction),
	                               .level = (uint8_t)lv,
	                               .active = 1}};
	/* No limits: a what-if must not count as traffic. */
	struct cbar_unlock_lookup l = {.find = with_one_find, .ctx = &w};
	struct cbar_verdict v;
	return cbar_decide(r, ev, &l, &v) == CBAR_ALLOW;
}

void cbar_status_effective(const struct cbar_rules *r, const struct cbar_number *sub,
                           const struct cbar_number *peer, const struct cbar_unlock_lookup *lk,
                           int64_t now, struct cbar_status_entry out[CBAR_STATUS_ENTRIES])
{
	for (int k = 0; k < CBAR_STATUS_ENTRIES; k++) {
		struct cbar_status_entry *o = &out[k];
		memset(o, 0, sizeof *o);
		o->service = k < 2 ? CBAR_VOICE : CBAR_SMS;
		o->direction = k % 2 ? CBAR_OUT : CBAR_IN;
		o->rule = -1;
		struct cbar_event ev = {.service = o->service,
		                        .direction = o->direction,
		                        .subscriber = sub,
		                        .peer = peer,
		                        .time = now};
		struct cbar_verdict v, v0;
		o->decision = cbar_decide(r, &ev, lk, &v);
		cbar_decide(r, &ev, NULL, &v0);
		o->err = o->decision == CBAR_ERROR ? v.err : CBAR_OK;
		/* The rule that bars now, or the one the record on file lifts. */
		const struct cbar_verdict *b = o->decision == CBAR_BLOCK   ? &v
		                               : v0.decision == CBAR_BLOCK ? &v0
		                                                           : NULL;
		if (!b)
			continue;
		o->rule = b->rule;
		o->file = b->file;
		o->line = b->line;
		o->reason = b->reason;
		o->announcement = b->announcement;
		o->since = b->rule >= 0 ? cbar_rules_since(r, (size_t)b->rule) : 0;
		o->unlock_restores = o->decision == CBAR_ALLOW;
		if (o->decision == CBAR_BLOCK && sub)
			o->restore_by = restores(r, &ev, lk, CBAR_UNLOCK_SELF) ? CBAR_RESTORE_SELF
			                : restores(r, &ev, lk, CBAR_UNLOCK_VERIFIED)
			                    ? CBAR_RESTORE_VERIFIED
			                    : CBAR_RESTORE_NONE;
	}
}

const char *cbar_restore_by_name(enum cbar_restore_by b)
{
	return b == CBAR_RESTORE_SELF ? "self" : b == CBAR_RESTORE_VERIFIED ? "verified" : NULL;
}

const char *cbar_status_day(int64_t t, int32_t tz, char *buf, size_t cap)
{
	if (cap)
		buf[0] = 0;
	if (!t || cap < 11)
		return buf;
	int64_t s = t + tz, y;
	unsigned m, d;
	cbar_civil_from_days(s >= 0 ? s / 86400 : (s - 86399) / 86400, &y, &m, &d);
	if (y >= 0 && y <= 9999)
		snprintf(buf, cap, "%04d-%02u-%02u", (int)y, m, d);
	return buf;
}
