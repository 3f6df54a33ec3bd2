/*
 * callbar serve: the registry routes' work behind engine.h: check a
 * document, write to the registry, answer in JSON.  One store connection,
 * under the engine's mutex, serves them all: they are rare next to
 * decisions, and a store handle is not for two threads at once.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/civil.h"
#include "callbar/idcheck.h"
#include "engine_impl.h"
#include "log.h"

/* ---- the registry routes --------------------------------------------------- */

static json_t *json_time(int64_t t)
{
	if (!t)
		return json_null();
	char buf[40];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *json_opt(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* A record as the API shows it: never the document number or its hash. */
static json_t *json_record(const struct cbar_store_record *r)
{
	char sc[64], num[24];
	snprintf(num, sizeof num, "+%" PRIu64, r->subscriber);
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)r->id,
	    "subscriber", num, "status", cbar_store_status_key(r->status), "scope",
	    cbar_store_scope_str(r->scope, sc, sizeof sc), "level", cbar_store_level_key(r->level),
	    "channel", cbar_store_channel_key(r->channel), "created", json_time(r->created),
	    "expires", json_time(r->expires), "agent", json_opt(r->agent), "document",
	    json_opt(r->doc_type), "revoked", json_time(r->revoked_at), "revoked_by",
	    json_opt(r->revoked_by), "revoked_why", json_opt(r->revoked_why));
}

/* REQ_* service and direction to store scope bits. */
static unsigned scope_of(uint8_t service, uint8_t direction)
{
	unsigned s = 0;
	for (unsigned sv = 0; sv < 2; sv++)
		for (unsigned dr = 0; dr < 2; dr++)
			if ((service == REQ_ANY || service == sv) &&
			    (direction == REQ_ANY || direction == dr))
				s |= CBAR_SCOPE_BIT(sv, dr);
	return s;
}

/* Today's date (YYYYMMDD) in the rule file's zone tz, for a document's
 * validity dates. */
static uint32_t today_ymd(int64_t now, int32_t tz)
{
	int64_t y, t = now + tz;
	unsigned m, d;
	cbar_civil_from_days(t >= 0 ? t / 86400 : (t - 86399) / 86400, &y, &m, &d);
	return (uint32_t)(y * 10000 + m * 100 + d);
}

enum cbar_err cbar_engine_unlock(struct engine *e, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, const struct unlock_req *req,
                                 int32_t tz, json_t **out, bool *created, struct cbar_diag *d)
{
	int64_t now = cbar__engine_now();
	struct cbar_store_unlock_req r = {
	    .subscriber = subscriber->e164,
	    .scope = scope_of(req->service, req->direction),
	    .level = req->level == REQ_LEVEL_VERIFIED ? CBAR_STORE_VERIFIED : CBAR_STORE_SELF,
	    .expires = req->has_expires ? req->expires : 0,
	    .channel =
	        req->channel[0] ? cbar_store_channel_parse(req->channel) : CBAR_STORE_CHANNEL_API,
	    .agent = who->name,
	    .now = now,
	};
	if (!r.channel)
		return cbar_diag_set(d, CBAR_BAD_VALUE, 0, 0, "channel: unknown channel");
	char canon[CBAR_DOC_MAX + 1], hash[CBAR_STORE_HASH_HEX];
	if (r.level == CBAR_STORE_VERIFIED || req->has_document) {
		if (!req->has_document)
			return cbar_diag_set(d, CBAR_MISSING_FIELD, 0, 0,
			                     "document: level verified needs an identity document");
		enum cbar_doc_type t = cbar_doc_lookup(req->doc_type, strlen(req->doc_type));
		if (t == CBAR_DOC_NONE)
			return cbar_diag_set(d, CBAR_BAD_VALUE, 0, 0,
			                     "document.type: unknown document type (cn-resident, "
			                     "passport, hkmo-permit, ...)");
		struct cbar_diag id = {0};
		enum cbar_err err = cbar_idcheck(t, req->doc_number, strlen(req->doc_number),
		                                 today_ymd(now, tz), canon, &id);
		if (err)
			return cbar_diag_set(d, err, 0, 0, "document.number: %s", id.msg);
		if (!e->have_key)
			return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0,
			                     "no document hashing key is configured");
		r.doc_type = cbar_doc_key(t);
		cbar_doc_hash(&e->key, r.doc_type, canon, hash);
		r.doc_hash = hash;
	}
	struct cbar_store_record rec;
	bool changed = false;
	if (!cbar__engine_store_begin(e, d))
		return CBAR_UNAVAILABLE;
	enum cbar_err err =
	    cbar__engine_store_end(e, cbar_store_unlock(e->store, &r, &rec, &changed, d));
	memset(canon, 0, sizeof canon);
	if (err)
		return err;
	*created = changed;
	*out = json_record(&rec);
	cbar__engine_follow_once(e);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

enum cbar_err cbar_engine_relock(struct engine *e, const struct daemon_caller *who,
                                 const struct relock_req *req, json_t **out, struct cbar_diag *d)
{
	struct cbar_store_record rec;
	memset(&rec, 0, sizeof rec);
	if (!cbar__engine_store_begin(e, d))
		return CBAR_UNAVAILABLE;
	enum cbar_err err =
	    cbar__engine_store_end(e, cbar_store_relock(e->store, req->subscriber.e164,
	                                                scope_of(req->service, req->direction),
	                                                who->name[0] ? who->name : "api",
	                                                req->reason[0] ? req->reason : "api",
	                                                cbar__engine_now(), &rec, d));
	if (err == CBAR_STORE_NOTFOUND)
		return cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0, "no active unlock covers that scope");
	if (err)
		return err;
	*out = json_pack("{s:b,s:o}", "relocked", 1, "active",
	                 rec.id ? json_record(&rec) : json_null());
	cbar__engine_follow_once(e);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

static int collect_record(void *arg, const struct cbar_store_record *r)
{
	json_t *a = arg;
	return json_array_append_new(a, json_record(r)) ? -1 : 0;
}

enum cbar_err cbar_engine_status(struct engine *e, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, json_t **out,
                                 struct cbar_diag *d)
{
	(void)who;
	json_t *hist = json_array();
	if (!hist)
		return CBAR_NOMEM;
	enum cbar_err err = CBAR_UNAVAILABLE;
	if (cbar__engine_store_begin(e, d))
		err = cbar__engine_store_end(
		    e, cbar_store_history(e->store, subscriber->e164, collect_record, hist, d));
	if (err) {
		json_decref(hist);
		return err;
	}
	if (!json_array_size(hist)) {
		json_decref(hist);
		return cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0, "no unlock record for this number");
	}
	json_t *active = json_null();
	size_t i;
	json_t *r;
	json_array_foreach(hist, i, r)
	{
		if (!strcmp(json_string_value(json_object_get(r, "status")), "active")) {
			json_decref(active);
			active = json_incref(r);
		}
	}
	char num[24];
	snprintf(num, sizeof num, "+%s", subscriber->digits);
	*out = json_pack("{s:s,s:o,s:o}", "subscriber", num, "active", active, "history", hist);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

enum cbar_err cbar_engine_records_of(struct engine *e, uint64_t subscriber,
                                     struct cbar_status_records *r, struct cbar_diag *d)
{
	cbar_status_records_init(r, subscriber);
	if (!cbar_engine_has_registry(e))
		return CBAR_OK;
	if (!cbar__engine_store_begin(e, d))
		return CBAR_UNAVAILABLE;
	return cbar__engine_store_end(e, cbar_status_records_read(e->store, subscriber, r, d));
}

struct audit_acc {
	json_t *a;
	const struct audit_query *q;
};

static int collect_audit(void *arg, const struct cbar_store_audit *a)
{
	struct audit_acc *acc = arg;
	if (acc->q->has_subscriber && a->subscriber != acc->q->subscriber.e164)
		return 0;
	char num[24];
	snprintf(num, sizeof num, "+%" PRIu64, a->subscriber);
	/* subscriber and record null: a change of no subscriber's (a token) */
	json_t *o = json_pack("{s:I,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "seq", (json_int_t)a->seq,
	                      "time", json_time(a->at), "who", a->who, "what", a->what,
	                      "subscriber", a->subscriber ? json_string(num) : json_null(),
	                      "record", a->record ? json_integer(a->record) : json_null(), "before",
	                      json_opt(a->before), "after", json_opt(a->after), "hash", a->hash);
	if (!o || json_array_append_new(acc->a, o))
		return -1;
	return json_array_size(acc->a) >= acc->q->limit;
}

enum cbar_err cbar_engine_audit(struct engine *e, const struct daemon_caller *who,
                                const struct audit_query *q, json_t **out, struct cbar_diag *d)
{
	(void)who;
	struct audit_acc acc = {json_array(), q};
	if (!acc.a)
		return CBAR_NOMEM;
	enum cbar_err err = CBAR_UNAVAILABLE;
	if (cbar__engine_store_begin(e, d))
		err = cbar__engine_store_end(e,
		                             cbar_store_audit(e->store, q->has_since ? q->since : 0,
		                                              collect_audit, &acc, d));
	if (err) {
		json_decref(acc.a);
		return err;
	}
	*out = json_pack("{s:o}", "entries", acc.a);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

void cbar_engine_set_rules(struct engine *e, struct cbar_snapshot_slot *rules)
{
	if (e)
		e->rules = rules;
}

/* The subscriber's carrier in the numbering of the rules in use (the
 * operator's table and ported list when configured), and the effective
 * status after a keyword's change: inside one read section. */
static bool keyword_truth(struct engine *e, const struct cbar_number *sub, unsigned *carrier,
                          int64_t now, struct cbar_status_entry eff[])
{
	bool ok = false;
	*carrier = sub->carrier;
	if (!e->rules)
		return false;
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(e->rules);
	struct cbar_number n;
	size_t at;
	char num[24];
	snprintf(num, sizeof num, "+%s", sub->digits);
	if (s && !cbar_number_parse(s->np, s->country, num, strlen(num), &n, &at)) {
		*carrier = n.carrier;
		if (eff) {
			struct cbar_unlock_lookup lk;
			bool have = cbar_engine_unlock_lookup(e, &lk);
			ok = cbar_status_decide(s->rules, s->np, s->country, sub->e164, have ? &lk : NULL,
			                        now, eff);
		}
	}
	cbar_slot_read_end();
	return ok;
}

/* A keyword the SMS centre saw: the same table and effect as `callbar
 * keyword` (keywords.h), the one keyword path of every front end.  A
 * service number of another carrier is refused; an unknown keyword is
 * answered with the valid ones; an unlock keyword's answer says, from the
 * effective status after the change, whether the registration restored the
 * keyword's services or a rule still bars them and where to go. */
enum cbar_err cbar_engine_keyword(struct engine *e, const struct daemon_caller *who,
                                  const struct keyword_req *req, json_t **out, struct cbar_diag *d)
{
	char msg[2048], why[80], num[24];
	const char *result = "unknown-keyword";
	json_t *restored = json_null();
	const struct kw *k = cbar_kw_find(&e->keywords, req->keyword);
	int64_t now = req->has_at ? req->at : cbar__engine_now();
	unsigned carrier;
	snprintf(num, sizeof num, "+%s", req->subscriber.digits);
	keyword_truth(e, &req->subscriber, &carrier, now, NULL);
	if (req->to[0] && !cbar_kw_is_service(&e->keywords, req->to))
		return cbar_diag_set(d, CBAR_BAD_VALUE, 0, 0,
		                     "to: not a service number of the keyword table");
	if (req->to[0] && !cbar_kw_carrier_ok(&e->keywords, req->to, carrier)) {
		cbar_kw_wrong_carrier(&e->keywords, req->to, carrier, msg, sizeof msg);
		result = "wrong-carrier";
	} else if (!k) {
		cbar_kw_unknown_answer(&e->keywords, msg, sizeof msg);
	} else {
		snprintf(why, sizeof why, "keyword %s via %s", k->word,
		         who->name[0] ? who->name : "api");
		enum kw_reply what;
		if (!cbar__engine_store_begin(e, d))
			return CBAR_UNAVAILABLE;
		enum cbar_err err = cbar__engine_store_end(
		    e, cbar_kw_apply(e->store, k, req->subscriber.e164, why, now, &what, d));
		if (err)
			return err;
		/* the change governs decisions (and the status below) at once */
		cbar__engine_follow_once(e);
		struct cbar_status_entry eff[CBAR_STATUS_ENTRIES];
		bool have = k->unlock && keyword_truth(e, &req->subscriber, &carrier, now, eff);
		bool ok = true;
		cbar_kw_reply(&e->keywords, k, what, have ? eff : NULL, &ok, msg, sizeof msg);
		result = cbar_kw_result(what);
		if (have)
			restored = json_boolean(ok);
	}
	*out = json_pack("{s:s,s:s,s:s,s:o}", "subscriber", num, "result", result, "answer", msg,
	                 "restored", restored);
	return *out ? CBAR_OK : CBAR_NOMEM;
}
