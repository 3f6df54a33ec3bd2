/*
 * callbar: the SIP policy server's sockets (UDP and TCP), for `callbar
 * sip-serve` today and `callbar serve` later.
 *
 * Conventions for this header:
 * - The server answers INVITE (voice) and MESSAGE (SMS) as a stateless
 *   redirect server: 302 (continue, Contact = the Request-URI), 403/603
 *   (blocked, with Reason and X-Callbar-* headers), 302 or 500 on an
 *   `error` verdict.  Everything about the bytes is src/proto (sip.h).
 * - The decision comes through a hook (struct sip_decider) so the daemon
 *   can plug in its RCU snapshot: decide() is called from every worker
 *   thread at once and must be thread-safe and must not block.  The
 *   server reads the clock (wall clock at receipt) and builds the event;
 *   the hook never sees SIP.
 * - Workers: one thread per worker, each with its own SO_REUSEPORT socket
 *   per listener, its own buffers and its own counters; nothing is shared
 *   between workers on the decision path and nothing is allocated per
 *   message (TCP allocates one capped buffer per connection).
 * - Ownership: cbar_sip_server_start() copies the configuration it is given
 *   (listeners, ingress classes); the numbering plan and the decider's
 *   context are borrowed and must outlive cbar_sip_server_stop().
 */
#ifndef CALLBAR_NET_SIP_SERVER_H
#define CALLBAR_NET_SIP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "callbar/rules.h"
#include "callbar/sip.h"
#include "proto/event.h"

/*
 * The decision hook.  decide() fills *v and returns v->decision.  The
 * verdict's strings (reason, file, announcement) point into the caller's
 * snapshot and are read after decide() returns, while the reply is built:
 * a snapshot must stay alive from enter() to leave().  The worker calls
 * enter() before a batch of messages (one recvmmsg() batch, or what one
 * TCP read delivered) and leave() after their replies are built; both may
 * be NULL.  With RCU they are rcu_read_lock()/rcu_read_unlock() (or a QSBR
 * quiescent state in leave()).  All three run on every worker at once.
 */
struct sip_decider {
	enum cbar_decision (*decide)(void *ctx, const struct cbar_event *ev, struct cbar_verdict *v);
	void *ctx;
	void (*enter)(void *ctx);
	void (*leave)(void *ctx);
	/* Optional: the numbering plan to read numbers with, asked after
	 * enter() for the messages until leave() (the daemon's reloaded
	 * snapshot carries its own); NULL: cfg.np. */
	const struct cbar_numplan *(*plan)(void *ctx);
	/* Optional: decide n events at once, v[i] ev[i]'s verdict, as n calls
	 * of decide() in order would (limits count in that order).  The UDP
	 * workers give it the INVITEs and MESSAGEs of one recvmmsg() batch,
	 * between enter() and leave(); NULL: decide() one at a time. */
	void (*decide_many)(void *ctx, const struct cbar_event *const *ev, size_t n,
	                    struct cbar_verdict *v);
};

/* Transports a listener opens (bits). */
enum { SIP_UDP = 1, SIP_TCP = 2 };

/* What a listener's description set itself (the rest comes from the
 * global settings). */
enum { SIP_GIVEN_BLOCK = 1, SIP_GIVEN_FAIL = 2 };

/* Header sources tried in order for a number; the first one present wins
 * (a number that is present but does not parse is an `error` verdict). */
#define SIP_MAX_SOURCES 4

/* An ingress class: datagrams and connections from addr/prefix are tagged
 * NAME (the rules' `via NAME`).  The longest matching prefix wins. */
#define SIP_INGRESS_NAME_MAX 32
struct sip_ingress {
	struct sockaddr_storage net; /* AF_INET or AF_INET6, port ignored */
	uint8_t prefix;              /* bits */
	char name[SIP_INGRESS_NAME_MAX];
};

/* "10.1.0.0/16=intl-gateway" (no /: one host) into *g; false when
 * malformed. */
bool cbar_sip_ingress_parse(const char *s, size_t len, struct sip_ingress *g);

/* The networks a listener answers (allow=), at most this many. */
#define SIP_ALLOW_MAX 32

#define SIP_HDR_NAME_MAX 48

struct sip_listener_cfg {
	struct sockaddr_storage addr; /* port 0: any free port (see cbar_sip_server_port) */
	unsigned transports;          /* SIP_UDP | SIP_TCP */
	enum cbar_direction direction;
	/* where the numbers come from; nsub/npeer 0: the defaults,
	 *   out: subscriber P-Asserted-Identity then From, peer Request-URI;
	 *   in:  subscriber Request-URI then To, peer P-Asserted-Identity then From. */
	enum cbar_sip_source sub_src[SIP_MAX_SOURCES], peer_src[SIP_MAX_SOURCES];
	unsigned nsub, npeer;
	uint16_t block_status;        /* 403 (0 means 403) or 603 */
	bool fail_open;               /* error verdict: true 302, false 500 */
	unsigned given;               /* SIP_GIVEN_*: set by cbar_sip_listener_spec() */
	uint8_t roaming;              /* enum cbar_roaming of every event here; 0: not known */
	uint16_t country;             /* context for national numbers (CN) */
	/* carrier=HEADER, region=HEADER: the header fields the switch writes the
	 * subscriber's carrier and region in (""): none); they come before the
	 * numbering data, as HTTP decide's fields do. */
	char carrier_hdr[SIP_HDR_NAME_MAX], region_hdr[SIP_HDR_NAME_MAX];
	/* block=annc: a block with an announcement is answered 302 to the
	 * announcement server, annc_uri with {name} and {lang} replaced (the
	 * announcement's name and first language; RFC 4240), e.g.
	 * sip:annc@ms.example;play=file:///annc/{name}-{lang}.wav.  Borrowed. */
	bool block_annc;
	const char *annc_uri;
	const struct sip_ingress *ingress; /* copied by cbar_sip_server_start() */
	size_t ningress;
	/* allow=: the sources this listener answers; nallow 0: any.  A UDP
	 * datagram from elsewhere is dropped unread (no reply: an open UDP
	 * listener reflects about twice what it is sent), a TCP connection
	 * from elsewhere is closed at once; both are counted. */
	struct cbar__cidr allow[SIP_ALLOW_MAX];
	unsigned nallow;
};

struct sip_server_cfg {
	const struct sip_listener_cfg *listeners;
	size_t nlisteners;
	unsigned workers;                 /* 0: one per online CPU */
	const struct cbar_numplan *np;    /* borrowed */
	struct sip_decider decider;       /* ctx borrowed */
	int64_t fixed_time;               /* tests: every event at this UTC second; 0: clock */
	/* UDP: after a batch shorter than 32 datagrams, sleep this long (up to
	 * 1000 us) before reading again, so that datagrams gather and one
	 * wake-up answers several: less CPU per message at moderate rates, at
	 * most this much more latency.  0 (default): answer as they come. */
	unsigned coalesce_us;
	/* UDP: drop datagrams beginning "ACK " in the kernel (a socket filter),
	 * so ACKs, which a stateless server answers nothing, wake no worker.
	 * They are then counted in udp_kernel_dropped, not received/dropped. */
	bool ack_filter;
	/* TCP: close a connection after this many seconds without any event
	 * from it (checked each second); 0: never. */
	unsigned tcp_idle_s;
	/* TCP: connections one source address may hold at once, over every
	 * listener and worker (an IPv6 source counts by its /64, the least a
	 * site is given); 0: SIP_TCP_PER_SOURCE. */
	unsigned tcp_per_source;
	/* TCP: connections the whole server may hold; 0: the descriptor limit
	 * (RLIMIT_NOFILE at start) less SIP_FD_RESERVE, kept for the registry,
	 * logs, reloads and HTTP.  A connection past either limit is closed at
	 * once and counted. */
	unsigned tcp_max;
};

#define SIP_TCP_PER_SOURCE 64
#define SIP_FD_RESERVE 256

/* Statuses counted one by one; anything else is counted as "other". */
#define SIP_STATUS_MAP(X)                                                              \
	X(200) X(302) X(400) X(403) X(405) X(416) X(420) X(483) X(500) X(501) X(505)   \
	X(513) X(603)
enum sip_status_slot {
#define SIP__SLOT(code) SIP_ST_##code,
	SIP_STATUS_MAP(SIP__SLOT)
#undef SIP__SLOT
	SIP_ST_OTHER,
	SIP_ST_COUNT
};

/* Counters of one worker, or summed over them (cbar_sip_server_counters). */
struct sip_counters {
	uint64_t received;        /* datagrams and framed TCP messages */
	uint64_t answered[SIP_ST_COUNT];
	uint64_t dropped;         /* nothing sent: responses, ACK, junk */
	uint64_t parse_errors;    /* cbar_sip_parse() failed (answered or not) */
	uint64_t decisions[3];    /* by enum cbar_decision */
	uint64_t send_errors;     /* a reply that could not be sent or built */
	uint64_t tcp_accepted, tcp_closed, tcp_pings;
	uint64_t tcp_idle_closed; /* of tcp_closed: by the idle limit */
	/* UDP datagrams the kernel dropped before a worker read them: ACKs
	 * removed by the ACK filter, and receive-buffer overflows (summed by
	 * cbar_sip_server_counters(), 0 in a worker's own counters) */
	uint64_t udp_kernel_dropped;
	uint64_t udp_refused_source;      /* datagrams from outside a listener's allow= */
	uint64_t tcp_refused_not_allowed; /* connections from outside a listener's allow= */
	uint64_t tcp_refused_per_source;  /* over tcp_per_source */
	uint64_t tcp_refused_full;        /* over tcp_max */
};

/* The code of a status slot (0 for SIP_ST_OTHER). */
uint16_t cbar_sip_status_code(enum sip_status_slot s);

/*
 * A listener from its one-line description (docs/sip.md "Listeners"):
 *   ADDR:PORT [direction=out|in] [transport=udp|tcp|udp,tcp]
 *             [subscriber=SRC,...] [peer=SRC,...] [via=CIDR=NAME]...
 *             [block=403|603] [fail=302|500] [roaming=yes|no]
 *             [allow=CIDR[,CIDR...]]...
 * with SRC one of ruri, to, from, pai.  Sets addr, direction, transports
 * and the number sources of *l (the rest zero; sources not given: the
 * direction's defaults), block_status and fail_open when given (then
 * flagged in l->given); each via class is appended to ing[*ning] (at most
 * cap in all) and l->ingress points at this listener's (NULL when it has
 * none); allow= networks go to l->allow (at most SIP_ALLOW_MAX, over
 * every allow= word).  CBAR_OK, or CBAR_CONFIG with d's message and column
 * (1-based: the byte of the bad word) set.
 */
enum cbar_err cbar_sip_listener_spec(const char *s, size_t len, struct sip_listener_cfg *l,
                                struct sip_ingress *ing, size_t cap, size_t *ning,
                                struct cbar_diag *d);

/* The global settings for what l's description did not give itself: the
 * block status (403 or 603), the fail mode, the ingress classes (when it
 * names none); the country always. */
void cbar_sip_listener_defaults(struct sip_listener_cfg *l, uint16_t block_status, bool fail_open,
                           uint16_t country, const struct sip_ingress *ing, size_t ning);

struct sip_server;

/*
 * Bind every listener (UDP and/or TCP, one socket per worker each) and start
 * the workers.  A listener asking for port 0 gets one free port shared by
 * its UDP and TCP sockets and every worker.  On failure returns
 * CBAR_SIP_START (CBAR_NOMEM when memory ran short) with d's message set,
 * nothing left running or open, and *out NULL.
 */
enum cbar_err cbar_sip_server_start(const struct sip_server_cfg *cfg, struct sip_server **out,
                               struct cbar_diag *d);

/* The port listener i is bound to (after port 0 was resolved). */
uint16_t cbar_sip_server_port(const struct sip_server *s, size_t i);
unsigned cbar_sip_server_workers(const struct sip_server *s);

/* Add every worker's counters into *sum (zero it first).  Any thread may
 * call it while the server runs: each value is read atomically, the sum
 * is not a snapshot across counters. */
void cbar_sip_server_counters(struct sip_server *s, struct sip_counters *sum);

/* Stop the workers, close every socket and free the server.  NULL is fine. */
void cbar_sip_server_stop(struct sip_server *s);

/* ---- the per-message path, without sockets (sip_handle.c) ---------------- */

/* A listener as the workers use it: the configuration resolved. */
struct sip_listener {
	struct sip_listener_cfg cfg;
	struct cbar_sip_cfg sip;
	struct sip_ingress *ingress; /* owned copy */
};

/*
 * One message in, the reply out: parse, triage, numbers, event, decide,
 * reply.  Returns the reply length in out (0: send nothing).  src is the
 * sender (for the ingress class; may be NULL), now the event time, c the
 * calling worker's counters (plain increments: one writer).
 */
size_t cbar_sip_handle(const struct sip_listener *l, const struct cbar_numplan *np,
                  const struct sip_decider *d, const char *buf, size_t len,
                  enum cbar_sip_transport tp, const struct sockaddr *src, int64_t now, char *out,
                  size_t cap, struct sip_counters *c);

/*
 * The same in two halves, for a batch of messages decided at once (the UDP
 * workers): cbar_sip_handle_read() parses and triages one message and,
 * for an INVITE or MESSAGE, reads its event into p->in; it returns true
 * when the event is for the decision hook (decide() or decide_many() on
 * &p->in.ev, the verdict into *v), false when there is nothing to decide
 * (*v then holds the error verdict of a caller ID that cannot be read, or
 * nothing at all for an answer without a decision).  buf must stay as it
 * is until the reply is built.  cbar_sip_handle_reply() counts the
 * verdict and builds the reply, byte for byte what cbar_sip_handle()
 * gives; 0: send nothing.  cbar_sip_handle() is read, decide(), reply.
 */
enum sip_step { SIP_STEP_DROP, SIP_STEP_ANSWER, SIP_STEP_DECIDE, SIP_STEP_VERDICT };
struct sip_pending {
	struct cbar_sip_msg m;
	struct cbar_event_in in; /* SIP_STEP_DECIDE: the event; ev points into it */
	uint16_t status;         /* SIP_STEP_ANSWER: the status triage chose */
	enum sip_step step;
};
bool cbar_sip_handle_read(const struct sip_listener *l, const struct cbar_numplan *np,
                          const char *buf, size_t len, enum cbar_sip_transport tp,
                          const struct sockaddr *src, int64_t now, struct sip_pending *p,
                          struct cbar_verdict *v, struct sip_counters *c);
/* The decision of the n messages read into p[] whose step is
 * SIP_STEP_DECIDE, each verdict into v[i]: in one decide_many() call per
 * CBAR_DECIDE_MANY_MAX of them when the decider has it, else one decide()
 * each. */
void cbar_sip_decide_pending(const struct sip_decider *d, struct sip_pending *p, size_t n,
                             struct cbar_verdict *v);
size_t cbar_sip_handle_reply(const struct sip_listener *l, const struct sip_pending *p,
                             const struct cbar_verdict *v, char *out, size_t cap,
                             struct sip_counters *c);

/* Fill the resolved part of l from l->cfg (defaults, cbar_sip_cfg); the
 * ingress pointer is left as the caller set it. */
void cbar_sip_listener_init(struct sip_listener *l);

#endif
