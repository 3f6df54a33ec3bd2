/*
 * callbar serve: what the HTTP routes share (routes.c: the table, health,
 * rules, decisions and the HTTP callbacks; routes_registry.c: the registry's
 * routes; routes_answer.c: answers and errors).  Internal to src/daemon.
 *
 * Every answer is JSON except /metrics; every error is
 *   {"error":{"code":"STABLE_CODE","message":"...","field":"..."|null}}
 * with code the name of an enum cbar_err (include/callbar/error.h), which
 * never changes once published.  docs/api.md is the reference.
 */
#ifndef CALLBAR_DAEMON_ROUTES_H
#define CALLBAR_DAEMON_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "net/http.h"
#include "proto/request.h"
#include "session.h"

/* Per request, in rq->user. */
struct req_ctx {
	const struct route *route;
	char param[80]; /* the {number} of the path */
	char allow[64]; /* methods of the path, for a 405 */
	struct daemon_caller who;
	struct token_info token;
	/* The web console's (console.h): the session of the cookie, its CSRF
	 * token, a Set-Cookie to send, the answer's extra headers. */
	bool by_cookie;
	char session[SESSION_ID_LEN + 1];
	char csrf[SESSION_ID_LEN + 1];
	char cookie[160];
	const char *headers[24];
};

typedef void handler_fn(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                        struct http_response *resp);

/* The registry's routes (routes_registry.c). */
handler_fn cbar_h_unlock_put, cbar_h_unlock_delete, cbar_h_unlock_get, cbar_h_audit,
    cbar_h_audit_head, cbar_h_keyword, cbar_h_subscriber_get;
handler_fn cbar_h_bars_list, cbar_h_bars_delete; /* routes_bars.c */

/* Who may call a route: a role, or the decide_auth setting.  NEED_GATEWAY
 * is the SMS centre's role and no one else's (cbar_role_allows()). */
enum access { OPEN, NEED_AGENT, NEED_SUPERVISOR, NEED_ADMIN, DECIDE, METRICS, NEED_GATEWAY };

struct route {
	const char *method;
	const char *pattern; /* segments; "{number}" matches one segment */
	enum access access;
	handler_fn *handler;
};

/* ---- answers (routes_answer.c) ---- */

/* j as the answer (a new reference, taken); a 500 when it cannot be written. */
void cbar_respond_json(struct http_response *resp, int status, json_t *j);
/* {"error":{"code":NAME,"message":message,"field":field|null}} */
json_t *cbar_error_object(enum cbar_err code, const char *field, const char *message);
void cbar_respond_error(struct http_response *resp, int status, enum cbar_err code,
                        const char *field, const char *message);
/* The HTTP status of an error from a parser or the engine. */
int cbar_status_of(enum cbar_err e);
void cbar_respond_req_error(struct http_response *resp, const struct req_error *e);
/* The engine's failure, with its status. */
void cbar_respond_hook_error(struct http_response *resp, enum cbar_err e,
                             const struct cbar_diag *diag);
/* 404 for a registry route on a node without a registry. */
void cbar_respond_no_registry(struct http_response *resp);
/* Now, UTC seconds: an event's or a keyword's time when the body gave none. */
int64_t cbar_routes_now(void);
/* The rule file's zone: dates a route reads or checks are the operator's. */
int32_t cbar_rules_tz(struct daemon *d);

/* ---- /metrics (daemon_metrics.c) ---- */

/* The page, every family collected now (the SIP workers' and the
 * decisions' counts added up, the registry's state read); NULL when it is
 * too large or memory is short.  The caller frees it. */
char *cbar_daemon_metrics_page(struct daemon *d, size_t *len);

#endif
