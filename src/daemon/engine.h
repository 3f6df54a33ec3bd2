/*
 * callbar serve: the engine behind the routes and the SIP workers: the
 * decision engine with the registry's unlock records, and the registry
 * itself (store.h).  Every call is direct: a reader follows a decision from
 * a listener to cbar_decide() through decision.c and cbar_engine_decide_many().
 *
 * The engine holds the unlock view (a base set loaded at start plus a
 * delta of the registry's changes, published by RCU, engine.c) and follows
 * the registry on a thread of its own; the registry routes' work (check a
 * document, write, answer in JSON) is in registry_ops.c.
 *
 * Common contract of the registry calls (cbar_engine_unlock() and the rest):
 * - the daemon has a registry (cbar_engine_has_registry()); the routes answer
 *   503 NO_REGISTRY-style errors themselves when it has none;
 * - who is the caller: the token's name and role (name "" when the route
 *   is open).  An unlock records who.name as the agent;
 * - the answer is a JSON object in *out (a new reference, which the
 *   daemon sends and frees) and CBAR_OK; the daemon answers 200 (201 for
 *   an unlock that created a record, when *created is set);
 * - on failure a code, with d->msg; the daemon answers with the code's
 *   HTTP status (docs/api.md: NOT_FOUND 404, BAD_VALUE and kin 400,
 *   UNAVAILABLE 503, anything else 500).  *out is ignored;
 * - they run on request threads, many at once, one store connection
 *   under a mutex between them.
 */
#ifndef CALLBAR_DAEMON_ENGINE_H
#define CALLBAR_DAEMON_ENGINE_H

#include <jansson.h>
#include <stdbool.h>

#include <stdint.h>

#include "proto/request.h"
#include "callbar/error.h"
#include "load/status.h"
#include "slot.h"
#include "snapshot.h"
#include "token_store.h"

struct daemon_caller {
	const char *name; /* the token's name; "" on an open route */
	enum role role;
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

struct engine;
struct cbar_limit_counter;

/*
 * Open the engine for a daemon about to start: registry_url is the
 * configured URL (sqlite:PATH, postgresql://...; "" for none).  It opens the
 * store, loads its active records, finds the document key and the keywords,
 * and starts following the registry's changes; on failure d says why,
 * nothing is left running and *out is NULL.  snapshot (NULL or "": none)
 * is the unlock snapshot file ([registry] snapshot): read at start instead
 * of the whole registry when it checks out, then caught up from its
 * sequence before this returns; written after a full load, after the base
 * is rebuilt (at most every SNAPSHOT_EVERY_S) and at close.  read_url (""
 * or NULL: none) names a standby of the registry to make the full load
 * from, so that many nodes starting at once do not load the primary; the
 * changes since are then caught up from registry_url, and a standby that
 * cannot be read is logged and the load made from registry_url.
 */
/* keywords: the keyword table (keywords.file; NULL or "": the built-in one). */
enum cbar_err cbar_engine_open(struct engine **out, const char *registry_url,
                               const char *read_url, const char *snapshot, const char *keywords,
                               struct cbar_diag *d);
/* Stop following and close the store (NULL: nothing). */
void cbar_engine_close(struct engine *e);
/* Whether the daemon has a registry ("" URL: decisions without unlocks). */
bool cbar_engine_has_registry(const struct engine *e);

/* Decide n events on rules with the registry's unlock records and the
 * counting state of limits (limits.h; NULL: none), for every front end
 * through decision.c; limits count them in the order given, and v[i] is
 * ev[i]'s verdict.  Runs inside a snapshot read section and on many
 * threads at once; takes no lock. */
void cbar_engine_decide_many(struct engine *e, const struct cbar_rules *rules,
                             const struct cbar_event *const *ev, size_t n,
                             const struct cbar_limit_counter *limits, struct cbar_verdict *v);

/* PUT /v1/unlocks/{number}.  req->doc_number is the raw document number
 * (level verified): checked, hashed with the registry's key, never stored,
 * logged or returned; the daemon wipes it afterwards.  tz: the rule file's
 * zone, for the document's validity dates. */
enum cbar_err cbar_engine_unlock(struct engine *e, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, const struct unlock_req *req,
                                 int32_t tz, json_t **out, bool *created, struct cbar_diag *d);
/* DELETE /v1/unlocks/{number}: revoke (relock). */
enum cbar_err cbar_engine_relock(struct engine *e, const struct daemon_caller *who,
                                 const struct relock_req *req, json_t **out, struct cbar_diag *d);
/* GET /v1/unlocks/{number}: the subscriber's records; NOT_FOUND when none. */
enum cbar_err cbar_engine_status(struct engine *e, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, json_t **out,
                                 struct cbar_diag *d);
/* GET /v1/subscribers/{number}: the subscriber's active record and
 * history into r (load/status.h; to release), empty on a node without a
 * registry. */
enum cbar_err cbar_engine_records_of(struct engine *e, uint64_t subscriber,
                                     struct cbar_status_records *r, struct cbar_diag *d);
/* The unlock view decisions read, as a lookup for cbar_decide(): only
 * inside a snapshot read section (decision.h), as cbar_engine_decide_many().
 * false when the daemon has no view (no registry): no records. */
bool cbar_engine_unlock_lookup(struct engine *e, struct cbar_unlock_lookup *lk);
/* GET /v1/audit */
enum cbar_err cbar_engine_audit(struct engine *e, const struct daemon_caller *who,
                                const struct audit_query *q, json_t **out, struct cbar_diag *d);
/* POST /v1/keyword: the SMS centre saw a subscriber text a keyword to the
 * service number (a 'self' unlock, or a relock keyword).  The one keyword
 * path: every front end that receives keywords calls it.  req->to (""
 * when not known) is the service number texted: one of another carrier's
 * is refused (result "wrong-carrier", nothing written).  The answer:
 * {"subscriber","result","answer","restored":bool|null}, restored false
 * when an unlock leaves a service of its scope barred (the answer says
 * where to go instead). */
enum cbar_err cbar_engine_keyword(struct engine *e, const struct daemon_caller *who,
                                  const struct keyword_req *req, json_t **out, struct cbar_diag *d);

/* The daemon's rules slot (struct daemon_snapshot), for the keyword
 * answers' effective status and the subscriber's carrier; set once before
 * serving (NULL: answers without them). */
void cbar_engine_set_rules(struct engine *e, struct cbar_snapshot_slot *rules);

/* /readyz and callbar_store_up: CBAR_OK when the registry answers. */
enum cbar_err cbar_engine_ready(struct engine *e, struct cbar_diag *d);
/* Unlock records held (callbar_registry_records). */
size_t cbar_engine_records(struct engine *e);
/* The registry's change sequence this node's copy has followed up to
 * (callbar_registry_sequence); read without waiting for the follower. */
int64_t cbar_engine_seq(struct engine *e);
/* Registry rows the follower left out because no audit entry vouches for
 * them (callbar_registry_unaudited_rows_total), and the audit entry the
 * chain broke at (0: none). */
uint64_t cbar_engine_unaudited(struct engine *e, int64_t *broken_at);
/* GET /v1/audit/head, callbar_audit_head_seq and the start's log line: the
 * audit chain's last entry as stored (seq; hash, 64 hex digits and a NUL:
 * 0 and zeros for an empty registry), for an outside system to anchor. */
enum cbar_err cbar_engine_audit_head(struct engine *e, int64_t *seq, char hash[65],
                                     struct cbar_diag *d);
/* `callbar audit --verify` on the registry (cbar_store_audit_verify()):
 * CBAR_OK with *n entries and head, or CBAR_AUDIT_BROKEN with *bad and d.
 * It walks the whole chain holding the registry's connection, so the
 * registry routes wait for it: the console asks for it on a button. */
enum cbar_err cbar_engine_audit_verify(struct engine *e, int64_t *n, int64_t *bad, char head[65],
                                       struct cbar_diag *d);

#endif
