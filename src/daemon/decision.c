/* callbar serve: the one decision path of every front end (decision.h). */
#include <pthread.h>
#include <string.h>

#include "callbar/scope.h"
#include "daemon.h"
#include "decision.h"
#include "engine.h"
#include "limits.h"
#include "log.h"
#include "proto/buf.h"
#include "proto/verdict_json.h"
#include "rule_counts.h"

static const char *const front_names[] = {
#define DAEMON__FRONT_NAME(name, label) [DAEMON_FRONT_##name] = label,
    DAEMON_FRONT_MAP(DAEMON__FRONT_NAME)
#undef DAEMON__FRONT_NAME
};

const char *cbar_daemon_front_name(enum daemon_front f)
{
	return (unsigned)f < DAEMON_FRONT_COUNT ? front_names[f] : "?";
}

struct cbar_event_ctx cbar_snapshot_event_ctx(const struct daemon_snapshot *s)
{
	return (struct cbar_event_ctx){
	    .np = s->np, .country = s->country, .tz = cbar_rules_tz_offset(s->rules)};
}

/* One event is the batch of one: a single road from every front end to
 * the engine. */
enum cbar_decision cbar_daemon_decide(struct daemon *d, const struct daemon_snapshot *s,
                                      const struct cbar_event *ev, struct cbar_verdict *v)
{
	cbar_daemon_decide_many(d, s, &ev, 1, v);
	return v->decision;
}

void cbar_daemon_decide_many(struct daemon *d, const struct daemon_snapshot *s,
                             const struct cbar_event *const *ev, size_t n, struct cbar_verdict *v)
{
	cbar_engine_decide_many(d->engine, s->rules, ev, n, cbar_daemon_limits_counter(d->limits),
	                        v);
	for (size_t i = 0; i < n; i++)
		if ((unsigned)v[i].decision > CBAR_ERROR)
			v[i].decision = CBAR_ERROR;
}

/* The decision-log line: the verdict as every front end writes it
 * (proto/verdict_json.h: verdict, rule, reason, exempting record, error;
 * not the announcement's texts), then the event and the front end. */
static void log_line(enum daemon_front f, const struct cbar_event *ev,
                     const struct cbar_verdict *v)
{
	struct cbar_buf b;
	cbar_buf_init(&b, 1u << 16);
	cbar_buf_printf(&b, "\"front\":\"%s\"", cbar_daemon_front_name(f));
	cbar_verdict_json_members(&b, v, NULL,
	                          CBAR_VJ_VERDICT | CBAR_VJ_RULE | CBAR_VJ_REASON | CBAR_VJ_EXEMPTED |
	                                  CBAR_VJ_LIMIT | CBAR_VJ_ERROR,
	                          "");
	cbar_buf_printf(&b, ",\"service\":\"%s\",\"direction\":\"%s\",\"subscriber\":\"%s\","
	                    "\"peer\":\"%s\"",
	                cbar_service_name(ev->service), cbar_direction_name(ev->direction),
	                ev->subscriber ? ev->subscriber->digits : "",
	                ev->peer ? ev->peer->digits : "");
	if (!b.failed)
		cbar_log_decision_members(b.p, b.len);
	cbar_buf_release(&b);
}

static pthread_rwlock_t notice_lock = PTHREAD_RWLOCK_INITIALIZER;
static cbar_daemon_notice_fn notice_fn;
static void *notice_ctx;

void cbar_daemon_set_notice(cbar_daemon_notice_fn fn, void *ctx)
{
	pthread_rwlock_wrlock(&notice_lock);
	notice_fn = fn;
	notice_ctx = ctx;
	pthread_rwlock_unlock(&notice_lock);
}

void cbar_daemon_record(const struct daemon_snapshot *s, enum daemon_front f,
                        const struct cbar_event *ev, const struct cbar_verdict *v)
{
	/* The rule's label (its reason, else its line) from the snapshot,
	 * interned when it was built: counting takes no lock. */
	uint32_t label = v->rule >= 0 && (size_t)v->rule < s->rule_count ? s->rule_label[v->rule]
	                 : v->reason && !strcmp(v->reason, "emergency")  ? s->label_emergency
	                                                                 : s->label_default;
	cbar_rule_count(label, (unsigned)f, ev->service == CBAR_SMS, ev->direction == CBAR_OUT,
	                (unsigned)v->decision);
	/* log.decision_log: both numbers, so off by default (a line a call,
	 * and a record of who called whom: only with a retention period). */
	if (cbar_log_decisions())
		log_line(f, ev, v);
	/* Only blocks by a `notify` rule take the lock; SMPP's own texts
	 * send their notice in the SMPP loop. */
	if (v->decision == CBAR_BLOCK && v->notify && f != DAEMON_FRONT_SMPP) {
		pthread_rwlock_rdlock(&notice_lock);
		if (notice_fn)
			notice_fn(notice_ctx, ev, v);
		pthread_rwlock_unlock(&notice_lock);
	}
}
