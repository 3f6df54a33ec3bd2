/*
 * callbar tests: hooks that stand in for the engine and the registry, to
 * drive the daemon's hook interface end to end (tests/daemon/hooks.sh).
 * They decide nothing: decide echoes the parsed event back, with the
 * snapshot it ran on; the others answer fixed shapes or fixed errors.  The
 * ingress of an event selects a failure: "fail-unavailable" (503),
 * "fail-not-built" (501).  A file named registry.down in the working
 * directory makes the registry "down" for /readyz and the metrics.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"

static const char *const svc[] = {"voice", "sms", "any"};
static const char *const dir[] = {"in", "out", "any"};

static enum cbar_err echo_decide(void *ctx, const struct daemon_snapshot *snap,
                                 const struct decide_req *ev, json_t **out,
                                 struct daemon_decision_labels *labels, struct cbar_diag *d)
{
	(void)ctx;
	if (!strcmp(ev->ingress, "fail-unavailable"))
		return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0, "store down (test)");
	if (!strcmp(ev->ingress, "fail-not-built"))
		return CBAR_NOT_BUILT;
	char sub[20], peer[20];
	snprintf(sub, sizeof sub, "+%s", ev->subscriber.digits);
	snprintf(peer, sizeof peer, "+%s", ev->peer.digits);
	*out = json_pack("{s:{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I}}", "echo", "service",
	                 svc[ev->service], "direction", dir[ev->direction], "subscriber", sub,
	                 "peer", peer, "at", (json_int_t)ev->at, "ingress", ev->ingress,
	                 "sha256", snap->sha256, "version", (json_int_t)snap->version);
	labels->verdict = ev->peer.cc == 86 ? "allow" : "block";
	labels->rule = "echo-rule";
	return CBAR_OK;
}

static enum cbar_err echo_unlock(void *ctx, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber,
                                 const struct unlock_req *req, json_t **out, bool *created,
                                 struct cbar_diag *d)
{
	(void)ctx, (void)d;
	*created = true;
	/* The document number is seen, and never echoed. */
	*out = json_pack("{s:s,s:s,s:s,s:s,s:b}", "unlocked", subscriber->digits, "by", who->name,
	                 "service", svc[req->service], "channel", req->channel, "document_seen",
	                 req->doc_number[0] != '\0');
	return CBAR_OK;
}

static enum cbar_err echo_relock(void *ctx, const struct daemon_caller *who,
                                 const struct relock_req *req, json_t **out,
                                 struct cbar_diag *d)
{
	(void)ctx, (void)d;
	*out = json_pack("{s:s,s:s,s:s,s:s}", "relocked", req->subscriber.digits, "by", who->name,
	                 "direction", dir[req->direction], "reason", req->reason);
	return CBAR_OK;
}

static enum cbar_err echo_status(void *ctx, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, json_t **out,
                                 struct cbar_diag *d)
{
	(void)ctx, (void)who, (void)subscriber, (void)out;
	return cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0, "no unlock records (test)");
}

static enum cbar_err echo_audit(void *ctx, const struct daemon_caller *who,
                                const struct audit_query *q, json_t **out, struct cbar_diag *d)
{
	(void)ctx, (void)who;
	if (q->limit == 13)
		return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0, "store down (test)");
	*out = json_pack("{s:i,s:b,s:b}", "limit", (int)q->limit, "subscriber", q->has_subscriber,
	                 "since", q->has_since);
	return CBAR_OK;
}

static enum cbar_err echo_keyword(void *ctx, const struct daemon_caller *who,
                                  const struct keyword_req *req, json_t **out,
                                  struct cbar_diag *d)
{
	(void)ctx, (void)who, (void)req, (void)out, (void)d;
	return CBAR_NOT_BUILT;
}

static enum cbar_err echo_ready(void *ctx, struct cbar_diag *d)
{
	(void)ctx;
	if (access("registry.down", F_OK) == 0)
		return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0, "registry down (test)");
	return CBAR_OK;
}

static size_t echo_size(void *ctx)
{
	(void)ctx;
	return 42;
}

enum cbar_err hooks_install(struct daemon_hooks *h, const char *registry_url,
                            struct cbar_diag *d)
{
	(void)registry_url, (void)d;
	*h = (struct daemon_hooks){
		.decide = echo_decide,
		.unlock = echo_unlock,
		.relock = echo_relock,
		.status = echo_status,
		.audit = echo_audit,
		.keyword = echo_keyword,
		.registry_ready = echo_ready,
		.registry_size = echo_size,
	};
	return CBAR_OK;
}

void hooks_release(struct daemon_hooks *h)
{
	memset(h, 0, sizeof *h);
}
