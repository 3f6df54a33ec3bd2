/*
 * callbar serve: the web console (docs/console.md).  Internal to src/daemon.
 *
 * The console is a page of plain HTML, CSS and JavaScript
 * (src/daemon/console/), linked into the binary (console_assets.S.in) and
 * served at /console/ by the daemon's own HTTP listener: no CDN, no file
 * at run time.  It calls the API the daemon already has (/v1/...), with a
 * session cookie instead of a bearer token, and a few routes of its own
 * under /console/api/ (sign-in and sign-out, the dashboard's series, the
 * rule file as text, the audit chain's state).
 *
 * Every answer under /console carries the security headers (a
 * Content-Security-Policy without inline script, frame-ancestors 'none' and
 * X-Frame-Options DENY, Referrer-Policy no-referrer, nosniff).
 *
 * A request authenticated by the cookie that changes state (any method
 * but GET and HEAD) must carry the session's CSRF token in X-CSRF-Token;
 * the role is the role of the token the session was made with, checked
 * again against the token store on every request.
 */
#ifndef CALLBAR_DAEMON_CONSOLE_H
#define CALLBAR_DAEMON_CONSOLE_H

#include <stdbool.h>

#include "routes.h"

#define CONSOLE_COOKIE      "cbar_session"
#define CONSOLE_CSRF_HEADER "X-CSRF-Token"

/* The console's own routes (routes.c's table). */
handler_fn cbar_h_console_signin, cbar_h_console_session, cbar_h_console_signout,
    cbar_h_console_series, cbar_h_console_rules, cbar_h_console_audit_state,
    cbar_h_console_audit_verify;

/* A GET of one of the console's files (or of /console, redirected):
 * true with resp filled, false when path names none. */
bool cbar_console_asset(const char *path, struct http_response *resp);

/* Whether path is the console's (its answers get the security headers). */
bool cbar_console_path(const char *path);

enum console_auth {
	CONSOLE_NO_SESSION, /* no cookie, or one naming no live session */
	CONSOLE_OK,         /* rc->token is the session's token's holder */
	CONSOLE_NO_CSRF,    /* a state-changing request without the session's CSRF token */
};

/* Authenticate rq by its session cookie, for a request without an
 * Authorization header; fills rc->token, rc->csrf and rc->session. */
enum console_auth cbar_console_auth(struct daemon *d, struct http_request *rq, struct req_ctx *rc);

/* Add the console's headers to an answer under /console (and a cookie the
 * handler set in rc->cookie). */
void cbar_console_headers(struct req_ctx *rc, struct http_response *resp);

/* callbar_console_signins_total{result}, callbar_console_sessions */
extern struct metric_family cbar_m_console_signins, cbar_m_console_sessions;
/* Called when /metrics is rendered. */
void cbar_console_collect(struct daemon *d);

#endif
