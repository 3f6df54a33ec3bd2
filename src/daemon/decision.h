/*
 * callbar serve: the one decision path of every front end.
 *
 * A front end (HTTP, SIP, and any later one) reads its bytes into an event
 * (proto/event.h) in the context of the snapshot (cbar_snapshot_event_ctx()),
 * then calls cbar_daemon_decide() (cbar_daemon_decide_many() for a batch of
 * events) and cbar_daemon_record() for each event inside the snapshot's read
 * section, and writes the verdict back in its own bytes (HTTP through
 * proto/verdict_json.h).  Nothing about how an event is decided, counted or
 * logged is done anywhere else.
 */
#ifndef CALLBAR_DAEMON_DECISION_H
#define CALLBAR_DAEMON_DECISION_H

#include "callbar/rules.h"
#include "proto/event.h"
#include "snapshot.h"

struct daemon;

/* The front ends, as the label front="..." of callbar_decisions_total and
 * the decision log names them. */
#define DAEMON_FRONT_MAP(X) X(HTTP, "http") X(SIP, "sip") X(SMPP, "smpp")
enum daemon_front {
#define DAEMON__FRONT(name, label) DAEMON_FRONT_##name,
	DAEMON_FRONT_MAP(DAEMON__FRONT)
#undef DAEMON__FRONT
	    DAEMON_FRONT_COUNT
};
const char *cbar_daemon_front_name(enum daemon_front f);

/* The context events are read in on snapshot s. */
struct cbar_event_ctx cbar_snapshot_event_ctx(const struct daemon_snapshot *s);

/* Decide ev on s's rules with the registry's unlock records (none when the
 * daemon has no registry).  Takes no lock; s must be held (read section). */
enum cbar_decision cbar_daemon_decide(struct daemon *d, const struct daemon_snapshot *s,
                                      const struct cbar_event *ev, struct cbar_verdict *v);

/* The same for n events at once (cbar_decide_many()): v[i] is what
 * cbar_daemon_decide() gives for ev[i], and limits count the events in
 * the order given.  For the front ends that receive events in batches (the
 * SIP workers' recvmmsg(), the HTTP batch route); each event is then
 * recorded by cbar_daemon_record() as any other.  Takes no lock; s must be
 * held (read section). */
void cbar_daemon_decide_many(struct daemon *d, const struct daemon_snapshot *s,
                             const struct cbar_event *const *ev, size_t n, struct cbar_verdict *v);

/* Count one decision (callbar_decisions_total, lock-free per thread) and
 * write its decision-log line when decision logs are on. */
void cbar_daemon_record(const struct daemon_snapshot *s, enum daemon_front f,
                        const struct cbar_event *ev, const struct cbar_verdict *v);

/*
 * The block notice of the other front ends: when cbar_daemon_record() counts
 * a block by a rule with `notify` decided by HTTP or SIP (a barred call, or a
 * text that did not come over SMPP), it calls fn(ctx, ev, v), on the front
 * end's thread, the snapshot held (v's texts are the snapshot's: fn copies
 * what it keeps).  The SMPP front registers it when [smpp] sends notices
 * (smpp_front.c), and clears it (fn NULL) before it stops: the call and the
 * clearing exclude each other.  SMPP's own texts send theirs in its loop.
 */
typedef void (*cbar_daemon_notice_fn)(void *ctx, const struct cbar_event *ev,
                                      const struct cbar_verdict *v);
void cbar_daemon_set_notice(cbar_daemon_notice_fn fn, void *ctx);

#endif
