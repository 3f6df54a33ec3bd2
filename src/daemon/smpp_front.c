/*
 * callbar serve: the SMPP front end, wired to the daemon: the peers file
 * checks binds, decisions go through decision.c (front "smpp") on the
 * daemon's snapshot and unlock records, keywords through
 * cbar_engine_keyword() (the one keyword path), counters into /metrics
 * and the upstream's state into /readyz (serve.c adds cbar_smpp_ready).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "decision.h"
#include "engine_impl.h"
#include "log.h"
#include "net/addr.h"
#include "proto/smpp_pdu.h"
#include "smpp_front.h"
#include "smpp_peers.h"

#define LOCK .lock = PTHREAD_MUTEX_INITIALIZER

struct metric_family cbar_m_smpp_pdus = {
    .name = "callbar_smpp_pdus_total",
    .help = "SMPP PDUs: in, out, generic_nack sent, too_long (command_length over smpp.pdu_max: "
            "the bind closed), malformed (answered with an error status).",
    .type = METRIC_COUNTER,
    .labels = {"what"},
    LOCK};
struct metric_family cbar_m_smpp_binds = {
    .name = "callbar_smpp_binds_total",
    .help = "Peer binds: ok, or why refused (unknown_system_id, bad_password, "
            "address_not_allowed, bind_limit, already_bound, malformed).",
    .type = METRIC_COUNTER,
    .labels = {"result"},
    LOCK};
struct metric_family cbar_m_smpp_messages = {
    .name = "callbar_smpp_messages_total",
    .help = "submit_sm and data_sm from peers: submitted, relayed, blocked, error_relayed, "
            "error_rejected, throttled_window, throttled_upstream, upstream_timeout, "
            "upstream_lost (given back throttled when an upstream bind dropped); notice_sent, "
            "notice_suppressed: block notices (rules' notify; of texts over SMPP and of calls "
            "and texts decided by HTTP and SIP) sent, or not again within smpp.notify_period; "
            "notice_dropped: notices of HTTP and SIP decisions dropped, their queue full.",
    .type = METRIC_COUNTER,
    .labels = {"result"},
    LOCK};
struct metric_family cbar_m_smpp_receipts = {
    .name = "callbar_smpp_receipts_total",
    .help = "Delivery receipts from the home SMSC: routed to the sending peer, held (no bind "
            "open), dropped (held past smpp.receipt_hold, or over smpp.receipt_hold_max), "
            "unknown (no peer known for the message id).",
    .type = METRIC_COUNTER,
    .labels = {"result"},
    LOCK};
struct metric_family cbar_m_smpp_keywords = {
    .name = "callbar_smpp_keywords_total",
    .help = "Keyword service: received (texts to a service number, a text in parts once "
            "whole), replies (submit_sm segments sent), mo_refused (deliver_sm to other "
            "numbers, refused); concat_held (a part kept until the rest comes), "
            "concat_dropped (parts dropped: older than smpp.concat_wait, or pushed out of "
            "the full table), concat_invalid (a concatenation header that cannot be right).",
    .type = METRIC_COUNTER,
    .labels = {"what"},
    LOCK};
struct metric_family cbar_m_smpp_upstream = {
    .name = "callbar_smpp_upstream_total",
    .help = "callbar's binds to the home SMSC: connect attempts, bound, bind_refused, "
            "disconnected.",
    .type = METRIC_COUNTER,
    .labels = {"event"},
    LOCK};
struct metric_family cbar_m_smpp_bound = {
    .name = "callbar_smpp_binds",
    .help = "Binds open now: side=upstream (to the home SMSC) or peer.",
    .type = METRIC_GAUGE,
    .labels = {"side"},
    LOCK};

/* ---- hooks -------------------------------------------------------------------- */

static enum cbar_decision smpp_decide(void *p, const struct cbar_event *ev, struct cbar_verdict *v)
{
	struct daemon *d = p;
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	enum cbar_decision dec = cbar_daemon_decide(d, s, ev, v);
	cbar_daemon_record(s, DAEMON_FRONT_SMPP, ev, v);
	return dec;
}

static void smpp_enter(void *p)
{
	(void)p;
	cbar_slot_read_begin();
}

static void smpp_leave(void *p)
{
	(void)p;
	cbar_slot_read_end();
}

/* The numbering plan of the snapshot held (after enter): numbering files
 * are reloaded with the rules. */
static const struct cbar_numplan *smpp_plan(void *p)
{
	struct daemon *d = p;
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	return s ? s->np : d->np;
}

static uint32_t smpp_bind(void *p, const char *system_id, const char *password,
                          const struct sockaddr *src, struct smpp_peer_info *peer,
                          enum smpp_bind_fail *why)
{
	struct daemon *d = p;
	return cbar_smpp_peers_bind(d->smpp_peers, system_id, password, src, peer, why);
}

static bool smpp_is_service(void *p, const char *to, size_t len)
{
	struct daemon *d = p;
	char t[24];
	if (!d->engine || !len || len >= sizeof t)
		return false;
	memcpy(t, to, len);
	t[len] = '\0';
	return cbar_kw_is_service(&d->engine->keywords, t);
}

/* A keyword text: applied by cbar_engine_keyword(), as POST /v1/keyword
 * does, by the caller "smpp"; its answer is the reply.  The text of an
 * unknown keyword is a subscriber's words: it is not logged. */
static void smpp_keyword(void *p, const char *from, const char *to, const char *text, size_t len,
                         char *reply, size_t cap)
{
	struct daemon *d = p;
	struct keyword_req k;
	memset(&k, 0, sizeof k);
	reply[0] = '\0';
	/* the service number: a keyword to another carrier's is refused there */
	snprintf(k.to, sizeof k.to, "%s", to);
	if (!cbar_engine_has_registry(d->engine))
		return;
	/* The keyword: the text with the spaces around it dropped. */
	while (len && (text[0] == ' ' || text[0] == '\n' || text[0] == '\r'))
		text++, len--;
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len >= sizeof k.keyword)
		len = sizeof k.keyword - 1;
	memcpy(k.keyword, text, len);
	k.keyword[len] = '\0';
	if (cbar_number_parse(d->np, d->country, from, strlen(from), &k.subscriber, NULL))
		return;
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	const struct daemon_caller who = {.name = "smpp", .role = ROLE_GATEWAY};
	enum cbar_err err = cbar_engine_keyword(d->engine, &who, &k, &out, &diag);
	if (err) {
		cbar_log_line(LOG_LV_WARN, "smpp keyword failed", "{s:s,s:s}", "subscriber",
		              k.subscriber.digits, "error", diag.msg[0] ? diag.msg : cbar_err_message(err));
		return;
	}
	const char *result = json_string_value(json_object_get(out, "result"));
	const char *answer = json_string_value(json_object_get(out, "answer"));
	bool known = result && strcmp(result, "unknown-keyword");
	cbar_log_line(LOG_LV_INFO, "keyword", "{s:s,s:s,s:s,s:s}", "subscriber", k.subscriber.digits,
	              "keyword", known ? k.keyword : "", "result", result ? result : "", "by", "smpp");
	snprintf(reply, cap, "%s", answer ? answer : "");
	json_decref(out);
}

/* The block notice of HTTP and SIP decisions (decision.c calls it). */
static void smpp_notice(void *p, const struct cbar_event *ev, const struct cbar_verdict *v)
{
	struct daemon *d = p;
	cbar_smpp_server_notice(d->smpp, ev, v);
}

static void smpp_log(void *p, int level, const char *what, const char *system_id,
                     const char *addr, uint32_t status)
{
	(void)p;
	static const enum log_level lv[] = {LOG_LV_DEBUG, LOG_LV_INFO, LOG_LV_WARN, LOG_LV_ERROR};
	char st[16];
	snprintf(st, sizeof st, "0x%08X", status);
	cbar_log_line(lv[level & 3], what, "{s:s,s:s,s:s}", "system_id", system_id, "addr", addr,
	              "command_status", st);
}

/* ---- readiness and metrics ------------------------------------------------------ */

enum cbar_err cbar_smpp_ready(void *p, struct cbar_diag *diag)
{
	struct daemon *d = p;
	struct smpp_counters c;
	memset(&c, 0, sizeof c);
	cbar_smpp_server_counters(d->smpp, &c);
	if (c.up_bound)
		return CBAR_OK;
	return cbar_diag_set(diag, CBAR_UNAVAILABLE, 0, 0,
	                     "no bind to the home SMSC (smpp.upstream): allowed messages are "
	                     "answered ESME_RTHROTTLED");
}

void cbar_smpp_collect(struct daemon *d)
{
	if (!d->smpp)
		return;
	struct smpp_counters c;
	memset(&c, 0, sizeof c);
	cbar_smpp_server_counters(d->smpp, &c);
#define SET(f, lab, v) cbar_metric_count_set(&cbar_m_smpp_##f, (const char *const[]){lab}, v)
	SET(pdus, "in", c.pdus_in);
	SET(pdus, "out", c.pdus_out);
	SET(pdus, "generic_nack", c.generic_nacks);
	SET(pdus, "too_long", c.too_long);
	SET(pdus, "malformed", c.malformed);
	SET(binds, "ok", c.binds_ok);
	for (unsigned i = 0; i < SMPP_BF_COUNT; i++)
		SET(binds, cbar_smpp_bind_fail_name((enum smpp_bind_fail)i), c.bind_fail[i]);
	SET(messages, "submitted", c.submits);
	SET(messages, "relayed", c.relayed);
	SET(messages, "blocked", c.blocked);
	SET(messages, "error_relayed", c.errors_relayed);
	SET(messages, "error_rejected", c.errors_rejected);
	SET(messages, "throttled_window", c.throttled_window);
	SET(messages, "throttled_upstream", c.throttled_upstream);
	SET(messages, "upstream_timeout", c.upstream_timeouts);
	SET(messages, "upstream_lost", c.upstream_lost);
	SET(messages, "notice_sent", c.notices_sent);
	SET(messages, "notice_suppressed", c.notices_suppressed);
	SET(messages, "notice_dropped", c.notices_dropped);
	SET(receipts, "routed", c.receipts_routed);
	SET(receipts, "held", c.receipts_held);
	SET(receipts, "dropped", c.receipts_dropped);
	SET(receipts, "unknown", c.receipts_unknown);
	SET(keywords, "received", c.keywords);
	SET(keywords, "replies", c.keyword_replies);
	SET(keywords, "mo_refused", c.mo_refused);
	SET(keywords, "concat_held", c.concat_held);
	SET(keywords, "concat_dropped", c.concat_dropped);
	SET(keywords, "concat_invalid", c.concat_invalid);
	SET(upstream, "connect", c.up_connects);
	SET(upstream, "bound", c.up_binds_ok);
	SET(upstream, "bind_refused", c.up_bind_fail);
	SET(upstream, "disconnected", c.up_disconnects);
#undef SET
	cbar_metric_gauge(&cbar_m_smpp_bound, (const char *const[]){"upstream"}, (double)c.up_bound);
	cbar_metric_gauge(&cbar_m_smpp_bound, (const char *const[]){"peer"}, (double)c.peers_bound);
}

/* ---- start and stop ----------------------------------------------------------------- */

/* "0x66" or "102": a command_status from 1 to 0xFFFFFFFF. */
static bool status_parse(const char *s, uint32_t *out)
{
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 0);
	if (!*s || *e || errno || !v || v > 0xFFFFFFFFull)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool cbar_smpp_start(struct daemon *d)
{
	const struct daemon_config *c = &d->cfg;
	struct smpp_server_cfg sc;
	memset(&sc, 0, sizeof sc);
	socklen_t sl;
	if (cbar__addr_parse(c->smpp_listen, strlen(c->smpp_listen), &sc.listen, &sl)) {
		fprintf(stderr, "callbar serve: smpp.listen: want HOST:PORT, not '%s'\n", c->smpp_listen);
		return false;
	}
	if (!status_parse(c->smpp_block_status, &sc.block_status)) {
		fprintf(stderr, "callbar serve: smpp.block_status: want a command_status such as 0x66, "
		                "not '%s'\n",
		        c->smpp_block_status);
		return false;
	}
	if (c->smpp_upstream[0]) {
		if (cbar__addr_parse(c->smpp_upstream, strlen(c->smpp_upstream), &sc.up, &sl)) {
			fprintf(stderr, "callbar serve: smpp.upstream: want HOST:PORT, not '%s'\n",
			        c->smpp_upstream);
			return false;
		}
		sc.up_binds = c->smpp_up_binds;
	}
	snprintf(sc.up_system_id, sizeof sc.up_system_id, "%s", c->smpp_up_system_id);
	snprintf(sc.up_password, sizeof sc.up_password, "%s", c->smpp_up_password);
	snprintf(sc.up_system_type, sizeof sc.up_system_type, "%s", c->smpp_up_system_type);
	sc.up_window = c->smpp_up_window;
	sc.up_timeout_s = c->smpp_up_timeout;
	sc.window = c->smpp_window;
	sc.pdu_max = c->smpp_pdu_max;
	sc.enquire_s = c->smpp_enquire;
	sc.max_conns = c->smpp_max_conns;
	sc.fail_relay = c->smpp_fail == 1;
	sc.receipt_hold_s = c->smpp_receipt_hold;
	sc.receipt_hold_max = c->smpp_receipt_hold_max;
	snprintf(sc.notify_from, sizeof sc.notify_from, "%s", c->smpp_notify_from);
	sc.notify_period_s = c->smpp_notify_period;
	sc.notify_slots = c->smpp_notify_slots;
	sc.concat_wait_s = c->smpp_concat_wait;
	sc.np = d->np;
	sc.country = d->country;
	sc.hooks = (struct smpp_hooks){.ctx = d,
	                               .bind = smpp_bind,
	                               .decide = smpp_decide,
	                               .enter = smpp_enter,
	                               .leave = smpp_leave,
	                               .plan = smpp_plan,
	                               .is_service = smpp_is_service,
	                               .keyword = smpp_keyword,
	                               .log = smpp_log};
	struct cbar_diag diag = {0};
	if (!(d->smpp_peers = calloc(1, sizeof *d->smpp_peers)) ||
	    cbar_smpp_peers_load(d->smpp_peers, c->smpp_peers, true, &diag)) {
		fprintf(stderr, "callbar serve: smpp.peers: %s:%u: %s\n", c->smpp_peers, diag.line,
		        diag.msg[0] ? diag.msg : "out of memory");
		free(d->smpp_peers);
		d->smpp_peers = NULL;
		return false;
	}
	if (cbar_smpp_server_start(&sc, &d->smpp, &diag)) {
		fprintf(stderr, "callbar serve: %s\n", diag.msg);
		cbar_smpp_peers_release(d->smpp_peers);
		free(d->smpp_peers);
		d->smpp_peers = NULL;
		return false;
	}
	if (sc.notify_from[0])
		cbar_daemon_set_notice(smpp_notice, d);
	char addr[80];
	cbar__addr_format((const struct sockaddr *)&sc.listen, addr, sizeof addr);
	char *colon = strrchr(addr, ':');
	if (colon)
		snprintf(colon, sizeof addr - (size_t)(colon - addr), ":%u",
		         cbar_smpp_server_port(d->smpp));
	cbar_log_line(LOG_LV_INFO, "smpp listening", "{s:s,s:i,s:s}", "smpp", addr, "peers",
	              (int)d->smpp_peers->n, "upstream",
	              c->smpp_upstream[0] ? c->smpp_upstream : "none");
	printf("callbar serve: SMPP on %s (%u peers; upstream %s)\n", addr, d->smpp_peers->n,
	       c->smpp_upstream[0] ? c->smpp_upstream : "none");
	fflush(stdout);
	return true;
}

void cbar_smpp_stop(struct daemon *d)
{
	if (d->smpp)
		cbar_daemon_set_notice(NULL, NULL); /* waits for a notice being queued */
	cbar_smpp_server_stop(d->smpp);
	d->smpp = NULL;
	if (d->smpp_peers) {
		cbar_smpp_peers_release(d->smpp_peers);
		free(d->smpp_peers);
		d->smpp_peers = NULL;
	}
}
