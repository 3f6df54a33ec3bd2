/*
 * callbar serve: the HTTP routes (one table) and their handlers.
 *
 * Every answer is JSON except /metrics; every error is
 *   {"error":{"code":"STABLE_CODE","message":"...","field":"..."|null}}
 * with code the name of an enum cbar_err (include/callbar/error.h), which
 * never changes once published.  docs/api.md is the reference.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/buf.h"
#include "daemon.h"
#include "log.h"
#include "rule_counts.h"
#include "decision.h"
#include "proto/verdict_json.h"
#include "callbar/scope.h"
#include "snapshot.h"

/* ---- metrics ---------------------------------------------------------- */

static const double latency_buckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                         0.005,   0.01,   0.025,   0.05,   0.1,   0.5, 1};
#define LB .buckets = latency_buckets, .nbuckets = sizeof latency_buckets / sizeof(double)
#define LOCK .lock = PTHREAD_MUTEX_INITIALIZER

struct metric_family m_http_requests = {
	.name = "callbar_http_requests_total", .help = "HTTP requests answered, by route pattern, method and status.",
	.type = METRIC_COUNTER, .labels = {"route", "method", "status"}, LOCK};
struct metric_family m_http_duration = {
	.name = "callbar_http_request_duration_seconds", .help = "Time from request headers to the answer being queued.",
	.type = METRIC_HISTOGRAM, .labels = {"route"}, LB, LOCK};
struct metric_family m_http_in_flight = {
	.name = "callbar_http_requests_in_flight", .help = "Requests begun and not yet answered.",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_decisions = {
	.name = "callbar_decisions_total",
	.help = "Decisions by verdict, service, direction, deciding rule (its reason; default; "
	        "emergency) and front end (http, sip).",
	.type = METRIC_COUNTER, .labels = {"verdict", "service", "direction", "rule", "front"}, LOCK};
struct metric_family m_decision_duration = {
	.name = "callbar_decision_duration_seconds", .help = "Time spent in the decision engine per event.",
	.type = METRIC_HISTOGRAM, LB, LOCK};
struct metric_family m_rules_info = {
	.name = "callbar_rules_info", .help = "1 for the rule file in use (by SHA-256), 0 for earlier ones.",
	.type = METRIC_GAUGE, .labels = {"sha256"}, LOCK};
struct metric_family m_rules_version = {
	.name = "callbar_rules_version", .help = "Version of the rules in use: 1 at start, +1 per successful reload.",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_rules_count = {
	.name = "callbar_rules_active", .help = "Rules in the snapshot in use.",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_rules_loaded = {
	.name = "callbar_rules_loaded_timestamp_seconds", .help = "When the rules in use were loaded (Unix time).",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_reloads = {
	.name = "callbar_reloads_total", .help = "Rule reloads by result (ok, failed).",
	.type = METRIC_COUNTER, .labels = {"result"}, LOCK};
struct metric_family m_registry_records = {
	.name = "callbar_registry_records", .help = "Unlock records in the registry's in-memory set.",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_store_up = {
	.name = "callbar_store_up", .help = "1 when the registry store answers, 0 when it does not.",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_unaudited = {
	.name = "callbar_registry_unaudited_rows_total",
	.help = "Registry rows changed without an audit entry that vouches for them (written "
	        "behind callbar's back): never applied to decisions; any is an alarm.",
	.type = METRIC_COUNTER, LOCK};
struct metric_family m_chain_broken = {
	.name = "callbar_registry_audit_chain_broken_at",
	.help = "The audit entry at which the chain no longer verifies and following stopped; "
	        "0 while the chain holds.",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_audit_head = {
	.name = "callbar_audit_head_seq",
	.help = "Sequence number of the registry's last audit entry (GET /v1/audit/head has its "
	        "hash).",
	.type = METRIC_GAUGE, LOCK};
struct metric_family m_build_info = {
	.name = "callbar_build_info", .help = "Always 1; the version of callbar running.",
	.type = METRIC_GAUGE, .labels = {"version"}, LOCK};

struct metric_family m_sip_messages = {
	.name = "callbar_sip_messages_total",
	.help = "SIP messages by what became of them: received, dropped (responses, ACK, junk), "
	        "parse_error, send_error; udp_kernel_dropped: UDP datagrams the kernel dropped "
	        "before callbar read them (ACKs removed by the ACK filter, full receive buffers); "
	        "udp_refused_source: UDP datagrams from outside a listener's allow=, unanswered.",
	.type = METRIC_COUNTER, .labels = {"event"}, LOCK};
struct metric_family m_sip_answers = {
	.name = "callbar_sip_answers_total", .help = "SIP answers sent, by status code.",
	.type = METRIC_COUNTER, .labels = {"status"}, LOCK};
struct metric_family m_sip_tcp = {
	.name = "callbar_sip_tcp_connections_total",
	.help = "SIP TCP connections: accepted, closed (idle_closed of them by sip.tcp_idle_timeout); "
	        "refused and closed at once: refused_not_allowed (outside allow=), "
	        "refused_per_source (sip.tcp_per_source), refused_full (the descriptor reserve).",
	.type = METRIC_COUNTER, .labels = {"event"}, LOCK};
struct metric_family *const daemon_metrics[] = {
	&m_build_info,   &m_http_requests, &m_http_duration,  &m_http_in_flight, &m_decisions,
	&m_decision_duration, &m_rules_info, &m_rules_version, &m_rules_count,   &m_rules_loaded,
	&m_reloads,      &m_registry_records, &m_store_up,    &m_sip_messages,   &m_sip_answers,
	&m_sip_tcp,      &m_audit_head, &m_unaudited, &m_chain_broken,
};

/* One count of rule_counts_each() into callbar_decisions_total. */
static void decision_count(void *arg, const char *label, unsigned front, unsigned service,
                           unsigned direction, unsigned verdict, uint64_t n)
{
	(void)arg;
	metric_count_set(&m_decisions,
	                 (const char *const[]){cbar_decision_name((enum cbar_decision)verdict),
	                                       cbar_service_name((enum cbar_service)service),
	                                       cbar_direction_name((enum cbar_direction)direction),
	                                       label, daemon_front_name((enum daemon_front)front)},
	                 n);
}

/* The SIP workers keep their own counters (nothing shared on their path);
 * the page adds them up when it is rendered. */
static void collect_sip(struct daemon *d)
{
	if (!d->sip)
		return;
	struct sip_counters c;
	memset(&c, 0, sizeof c);
	sip_server_counters(d->sip, &c);
	metric_count_set(&m_sip_messages, (const char *const[]){"received"}, c.received);
	metric_count_set(&m_sip_messages, (const char *const[]){"dropped"}, c.dropped);
	metric_count_set(&m_sip_messages, (const char *const[]){"parse_error"}, c.parse_errors);
	metric_count_set(&m_sip_messages, (const char *const[]){"send_error"}, c.send_errors);
	metric_count_set(&m_sip_messages, (const char *const[]){"udp_kernel_dropped"},
	                 c.udp_kernel_dropped);
	metric_count_set(&m_sip_messages, (const char *const[]){"udp_refused_source"},
	                 c.udp_refused_source);
	metric_count_set(&m_sip_tcp, (const char *const[]){"accepted"}, c.tcp_accepted);
	metric_count_set(&m_sip_tcp, (const char *const[]){"closed"}, c.tcp_closed);
	metric_count_set(&m_sip_tcp, (const char *const[]){"idle_closed"}, c.tcp_idle_closed);
	metric_count_set(&m_sip_tcp, (const char *const[]){"refused_not_allowed"},
	                 c.tcp_refused_not_allowed);
	metric_count_set(&m_sip_tcp, (const char *const[]){"refused_per_source"},
	                 c.tcp_refused_per_source);
	metric_count_set(&m_sip_tcp, (const char *const[]){"refused_full"}, c.tcp_refused_full);
	for (int i = 0; i < SIP_ST_COUNT; i++) {
		char code[8];
		uint16_t st = sip_status_code((enum sip_status_slot)i);
		if (st)
			snprintf(code, sizeof code, "%u", st);
		else
			snprintf(code, sizeof code, "other");
		if (c.answered[i] || st == 302 || st == 403)
			metric_count_set(&m_sip_answers, (const char *const[]){code}, c.answered[i]);
	}
}
const size_t daemon_metrics_count = sizeof daemon_metrics / sizeof daemon_metrics[0];

/* A rendered /metrics page, or a JSON-lines batch answer, is never bigger
 * than this. */
#define METRICS_MAX (8u << 20)
#define ANSWER_MAX (8u << 20)

/* ---- routes ----------------------------------------------------------- */

/* Per request, in rq->user. */
struct req_ctx {
	const struct route *route;
	char param[80];             /* the {number} of the path */
	char allow[64];             /* methods of the path, for a 405 */
	struct daemon_caller who;
	struct token_info token;
};

typedef void handler_fn(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                        struct http_response *resp);

/* Who may call a route: a role, or the decide_auth setting.  NEED_GATEWAY
 * is the SMS centre's role and no one else's (role_allows()). */
enum access { OPEN, NEED_AGENT, NEED_SUPERVISOR, NEED_ADMIN, DECIDE, METRICS, NEED_GATEWAY };

struct route {
	const char *method;
	const char *pattern; /* segments; "{number}" matches one segment */
	enum access access;
	handler_fn *handler;
};

static handler_fn h_healthz, h_readyz, h_metrics, h_rules, h_reload, h_decide, h_batch,
	h_unlock_put, h_unlock_delete, h_unlock_get, h_audit, h_audit_head, h_keyword;

static const struct route routes[] = {
	{.method = "GET", .pattern = "/healthz", .access = OPEN, .handler = h_healthz},
	{.method = "GET", .pattern = "/readyz", .access = OPEN, .handler = h_readyz},
	{.method = "GET", .pattern = "/metrics", .access = METRICS, .handler = h_metrics},
	{.method = "GET", .pattern = "/v1/rules", .access = NEED_AGENT, .handler = h_rules},
	{.method = "POST", .pattern = "/v1/reload", .access = NEED_ADMIN, .handler = h_reload},
	{.method = "POST", .pattern = "/v1/decide", .access = DECIDE, .handler = h_decide},
	{.method = "POST", .pattern = "/v1/decide/batch", .access = DECIDE, .handler = h_batch},
	{.method = "PUT", .pattern = "/v1/unlocks/{number}", .access = NEED_AGENT,
	 .handler = h_unlock_put},
	{.method = "DELETE", .pattern = "/v1/unlocks/{number}", .access = NEED_SUPERVISOR,
	 .handler = h_unlock_delete},
	{.method = "GET", .pattern = "/v1/unlocks/{number}", .access = NEED_AGENT,
	 .handler = h_unlock_get},
	{.method = "GET", .pattern = "/v1/audit", .access = NEED_SUPERVISOR, .handler = h_audit},
	{.method = "GET", .pattern = "/v1/audit/head", .access = METRICS, .handler = h_audit_head},
	{.method = "POST", .pattern = "/v1/keyword", .access = NEED_GATEWAY, .handler = h_keyword},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Whether path matches pattern; the {param} segment is copied to param. */
static bool match(const char *pattern, const char *path, char *param, size_t cap)
{
	while (*pattern && *path) {
		if (*pattern == '{') {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= cap)
				return false;
			memcpy(param, path, n);
			param[n] = '\0';
			path += n;
			pattern += strcspn(pattern, "}") + 1;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return !*pattern && !*path;
}

/* ---- answers ---------------------------------------------------------- */

static void respond_json(struct http_response *resp, int status, json_t *j)
{
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (j)
		json_decref(j);
	if (!resp->body) {
		resp->status = 500;
		resp->body = strdup("{\"error\":{\"code\":\"NOMEM\",\"message\":\"out of memory\","
		                    "\"field\":null}}");
	}
	resp->len = resp->body ? strlen(resp->body) : 0;
}

static json_t *error_object(enum cbar_err code, const char *field, const char *message)
{
	return json_pack("{s:{s:s,s:s,s:o}}", "error", "code", cbar_err_name(code), "message",
	                 message && *message ? message : cbar_err_message(code), "field",
	                 field && *field ? json_string(field) : json_null());
}

static void respond_error(struct http_response *resp, int status, enum cbar_err code,
                          const char *field, const char *message)
{
	respond_json(resp, status, error_object(code, field, message));
}

/* The HTTP status of an error from a parser or a hook. */
static int status_of(enum cbar_err e)
{
	switch (e) {
	case CBAR_OK:
		return 200;
	case CBAR_NOT_FOUND:
	case CBAR_NO_ROUTE:
	case CBAR_STORE_NOTFOUND:
		return 404;
	case CBAR_STORE_LIMIT:
		return 409;
	case CBAR_STORE_BUSY:
	case CBAR_STORE_DOWN:
	case CBAR_STORE_OPEN:
		return 503;
	case CBAR_NOT_BUILT:
		return 501;
	case CBAR_UNAVAILABLE:
		return 503;
	case CBAR_TOO_BIG:
		return 413;
	case CBAR_UNAUTHENTICATED:
		return 401;
	case CBAR_FORBIDDEN:
		return 403;
	case CBAR_METHOD:
		return 405;
	case CBAR_RELOAD:
		return 422;
	case CBAR_NOMEM:
	case CBAR_IO:
		return 500;
	default:
		return e >= CBAR_NUM_EMPTY && e <= CBAR_NUM_COUNTRY ? 400
		       : e >= CBAR_BAD_JSON && e <= CBAR_BAD_VALUE ? 400
		       : e >= CBAR_ID_TYPE && e <= CBAR_ID_FORMAT   ? 400
		       : e == CBAR_BAD_TIME || e == CBAR_INVAL     ? 400
		                                                   : 500;
	}
}

static void respond_req_error(struct http_response *resp, const struct req_error *e)
{
	respond_error(resp, status_of(e->code), e->code, e->field, e->message);
}

/* A hook's failure, or 501 for a hook that is not there. */
static void respond_hook_error(struct http_response *resp, enum cbar_err e,
                               const struct cbar_diag *diag)
{
	respond_error(resp, status_of(e), e, NULL, diag ? diag->msg : NULL);
}

/* A node configured without a registry (registry.url empty) decides
 * without unlock records and has no registry routes. */
static void respond_no_registry(struct http_response *resp)
{
	respond_error(resp, 404, CBAR_NO_ROUTE, NULL,
	              "this node has no registry (registry.url is empty): it decides without "
	              "unlock records");
}

/* The rule file's zone: dates a route reads or checks are the operator's. */
static int32_t rules_tz(struct daemon *d)
{
	slot_read_begin();
	const struct daemon_snapshot *s = slot_get(&d->rules);
	int32_t tz = s ? cbar_rules_tz_offset(s->rules) : 0;
	slot_read_end();
	return tz;
}

/* ---- handlers --------------------------------------------------------- */

static void h_healthz(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                      struct http_response *resp)
{
	(void)d, (void)rq, (void)rc;
	respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_readyz(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                     struct http_response *resp)
{
	(void)rq, (void)rc;
	json_t *checks = json_array();
	bool ready = true;
	for (size_t i = 0; i < d->nready; i++) {
		struct cbar_diag diag = {0};
		enum cbar_err e = d->ready[i].check(d->ready[i].ctx, &diag);
		ready &= e == CBAR_OK;
		json_array_append_new(checks, json_pack("{s:s,s:b,s:s}", "name", d->ready[i].name,
		                                        "ok", e == CBAR_OK, "message",
		                                        e ? (diag.msg[0] ? diag.msg : cbar_err_message(e))
		                                          : "ok"));
	}
	respond_json(resp, ready ? 200 : 503,
	             json_pack("{s:b,s:o}", "ready", ready, "checks", checks));
}

static void h_metrics(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                      struct http_response *resp)
{
	(void)rq, (void)rc;
	metric_gauge(&m_http_in_flight, NULL, http_in_flight(d->http));
	collect_sip(d);
	rule_counts_each(decision_count, NULL);
	if (engine_has_registry(d->engine)) {
		int64_t broken = 0;
		metric_gauge(&m_registry_records, NULL, (double)engine_records(d->engine));
		metric_count_set(&m_unaudited, NULL, engine_unaudited(d->engine, &broken));
		metric_gauge(&m_chain_broken, NULL, (double)broken);
	}
	if (engine_has_registry(d->engine)) {
		struct cbar_diag diag = {0};
		metric_gauge(&m_store_up, NULL,
		             engine_ready(d->engine, &diag) == CBAR_OK ? 1 : 0);
	}
	/* Only from a registry that answers: a scrape must not wait on a
	 * reconnection. */
	struct cbar_diag rd = {0};
	if (engine_has_registry(d->engine) && engine_ready(d->engine, &rd) == CBAR_OK) {
		struct cbar_diag diag = {0};
		int64_t seq;
		if (!engine_audit_head(d->engine, &seq, NULL, &diag))
			metric_gauge(&m_audit_head, NULL, (double)seq);
	}
	size_t len = 0;
	char *text = metrics_render(daemon_metrics, daemon_metrics_count, METRICS_MAX, &len);
	if (!text) {
		respond_error(resp, 500, CBAR_NOMEM, NULL, "metrics page too large or out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = text;
	resp->len = len;
}

static json_t *snapshot_json(const struct daemon_snapshot *s)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:I}", "version", (json_int_t)s->version, "file",
	                 s->path, "sha256", s->sha256, "loaded_at", s->loaded_at, "rules",
	                 (json_int_t)s->rule_count, "lines", (json_int_t)s->lines, "bytes",
	                 (json_int_t)s->len);
}

static void h_rules(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                    struct http_response *resp)
{
	(void)rq, (void)rc;
	slot_read_begin();
	const struct daemon_snapshot *s = slot_get(&d->rules);
	json_t *j = s ? snapshot_json(s) : NULL;
	slot_read_end();
	if (j)
		respond_json(resp, 200, j);
	else
		respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
}

static void h_reload(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                     struct http_response *resp)
{
	(void)rq, (void)rc;
	struct cbar_diag diag = {0};
	enum cbar_err e = daemon_reload(d, "http", &diag);
	slot_read_begin();
	const struct daemon_snapshot *s = slot_get(&d->rules);
	json_t *cur = s ? snapshot_json(s) : json_null();
	slot_read_end();
	if (!e) {
		respond_json(resp, 200, json_pack("{s:b,s:o}", "reloaded", 1, "rules", cur));
		return;
	}
	char msg[sizeof diag.msg + 1200];
	snprintf(msg, sizeof msg, "%s:%u:%u: %s", diag.file ? diag.file : "?", diag.line,
	         diag.column, diag.msg);
	json_t *j = error_object(CBAR_RELOAD, NULL, msg);
	json_object_set_new(j, "rules", cur); /* the rules still in use */
	respond_json(resp, 422, j);
}

/* Scope words of the registry routes' log lines (REQ_* values). */
static const char *const svc_label[] = {"voice", "sms", "any"};
static const char *const dir_label[] = {"in", "out", "any"};

/* The event's time when the body gave none: now. */
static int64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static double since_s(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One event read from a body: decided, counted and logged on the shared
 * path, its verdict written into b.  Inside the snapshot's read section.
 * An event whose subscriber could not be read is answered with that error
 * (false) unless it was an emergency call, allowed whoever makes it. */
static bool decide_one(struct daemon *d, const struct daemon_snapshot *s, struct decide_req *rq,
                       struct cbar_buf *b)
{
	struct cbar_verdict v;
	struct timespec t0;
	if (!rq->has_at)
		cbar_event_at(&rq->in, now_s());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	daemon_decide(d, s, &rq->in.ev, &v);
	metric_observe(&m_decision_duration, metric_series(&m_decision_duration, NULL),
	               since_s(&t0));
	daemon_record(s, DAEMON_FRONT_HTTP, &rq->in.ev, &v);
	if (rq->in.sub_err && v.decision != CBAR_ALLOW)
		return false;
	cbar_verdict_json(b, &v, NULL);
	return true;
}

/* A body's error as the error object of an answer, into b. */
static void error_into(struct cbar_buf *b, const struct req_error *e)
{
	json_t *j = error_object(e->code, e->field[0] ? e->field : NULL, e->message);
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	cbar_buf_puts(b, t ? t : "{\"error\":{\"code\":\"NOMEM\"}}");
	free(t);
}

static void respond_buf(struct http_response *resp, int status, const char *type,
                        struct cbar_buf *b)
{
	resp->status = status;
	resp->content_type = type;
	if (!(resp->body = cbar_buf_steal(b, &resp->len)))
		respond_error(resp, 500, CBAR_NOMEM, NULL, "answer too large");
}

static void h_decide(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                     struct http_response *resp)
{
	(void)rc;
	struct decide_req ev;
	struct req_error e;
	struct cbar_buf b;
	cbar_buf_init(&b, ANSWER_MAX);
	slot_read_begin();
	const struct daemon_snapshot *s = slot_get(&d->rules);
	/* The body is read in the snapshot's context (its zone, its country). */
	struct cbar_event_ctx ec = s ? snapshot_event_ctx(s) : (struct cbar_event_ctx){0};
	enum cbar_err err = s ? req_decide_parse(&ec, rq->body, rq->body_len, &ev, &e) : CBAR_OK;
	if (s && !err && !decide_one(d, s, &ev, &b)) {
		e = ev.sub_error;
		err = e.code;
	}
	slot_read_end();
	if (!s)
		respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
	else if (err)
		respond_req_error(resp, &e);
	else
		respond_buf(resp, 200, "application/json", &b);
	cbar_buf_release(&b);
}

struct batch_walk {
	struct daemon *d;
	const struct daemon_snapshot *s;
	struct cbar_buf b;
	bool lines;
};

static void batch_each(void *arg, size_t i, const struct decide_req *ev,
                       const struct req_error *ie)
{
	struct batch_walk *w = arg;
	if (w->lines ? i > 0 && !cbar_buf_put(&w->b, "\n", 1) : i > 0 && !cbar_buf_put(&w->b, ",", 1))
		return;
	if (ie) {
		error_into(&w->b, ie);
	} else {
		/* ev is the parser's, alive for this call: its event is ours to
		 * time and decide. */
		struct decide_req *rq = (struct decide_req *)(uintptr_t)ev;
		if (!decide_one(w->d, w->s, rq, &w->b))
			error_into(&w->b, &rq->sub_error);
	}
}

static void h_batch(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                    struct http_response *resp)
{
	(void)rc;
	struct batch_walk w = {.d = d};
	struct req_error e;
	bool lines = false;
	size_t k = 0;
	while (k < rq->body_len && strchr(" \t\r\n", rq->body[k]) && rq->body[k])
		k++;
	w.lines = !(k < rq->body_len && rq->body[k] == '[');
	cbar_buf_init(&w.b, ANSWER_MAX);
	if (!w.lines)
		cbar_buf_puts(&w.b, "{\"results\":[");
	slot_read_begin();
	w.s = slot_get(&d->rules);
	struct cbar_event_ctx ec = w.s ? snapshot_event_ctx(w.s) : (struct cbar_event_ctx){0};
	enum cbar_err err = w.s ? req_batch_parse(&ec, rq->body, rq->body_len, d->cfg.batch_max,
	                                          batch_each, &w, &lines, &e)
	                        : CBAR_OK;
	slot_read_end();
	if (!w.s)
		respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
	else if (err)
		respond_req_error(resp, &e);
	else if (!lines) /* an array in, {"results":[...]} out */
		cbar_buf_puts(&w.b, "]}"), respond_buf(resp, 200, "application/json", &w.b);
	else /* JSON lines in, JSON lines out: one answer a line, in order */
		cbar_buf_put(&w.b, "\n", 1), respond_buf(resp, 200, "application/x-ndjson", &w.b);
	cbar_buf_release(&w.b);
}

/* The {number} of the path as a subscriber number. */
static bool path_number(struct daemon *d, struct req_ctx *rc, struct cbar_number *n,
                        struct http_response *resp)
{
	struct req_error e;
	if (req_number(d->np, d->country, rc->param, strlen(rc->param), "number", n, &e)) {
		respond_req_error(resp, &e);
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
		respond_hook_error(resp, err, diag);
	} else {
		respond_json(resp, ok_status, out ? out : json_object());
	}
}

static void h_unlock_put(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                         struct http_response *resp)
{
	struct cbar_number sub;
	struct unlock_req u;
	struct req_error e;
	if (!path_number(d, rc, &sub, resp))
		return;
	if (req_unlock_parse(d->np, d->country, rq->body, rq->body_len, &u, &e)) {
		respond_req_error(resp, &e);
		return;
	}
	if (!engine_has_registry(d->engine)) {
		unlock_req_wipe(&u);
		respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	bool created = false;
	struct cbar_diag diag = {0};
	enum cbar_err err = engine_unlock(d->engine, &rc->who, &sub, &u, rules_tz(d), &out, &created,
	                                  &diag);
	unlock_req_wipe(&u);
	if (!err)
		log_line(LOG_LV_INFO, "unlock", "{s:s,s:s,s:s,s:s,s:s}", "subscriber", sub.digits,
		         "service", svc_label[u.service], "direction", dir_label[u.direction], "channel",
		         u.channel, "by", rc->who.name);
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
	http_query_each(rq, query_known, &q);
	if (q.bad[0])
		respond_error(resp, 400, CBAR_UNKNOWN_FIELD, q.bad, "unknown query argument");
	return !q.bad[0];
}

static void h_unlock_delete(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                            struct http_response *resp)
{
	static const char *const allowed[] = {"service", "direction", "reason", NULL};
	struct relock_req r = {.service = REQ_ANY, .direction = REQ_ANY};
	if (!path_number(d, rc, &r.subscriber, resp) || !query_ok(rq, allowed, resp))
		return;
	const char *v;
	int x;
	if ((v = http_query(rq, "service")) && (x = req_service(v)) < 0) {
		respond_error(resp, 400, CBAR_BAD_VALUE, "service", "want voice, sms or any");
		return;
	}
	if (v)
		r.service = (uint8_t)x;
	if ((v = http_query(rq, "direction")) && (x = req_direction(v)) < 0) {
		respond_error(resp, 400, CBAR_BAD_VALUE, "direction", "want in, out or any");
		return;
	}
	if (v)
		r.direction = (uint8_t)x;
	if ((v = http_query(rq, "reason"))) {
		if (strlen(v) > REQ_TEXT_MAX) {
			respond_error(resp, 400, CBAR_BAD_VALUE, "reason", "at most 64 bytes");
			return;
		}
		snprintf(r.reason, sizeof r.reason, "%s", v);
	}
	if (!engine_has_registry(d->engine)) {
		respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = engine_relock(d->engine, &rc->who, &r, &out, &diag);
	if (!err)
		log_line(LOG_LV_INFO, "relock", "{s:s,s:s,s:s,s:s}", "subscriber", r.subscriber.digits,
		         "service", svc_label[r.service], "direction", dir_label[r.direction], "by",
		         rc->who.name);
	respond_hook(resp, err, out, &diag, 200);
}

static void h_unlock_get(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                         struct http_response *resp)
{
	static const char *const allowed[] = {NULL};
	struct cbar_number sub;
	if (!path_number(d, rc, &sub, resp) || !query_ok(rq, allowed, resp))
		return;
	if (!engine_has_registry(d->engine)) {
		respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = engine_status(d->engine, &rc->who, &sub, &out, &diag);
	respond_hook(resp, err, out, &diag, 200);
}

static void h_audit(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                    struct http_response *resp)
{
	static const char *const allowed[] = {"subscriber", "since", "limit", NULL};
	struct audit_query q = {.limit = 100};
	struct req_error e;
	const char *v;
	if (!query_ok(rq, allowed, resp))
		return;
	if ((v = http_query(rq, "subscriber"))) {
		if (req_number(d->np, d->country, v, strlen(v), "subscriber", &q.subscriber, &e)) {
			respond_req_error(resp, &e);
			return;
		}
		q.has_subscriber = true;
	}
	if ((v = http_query(rq, "since"))) {
		if (cbar_time_read(v, strlen(v), 0, CBAR_TIME_ZONED, &q.since)) {
			respond_error(resp, 400, CBAR_BAD_TIME, "since",
			              "want an ISO 8601 time such as 2024-05-01T00:00:00+08:00");
			return;
		}
		q.has_since = true;
	}
	if ((v = http_query(rq, "limit"))) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (!*v || *end || n < 1 || n > 1000 || strlen(v) > 4) {
			respond_error(resp, 400, CBAR_BAD_VALUE, "limit", "want 1 to 1000");
			return;
		}
		q.limit = (unsigned)n;
	}
	if (!engine_has_registry(d->engine)) {
		respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = engine_audit(d->engine, &rc->who, &q, &out, &diag);
	respond_hook(resp, err, out, &diag, 200);
}

/* The audit chain's head, for an outside system to keep (anchor): no
 * subscriber's data, so it is as open as /metrics. */
static void h_audit_head(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                         struct http_response *resp)
{
	static const char *const allowed[] = {NULL};
	(void)rc;
	if (!query_ok(rq, allowed, resp))
		return;
	if (!engine_has_registry(d->engine)) {
		respond_no_registry(resp);
		return;
	}
	struct cbar_diag diag = {0};
	int64_t seq = 0;
	char hash[65];
	enum cbar_err err = engine_audit_head(d->engine, &seq, hash, &diag);
	if (err) {
		respond_hook_error(resp, err, &diag);
		return;
	}
	respond_json(resp, 200, json_pack("{s:I,s:s}", "seq", (json_int_t)seq, "hash", hash));
}

static void h_keyword(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                      struct http_response *resp)
{
	struct keyword_req k;
	struct req_error e;
	if (req_keyword_parse(d->np, d->country, rq->body, rq->body_len, &k, &e)) {
		respond_req_error(resp, &e);
		return;
	}
	if (!k.has_at)
		k.at = now_s();
	if (!engine_has_registry(d->engine)) {
		respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = engine_keyword(d->engine, &rc->who, &k, &out, &diag);
	/* A registry change, logged as unlocks and relocks are.  A keyword
	 * the table does not know is free text a subscriber wrote: its words
	 * stay out of the log. */
	if (!err) {
		const char *result = json_string_value(json_object_get(out, "result"));
		bool known = result && strcmp(result, "unknown-keyword");
		log_line(LOG_LV_INFO, "keyword", "{s:s,s:s,s:s,s:s}", "subscriber",
		         k.subscriber.digits, "keyword", known ? k.keyword : "", "result",
		         result ? result : "", "by", rc->who.name);
	}
	respond_hook(resp, err, out, &diag, 200);
}

/* ---- the HTTP callbacks ----------------------------------------------- */

static enum role needed_role(const struct daemon *d, enum access a)
{
	switch (a) {
	case OPEN:
		return ROLE_NONE;
	case NEED_AGENT:
		return ROLE_AGENT;
	case NEED_SUPERVISOR:
		return ROLE_SUPERVISOR;
	case NEED_ADMIN:
		return ROLE_ADMIN;
	case NEED_GATEWAY:
		return ROLE_GATEWAY;
	case DECIDE:
		return d->cfg.decide_auth == DECIDE_AUTH_NONE ? ROLE_NONE : ROLE_AGENT;
	case METRICS:
		return d->cfg.metrics_auth ? ROLE_AGENT : ROLE_NONE;
	}
	return ROLE_ADMIN;
}

/* Route, method and token, before any body is read. */
static bool on_begin(void *ctx, struct http_request *rq, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct req_ctx *rc = calloc(1, sizeof *rc);
	if (!rc) {
		respond_error(resp, 500, CBAR_NOMEM, NULL, NULL);
		return true;
	}
	rq->user = rc;
	rc->who.name = "";
	char *allow = rc->allow;
	/* HEAD is GET without the body (libmicrohttpd drops it): load balancers
	 * probe /healthz that way. */
	const char *method = strcmp(rq->method, "HEAD") ? rq->method : "GET";
	for (size_t i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, rq->path, rc->param, sizeof rc->param))
			continue;
		if (!strcmp(routes[i].method, method)) {
			rc->route = &routes[i];
			break;
		}
		size_t n = strlen(allow);
		snprintf(allow + n, sizeof rc->allow - n, "%s%s", n ? ", " : "", routes[i].method);
	}
	if (!rc->route) {
		if (allow[0]) {
			respond_error(resp, 405, CBAR_METHOD, NULL, NULL);
			resp->header_name = "Allow";
			resp->header_value = allow; /* lives in rc until done() */
		} else {
			respond_error(resp, 404, CBAR_NO_ROUTE, NULL, NULL);
		}
		return true;
	}
	enum role need = needed_role(d, rc->route->access);
	if (need == ROLE_NONE)
		return false;
	/* "Bearer <token>"; anything else, or an unknown token, is the same
	 * 401: the answer says nothing about which tokens exist. */
	const char *auth = http_header(rq, "Authorization");
	if (!auth || strncasecmp(auth, "Bearer ", 7) ||
	    d->tokens.ops->verify(d->tokens.ctx, auth + 7, strlen(auth + 7), &rc->token)) {
		respond_error(resp, 401, CBAR_UNAUTHENTICATED, NULL,
		              "send 'Authorization: Bearer TOKEN' with a valid token");
		resp->header_name = "WWW-Authenticate";
		resp->header_value = "Bearer realm=\"callbar\"";
		return true;
	}
	rc->who.name = rc->token.name;
	rc->who.role = rc->token.role;
	if (!role_allows(rc->token.role, need)) {
		char msg[120];
		snprintf(msg, sizeof msg, "this needs the role %s%s", role_name(need),
		         need == ROLE_GATEWAY ? "" : " or higher");
		respond_error(resp, 403, CBAR_FORBIDDEN, NULL, msg);
		return true;
	}
	return false;
}

static void on_finish(void *ctx, struct http_request *rq, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct req_ctx *rc = rq->user;
	rc->route->handler(d, rq, rc, resp);
}

static void on_too_big(void *ctx, struct http_request *rq, struct http_response *resp)
{
	struct daemon *d = ctx;
	char msg[80];
	(void)rq;
	snprintf(msg, sizeof msg, "the body is larger than %u bytes", d->cfg.body_max);
	respond_error(resp, 413, CBAR_TOO_BIG, NULL, msg);
}

static void on_done(void *ctx, struct http_request *rq)
{
	(void)ctx;
	struct req_ctx *rc = rq->user;
	const char *route = rc && rc->route ? rc->route->pattern : "unmatched";
	const char *method = rc && rc->route ? rc->route->method : "other";
	char status[8];
	snprintf(status, sizeof status, "%d", rq->status);
	const char *labels[] = {route, method, status};
	metric_count(&m_http_requests, labels, 1);
	double secs = since_s(&rq->start);
	metric_observe(&m_http_duration, metric_series(&m_http_duration, labels), secs);
	/* The route's pattern, never the path: a path may hold a number. */
	log_line(LOG_LV_DEBUG, "request", "{s:s,s:s,s:i,s:f,s:s}", "route", route, "method", method,
	         "status", rq->status, "seconds", secs, "token", rc ? rc->who.name : "");
	free(rc);
}

/* An ambiguous request, refused by the HTTP layer before routing. */
static void on_refuse(void *ctx, struct http_request *rq, struct http_response *resp,
                      enum cbar_err code, const char *field, const char *message)
{
	(void)ctx, (void)rq;
	respond_error(resp, 400, code, field, message);
}

const struct http_ops daemon_http_ops_template = {
	.refuse = on_refuse,
	.begin = on_begin,
	.finish = on_finish,
	.too_big = on_too_big,
	.done = on_done,
};
