/* callbar serve: the web console's files, sessions and routes (console.h). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "console.h"
#include "decision.h"
#include "log.h"
#include "rule_counts.h"
#include "series.h"
#include "slot.h"
#include "snapshot.h"

/* ---- the files, linked in by console_assets.S ------------------------ */

extern const char cbar__console_index[], cbar__console_index_end[];
extern const char cbar__console_js[], cbar__console_js_end[];
extern const char cbar__console_css[], cbar__console_css_end[];
extern const char cbar__console_i18n[], cbar__console_i18n_end[];
extern const char cbar__console_plot[], cbar__console_plot_end[];

static const struct asset {
	const char *path;
	const char *type;
	const char *start, *end;
} assets[] = {
    {"/console/", "text/html; charset=utf-8", cbar__console_index, cbar__console_index_end},
    {"/console/index.html", "text/html; charset=utf-8", cbar__console_index,
     cbar__console_index_end},
    {"/console/app.js", "text/javascript; charset=utf-8", cbar__console_js, cbar__console_js_end},
    {"/console/i18n.js", "text/javascript; charset=utf-8", cbar__console_i18n,
     cbar__console_i18n_end},
    {"/console/plot.js", "text/javascript; charset=utf-8", cbar__console_plot,
     cbar__console_plot_end},
    {"/console/app.css", "text/css; charset=utf-8", cbar__console_css, cbar__console_css_end},
};

bool cbar_console_path(const char *path)
{
	return !strncmp(path, "/console", 8) && (!path[8] || path[8] == '/');
}

bool cbar_console_asset(const char *path, struct http_response *resp)
{
	if (!strcmp(path, "/console")) {
		resp->status = 308;
		resp->header_name = "Location";
		resp->header_value = "/console/";
		return true;
	}
	for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
		if (strcmp(path, assets[i].path))
			continue;
		size_t len = (size_t)(assets[i].end - assets[i].start);
		/* The server frees the body: a copy (the files are a few KiB). */
		if (!(resp->body = malloc(len ? len : 1))) {
			cbar_respond_error(resp, 500, CBAR_NOMEM, NULL, NULL);
			return true;
		}
		memcpy(resp->body, assets[i].start, len);
		resp->len = len;
		resp->status = 200;
		resp->content_type = assets[i].type;
		return true;
	}
	return false;
}

/* ---- headers ---------------------------------------------------------- */

/* No inline script or style anywhere: the page's own files only, and
 * data: images for the charts' exports; nothing may frame it. */
#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static const char *const security_headers[] = {
    "Content-Security-Policy",
    CSP,
    "X-Frame-Options",
    "DENY",
    "Referrer-Policy",
    "no-referrer",
    "X-Content-Type-Options",
    "nosniff",
    "Cross-Origin-Opener-Policy",
    "same-origin",
    "Cross-Origin-Resource-Policy",
    "same-origin",
};
#define NSECURITY (sizeof security_headers / sizeof security_headers[0])

void cbar_console_headers(struct req_ctx *rc, struct http_response *resp)
{
	size_t n = 0;
	for (; n < NSECURITY; n++)
		rc->headers[n] = security_headers[n];
	if (rc->cookie[0]) {
		rc->headers[n++] = "Set-Cookie";
		rc->headers[n++] = rc->cookie;
	}
	rc->headers[n] = NULL;
	resp->headers = rc->headers;
}

/* ---- metrics ---------------------------------------------------------- */

#define LOCK .lock = PTHREAD_MUTEX_INITIALIZER
struct metric_family cbar_m_console_signins = {
    .name = "callbar_console_signins_total",
    .help = "Web console sign-ins by result (ok, failed, limited, refused_role).",
    .type = METRIC_COUNTER,
    .labels = {"result"},
    LOCK};
struct metric_family cbar_m_console_sessions = {.name = "callbar_console_sessions",
                                                .help = "Web console sessions alive.",
                                                .type = METRIC_GAUGE,
                                                LOCK};

static int64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void cbar_console_collect(struct daemon *d)
{
	cbar_metric_gauge(&cbar_m_console_sessions, NULL,
	                  (double)cbar_session_count(&d->sessions, mono_s()));
	/* Each result shows from the start, so an alert on "failed" has a
	 * series to watch before the first failure. */
	static const char *const results[] = {"ok", "failed", "limited", "refused_role"};
	for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
		cbar_metric_count(&cbar_m_console_signins, (const char *const[]){results[i]}, 0);
}

/* ---- sessions --------------------------------------------------------- */

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD");
}

enum console_auth cbar_console_auth(struct daemon *d, struct http_request *rq, struct req_ctx *rc)
{
	const char *id = cbar_http_cookie(rq, CONSOLE_COOKIE);
	struct session_view v;
	if (!id || !cbar_session_find(&d->sessions, id, strlen(id), mono_s(), &v))
		return CONSOLE_NO_SESSION;
	/* The token is asked again: one revoked since ends its sessions. */
	enum console_auth r = CONSOLE_NO_SESSION;
	if (d->tokens.ops->verify(d->tokens.ctx, v.token, strlen(v.token), &rc->token)) {
		cbar_session_end_token(&d->sessions, v.token);
		goto out;
	}
	snprintf(rc->session, sizeof rc->session, "%s", id);
	snprintf(rc->csrf, sizeof rc->csrf, "%s", v.csrf);
	rc->by_cookie = true;
	r = CONSOLE_OK;
	if (unsafe_method(rq->method)) {
		const char *t = cbar_http_header(rq, CONSOLE_CSRF_HEADER);
		if (!t || !cbar_session_equal(t, v.csrf))
			r = CONSOLE_NO_CSRF;
	}
out:
	sodium_memzero(&v, sizeof v);
	return r;
}

/* The cookie of a session, or one that ends it (id NULL). */
static void set_cookie(struct daemon *d, struct req_ctx *rc, const char *id)
{
	bool tls = d->http && cbar_http_tls(d->http);
	snprintf(rc->cookie, sizeof rc->cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
	         CONSOLE_COOKIE, id ? id : "", tls ? "; Secure" : "", id ? "" : "; Max-Age=0");
}

static void count_signin(const char *result)
{
	cbar_metric_count(&cbar_m_console_signins, (const char *const[]){result}, 1);
}

/* POST /console/api/session {"token":"cbt_..."}: a session for the token's
 * holder.  The body must be JSON (a form of another site cannot send it
 * without the browser asking first). */
void cbar_h_console_signin(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                           struct http_response *resp)
{
	char addr[64];
	unsigned retry = 0;
	int64_t now = mono_s();
	cbar_http_peer(rq, addr, sizeof addr);
	const char *ct = cbar_http_header(rq, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16)) {
		cbar_respond_error(resp, 400, CBAR_BAD_HEADER, "Content-Type",
		                   "send the token as application/json");
		return;
	}
	if (!cbar_signin_allowed(&d->sessions, addr, now, &retry)) {
		count_signin("limited");
		snprintf(rc->allow, sizeof rc->allow, "%u", retry ? retry : 1);
		cbar_respond_error(
		    resp, 429, CBAR_UNAUTHENTICATED, NULL,
		    "too many failed sign-ins from this address; wait and try again");
		resp->header_name = "Retry-After";
		resp->header_value = rc->allow;
		return;
	}
	json_error_t je;
	json_t *body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
	const char *token = NULL;
	size_t len = 0;
	if (body && json_is_object(body) && json_object_size(body) == 1)
		token = json_string_value(json_object_get(body, "token"));
	if (token)
		len = strlen(token);
	if (!token || len == 0 || len >= TOKEN_TEXT_MAX ||
	    d->tokens.ops->verify(d->tokens.ctx, token, len, &rc->token)) {
		json_decref(body);
		cbar_signin_failed(&d->sessions, addr, now);
		count_signin("failed");
		cbar_log_line(LOG_LV_WARN, "console sign-in failed", "{s:s}", "address", addr);
		cbar_respond_error(resp, 401, CBAR_UNAUTHENTICATED, "token",
		                   "that is not a valid token");
		return;
	}
	if (rc->token.role == ROLE_GATEWAY || rc->token.role == ROLE_NONE) {
		json_decref(body);
		count_signin("refused_role");
		cbar_respond_error(resp, 403, CBAR_FORBIDDEN, "token",
		                   "the console is for the agent, supervisor and admin roles");
		return;
	}
	char id[SESSION_ID_LEN + 1], csrf[SESSION_ID_LEN + 1];
	enum cbar_err e = cbar_session_begin(&d->sessions, token, len, now, id, csrf);
	/* The token's copy in the body is wiped before the body is freed. */
	sodium_memzero((char *)(uintptr_t)token, len);
	json_decref(body);
	if (e) {
		cbar_respond_error(resp, 500, e, NULL, NULL);
		return;
	}
	count_signin("ok");
	set_cookie(d, rc, id);
	sodium_memzero(id, sizeof id);
	cbar_log_line(LOG_LV_INFO, "console sign-in", "{s:s,s:s,s:s}", "by", rc->token.name, "role",
	              cbar_role_name(rc->token.role), "address", addr);
	cbar_respond_json(resp, 200,
	                  json_pack("{s:s,s:s,s:s,s:i,s:i}", "name", rc->token.name, "role",
	                            cbar_role_name(rc->token.role), "csrf", csrf, "idle_timeout",
	                            SESSION_IDLE_S, "lifetime", SESSION_LIFE_S));
	sodium_memzero(csrf, sizeof csrf);
}

/* GET /console/api/session: who is signed in, and the CSRF token (a page
 * opened again in the same session needs it); {"signed_in":false} without
 * a session, so the page's first question is not a failed request. */
void cbar_h_console_session(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                            struct http_response *resp)
{
	if (cbar_console_auth(d, rq, rc) != CONSOLE_OK) {
		cbar_respond_json(resp, 200, json_pack("{s:b}", "signed_in", 0));
		return;
	}
	cbar_respond_json(resp, 200,
	                  json_pack("{s:b,s:s,s:s,s:s,s:i}", "signed_in", 1, "name", rc->token.name,
	                            "role", cbar_role_name(rc->token.role), "csrf", rc->csrf,
	                            "idle_timeout", SESSION_IDLE_S));
}

/* DELETE /console/api/session: sign out; the session ends here, on the
 * server, and the cookie is cleared. */
void cbar_h_console_signout(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                            struct http_response *resp)
{
	(void)rq;
	bool ended =
	    rc->by_cookie && cbar_session_end(&d->sessions, rc->session, strlen(rc->session));
	set_cookie(d, rc, NULL);
	if (ended)
		cbar_log_line(LOG_LV_INFO, "console sign-out", "{s:s}", "by", rc->token.name);
	cbar_respond_json(resp, 200, json_pack("{s:b}", "signed_out", ended));
}

/* ---- the dashboard and the admin's page ------------------------------- */

static const char *front_name(unsigned f)
{
	return f < DAEMON_FRONT_COUNT ? cbar_daemon_front_name((enum daemon_front)f) : NULL;
}

/* The registry as the dashboard shows it; JSON null without one. */
static json_t *registry_json(struct daemon *d)
{
	if (!cbar_engine_has_registry(d->engine))
		return json_null();
	struct cbar_diag diag = {0};
	bool up = cbar_engine_ready(d->engine, &diag) == CBAR_OK;
	int64_t seq = cbar_engine_seq(d->engine), head = -1, broken = 0;
	uint64_t unaudited = cbar_engine_unaudited(d->engine, &broken);
	struct cbar_diag hd = {0};
	if (up && cbar_engine_audit_head(d->engine, &head, NULL, &hd))
		head = -1;
	json_t *j =
	    json_pack("{s:b,s:I,s:I,s:I,s:I}", "up", up, "records",
	              (json_int_t)cbar_engine_records(d->engine), "seq", (json_int_t)seq,
	              "unaudited", (json_int_t)unaudited, "chain_broken_at", (json_int_t)broken);
	/* Lag: changes the registry has that this node's copy has not
	 * followed yet (every change is an audit entry). */
	json_object_set_new(j, "head", head >= 0 ? json_integer(head) : json_null());
	json_object_set_new(j, "lag",
	                    head >= 0 ? json_integer(head > seq ? head - seq : 0) : json_null());
	return j;
}

void cbar_h_console_series(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                           struct http_response *resp)
{
	(void)rc;
	unsigned minutes = 60;
	const char *v = cbar_http_query(rq, "minutes");
	if (v) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (!*v || *end || n < 1 || n > SERIES_MINUTES) {
			cbar_respond_error(resp, 400, CBAR_BAD_VALUE, "minutes", "want 1 to 1440");
			return;
		}
		minutes = (unsigned)n;
	}
	json_t *j = cbar_series_json(cbar_routes_now(), minutes, front_name);
	if (!j) {
		cbar_respond_error(resp, 500, CBAR_NOMEM, NULL, NULL);
		return;
	}
	json_object_set_new(j, "registry", registry_json(d));
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	json_object_set_new(j, "rules",
	                    s ? json_pack("{s:I,s:s,s:s}", "version", (json_int_t)s->version,
	                                  "sha256", s->sha256, "loaded_at", s->loaded_at)
	                      : json_null());
	cbar_slot_read_end();
	cbar_respond_json(resp, 200, j);
}

/* One count of cbar_rule_counts_each(), into {"label":{"allow":N,...}}. */
static void count_into(void *arg, const char *label, unsigned front, unsigned service,
                       unsigned direction, unsigned verdict, uint64_t n)
{
	static const char *const verdicts[] = {"allow", "block", "error"};
	(void)front, (void)service, (void)direction;
	json_t *all = arg, *one = json_object_get(all, label);
	if (verdict > 2)
		return;
	if (!one) {
		one = json_pack("{s:I,s:I,s:I}", "allow", (json_int_t)0, "block", (json_int_t)0,
		                "error", (json_int_t)0);
		json_object_set_new(all, label, one);
	}
	json_t *c = json_object_get(one, verdicts[verdict]);
	json_integer_set(c, json_integer_value(c) + (json_int_t)n);
}

/* GET /console/api/rules (admin): the rule file in use, as text, with its
 * hash, and the decisions counted by rule label since the start. */
void cbar_h_console_rules(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                          struct http_response *resp)
{
	(void)rq, (void)rc;
	json_t *counts = json_object();
	cbar_rule_counts_each(count_into, counts);
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	json_t *j =
	    s ? json_pack("{s:s,s:s,s:I,s:s,s:I,s:s%}", "file", s->path, "sha256", s->sha256,
	                  "version", (json_int_t)s->version, "loaded_at", s->loaded_at, "rules",
	                  (json_int_t)s->rule_count, "text", s->text, s->len)
	      : NULL;
	cbar_slot_read_end();
	if (!j) {
		json_decref(counts);
		cbar_respond_error(resp, 503, CBAR_UNAVAILABLE, NULL, "no rules loaded");
		return;
	}
	json_object_set_new(j, "counters", counts);
	cbar_respond_json(resp, 200, j);
}

/* GET /console/api/audit-state (supervisor): what the daemon's follower
 * knows of the audit chain: its head, rows no entry vouches for, where it
 * broke.  `callbar audit --verify` walks the whole chain; this is the
 * daemon's running check of the same. */
void cbar_h_console_audit_state(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                                struct http_response *resp)
{
	(void)rq, (void)rc;
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	int64_t seq = 0, broken = 0;
	char hash[65];
	struct cbar_diag diag = {0};
	enum cbar_err e = cbar_engine_audit_head(d->engine, &seq, hash, &diag);
	if (e) {
		cbar_respond_hook_error(resp, e, &diag);
		return;
	}
	uint64_t unaudited = cbar_engine_unaudited(d->engine, &broken);
	cbar_respond_json(resp, 200,
	                  json_pack("{s:b,s:I,s:s,s:I,s:I}", "ok", !broken && !unaudited,
	                            "head_seq", (json_int_t)seq, "head_hash", hash,
	                            "unaudited_rows", (json_int_t)unaudited, "chain_broken_at",
	                            (json_int_t)broken));
}

/* POST /console/api/audit-verify (supervisor): `callbar audit --verify`,
 * the whole chain from its first entry, on a button (it holds the
 * registry's connection while it walks). */
void cbar_h_console_audit_verify(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                                 struct http_response *resp)
{
	(void)rq, (void)rc;
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	int64_t n = 0, bad = 0;
	char head[65] = "";
	struct cbar_diag diag = {0};
	enum cbar_err e = cbar_engine_audit_verify(d->engine, &n, &bad, head, &diag);
	if (e && e != CBAR_AUDIT_BROKEN) {
		cbar_respond_hook_error(resp, e, &diag);
		return;
	}
	cbar_respond_json(
	    resp, 200,
	    e ? json_pack("{s:b,s:I,s:I,s:s}", "ok", 0, "entries", (json_int_t)n, "first_bad",
	                  (json_int_t)bad, "error", diag.msg)
	      : json_pack("{s:b,s:I,s:s}", "ok", 1, "entries", (json_int_t)n, "head", head));
}
