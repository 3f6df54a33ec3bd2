/*
 * callbar serve: the registry's HTTP routes: unlock, relock, a line's
 * records, the audit log and its head, keywords.  Each reads its request
 * (proto/request.h), calls the engine (engine.h) and logs the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "routes.h"

/* Scope words of the registry routes' log lines (REQ_* values). */
static const char *const svc_label[] = {"voice", "sms", "any"};
static const char *const dir_label[] = {"in", "out", "any"};

/* The {number} of the path as a subscriber number. */
static bool path_number(struct daemon *d, struct req_ctx *rc, struct cbar_number *n,
                        struct http_response *resp)
{
	struct req_error e;
	if (cbar_req_number(d->np, d->country, rc->param, strlen(rc->param), "number", n, &e)) {
		cbar_respond_req_error(resp, &e);
		return false;
	}
	return true;
}

static void respond_hook(struct http_response *resp, enum cbar_err err, json_t *out,
                         const struct cbar_diag *diag, int ok_status)
{
	if (err) {
		if (out)
			json_decref(out);
		cbar_respond_hook_error(resp, err, diag);
	} else {
		cbar_respond_json(resp, ok_status, out ? out : json_object());
	}
}

void cbar_h_unlock_put(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                  struct http_response *resp)
{
	struct cbar_number sub;
	struct unlock_req u;
	struct req_error e;
	if (!path_number(d, rc, &sub, resp))
		return;
	if (cbar_req_unlock_parse(d->np, d->country, rq->body, rq->body_len, &u, &e)) {
		cbar_respond_req_error(resp, &e);
		return;
	}
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_unlock_req_wipe(&u);
		cbar_respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	bool created = false;
	struct cbar_diag diag = {0};
	enum cbar_err err =
	    cbar_engine_unlock(d->engine, &rc->who, &sub, &u, cbar_rules_tz(d), &out, &created, &diag);
	cbar_unlock_req_wipe(&u);
	if (!err)
		cbar_log_line(LOG_LV_INFO, "unlock", "{s:s,s:s,s:s,s:s,s:s}", "subscriber", sub.digits,
		         "service", svc_label[u.service], "direction", dir_label[u.direction],
		         "channel", u.channel, "by", rc->who.name);
	respond_hook(resp, err, out, &diag, created ? 201 : 200);
}

struct query_check {
	const char *const *allowed;
	char bad[48];
};

static void query_known(void *arg, const char *key, const char *value)
{
	struct query_check *q = arg;
	(void)value;
	for (const char *const *a = q->allowed; *a; a++)
		if (!strcmp(*a, key))
			return;
	if (!q->bad[0])
		snprintf(q->bad, sizeof q->bad, "%s", key);
}

/* Unknown query arguments are refused like unknown body fields. */
static bool query_ok(struct http_request *rq, const char *const *allowed,
                     struct http_response *resp)
{
	struct query_check q = {.allowed = allowed};
	cbar_http_query_each(rq, query_known, &q);
	if (q.bad[0])
		cbar_respond_error(resp, 400, CBAR_UNKNOWN_FIELD, q.bad, "unknown query argument");
	return !q.bad[0];
}

void cbar_h_unlock_delete(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                     struct http_response *resp)
{
	static const char *const allowed[] = {"service", "direction", "reason", NULL};
	struct relock_req r = {.service = REQ_ANY, .direction = REQ_ANY};
	if (!path_number(d, rc, &r.subscriber, resp) || !query_ok(rq, allowed, resp))
		return;
	const char *v;
	int x;
	if ((v = cbar_http_query(rq, "service")) && (x = cbar_req_service(v)) < 0) {
		cbar_respond_error(resp, 400, CBAR_BAD_VALUE, "service", "want voice, sms or any");
		return;
	}
	if (v)
		r.service = (uint8_t)x;
	if ((v = cbar_http_query(rq, "direction")) && (x = cbar_req_direction(v)) < 0) {
		cbar_respond_error(resp, 400, CBAR_BAD_VALUE, "direction", "want in, out or any");
		return;
	}
	if (v)
		r.direction = (uint8_t)x;
	if ((v = cbar_http_query(rq, "reason"))) {
		if (strlen(v) > REQ_TEXT_MAX) {
			cbar_respond_error(resp, 400, CBAR_BAD_VALUE, "reason", "at most 64 bytes");
			return;
		}
		snprintf(r.reason, sizeof r.reason, "%s", v);
	}
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = cbar_engine_relock(d->engine, &rc->who, &r, &out, &diag);
	if (!err)
		cbar_log_line(LOG_LV_INFO, "relock", "{s:s,s:s,s:s,s:s}", "subscriber",
		         r.subscriber.digits, "service", svc_label[r.service], "direction",
		         dir_label[r.direction], "by", rc->who.name);
	respond_hook(resp, err, out, &diag, 200);
}

void cbar_h_unlock_get(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                  struct http_response *resp)
{
	static const char *const allowed[] = {NULL};
	struct cbar_number sub;
	if (!path_number(d, rc, &sub, resp) || !query_ok(rq, allowed, resp))
		return;
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = cbar_engine_status(d->engine, &rc->who, &sub, &out, &diag);
	respond_hook(resp, err, out, &diag, 200);
}

/* A line's effective status (load/status.h): the registry's records read
 * first, then the four services decided on the rules snapshot with the
 * unlock view every decision reads, so that the answer is what a call
 * would get now; the same bytes as `callbar status --rules --json`. */
void cbar_h_subscriber_get(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                           struct http_response *resp)
{
	static const char *const allowed[] = {NULL};
	struct cbar_number sub;
	if (!path_number(d, rc, &sub, resp) || !query_ok(rq, allowed, resp))
		return;
	if (sub.flags & (CBAR_NUM_EMERGENCY | CBAR_NUM_SHORT)) {
		cbar_respond_error(resp, 400, CBAR_BAD_VALUE, "number", "not a subscriber number");
		return;
	}
	struct cbar_status_records recs;
	struct cbar_diag diag = {0};
	enum cbar_err err = cbar_engine_records_of(d->engine, sub.e164, &recs, &diag);
	if (err) {
		cbar_respond_hook_error(resp, err, &diag);
		return;
	}
	struct cbar_buf b;
	cbar_buf_init(&b, 1u << 24);
	int64_t now = cbar_routes_now();
	bool ok = false;
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	if (s) {
		struct cbar_status_entry eff[CBAR_STATUS_ENTRIES];
		struct cbar_unlock_lookup lk;
		bool have = cbar_engine_unlock_lookup(d->engine, &lk);
		ok = cbar_status_decide(s->rules, s->np, s->country, sub.e164, have ? &lk : NULL, now,
		                        eff) &&
		     cbar_status_json(&b, &recs, eff, cbar_rules_tz_offset(s->rules));
	}
	cbar_slot_read_end();
	cbar_status_records_release(&recs);
	if (ok && (resp->body = cbar_buf_steal(&b, &resp->len))) {
		resp->status = 200;
		resp->content_type = "application/json";
	} else {
		cbar_buf_release(&b);
		cbar_respond_error(resp, 500, CBAR_NOMEM, NULL, "the status could not be written");
	}
}

void cbar_h_audit(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
             struct http_response *resp)
{
	static const char *const allowed[] = {"subscriber", "since", "limit", NULL};
	struct audit_query q = {.limit = 100};
	struct req_error e;
	const char *v;
	if (!query_ok(rq, allowed, resp))
		return;
	if ((v = cbar_http_query(rq, "subscriber"))) {
		if (cbar_req_number(d->np, d->country, v, strlen(v), "subscriber", &q.subscriber, &e)) {
			cbar_respond_req_error(resp, &e);
			return;
		}
		q.has_subscriber = true;
	}
	if ((v = cbar_http_query(rq, "since"))) {
		if (cbar_time_read(v, strlen(v), 0, CBAR_TIME_ZONED, &q.since)) {
			cbar_respond_error(resp, 400, CBAR_BAD_TIME, "since",
			              "want an ISO 8601 time such as 2024-05-01T00:00:00+08:00");
			return;
		}
		q.has_since = true;
	}
	if ((v = cbar_http_query(rq, "limit"))) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (!*v || *end || n < 1 || n > 1000 || strlen(v) > 4) {
			cbar_respond_error(resp, 400, CBAR_BAD_VALUE, "limit", "want 1 to 1000");
			return;
		}
		q.limit = (unsigned)n;
	}
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = cbar_engine_audit(d->engine, &rc->who, &q, &out, &diag);
	respond_hook(resp, err, out, &diag, 200);
}

/* The audit chain's head, for an outside system to keep (anchor): no
 * subscriber's data, so it is as open as /metrics. */
void cbar_h_audit_head(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                  struct http_response *resp)
{
	static const char *const allowed[] = {NULL};
	(void)rc;
	if (!query_ok(rq, allowed, resp))
		return;
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	struct cbar_diag diag = {0};
	int64_t seq = 0;
	char hash[65];
	enum cbar_err err = cbar_engine_audit_head(d->engine, &seq, hash, &diag);
	if (err) {
		cbar_respond_hook_error(resp, err, &diag);
		return;
	}
	cbar_respond_json(resp, 200, json_pack("{s:I,s:s}", "seq", (json_int_t)seq, "hash", hash));
}

void cbar_h_keyword(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
               struct http_response *resp)
{
	struct keyword_req k;
	struct req_error e;
	if (cbar_req_keyword_parse(d->np, d->country, rq->body, rq->body_len, &k, &e)) {
		cbar_respond_req_error(resp, &e);
		return;
	}
	if (!k.has_at)
		k.at = cbar_routes_now();
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = cbar_engine_keyword(d->engine, &rc->who, &k, &out, &diag);
	/* A registry change, logged as unlocks and relocks are.  A keyword
	 * the table does not know is free text a subscriber wrote: its words
	 * stay out of the log. */
	if (!err) {
		const char *result = json_string_value(json_object_get(out, "result"));
		bool known = result && strcmp(result, "unknown-keyword");
		cbar_log_line(LOG_LV_INFO, "keyword", "{s:s,s:s,s:s,s:s}", "subscriber",
		         k.subscriber.digits, "keyword", known ? k.keyword : "", "result",
		         result ? result : "", "by", rc->who.name);
	}
	respond_hook(resp, err, out, &diag, 200);
}
