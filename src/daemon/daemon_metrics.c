/*
 * callbar serve: the daemon's metric families (every one in
 * cbar_daemon_metrics[]) and the /metrics page: counters kept without locks by
 * the SIP workers and the decision path are added up when it is rendered.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "daemon.h"
#include "limits.h"
#include "decision.h"
#include "routes.h"
#include "rule_counts.h"
#include "smpp_front.h"
#include "callbar/scope.h"

/* A rendered /metrics page is never bigger than this. */
#define METRICS_MAX (8u << 20)

static const double latency_buckets[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,    0.025,  0.05,    0.1,    0.5,   1};
#define LB   .buckets = latency_buckets, .nbuckets = sizeof latency_buckets / sizeof(double)
#define LOCK .lock = PTHREAD_MUTEX_INITIALIZER

struct metric_family cbar_m_http_requests = {
    .name = "callbar_http_requests_total",
    .help = "HTTP requests answered, by route pattern, method and status.",
    .type = METRIC_COUNTER,
    .labels = {"route", "method", "status"},
    LOCK};
struct metric_family cbar_m_http_duration = {.name = "callbar_http_request_duration_seconds",
                                        .help =
                                            "Time from request headers to the answer being queued.",
                                        .type = METRIC_HISTOGRAM,
                                        .labels = {"route"},
                                        LB,
                                        LOCK};
struct metric_family cbar_m_http_in_flight = {.name = "callbar_http_requests_in_flight",
                                         .help = "Requests begun and not yet answered.",
                                         .type = METRIC_GAUGE,
                                         LOCK};
struct metric_family cbar_m_decisions = {
    .name = "callbar_decisions_total",
    .help = "Decisions by verdict, service, direction, deciding rule (its reason; default; "
            "emergency) and front end (http, sip, smpp).",
    .type = METRIC_COUNTER,
    .labels = {"verdict", "service", "direction", "rule", "front"},
    LOCK};
struct metric_family cbar_m_decision_duration = {.name = "callbar_decision_duration_seconds",
                                            .help = "Time spent in the decision engine per event.",
                                            .type = METRIC_HISTOGRAM,
                                            LB,
                                            LOCK};
struct metric_family cbar_m_rules_info = {
    .name = "callbar_rules_info",
    .help = "1 for the rule file in use (by SHA-256), 0 for earlier ones.",
    .type = METRIC_GAUGE,
    .labels = {"sha256"},
    LOCK};
struct metric_family cbar_m_rules_version = {
    .name = "callbar_rules_version",
    .help = "Version of the rules in use: 1 at start, +1 per successful reload.",
    .type = METRIC_GAUGE,
    LOCK};
struct metric_family cbar_m_rules_count = {.name = "callbar_rules_active",
                                      .help = "Rules in the snapshot in use.",
                                      .type = METRIC_GAUGE,
                                      LOCK};
struct metric_family cbar_m_rules_loaded = {.name = "callbar_rules_loaded_timestamp_seconds",
                                       .help = "When the rules in use were loaded (Unix time).",
                                       .type = METRIC_GAUGE,
                                       LOCK};
struct metric_family cbar_m_reloads = {.name = "callbar_reloads_total",
                                  .help = "Rule reloads by result (ok, failed).",
                                  .type = METRIC_COUNTER,
                                  .labels = {"result"},
                                  LOCK};
struct metric_family cbar_m_registry_records = {.name = "callbar_registry_records",
                                           .help =
                                               "Unlock records in the registry's in-memory set.",
                                           .type = METRIC_GAUGE,
                                           LOCK};
struct metric_family cbar_m_store_up = {.name = "callbar_store_up",
                                   .help = "1 when the registry store answers, 0 when it does not.",
                                   .type = METRIC_GAUGE,
                                   LOCK};
struct metric_family cbar_m_unaudited = {
    .name = "callbar_registry_unaudited_rows_total",
    .help = "Registry rows changed without an audit entry that vouches for them (written "
            "behind callbar's back): never applied to decisions; any is an alarm.",
    .type = METRIC_COUNTER,
    LOCK};
struct metric_family cbar_m_chain_broken = {
    .name = "callbar_registry_audit_chain_broken_at",
    .help = "The audit entry at which the chain no longer verifies and following stopped; "
            "0 while the chain holds.",
    .type = METRIC_GAUGE,
    LOCK};
struct metric_family cbar_m_audit_head = {
    .name = "callbar_audit_head_seq",
    .help = "Sequence number of the registry's last audit entry (GET /v1/audit/head has its "
            "hash).",
    .type = METRIC_GAUGE,
    LOCK};
struct metric_family cbar_m_build_info = {
    .name = "callbar_build_info",
    .help = "Always 1; the version of callbar running and the commit it was built from.",
    .type = METRIC_GAUGE,
    .labels = {"version", "commit"},
    LOCK};
struct metric_family cbar_m_registry_seq = {
    .name = "callbar_registry_sequence",
    .help = "The registry's change sequence this node's copy has followed up to; the nodes of "
            "one registry converge on the same value (callbar cluster status).",
    .type = METRIC_GAUGE,
    LOCK};

struct metric_family cbar_m_sip_messages = {
    .name = "callbar_sip_messages_total",
    .help = "SIP messages by what became of them: received, dropped (responses, ACK, junk), "
            "parse_error, send_error; udp_kernel_dropped: UDP datagrams the kernel dropped "
            "before callbar read them (ACKs removed by the ACK filter, full receive buffers); "
            "udp_refused_source: UDP datagrams from outside a listener's allow=, unanswered.",
    .type = METRIC_COUNTER,
    .labels = {"event"},
    LOCK};
struct metric_family cbar_m_sip_answers = {.name = "callbar_sip_answers_total",
                                      .help = "SIP answers sent, by status code.",
                                      .type = METRIC_COUNTER,
                                      .labels = {"status"},
                                      LOCK};
struct metric_family cbar_m_sip_tcp = {
    .name = "callbar_sip_tcp_connections_total",
    .help = "SIP TCP connections: accepted, closed (idle_closed of them by sip.tcp_idle_timeout); "
            "refused and closed at once: refused_not_allowed (outside allow=), "
            "refused_per_source (sip.tcp_per_source), refused_full (the descriptor reserve).",
    .type = METRIC_COUNTER,
    .labels = {"event"},
    LOCK};
struct metric_family *const cbar_daemon_metrics[] = {
    &cbar_m_console_signins,   &cbar_m_console_sessions, /* the web console's (console.c) */
    &cbar_m_build_info,        &cbar_m_http_requests,    &cbar_m_http_duration, &cbar_m_http_in_flight, &cbar_m_decisions,
    &cbar_m_decision_duration, &cbar_m_rules_info,       &cbar_m_rules_version, &cbar_m_rules_count,    &cbar_m_rules_loaded,
    &cbar_m_reloads,           &cbar_m_registry_records, &cbar_m_store_up,      &cbar_m_sip_messages,   &cbar_m_sip_answers,
    &cbar_m_sip_tcp,           &cbar_m_audit_head,       &cbar_m_unaudited,     &cbar_m_chain_broken,
    &cbar_m_registry_seq,      &cbar_m_limit_hits,       &cbar_m_limit_bars,
    &cbar_m_smpp_pdus, &cbar_m_smpp_binds, &cbar_m_smpp_messages, &cbar_m_smpp_receipts,
    &cbar_m_smpp_keywords, &cbar_m_smpp_upstream, &cbar_m_smpp_bound,
};

/* One count of cbar_rule_counts_each() into callbar_decisions_total. */
static void decision_count(void *arg, const char *label, unsigned front, unsigned service,
                           unsigned direction, unsigned verdict, uint64_t n)
{
	(void)arg;
	cbar_metric_count_set(&cbar_m_decisions,
	                 (const char *const[]){cbar_decision_name((enum cbar_decision)verdict),
	                                       cbar_service_name((enum cbar_service)service),
	                                       cbar_direction_name((enum cbar_direction)direction),
	                                       label, cbar_daemon_front_name((enum daemon_front)front)},
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
	cbar_sip_server_counters(d->sip, &c);
	cbar_metric_count_set(&cbar_m_sip_messages, (const char *const[]){"received"}, c.received);
	cbar_metric_count_set(&cbar_m_sip_messages, (const char *const[]){"dropped"}, c.dropped);
	cbar_metric_count_set(&cbar_m_sip_messages, (const char *const[]){"parse_error"}, c.parse_errors);
	cbar_metric_count_set(&cbar_m_sip_messages, (const char *const[]){"send_error"}, c.send_errors);
	cbar_metric_count_set(&cbar_m_sip_messages, (const char *const[]){"udp_kernel_dropped"},
	                 c.udp_kernel_dropped);
	cbar_metric_count_set(&cbar_m_sip_messages, (const char *const[]){"udp_refused_source"},
	                 c.udp_refused_source);
	cbar_metric_count_set(&cbar_m_sip_tcp, (const char *const[]){"accepted"}, c.tcp_accepted);
	cbar_metric_count_set(&cbar_m_sip_tcp, (const char *const[]){"closed"}, c.tcp_closed);
	cbar_metric_count_set(&cbar_m_sip_tcp, (const char *const[]){"idle_closed"}, c.tcp_idle_closed);
	cbar_metric_count_set(&cbar_m_sip_tcp, (const char *const[]){"refused_not_allowed"},
	                 c.tcp_refused_not_allowed);
	cbar_metric_count_set(&cbar_m_sip_tcp, (const char *const[]){"refused_per_source"},
	                 c.tcp_refused_per_source);
	cbar_metric_count_set(&cbar_m_sip_tcp, (const char *const[]){"refused_full"}, c.tcp_refused_full);
	for (int i = 0; i < SIP_ST_COUNT; i++) {
		char code[8];
		uint16_t st = cbar_sip_status_code((enum sip_status_slot)i);
		if (st)
			snprintf(code, sizeof code, "%u", st);
		else
			snprintf(code, sizeof code, "other");
		if (c.answered[i] || st == 302 || st == 403)
			cbar_metric_count_set(&cbar_m_sip_answers, (const char *const[]){code},
			                 c.answered[i]);
	}
}
const size_t cbar_daemon_metrics_count = sizeof cbar_daemon_metrics / sizeof cbar_daemon_metrics[0];

static void limit_bars(void *ctx, const char *label, size_t active)
{
	(void)ctx;
	cbar_metric_gauge(&cbar_m_limit_bars, (const char *const[]){label}, (double)active);
}

char *cbar_daemon_metrics_page(struct daemon *d, size_t *len)
{
	/* The limits of the rules in use; a limit gone with a reload drops to 0. */
	if (d->limits) {
		cbar_metric_gauge_zero(&cbar_m_limit_bars);
		cbar_daemon_limits_each(d->limits, (int64_t)time(NULL), limit_bars, NULL);
	}
	cbar_metric_gauge(&cbar_m_http_in_flight, NULL, cbar_http_in_flight(d->http));
	collect_sip(d);
	cbar_smpp_collect(d);
	cbar_rule_counts_each(decision_count, NULL);
	if (cbar_engine_has_registry(d->engine)) {
		int64_t broken = 0;
		cbar_metric_gauge(&cbar_m_registry_records, NULL, (double)cbar_engine_records(d->engine));
		cbar_metric_gauge(&cbar_m_registry_seq, NULL, (double)cbar_engine_seq(d->engine));
		cbar_metric_count_set(&cbar_m_unaudited, NULL, cbar_engine_unaudited(d->engine, &broken));
		cbar_metric_gauge(&cbar_m_chain_broken, NULL, (double)broken);
	}
	if (cbar_engine_has_registry(d->engine)) {
		struct cbar_diag diag = {0};
		cbar_metric_gauge(&cbar_m_store_up, NULL, cbar_engine_ready(d->engine, &diag) == CBAR_OK ? 1 : 0);
	}
	/* Only from a registry that answers: a scrape must not wait on a
	 * reconnection. */
	struct cbar_diag rd = {0};
	if (cbar_engine_has_registry(d->engine) && cbar_engine_ready(d->engine, &rd) == CBAR_OK) {
		struct cbar_diag diag = {0};
		int64_t seq;
		if (!cbar_engine_audit_head(d->engine, &seq, NULL, &diag))
			cbar_metric_gauge(&cbar_m_audit_head, NULL, (double)seq);
	}
	cbar_console_collect(d);
	return cbar_metrics_render(cbar_daemon_metrics, cbar_daemon_metrics_count, METRICS_MAX, len);
}
