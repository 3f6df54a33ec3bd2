/*
 * callbar serve: the daemon's state, shared by serve.c (start, signals,
 * reload, stop) and routes.c (the HTTP routes and their handlers).
 */
#ifndef CALLBAR_DAEMON_DAEMON_H
#define CALLBAR_DAEMON_DAEMON_H

#include <pthread.h>

#include "session.h"

#include "net/http.h"
#include "callbar/number.h"
#include "config.h"
#include "engine.h"
#include "net/sip_server.h"
#include "net/smpp_server.h"
#include "metrics.h"
#include "slot.h"
#include "token_store.h"

/* One readiness check: CBAR_OK when ready, else d->msg says why. */
struct ready_check {
	const char *name;
	enum cbar_err (*check)(void *ctx, struct cbar_diag *d);
	void *ctx;
};

#define READY_CHECKS_MAX 8

struct daemon {
	struct daemon_config cfg;
	struct cbar_numplan *np;
	uint16_t country;
	struct cbar_snapshot_slot rules; /* struct daemon_snapshot */
	pthread_mutex_t reload_lock;     /* one reload at a time */
	uint64_t version;                /* of the published snapshot (under reload_lock) */
	struct token_store tokens;
	struct sessions sessions;        /* the web console's, made with tokens (session.h) */
	struct engine *engine;           /* decisions and the registry (engine.h) */
	struct ready_check ready[READY_CHECKS_MAX];
	size_t nready;
	struct http_server *http;
	struct sip_server *sip;          /* NULL: no SIP listener */
	char *tls_cert_pem, *tls_key_pem; /* http.tls_cert/tls_key read at start */
	struct smpp_server *smpp;        /* NULL: no SMPP listener */
	struct smpp_peers *smpp_peers;   /* its peers file */
	struct daemon_limits *limits;    /* counting state of limits (limits.h) */
	struct daemon_bars *bars;        /* auto-bars through the registry; NULL: none */
};

/* Add a readiness check to /readyz (at start, before serving). */
void cbar_daemon_ready_add(struct daemon *d, const char *name,
                      enum cbar_err (*check)(void *ctx, struct cbar_diag *diag), void *ctx);

/*
 * Build a new snapshot from the configured rule file and publish it; on
 * failure the running one stays, callbar_reloads_total{result="failed"}
 * counts it and diag says where the file is wrong.  trigger ("start",
 * "sighup", "http") goes into the log.  Never call it inside a snapshot
 * read section.
 */
enum cbar_err cbar_daemon_reload(struct daemon *d, const char *trigger, struct cbar_diag *diag);

/* The HTTP callbacks (routes.c). */
extern const struct http_ops cbar_daemon_http_ops_template;

/* Metric families (routes.c), all of them in cbar_daemon_metrics[]. */
extern struct metric_family cbar_m_http_requests, cbar_m_http_duration, cbar_m_http_in_flight, cbar_m_decisions,
	cbar_m_decision_duration, cbar_m_rules_info, cbar_m_rules_version, cbar_m_rules_count, cbar_m_rules_loaded,
	cbar_m_reloads, cbar_m_registry_records, cbar_m_store_up, cbar_m_build_info, cbar_m_audit_head, cbar_m_unaudited,
	cbar_m_chain_broken, cbar_m_registry_seq;
extern struct metric_family cbar_m_limit_hits, cbar_m_limit_bars;
extern struct metric_family *const cbar_daemon_metrics[];
extern const size_t cbar_daemon_metrics_count;

#endif
