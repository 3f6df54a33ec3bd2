/*
 * callbar serve: where the decision engine and the unlock registry plug in.
 *
 * The daemon parses and validates every request (src/proto/request.h),
 * checks the token and role, and then calls one of these hooks.
 * src/daemon/hooks.c fills them with the decision engine (cbar_decide on
 * the snapshot and the registry's unlock view) and the registry
 * (store.h); tests/daemon/hooks_echo.c fills them with test doubles that
 * prove this interface on its own.  A hook that is NULL, or returns
 * CBAR_NOT_BUILT, answers 501 with the error code NOT_BUILT (a daemon
 * without a registry has no registry routes).
 *
 * Common contract of every hook:
 * - ctx is struct daemon_hooks.ctx, given back unchanged.
 * - who is the caller: the token's name and role (name "" when the route
 *   is open).  An unlock records who.name as the agent.
 * - The hook writes its answer as a JSON object into *out (a new
 *   reference, which the daemon sends and frees) and returns CBAR_OK; the
 *   daemon answers 200 (201 for an unlock that created a record, when the
 *   hook sets *created).
 * - On failure it returns a code and may fill d->msg; the daemon answers
 *   with the code's HTTP status (docs/api.md: NOT_FOUND 404, BAD_VALUE and
 *   kin 400, UNAVAILABLE 503, NOT_BUILT 501, anything else 500) and
 *   {"error":{"code":NAME,"message":d->msg,"field":...}}.  *out is ignored.
 * - Hooks run on request threads, many at once, and must not block for
 *   long.
 *
 * The decide hook runs inside the snapshot's read section: snap stays
 * valid and unchanged until it returns (a reload waits), and it should not
 * wait on anything slow.  It also reports the verdict's labels for the
 * metrics (callbar_decisions_total): verdict "allow" | "block" | "error" and
 * rule, a short stable name (the rule's reason, or "default").
 */
#ifndef CALLBAR_DAEMON_HOOKS_H
#define CALLBAR_DAEMON_HOOKS_H

#include <jansson.h>
#include <stdbool.h>

#include "proto/request.h"
#include "callbar/error.h"
#include "snapshot.h"
#include "token_store.h"

struct daemon_caller {
	const char *name; /* the token's name; "" on an open route */
	enum role role;
};

/* What a decision reports to the metrics, besides its JSON answer. */
struct daemon_decision_labels {
	const char *verdict; /* "allow", "block", "error" */
	const char *rule;    /* a short stable name: the reason, or "default" */
};

/* GET /v1/audit?subscriber=&since=&limit= */
struct audit_query {
	bool has_subscriber;
	struct cbar_number subscriber;
	bool has_since;
	int64_t since;  /* UTC seconds */
	unsigned limit; /* 1..1000, default 100 */
};

/* DELETE /v1/unlocks/{number}?service=&direction=&reason= */
struct relock_req {
	struct cbar_number subscriber;
	uint8_t service;   /* REQ_VOICE, REQ_SMS, REQ_ANY */
	uint8_t direction; /* REQ_IN, REQ_OUT, REQ_ANY */
	char reason[REQ_TEXT_MAX + 1];
};

struct daemon_hooks {
	void *ctx;

	/* Every front end (decision.c): decide one event on rules with
	 * the registry's unlock records.  Runs inside a snapshot read section
	 * and on many threads at once; takes no lock.  NULL: decide without
	 * unlock records. */
	enum cbar_decision (*decide_event)(void *ctx, const struct cbar_rules *rules,
	                                   const struct cbar_event *ev, struct cbar_verdict *v);

	/* PUT /v1/unlocks/{number}.  req->doc_number is the raw document
	 * number (level verified): check it, hash it with the registry's key,
	 * and never store, log or return it; the daemon wipes it afterwards. */
	enum cbar_err (*unlock)(void *ctx, const struct daemon_caller *who,
	                        const struct cbar_number *subscriber, const struct unlock_req *req,
	                        json_t **out, bool *created, struct cbar_diag *d);

	/* DELETE /v1/unlocks/{number}: revoke (relock). */
	enum cbar_err (*relock)(void *ctx, const struct daemon_caller *who,
	                        const struct relock_req *req, json_t **out, struct cbar_diag *d);

	/* GET /v1/unlocks/{number}: the subscriber's records; NOT_FOUND when
	 * none. */
	enum cbar_err (*status)(void *ctx, const struct daemon_caller *who,
	                        const struct cbar_number *subscriber, json_t **out,
	                        struct cbar_diag *d);

	/* GET /v1/audit */
	enum cbar_err (*audit)(void *ctx, const struct daemon_caller *who,
	                       const struct audit_query *q, json_t **out, struct cbar_diag *d);

	/* POST /v1/keyword: the SMS centre saw a subscriber text a keyword to
	 * the service number (a 'self' unlock, or a relock keyword). */
	enum cbar_err (*keyword)(void *ctx, const struct daemon_caller *who,
	                         const struct keyword_req *req, json_t **out, struct cbar_diag *d);

	/* /readyz and the store metrics: CBAR_OK when the registry answers;
	 * NULL when there is no registry to check. */
	enum cbar_err (*registry_ready)(void *ctx, struct cbar_diag *d);
	/* Unlock records held (callbar_registry_records); NULL: not reported. */
	size_t (*registry_size)(void *ctx);

	/* GET /v1/audit/head, callbar_audit_head_seq and the start's log line:
	 * the audit chain's last entry as stored (seq; hash, 64 hex digits and
	 * a NUL: 0 and zeros for an empty registry), for an outside system to
	 * anchor, so that a rewrite of the whole chain shows.  NULL: no
	 * registry. */
	enum cbar_err (*audit_head)(void *ctx, int64_t *seq, char hash[65], struct cbar_diag *d);
};

/*
 * Fill hooks for a daemon about to start: registry_url is the configured
 * URL (sqlite:PATH, postgresql://...; "" for none).  hooks.c opens the
 * store, loads its active records and starts following its changes; on
 * failure d says why and nothing is left running.
 */
enum cbar_err hooks_install(struct daemon_hooks *h, const char *registry_url,
                            struct cbar_diag *d);
/* Undo hooks_install() (close the store). */
void hooks_release(struct daemon_hooks *h);

#endif
