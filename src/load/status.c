/* callbar: a line's status as JSON (status.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/civil.h"
#include "callbar/scope.h"
#include "proto/verdict_json.h"
#include "store/unlockview.h"
#include "status.h"

void cbar_status_records_init(struct cbar_status_records *r, uint64_t sub)
{
	memset(r, 0, sizeof *r);
	r->subscriber = sub;
}

void cbar_status_records_release(struct cbar_status_records *r)
{
	free(r->hist);
	cbar_status_records_init(r, r->subscriber);
}

/* Records per subscriber kept for an answer: far above what any line
 * gathers, a bound on what one request may cost. */
#define HIST_MAX 10000

static int add_record(void *arg, const struct cbar_store_record *rec)
{
	struct cbar_status_records *r = arg;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		if (r->n >= HIST_MAX)
			return 1; /* the oldest HIST_MAX are shown */
		struct cbar_store_record *p = realloc(r->hist, cap * sizeof *p);
		if (!p)
			return -1;
		r->hist = p;
		r->cap = cap;
	}
	r->hist[r->n++] = *rec;
	return 0;
}

enum cbar_err cbar_status_records_read(struct cbar_store *st, uint64_t sub,
                                       struct cbar_status_records *r, struct cbar_diag *d)
{
	cbar_status_records_init(r, sub);
	enum cbar_err e = cbar_store_get_active(st, sub, &r->active, d);
	if (e && e != CBAR_STORE_NOTFOUND)
		return e;
	r->unlocked = !e;
	*d = (struct cbar_diag){0};
	if ((e = cbar_store_history(st, sub, add_record, r, d)))
		cbar_status_records_release(r);
	return e;
}

static enum cbar_err records_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                  size_t cap, size_t *n)
{
	const struct cbar_status_records *r = ctx;
	bool active_seen = false;
	*n = 0;
	for (size_t i = 0; i < r->n && *n < cap; i++) {
		const struct cbar_store_record *rec = &r->hist[i];
		if (rec->subscriber == subscriber && rec->status == CBAR_STORE_ACTIVE)
			out[(*n)++] = cbar_unlock_from_store(rec->subscriber, rec->scope, rec->level,
			                                     rec->expires, true);
		active_seen |= r->unlocked && rec->id == r->active.id;
	}
	/* a history cut at HIST_MAX may end before the active record */
	if (r->unlocked && !active_seen && *n < cap && r->active.subscriber == subscriber)
		out[(*n)++] = cbar_unlock_from_store(r->active.subscriber, r->active.scope,
		                                     r->active.level, r->active.expires, true);
	return CBAR_OK;
}

struct cbar_unlock_lookup cbar_status_records_lookup(const struct cbar_status_records *r)
{
	return (struct cbar_unlock_lookup){.find = records_find, .ctx = (void *)r};
}

bool cbar_status_decide(const struct cbar_rules *rules, const struct cbar_numplan *np, uint16_t cn,
                        uint64_t sub, const struct cbar_unlock_lookup *lk, int64_t now,
                        struct cbar_status_entry out[CBAR_STATUS_ENTRIES])
{
	char num[24];
	size_t at;
	struct cbar_number sn, pn;
	snprintf(num, sizeof num, "+%" PRIu64, sub);
	if (cbar_number_parse(np, cn, num, strlen(num), &sn, &at) ||
	    cbar_number_parse(np, cn, CBAR_STATUS_PEER, strlen(CBAR_STATUS_PEER), &pn, &at))
		return false;
	cbar_status_effective(rules, &sn, &pn, lk, now, out);
	return true;
}

static void time_json(struct cbar_buf *b, int64_t t, int32_t tz)
{
	char s[CBAR_CIVIL_FORMAT_MAX + 8];
	if (!t) {
		cbar_buf_puts(b, "null");
		return;
	}
	if (!cbar_civil_format(t, tz, s, sizeof s))
		snprintf(s, sizeof s, "@%lld", (long long)t);
	cbar_json_str(b, s);
}

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

bool cbar_status_record_json(struct cbar_buf *b, const struct cbar_store_record *rec, int32_t tz)
{
	char sc[64];
	cbar_buf_printf(b,
	                "{\"id\":%" PRId64 ",\"subscriber\":\"+%" PRIu64 "\",\"status\":", rec->id,
	                rec->subscriber);
	cbar_json_str(b, cbar_store_status_key(rec->status));
	cbar_buf_puts(b, ",\"scope\":");
	cbar_json_str(b, cbar_store_scope_str(rec->scope, sc, sizeof sc));
	cbar_buf_printf(b, ",\"scope_bits\":%u,\"level\":", rec->scope);
	cbar_json_str(b, cbar_store_level_key(rec->level));
	cbar_buf_puts(b, ",\"channel\":");
	cbar_json_str(b, cbar_store_channel_key(rec->channel));
	cbar_buf_puts(b, ",\"created\":");
	time_json(b, rec->created, tz);
	cbar_buf_puts(b, ",\"expires\":");
	time_json(b, rec->expires, tz);
	cbar_buf_puts(b, ",\"agent\":");
	cbar_json_str(b, opt(rec->agent));
	cbar_buf_puts(b, ",\"document\":");
	cbar_json_str(b, opt(rec->doc_type));
	cbar_buf_puts(b, ",\"revoked\":");
	time_json(b, rec->revoked_at, tz);
	cbar_buf_puts(b, ",\"revoked_by\":");
	cbar_json_str(b, opt(rec->revoked_by));
	cbar_buf_puts(b, ",\"revoked_why\":");
	cbar_json_str(b, opt(rec->revoked_why));
	return cbar_buf_puts(b, "}");
}

const char *cbar_status_rule_name(const struct cbar_status_entry *e, char *buf, size_t cap)
{
	if (cap)
		buf[0] = 0;
	if (e->file && cap) {
		const char *slash = strrchr(e->file, '/');
		snprintf(buf, cap, "%s:%u", slash ? slash + 1 : e->file, e->line);
	}
	return buf;
}

const char *cbar_status_text(const struct cbar_announcement *a, const char *lang)
{
	for (size_t i = 0; a && i < a->ntexts; i++)
		if (!strcmp(a->texts[i].lang, lang))
			return a->texts[i].text;
	return NULL;
}

static void entry_json(struct cbar_buf *b, const struct cbar_status_entry *e, int32_t tz)
{
	char rule[300], day[16];
	cbar_buf_printf(b, "{\"service\":\"%s\",\"direction\":\"%s\",\"verdict\":\"%s\",\"rule\":",
	                cbar_service_name(e->service), cbar_direction_name(e->direction),
	                cbar_decision_name(e->decision));
	cbar_json_str(b, opt(cbar_status_rule_name(e, rule, sizeof rule)));
	cbar_buf_puts(b, ",\"reason\":");
	cbar_json_str(b, e->reason);
	cbar_buf_puts(b, ",\"since\":");
	cbar_json_str(b, opt(cbar_status_day(e->since, tz, day, sizeof day)));
	cbar_buf_printf(
	    b, ",\"unlock_restores\":%s,\"restore\":", e->unlock_restores ? "true" : "false");
	bool barred = e->decision == CBAR_BLOCK;
	cbar_json_str(b, barred ? cbar_status_text(e->announcement, "en") : NULL);
	cbar_buf_puts(b, ",\"restore_by\":");
	cbar_json_str(b, barred ? cbar_restore_by_name(e->restore_by) : NULL);
	cbar_buf_puts(b, ",\"announcement_name\":");
	cbar_json_str(b, e->announcement ? e->announcement->name : NULL);
	cbar_buf_puts(b, ",\"announcement\":");
	if (!e->announcement) {
		cbar_buf_puts(b, "null");
	} else {
		cbar_buf_puts(b, "{");
		for (size_t i = 0; i < e->announcement->ntexts; i++) {
			if (i)
				cbar_buf_puts(b, ",");
			cbar_json_str(b, e->announcement->texts[i].lang);
			cbar_buf_puts(b, ":");
			cbar_json_str(b, e->announcement->texts[i].text);
		}
		cbar_buf_puts(b, "}");
	}
	cbar_buf_puts(b, "}");
}

bool cbar_status_json(struct cbar_buf *b, const struct cbar_status_records *r,
                      const struct cbar_status_entry *eff, int32_t tz)
{
	cbar_buf_printf(b, "{\"subscriber\":\"+%" PRIu64 "\",\"unlocked\":%s,\"active\":",
	                r->subscriber, r->unlocked ? "true" : "false");
	if (r->unlocked)
		cbar_status_record_json(b, &r->active, tz);
	else
		cbar_buf_puts(b, "null");
	cbar_buf_puts(b, ",\"history\":[");
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			cbar_buf_puts(b, ",");
		cbar_status_record_json(b, &r->hist[i], tz);
	}
	cbar_buf_puts(b, "]");
	if (eff) {
		cbar_buf_puts(b, ",\"effective\":[");
		for (int k = 0; k < CBAR_STATUS_ENTRIES; k++) {
			if (k)
				cbar_buf_puts(b, ",");
			entry_json(b, &eff[k], tz);
		}
		cbar_buf_puts(b, "]");
	}
	return cbar_buf_puts(b, "}");
}
