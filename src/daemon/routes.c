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
#include "routes.h"
#include "console.h"
#include "log.h"
#include "rule_counts.h"
#include "decision.h"
#include "proto/verdict_json.h"
#include "callbar/scope.h"
#include "snapshot.h"

/* A JSON-lines batch answer is never bigger than this. */
#define ANSWER_MAX (8u << 20)

/* ---- routes ----------------------------------------------------------- */

static handler_fn h_healthz, h_readyz, h_metrics, h_rules, h_reload, h_decide, h_batch;

static const struct route routes[] = {
    /* the web console's own (console.h); its files are served before the table */
    {.method = "POST",
     .pattern = "/console/api/session",
     .access = OPEN,
     .handler = cbar_h_console_signin},
    {.method = "GET",
     .pattern = "/console/api/session",
     .access = OPEN,
     .handler = cbar_h_console_session},
    {.method = "DELETE",
     .pattern = "/console/api/session",
     .access = NEED_AGENT,
     .handler = cbar_h_console_signout},
    {.method = "GET",
     .pattern = "/console/api/series",
     .access = NEED_AGENT,
     .handler = cbar_h_console_series},
    {.method = "GET",
     .pattern = "/console/api/rules",
     .access = NEED_ADMIN,
     .handler = cbar_h_console_rules},
    {.method = "GET",
     .pattern = "/console/api/audit-state",
     .access = NEED_SUPERVISOR,
     .handler = cbar_h_console_audit_state},
    {.method = "POST",
     .pattern = "/console/api/audit-verify",
     .access = NEED_SUPERVISOR,
     .handler = cbar_h_console_audit_verify},
    {.method = "GET", .pattern = "/healthz", .access = OPEN, .handler = h_healthz},
    {.method = "GET", .pattern = "/readyz", .access = OPEN, .handler = h_readyz},
    {.method = "GET", .pattern = "/metrics", .access = METRICS, .handler = h_metrics},
    {.method = "GET", .pattern = "/v1/rules", .access = NEED_AGENT, .handler = h_rules},
    {.method = "POST", .pattern = "/v1/reload", .access = NEED_ADMIN, .handler = h_reload},
    {.method = "POST", .pattern = "/v1/decide", .access = DECIDE, .handler = h_decide},
    {.method = "POST", .pattern = "/v1/decide/batch", .access = DECIDE, .handler = h_batch},
    {.method = "PUT",
     .pattern = "/v1/unlocks/{number}",
     .access = NEED_AGENT,
     .handler = cbar_h_unlock_put},
    {.method = "DELETE",
     .pattern = "/v1/unlocks/{number}",
     .access = NEED_SUPERVISOR,
     .handler = cbar_h_unlock_delete},
    {.method = "GET",
     .pattern = "/v1/unlocks/{number}",
     .access = NEED_AGENT,
     .handler = cbar_h_unlock_get},
    {.method = "GET",
     .pattern = "/v1/subscribers/{number}",
     .access = NEED_AGENT,
     .handler = cbar_h_subscriber_get},
    {.method = "GET", .pattern = "/v1/audit", .access = NEED_SUPERVISOR, .handler = cbar_h_audit},
    {.method = "GET", .pattern = "/v1/audit/head", .access = METRICS, .handler = cbar_h_audit_head},
    {.method = "POST", .pattern = "/v1/keyword", .access = NEED_GATEWAY, .handler = cbar_h_keyword},
    {.method = "GET", .pattern = "/v1/bars", .access = NEED_SUPERVISOR, .handler = cbar_h_bars_list},
    {.method = "DELETE",
     .pattern = "/v1/bars/{key}",
     .access = NEED_SUPERVISOR,
     .handler = cbar_h_bars_delete},
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

/* ---- handlers --------------------------------------------------------- */

static void h_metrics(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                      struct http_response *resp)
{
	(void)rq, (void)rc;
	size_t len = 0;
	char *text = cbar_daemon_metrics_page(d, &len);
	if (!text) {
		cbar_respond_error(resp, 500, CBAR_NOMEM, NULL,
		              "metrics page too large or out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = text;
	resp->len = len;
}

static void h_healthz(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                      struct http_response *resp)
{
	(void)d, (void)rq, (void)rc;
	cbar_respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
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
		json_array_append_new(
		    checks, json_pack("{s:s,s:b,s:s}", "name", d->ready[i].name, "ok", e == CBAR_OK,
		                      "message",
		                      e ? (diag.msg[0] ? diag.msg : cbar_err_message(e)) : "ok"));
	}
	cbar_respond_json(resp, ready ? 200 : 503,
	             json_pack("{s:b,s:o}", "ready", ready, "checks", checks));
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
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	json_t *j = s ? snapshot_json(s) : NULL;
	cbar_slot_read_end();
	if (j)
		cbar_respond_json(resp, 200, j);
	else
		cbar_respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
}

static void h_reload(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                     struct http_response *resp)
{
	(void)rq, (void)rc;
	struct cbar_diag diag = {0};
	enum cbar_err e = cbar_daemon_reload(d, "http", &diag);
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	json_t *cur = s ? snapshot_json(s) : json_null();
	cbar_slot_read_end();
	if (!e) {
		cbar_respond_json(resp, 200, json_pack("{s:b,s:o}", "reloaded", 1, "rules", cur));
		return;
	}
	char msg[sizeof diag.msg + 1200];
	snprintf(msg, sizeof msg, "%s:%u:%u: %s", diag.file ? diag.file : "?", diag.line,
	         diag.column, diag.msg);
	json_t *j = cbar_error_object(CBAR_RELOAD, NULL, msg);
	json_object_set_new(j, "rules", cur); /* the rules still in use */
	cbar_respond_json(resp, 422, j);
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
/*
 * Decide k parsed requests with one cbar_daemon_decide_many() call (their
 * unlock and limit lookups overlap; limits count them in the order given):
 * each without `at` is decided now; each is observed with its share of
 * the call's time (the histogram's sum stays the time spent deciding),
 * counted and logged on the shared path.
 */
static void decide_reqs(struct daemon *d, const struct daemon_snapshot *s,
                        struct decide_req *const *rq, size_t k, struct cbar_verdict *v)
{
	const struct cbar_event *ev[CBAR_DECIDE_MANY_MAX];
	int64_t now = cbar_routes_now();
	for (size_t j = 0; j < k; j++) {
		if (!rq[j]->has_at)
			cbar_event_at(&rq[j]->in, now);
		ev[j] = &rq[j]->in.ev;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cbar_daemon_decide_many(d, s, ev, k, v);
	double each = since_s(&t0) / (double)k;
	struct cbar_metric_series *ms = cbar_metric_series(&cbar_m_decision_duration, NULL);
	for (size_t j = 0; j < k; j++) {
		cbar_metric_observe(&cbar_m_decision_duration, ms, each);
		cbar_daemon_record(s, DAEMON_FRONT_HTTP, ev[j], &v[j]);
	}
}

/* Whether the verdict is the answer: an event whose subscriber could not be
 * read is answered with that error unless it was an emergency call,
 * allowed whoever makes it. */
static bool verdict_stands(const struct decide_req *rq, const struct cbar_verdict *v)
{
	return !rq->in.sub_err || v->decision == CBAR_ALLOW;
}

/* Decide one request; false when the answer is rq->sub_error instead. */
static bool decide_one(struct daemon *d, const struct daemon_snapshot *s, struct decide_req *rq,
                       struct cbar_buf *b)
{
	struct cbar_verdict v;
	decide_reqs(d, s, &rq, 1, &v);
	if (!verdict_stands(rq, &v))
		return false;
	cbar_verdict_json(b, &v, NULL);
	return true;
}

/* A body's error as the error object of an answer, into b. */
static void error_into(struct cbar_buf *b, const struct req_error *e)
{
	json_t *j = cbar_error_object(e->code, e->field[0] ? e->field : NULL, e->message);
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
		cbar_respond_error(resp, 500, CBAR_NOMEM, NULL, "answer too large");
}

static void h_decide(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                     struct http_response *resp)
{
	(void)rc;
	struct decide_req ev;
	struct req_error e;
	struct cbar_buf b;
	cbar_buf_init(&b, ANSWER_MAX);
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	/* The body is read in the snapshot's context (its zone, its country). */
	struct cbar_event_ctx ec = s ? cbar_snapshot_event_ctx(s) : (struct cbar_event_ctx){0};
	enum cbar_err err = s ? cbar_req_decide_parse(&ec, rq->body, rq->body_len, &ev, &e) : CBAR_OK;
	if (s && !err && !decide_one(d, s, &ev, &b)) {
		e = ev.sub_error;
		err = e.code;
	}
	cbar_slot_read_end();
	if (!s)
		cbar_respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
	else if (err)
		cbar_respond_req_error(resp, &e);
	else
		respond_buf(resp, 200, "application/json", &b);
	cbar_buf_release(&b);
}

/*
 * The batch route decides its items in chunks of up to CBAR_DECIDE_MANY_MAX
 * with one cbar_daemon_decide_many() call each (their unlock and limit
 * lookups overlap), in the order given, so that limits count them as one
 * at a time would; the answers are written in that order.  An item the
 * parser refused keeps its place with its error, and the others are
 * decided all the same.
 */
#define BATCH_CHUNK CBAR_DECIDE_MANY_MAX

struct batch_item {
	size_t i; /* the item's index in the body */
	bool bad; /* refused by the parser: err says why */
	struct req_error err;
	struct decide_req rq;
};

struct batch_walk {
	struct daemon *d;
	const struct daemon_snapshot *s;
	struct cbar_buf b;
	bool lines;
	size_t n;                /* items held, not yet decided */
	struct batch_item *item; /* BATCH_CHUNK */
};

/* Decide the items held (decide_reqs()) and write their answers in order. */
static void batch_flush(struct batch_walk *w)
{
	struct decide_req *rq[BATCH_CHUNK];
	struct cbar_verdict v[BATCH_CHUNK];
	size_t k = 0;
	for (size_t j = 0; j < w->n; j++)
		if (!w->item[j].bad)
			rq[k++] = &w->item[j].rq;
	if (k)
		decide_reqs(w->d, w->s, rq, k, v);
	for (size_t j = 0, m = 0; j < w->n; j++) {
		struct batch_item *it = &w->item[j];
		if (w->lines ? it->i > 0 && !cbar_buf_put(&w->b, "\n", 1)
		             : it->i > 0 && !cbar_buf_put(&w->b, ",", 1))
			break;
		if (it->bad) {
			error_into(&w->b, &it->err);
			continue;
		}
		const struct cbar_verdict *vj = &v[m++];
		if (verdict_stands(&it->rq, vj))
			cbar_verdict_json(&w->b, vj, NULL);
		else
			error_into(&w->b, &it->rq.sub_error);
	}
	w->n = 0;
}

static void batch_each(void *arg, size_t i, const struct decide_req *ev, const struct req_error *ie)
{
	struct batch_walk *w = arg;
	struct batch_item *it = &w->item[w->n++];
	it->i = i;
	it->bad = ie != NULL;
	if (ie) {
		it->err = *ie;
	} else {
		/* ev is the parser's, alive for this call only: held as a copy
		 * whose pointers are its own. */
		cbar_event_copy(&it->rq.in, &ev->in);
		it->rq.has_at = ev->has_at;
		it->rq.sub_error = ev->sub_error;
		memcpy(it->rq.ingress, ev->ingress, sizeof it->rq.ingress);
		if (ev->in.ev.ingress == ev->ingress)
			it->rq.in.ev.ingress = it->rq.ingress;
	}
	if (w->n == BATCH_CHUNK)
		batch_flush(w);
}

static void h_batch(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                    struct http_response *resp)
{
	(void)rc;
	struct batch_walk w = {.d = d};
	struct req_error e;
	if (!(w.item = malloc(BATCH_CHUNK * sizeof *w.item))) {
		cbar_respond_error(resp, 500, CBAR_NOMEM, NULL, "out of memory");
		return;
	}
	bool lines = false;
	size_t k = 0;
	while (k < rq->body_len && strchr(" \t\r\n", rq->body[k]) && rq->body[k])
		k++;
	w.lines = !(k < rq->body_len && rq->body[k] == '[');
	cbar_buf_init(&w.b, ANSWER_MAX);
	if (!w.lines)
		cbar_buf_puts(&w.b, "{\"results\":[");
	cbar_slot_read_begin();
	w.s = cbar_slot_get(&d->rules);
	struct cbar_event_ctx ec = w.s ? cbar_snapshot_event_ctx(w.s) : (struct cbar_event_ctx){0};
	enum cbar_err err = w.s ? cbar_req_batch_parse(&ec, rq->body, rq->body_len, d->cfg.batch_max,
	                                          batch_each, &w, &lines, &e)
	                        : CBAR_OK;
	/* The items held are decided even when the body fails further on:
	 * counted and logged as the earlier ones, as one at a time would. */
	if (w.s)
		batch_flush(&w);
	cbar_slot_read_end();
	if (!w.s)
		cbar_respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
	else if (err)
		cbar_respond_req_error(resp, &e);
	else if (!lines) /* an array in, {"results":[...]} out */
		cbar_buf_puts(&w.b, "]}"), respond_buf(resp, 200, "application/json", &w.b);
	else /* JSON lines in, JSON lines out: one answer a line, in order */
		cbar_buf_put(&w.b, "\n", 1), respond_buf(resp, 200, "application/x-ndjson", &w.b);
	cbar_buf_release(&w.b);
	free(w.item);
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
static bool route_begin(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                        struct http_response *resp)
{
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
			cbar_respond_error(resp, 405, CBAR_METHOD, NULL, NULL);
			resp->header_name = "Allow";
			resp->header_value = allow; /* lives in rc until done() */
		} else {
			cbar_respond_error(resp, 404, CBAR_NO_ROUTE, NULL, NULL);
		}
		return true;
	}
	enum role need = needed_role(d, rc->route->access);
	if (need == ROLE_NONE)
		return false;
	/* "Bearer <token>"; anything else, or an unknown token, is the same
	 * 401: the answer says nothing about which tokens exist.  Without
	 * the header, the web console's session cookie may stand for the
	 * token it was made with (console.h). */
	const char *auth = cbar_http_header(rq, "Authorization");
	enum console_auth ca =
	    auth || !d->cfg.console ? CONSOLE_NO_SESSION : cbar_console_auth(d, rq, rc);
	if (ca == CONSOLE_NO_CSRF) {
		cbar_respond_error(resp, 403, CBAR_FORBIDDEN, CONSOLE_CSRF_HEADER,
		                   "a change made with the console's session needs its CSRF token");
		return true;
	}
	if (ca == CONSOLE_OK) {
		/* rc->token is the session's token's holder */
	} else if (!auth || strncasecmp(auth, "Bearer ", 7) ||
	    d->tokens.ops->verify(d->tokens.ctx, auth + 7, strlen(auth + 7), &rc->token)) {
		cbar_respond_error(resp, 401, CBAR_UNAUTHENTICATED, NULL,
		              "send 'Authorization: Bearer TOKEN' with a valid token");
		resp->header_name = "WWW-Authenticate";
		resp->header_value = "Bearer realm=\"callbar\"";
		return true;
	}
	rc->who.name = rc->token.name;
	rc->who.role = rc->token.role;
	if (!cbar_role_allows(rc->token.role, need)) {
		char msg[120];
		snprintf(msg, sizeof msg, "this needs the role %s%s", cbar_role_name(need),
		         need == ROLE_GATEWAY ? "" : " or higher");
		cbar_respond_error(resp, 403, CBAR_FORBIDDEN, NULL, msg);
		return true;
	}
	return false;
}

static bool on_begin(void *ctx, struct http_request *rq, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct req_ctx *rc = calloc(1, sizeof *rc);
	if (!rc) {
		cbar_respond_error(resp, 500, CBAR_NOMEM, NULL, NULL);
		return true;
	}
	rq->user = rc;
	rc->who.name = "";
	bool console = cbar_console_path(rq->path);
	if (console && !d->cfg.console) { /* console.enabled = off: no such path */
		cbar_respond_error(resp, 404, CBAR_NO_ROUTE, NULL, NULL);
		return true;
	}
	bool done = (console && (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD")) &&
	             cbar_console_asset(rq->path, resp)) ||
	            route_begin(d, rq, rc, resp);
	/* The console's answers, and every answer to its session: the
	 * security headers (console.h). */
	if (done && (console || rc->by_cookie))
		cbar_console_headers(rc, resp);
	return done;
}

static void on_finish(void *ctx, struct http_request *rq, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct req_ctx *rc = rq->user;
	rc->route->handler(d, rq, rc, resp);
	if (cbar_console_path(rq->path) || rc->by_cookie)
		cbar_console_headers(rc, resp);
}

static void on_too_big(void *ctx, struct http_request *rq, struct http_response *resp)
{
	struct daemon *d = ctx;
	char msg[80];
	(void)rq;
	snprintf(msg, sizeof msg, "the body is larger than %u bytes", d->cfg.body_max);
	cbar_respond_error(resp, 413, CBAR_TOO_BIG, NULL, msg);
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
	cbar_metric_count(&cbar_m_http_requests, labels, 1);
	double secs = since_s(&rq->start);
	cbar_metric_observe(&cbar_m_http_duration, cbar_metric_series(&cbar_m_http_duration, labels), secs);
	/* The route's pattern, never the path: a path may hold a number. */
	cbar_log_line(LOG_LV_DEBUG, "request", "{s:s,s:s,s:i,s:f,s:s}", "route", route, "method", method,
	         "status", rq->status, "seconds", secs, "token", rc ? rc->who.name : "");
	free(rc);
}

/* An ambiguous request, refused by the HTTP layer before routing. */
static void on_refuse(void *ctx, struct http_request *rq, struct http_response *resp,
                      enum cbar_err code, const char *field, const char *message)
{
	(void)ctx, (void)rq;
	cbar_respond_error(resp, 400, code, field, message);
}

const struct http_ops cbar_daemon_http_ops_template = {
    .refuse = on_refuse,
    .begin = on_begin,
    .finish = on_finish,
    .too_big = on_too_big,
    .done = on_done,
};
