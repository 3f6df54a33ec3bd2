/*
 * callbar: the SMPP firewall's event loop (contract in smpp_server.h).
 *
 * One thread, one level-triggered epoll set: the listener, the peers'
 * connections and callbar's own binds to the home SMSC.  One thread is
 * enough (a relayed message costs a parse of its addresses, a decision
 * and a copy; bench/smpp.sh measures it) and it keeps the routing state
 * (which peer waits for which SMSC answer, which peer a receipt goes to)
 * free of locks.  Output is queued per connection and flushed once per
 * loop turn, so a burst of PDUs read in one recv() is answered in one
 * send().
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "proto/smpp_pdu.h"
#include "proto/smpp_text.h"
#include "smpp_server.h"

#define OUT_MAX (4u << 20)   /* a peer that does not read is closed */
#define IN_MIN (64u << 10)   /* read buffer: at least this, for bursts */
#define TAG_LISTEN 0xFFFFFFFFu
#define TAG_STOP 0xFFFFFFFEu
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

static const char *const bind_fail_names[] = {
#define SMPP__BFN(name, label) [SMPP_BF_##name] = label,
    SMPP_BIND_FAIL_MAP(SMPP__BFN)
#undef SMPP__BFN
};

const char *cbar_smpp_bind_fail_name(enum smpp_bind_fail f)
{
	return (unsigned)f < SMPP_BF_COUNT ? bind_fail_names[f] : "?";
}

enum conn_kind { K_PEER = 1, K_UP = 2 };
enum conn_state {
	S_FREE = 0,
	S_OPEN,       /* peer: connected, not bound */
	S_TX,         /* peer bound as transmitter */
	S_RX,         /* receiver */
	S_TRX,        /* transceiver */
	S_DOWN,       /* upstream: waiting to reconnect */
	S_CONNECTING, /* upstream: connect() in progress */
	S_BINDING,    /* upstream: bind sent */
	S_BOUND,      /* upstream: bound */
};

/* A message sent to the SMSC and not answered yet. */
enum { P_RELAY = 1, P_KEYWORD = 2 };
struct pend {
	uint8_t kind;
	uint16_t peer_idx;
	uint32_t seq, peer_cid, peer_seq, resp_id;
	int64_t t_ms;
};

struct conn {
	uint8_t kind, state;
	bool test;        /* no socket: output discarded (the fuzzer) */
	bool closing;     /* close once the output is flushed */
	bool dirty;       /* output waits for the end of the loop turn */
	bool want_out;    /* EPOLLOUT set */
	int fd;
	uint32_t gen;
	char addr[64];
	uint8_t *in, *out;
	size_t inlen, incap, outoff, outlen, outcap;
	int64_t last_rx_ms, enq_ms, opened_ms;
	uint32_t next_seq;
	/* peer */
	struct smpp_peer_info peer;
	char system_id[SMPP_SYSTEM_ID_MAX];
	unsigned outstanding;
	/* upstream */
	struct pend *pend;
	unsigned pmask, npend;
	int64_t retry_ms;
	unsigned backoff_ms;
	struct sockaddr_storage sa;
};

struct rid {
	uint64_t h;
	uint16_t peer1; /* peer index + 1; 0: empty */
	int64_t t_ms;
};

struct held {
	uint8_t *pdu;
	size_t len;
	uint16_t peer;
	int64_t t_ms;
};

/* A block notice another front end asked for, waiting for the loop. */
#define NOTICE_QUEUE 64
struct notice_req {
	uint64_t sub;
	int rule;
	char digits[CBAR_E164_MAX + 1];
	char text[1024];
};

/* A block notice sent: to whom for which rule (a hash), and when. */
struct notice {
	uint64_t key;
	int64_t t_ms;
};

struct smpp_server {
	struct smpp_server_cfg cfg;
	struct notice *notices;
	unsigned nmask;
	pthread_mutex_t nq_lock; /* the notices of other front ends */
	unsigned nq_n;
	struct notice_req nq[NOTICE_QUEUE];
	struct smpp_concat *concat; /* keyword texts in parts, waiting for the rest */
	uint64_t concat_dropped_seen;
	int lfd, ep, evfd;
	uint16_t port;
	pthread_t th;
	bool started;
	struct conn *conns;
	unsigned nconns;  /* capacity: up_binds first, then peers */
	unsigned *dirty;
	unsigned ndirty;
	unsigned peer_binds[SMPP_PEERS_MAX];
	struct rid *rids;
	unsigned rmask;
	struct held *held;
	unsigned nheld;
	unsigned rr_up, rr_rx;
	uint8_t ref;
	int64_t last_tick_ms;
	struct smpp_counters c;
};

#define CNT(s, f) __atomic_fetch_add(&(s)->c.f, 1, __ATOMIC_RELAXED)
#define GAUGE(s, f, d) __atomic_fetch_add(&(s)->c.f, (uint64_t)(d), __ATOMIC_RELAXED)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_s(const struct smpp_server *s)
{
	if (s->cfg.fixed_time)
		return s->cfg.fixed_time;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void logf_(struct smpp_server *s, int level, const char *what, const struct conn *c,
                  uint32_t status)
{
	if (s->cfg.hooks.log)
		s->cfg.hooks.log(s->cfg.hooks.ctx, level, what, c ? c->system_id : "",
		                 c ? c->addr : "", status);
}

static uint32_t cid(const struct smpp_server *s, const struct conn *c)
{
	return (uint32_t)(c - s->conns) | c->gen << 16;
}

static struct conn *by_cid(struct smpp_server *s, uint32_t id)
{
	unsigned i = id & 0xFFFF;
	if (i >= s->nconns)
		return NULL;
	struct conn *c = &s->conns[i];
	return c->state != S_FREE && (c->gen & 0xFFFF) == id >> 16 ? c : NULL;
}

/* ---- output -------------------------------------------------------------- */

static void mark_dirty(struct smpp_server *s, struct conn *c)
{
	if (!c->dirty) {
		c->dirty = true;
		s->dirty[s->ndirty++] = (unsigned)(c - s->conns);
	}
}

/* Queue one PDU for c, given in two parts (a header rewritten by the
 * caller and the body as received; b may be NULL); false when c's queue
 * is full: the connection is then closed (a peer that does not read). */
static bool queue2(struct smpp_server *s, struct conn *c, const void *a, size_t na,
                   const void *b, size_t nb)
{
	size_t n = na + nb;
	__atomic_fetch_add(&s->c.pdus_out, 1, __ATOMIC_RELAXED);
	if (c->test)
		return true;
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outcap - c->outlen < n && c->outoff) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outcap - c->outlen < n) {
		size_t cap = c->outcap ? c->outcap : 4096;
		while (cap - c->outlen < n && cap < OUT_MAX)
			cap *= 2;
		uint8_t *o = cap - c->outlen >= n ? realloc(c->out, cap) : NULL;
		if (!o) {
			c->closing = true;
			c->outlen = c->outoff = 0;
			mark_dirty(s, c);
			return false;
		}
		c->out = o;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, a, na);
	if (nb)
		memcpy(c->out + c->outlen + na, b, nb);
	c->outlen += n;
	mark_dirty(s, c);
	return true;
}

static bool queue(struct smpp_server *s, struct conn *c, const void *p, size_t n)
{
	return queue2(s, c, p, n, NULL, 0);
}

static void send_empty(struct smpp_server *s, struct conn *c, uint32_t id, uint32_t status,
                       uint32_t seq)
{
	uint8_t b[SMPP_HEADER_LEN];
	size_t n = cbar_smpp_write_empty(b, sizeof b, id, status, seq);
	if (id == SMPP_GENERIC_NACK)
		CNT(s, generic_nacks);
	queue(s, c, b, n);
}

static void send_resp_id(struct smpp_server *s, struct conn *c, uint32_t id, uint32_t status,
                         uint32_t seq, const void *mid, size_t n)
{
	uint8_t b[SMPP_HEADER_LEN + SMPP_MESSAGE_ID_MAX + 8];
	size_t len = cbar_smpp_write_resp_id(b, sizeof b, id, status, seq, mid, n);
	if (!len) /* a message id that does not fit: answered without it */
		len = cbar_smpp_write_resp_id(b, sizeof b, id, status, seq, "", 0);
	queue(s, c, b, len);
}

static void conn_close(struct smpp_server *s, struct conn *c, const char *why);

static void set_events(struct smpp_server *s, struct conn *c, bool out)
{
	if (c->test || c->want_out == out)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u),
	                         .data.u32 = (uint32_t)(c - s->conns)};
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = out;
}

static void flush(struct smpp_server *s, struct conn *c)
{
	while (!c->test && c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n > 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_events(s, c, true);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		conn_close(s, c, "send failed");
		return;
	}
	c->outoff = c->outlen = 0;
	set_events(s, c, false);
	if (c->closing)
		conn_close(s, c, NULL);
}

static void flush_dirty(struct smpp_server *s)
{
	for (unsigned i = 0; i < s->ndirty; i++) {
		struct conn *c = &s->conns[s->dirty[i]];
		c->dirty = false;
		if (c->state != S_FREE)
			flush(s, c);
	}
	s->ndirty = 0;
}

/* ---- receipts: which peer a message id belongs to ------------------------- */

static uint64_t id_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3u;
	return h | 1; /* 0 marks an empty slot */
}

/* Remember that message id p belongs to peer: four slots probed, the
 * oldest overwritten, so memory is bounded and the newest ids win. */
static void rid_put(struct smpp_server *s, const uint8_t *p, size_t n, unsigned peer, int64_t t)
{
	if (!s->rids || !n)
		return;
	uint64_t h = id_hash(p, n);
	struct rid *old = NULL;
	for (unsigned k = 0; k < 4; k++) {
		struct rid *r = &s->rids[(h + k) & s->rmask];
		if (!r->peer1 || r->h == h) {
			old = r;
			break;
		}
		if (!old || r->t_ms < old->t_ms)
			old = r;
	}
	*old = (struct rid){h, (uint16_t)(peer + 1), t};
}

static int rid_get(struct smpp_server *s, const uint8_t *p, size_t n)
{
	if (!s->rids || !n)
		return -1;
	uint64_t h = id_hash(p, n);
	for (unsigned k = 0; k < 4; k++) {
		struct rid *r = &s->rids[(h + k) & s->rmask];
		if (r->peer1 && r->h == h)
			return r->peer1 - 1;
	}
	return -1;
}

/* The message id a receipt names: the receipted_message_id parameter, or
 * the "id:" of the receipt text (SMPP v3.4 appendix B).  The receipt's
 * text is the SMSC's report, not a subscriber's message. */
static bool receipt_id(const struct smpp_sm *m, struct smpp_slice *id)
{
	if (cbar_smpp_tlv_find(m->tlvs, SMPP_TLV_RECEIPTED_MESSAGE_ID, id)) {
		const uint8_t *nul = memchr(id->p, 0, id->len);
		if (nul)
			id->len = (size_t)(nul - id->p);
		return id->len > 0;
	}
	const uint8_t *t = m->short_message.p;
	size_t n = m->short_message.len;
	if (n < 4 || memcmp(t, "id:", 3))
		return false;
	size_t e = 3;
	while (e < n && t[e] != ' ' && e - 3 < SMPP_MESSAGE_ID_MAX - 1)
		e++;
	id->p = t + 3;
	id->len = e - 3;
	return id->len > 0;
}

/* A bound connection of peer that takes deliver_sm (receiver or
 * transceiver), in turn. */
static struct conn *rx_conn(struct smpp_server *s, unsigned peer)
{
	unsigned first = s->cfg.up_binds;
	unsigned n = s->nconns - first;
	for (unsigned k = 0; k < n; k++) {
		struct conn *c = &s->conns[first + (s->rr_rx + k) % n];
		if (c->kind == K_PEER && (c->state == S_RX || c->state == S_TRX) &&
		    c->peer.index == peer && !c->closing) {
			s->rr_rx = (s->rr_rx + k + 1) % n;
			return c;
		}
	}
	return NULL;
}

/* Send a deliver_sm (whole PDU) to c under c's next sequence number. */
static void forward_pdu(struct smpp_server *s, struct conn *c, const uint8_t *pdu, size_t len)
{
	uint8_t hdr[SMPP_HEADER_LEN];
	memcpy(hdr, pdu, SMPP_HEADER_LEN);
	cbar_smpp_put32(hdr + 12, c->next_seq);
	c->next_seq = (c->next_seq % 0x7FFFFFFFu) + 1;
	queue2(s, c, hdr, SMPP_HEADER_LEN, pdu + SMPP_HEADER_LEN, len - SMPP_HEADER_LEN);
}

static void hold_receipt(struct smpp_server *s, unsigned peer, const uint8_t *pdu, size_t len,
                         int64_t t)
{
	if (s->nheld == s->cfg.receipt_hold_max) {
		CNT(s, receipts_dropped);
		return;
	}
	uint8_t *copy = malloc(len);
	if (!copy) {
		CNT(s, receipts_dropped);
		return;
	}
	memcpy(copy, pdu, len);
	s->held[s->nheld++] = (struct held){copy, len, (uint16_t)peer, t};
	CNT(s, receipts_held);
}

/* A peer bound to receive: the receipts that waited for it. */
static void release_held(struct smpp_server *s, struct conn *c)
{
	unsigned j = 0;
	for (unsigned i = 0; i < s->nheld; i++) {
		struct held *h = &s->held[i];
		if (h->peer == c->peer.index) {
			forward_pdu(s, c, h->pdu, h->len);
			CNT(s, receipts_routed);
			free(h->pdu);
		} else {
			s->held[j++] = *h;
		}
	}
	s->nheld = j;
}

/* ---- the upstream binds ---------------------------------------------------- */

static struct pend *pend_at(struct conn *u, uint32_t seq)
{
	struct pend *p = &u->pend[seq & u->pmask];
	return p->kind && p->seq == seq ? p : NULL;
}

/* A bound upstream connection with room in its window, in turn. */
static struct conn *pick_up(struct smpp_server *s)
{
	unsigned n = s->cfg.up_binds;
	for (unsigned k = 0; k < n; k++) {
		struct conn *u = &s->conns[(s->rr_up + k) % n];
		if (u->state == S_BOUND && u->npend < s->cfg.up_window && !u->closing &&
		    !u->pend[u->next_seq & u->pmask].kind) {
			s->rr_up = (s->rr_up + k + 1) % n;
			return u;
		}
	}
	return NULL;
}

static struct pend *pend_new(struct conn *u, uint8_t kind, int64_t t)
{
	uint32_t seq = u->next_seq;
	struct pend *p = &u->pend[seq & u->pmask];
	if (p->kind)
		return NULL;
	u->next_seq = (u->next_seq % 0x7FFFFFFFu) + 1;
	*p = (struct pend){.kind = kind, .seq = seq, .t_ms = t};
	u->npend++;
	return p;
}

/* Answer the peer that waits for p (if its bind is still there). */
static void pend_answer(struct smpp_server *s, struct conn *u, struct pend *p, uint32_t status,
                        const uint8_t *mid, size_t n)
{
	if (p->kind == P_RELAY) {
		struct conn *c = by_cid(s, p->peer_cid);
		if (c) {
			send_resp_id(s, c, p->resp_id, status, p->peer_seq, mid, n);
			if (c->outstanding)
				c->outstanding--;
		}
	}
	p->kind = 0;
	u->npend--;
}

static void up_down(struct smpp_server *s, struct conn *u)
{
	/* Every message the SMSC did not answer yet is given back to its
	 * peer as throttled: the peer sends it again, nothing is lost. */
	for (unsigned i = 0; i <= u->pmask; i++)
		if (u->pend[i].kind) {
			if (u->pend[i].kind == P_RELAY)
				CNT(s, upstream_lost);
			pend_answer(s, u, &u->pend[i], SMPP_RTHROTTLED, NULL, 0);
		}
	if (u->state == S_BOUND)
		GAUGE(s, up_bound, -1);
	u->state = S_DOWN;
	u->backoff_ms = u->backoff_ms ? u->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (u->backoff_ms > BACKOFF_MAX_MS)
		u->backoff_ms = BACKOFF_MAX_MS;
	u->retry_ms = now_ms() + u->backoff_ms;
}

static void up_connect(struct smpp_server *s, struct conn *u)
{
	int fd = socket(u->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CNT(s, up_connects);
	if (fd < 0)
		goto fail;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	socklen_t sl = u->sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                           : sizeof(struct sockaddr_in);
	if (connect(fd, (struct sockaddr *)&u->sa, sl) && errno != EINPROGRESS) {
		close(fd);
		goto fail;
	}
	u->fd = fd;
	u->state = S_CONNECTING;
	u->inlen = u->outoff = u->outlen = 0;
	u->closing = false;
	u->want_out = true;
	u->last_rx_ms = u->opened_ms = now_ms();
	u->enq_ms = 0;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)(u - s->conns)};
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		u->fd = -1;
		goto fail;
	}
	return;
fail:
	up_down(s, u);
}

static void up_connected(struct smpp_server *s, struct conn *u)
{
	int err = 0;
	socklen_t el = sizeof err;
	if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		conn_close(s, u, "upstream connect failed");
		return;
	}
	uint8_t b[128];
	size_t n = cbar_smpp_write_bind(b, sizeof b, SMPP_BIND_TRANSCEIVER, u->next_seq,
	                                s->cfg.up_system_id, s->cfg.up_password,
	                                s->cfg.up_system_type);
	u->next_seq++;
	u->state = S_BINDING;
	u->want_out = true; /* flush() sets the events again */
	queue(s, u, b, n);
}

/* ---- connections ------------------------------------------------------------ */

static void conn_close(struct smpp_server *s, struct conn *c, const char *why)
{
	if (c->state == S_FREE)
		return;
	if (!c->test && c->fd >= 0) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->inlen = c->outoff = c->outlen = 0;
	c->closing = false;
	c->want_out = false;
	c->gen++;
	if (c->kind == K_UP) {
		if (why)
			logf_(s, 2, why, NULL, 0);
		CNT(s, up_disconnects);
		up_down(s, c);
		return;
	}
	if (c->state == S_TX || c->state == S_RX || c->state == S_TRX) {
		if (s->peer_binds[c->peer.index])
			s->peer_binds[c->peer.index]--;
		GAUGE(s, peers_bound, -1);
		logf_(s, 1, why ? why : "smpp peer unbound", c, 0);
	}
	c->state = S_FREE;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->incap = c->outcap = 0;
	c->outstanding = 0;
	c->system_id[0] = '\0';
}

/* ---- a peer's PDUs ----------------------------------------------------------- */

static void peer_bind(struct smpp_server *s, struct conn *c, const struct smpp_hdr *h,
                      const uint8_t *body, size_t blen, struct sockaddr_storage *sa)
{
	uint32_t resp = h->id | SMPP_RESP_BIT;
	struct smpp_bind b;
	uint32_t st = 0;
	enum smpp_bind_fail why = SMPP_BF_MALFORMED;
	if (c->state != S_OPEN) {
		why = SMPP_BF_ALREADY;
		st = SMPP_RALYBND;
		goto refuse;
	}
	if (cbar_smpp_parse_bind(body, blen, &b, &st)) {
		why = SMPP_BF_MALFORMED;
		goto refuse;
	}
	char sysid[SMPP_SYSTEM_ID_MAX], pw[SMPP_PASSWORD_MAX];
	memcpy(sysid, b.system_id.p, b.system_id.len);
	sysid[b.system_id.len] = '\0';
	memcpy(pw, b.password.p, b.password.len);
	pw[b.password.len] = '\0';
	snprintf(c->system_id, sizeof c->system_id, "%s", sysid);
	struct smpp_peer_info pi = {0};
	st = s->cfg.hooks.bind ? s->cfg.hooks.bind(s->cfg.hooks.ctx, sysid, pw,
	                                           (const struct sockaddr *)sa, &pi, &why)
	                       : SMPP_RINVSYSID;
	explicit_bzero(pw, sizeof pw);
	if (st)
		goto refuse;
	if (pi.index >= SMPP_PEERS_MAX) {
		st = SMPP_RBINDFAIL;
		why = SMPP_BF_MALFORMED;
		goto refuse;
	}
	if (s->peer_binds[pi.index] >= (pi.max_binds ? pi.max_binds : 1)) {
		st = SMPP_RBINDFAIL;
		why = SMPP_BF_LIMIT;
		goto refuse;
	}
	c->peer = pi;
	s->peer_binds[pi.index]++;
	c->state = h->id == SMPP_BIND_TRANSMITTER ? S_TX
	           : h->id == SMPP_BIND_RECEIVER  ? S_RX
	                                          : S_TRX;
	CNT(s, binds_ok);
	GAUGE(s, peers_bound, 1);
	send_resp_id(s, c, resp, 0, h->seq, "callbar", 7);
	logf_(s, 1, "smpp peer bound", c, 0);
	if (c->state != S_TX)
		release_held(s, c);
	return;
refuse:
	CNT(s, bind_fail[why]);
	send_resp_id(s, c, resp, st, h->seq, "callbar", 7);
	logf_(s, 2, cbar_smpp_bind_fail_name(why), c, st);
	if (why != SMPP_BF_ALREADY)
		c->system_id[0] = '\0';
	/* A refused bind is not given a second try on the same connection:
	 * password guessing costs a connection each. */
	if (why != SMPP_BF_ALREADY)
		c->closing = true;
}

/* Whether subscriber sub may be sent rule's notice now (and if so, it is
 * remembered as sent): once per notify_period_s. */
static bool notice_due(struct smpp_server *s, uint64_t sub, int rule)
{
	uint64_t key = (sub * 0x9E3779B97F4A7C15u) ^ ((uint64_t)(unsigned)rule + 1) * 0xC2B2AE3D27D4EB4Fu;
	key |= 1;
	int64_t t = now_ms(), period = (int64_t)s->cfg.notify_period_s * 1000;
	struct notice *old = NULL;
	for (unsigned k = 0; k < 4; k++) {
		struct notice *n = &s->notices[(key + k) & s->nmask];
		if (n->key == key) {
			if (t - n->t_ms < period)
				return false;
			n->t_ms = t;
			return true;
		}
		if (!old || !n->key || (old->key && n->t_ms < old->t_ms))
			old = n;
	}
	*old = (struct notice){key, t};
	return true;
}

/* The block notice: the rule's announcement, every language one after the
 * other, to the subscriber (as the message addressed it), from
 * notify_from.  It names neither the sender nor the message.  Called while
 * the snapshot is held (the texts are the snapshot's). */
static size_t notice_text(const struct cbar_verdict *v, char *text, size_t cap)
{
	size_t at = 0;
	text[0] = '\0';
	for (size_t i = 0; i < v->announcement->ntexts && at < cap; i++) {
		int n = snprintf(text + at, cap - at, "%s%s", i ? "\n" : "",
		                 v->announcement->texts[i].text);
		if (n < 0 || (size_t)n >= cap - at) {
			text[at] = '\0';
			break;
		}
		at += (size_t)n;
	}
	return at;
}

/* Queue text from `from` to `to` on the upstream bind u, in as many
 * submit_sm as it needs, each awaited as callbar's own (P_KEYWORD): how
 * many were queued. */
static unsigned text_send(struct smpp_server *s, struct conn *u, const struct smpp_addr *from,
                          const struct smpp_addr *to, const char *text)
{
	uint8_t buf[8192];
	size_t len, at = 0;
	unsigned n =
	    cbar_smpp_reply_pdus(from, to, text, ++s->ref, u->next_seq, buf, sizeof buf, &len);
	unsigned sent = 0;
	for (; sent < n; sent++) {
		uint32_t plen = cbar_smpp_get32(buf + at);
		struct pend *p = pend_new(u, P_KEYWORD, now_ms());
		if (!p)
			break;
		cbar_smpp_put32(buf + at + 12, p->seq);
		queue(s, u, buf + at, plen);
		at += plen;
	}
	return sent;
}

/* Send text to the subscriber `to` unless sub was sent rule's notice
 * within notify_period_s. */
static void notice_send(struct smpp_server *s, uint64_t sub, int rule, const struct smpp_addr *to,
                        const char *text)
{
	if (!notice_due(s, sub, rule)) {
		CNT(s, notices_suppressed);
		return;
	}
	struct conn *u = pick_up(s);
	if (!u || !text[0])
		return;
	struct smpp_addr from = {0, 0, {(const uint8_t *)s->cfg.notify_from,
	                                strlen(s->cfg.notify_from)}};
	if (text_send(s, u, &from, to, text))
		CNT(s, notices_sent);
}

static void send_notice(struct smpp_server *s, const struct smpp_sm *m, const struct cbar_event *ev,
                        const struct cbar_verdict *v)
{
	if (!s->notices || !s->cfg.notify_from[0] || !v->announcement || !ev->subscriber ||
	    ev->direction != CBAR_IN)
		return;
	char text[1024];
	notice_text(v, text, sizeof text);
	notice_send(s, ev->subscriber->e164, v->rule, &m->dst, text);
}

void cbar_smpp_server_notice(struct smpp_server *s, const struct cbar_event *ev,
                             const struct cbar_verdict *v)
{
	if (!s || !s->notices || !s->cfg.notify_from[0] || !v->announcement || !ev->subscriber ||
	    ev->direction != CBAR_IN)
		return;
	pthread_mutex_lock(&s->nq_lock);
	if (s->nq_n == NOTICE_QUEUE) {
		CNT(s, notices_dropped);
	} else {
		struct notice_req *r = &s->nq[s->nq_n];
		r->sub = ev->subscriber->e164;
		r->rule = v->rule;
		snprintf(r->digits, sizeof r->digits, "%s", ev->subscriber->digits);
		if (notice_text(v, r->text, sizeof r->text))
			__atomic_store_n(&s->nq_n, s->nq_n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->nq_lock);
}

/* The loop sends the queued notices (at most a loop turn, 200 ms, late). */
static void drain_notices(struct smpp_server *s)
{
	if (!__atomic_load_n(&s->nq_n, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&s->nq_lock);
	for (unsigned i = 0; i < s->nq_n; i++) {
		struct notice_req *r = &s->nq[i];
		struct smpp_addr to = {1, 1, {(const uint8_t *)r->digits, strlen(r->digits)}};
		notice_send(s, r->sub, r->rule, &to, r->text);
	}
	__atomic_store_n(&s->nq_n, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->nq_lock);
}

static void peer_submit(struct smpp_server *s, struct conn *c, const struct smpp_hdr *h,
                        const uint8_t *pdu)
{
	uint32_t resp = h->id | SMPP_RESP_BIT;
	CNT(s, submits);
	if (c->state != S_TX && c->state != S_TRX) {
		send_resp_id(s, c, resp, SMPP_RINVBNDSTS, h->seq, NULL, 0);
		return;
	}
	if (c->outstanding >= s->cfg.window) {
		CNT(s, throttled_window);
		send_resp_id(s, c, resp, SMPP_RTHROTTLED, h->seq, NULL, 0);
		return;
	}
	struct smpp_sm m;
	uint32_t st;
	if (cbar_smpp_parse_sm(h->id, pdu + SMPP_HEADER_LEN, h->len - SMPP_HEADER_LEN, &m, &st)) {
		CNT(s, malformed);
		send_resp_id(s, c, resp, st, h->seq, NULL, 0);
		return;
	}
	struct cbar_event_in in;
	struct cbar_verdict v;
	memset(&v, 0, sizeof v);
	enum cbar_decision dec = CBAR_ERROR;
	const struct smpp_hooks *k = &s->cfg.hooks;
	if (k->decide) {
		/* the snapshot held from reading the numbers to the verdict */
		if (k->enter)
			k->enter(k->ctx);
		struct cbar_event_ctx ec = {.np = k->plan ? k->plan(k->ctx) : s->cfg.np,
		                            .country = s->cfg.country};
		cbar_smpp_event(&in, &ec, &m, c->peer.direction, c->peer.via, wall_s(s));
		dec = k->decide(k->ctx, &in.ev, &v);
		if (dec == CBAR_BLOCK && v.notify)
			send_notice(s, &m, &in.ev, &v);
		if (k->leave)
			k->leave(k->ctx);
	}
	if (dec == CBAR_BLOCK) {
		CNT(s, blocked);
		send_resp_id(s, c, resp, s->cfg.block_status, h->seq, NULL, 0);
		return;
	}
	if (dec != CBAR_ALLOW) {
		if (!s->cfg.fail_relay) {
			CNT(s, errors_rejected);
			send_resp_id(s, c, resp, s->cfg.fail_status, h->seq, NULL, 0);
			return;
		}
		CNT(s, errors_relayed);
	}
	struct conn *u = pick_up(s);
	if (!u) {
		CNT(s, throttled_upstream);
		send_resp_id(s, c, resp, SMPP_RTHROTTLED, h->seq, NULL, 0);
		return;
	}
	struct pend *p = pend_new(u, P_RELAY, now_ms());
	p->peer_cid = cid(s, c);
	p->peer_seq = h->seq;
	p->resp_id = resp;
	p->peer_idx = (uint16_t)c->peer.index;
	c->outstanding++;
	/* Relayed unchanged: the same bytes, under callbar's sequence number
	 * on its own bind. */
	uint8_t hdr[SMPP_HEADER_LEN];
	memcpy(hdr, pdu, SMPP_HEADER_LEN);
	cbar_smpp_put32(hdr + 12, p->seq);
	if (queue2(s, u, hdr, SMPP_HEADER_LEN, pdu + SMPP_HEADER_LEN, h->len - SMPP_HEADER_LEN))
		CNT(s, relayed);
}

/* The PDUs that keep a link, the same from a peer and from the SMSC:
 * enquire_link answered, its answer ends the wait, unbind answered and the
 * link closed once its output is out.  Returns whether h was one. */
static bool link_pdu(struct smpp_server *s, struct conn *c, const struct smpp_hdr *h)
{
	switch (h->id) {
	case SMPP_ENQUIRE_LINK:
		send_empty(s, c, SMPP_ENQUIRE_LINK_RESP, 0, h->seq);
		return true;
	case SMPP_ENQUIRE_LINK_RESP:
		c->enq_ms = 0;
		return true;
	case SMPP_UNBIND:
		send_empty(s, c, SMPP_UNBIND_RESP, 0, h->seq);
		c->closing = true;
		return true;
	case SMPP_UNBIND_RESP:
		c->closing = true;
		mark_dirty(s, c);
		return true;
	default:
		return false;
	}
}

static void peer_pdu(struct smpp_server *s, struct conn *c, const struct smpp_hdr *h,
                     const uint8_t *pdu, struct sockaddr_storage *sa)
{
	const uint8_t *body = pdu + SMPP_HEADER_LEN;
	size_t blen = h->len - SMPP_HEADER_LEN;
	if (link_pdu(s, c, h))
		return;
	switch (h->id) {
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSCEIVER:
		peer_bind(s, c, h, body, blen, sa);
		return;
	case SMPP_SUBMIT_SM:
	case SMPP_DATA_SM:
		peer_submit(s, c, h, pdu);
		return;
	case SMPP_DELIVER_SM_RESP:
	case SMPP_DATA_SM_RESP:
	case SMPP_GENERIC_NACK:
		return; /* the answer to a receipt callbar delivered: nothing waits for it */
	default:
		/* Unknown commands and the ones a firewall does not carry
		 * (query_sm, cancel_sm, replace_sm, submit_multi): generic_nack. */
		send_empty(s, c, SMPP_GENERIC_NACK, SMPP_RINVCMDID, h->seq);
		return;
	}
}

/* ---- the SMSC's PDUs ---------------------------------------------------------- */

/* The concatenation table's drops into the counters (the table counts
 * them itself, being pure). */
static void concat_count(struct smpp_server *s)
{
	uint64_t d = s->concat->dropped - s->concat_dropped_seen;
	if (d) {
		GAUGE(s, concat_dropped, d);
		s->concat_dropped_seen = s->concat->dropped;
	}
}

static void up_keyword(struct smpp_server *s, struct conn *u, const struct smpp_sm *m)
{
	char text[512], from[40], reply[2048];
	size_t tl;
	bool alnum;
	cbar_smpp_addr_text(&m->src, from, sizeof from, &alnum);
	char to[SMPP_DATA_ADDR_MAX];
	memcpy(to, m->dst.addr.p, m->dst.addr.len);
	to[m->dst.addr.len] = '\0';
	/* A keyword in parts is read once it is whole: the parts wait in a
	 * bounded table keyed by sender, service number and reference. */
	struct smpp_sm whole;
	uint8_t joined[SMPP_CONCAT_PARTS * SMPP_CONCAT_PART_MAX];
	enum smpp_concat_res cr =
	    cbar_smpp_concat_add(s->concat, m, from, to, now_ms(), &whole, joined, sizeof joined);
	concat_count(s);
	if (cr == SMPP_CONCAT_HELD) {
		CNT(s, concat_held);
		return;
	}
	CNT(s, keywords);
	if (cr == SMPP_CONCAT_WHOLE)
		m = &whole;
	else if (cr == SMPP_CONCAT_INVALID)
		CNT(s, concat_invalid);
	if (cbar_smpp_keyword_text(m, text, sizeof text, &tl))
		tl = 0, text[0] = '\0';
	reply[0] = '\0';
	if (s->cfg.hooks.keyword)
		s->cfg.hooks.keyword(s->cfg.hooks.ctx, from, to, text, tl, reply, sizeof reply);
	if (!reply[0] || alnum)
		return;
	GAUGE(s, keyword_replies, text_send(s, u, &m->dst, &m->src, reply));
}

static void up_deliver(struct smpp_server *s, struct conn *u, const struct smpp_hdr *h,
                       const uint8_t *pdu)
{
	struct smpp_sm m;
	uint32_t st;
	if (cbar_smpp_parse_sm(h->id, pdu + SMPP_HEADER_LEN, h->len - SMPP_HEADER_LEN, &m, &st)) {
		CNT(s, malformed);
		send_resp_id(s, u, h->id | SMPP_RESP_BIT, st, h->seq, NULL, 0);
		return;
	}
	if ((m.esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_RECEIPT) {
		struct smpp_slice id;
		int peer = receipt_id(&m, &id) ? rid_get(s, id.p, id.len) : -1;
		send_resp_id(s, u, h->id | SMPP_RESP_BIT, 0, h->seq, "", 0);
		if (peer < 0) {
			CNT(s, receipts_unknown);
			return;
		}
		struct conn *c = rx_conn(s, (unsigned)peer);
		if (c) {
			forward_pdu(s, c, pdu, h->len);
			CNT(s, receipts_routed);
		} else {
			hold_receipt(s, (unsigned)peer, pdu, h->len, now_ms());
		}
		return;
	}
	if (h->id == SMPP_DELIVER_SM && s->cfg.hooks.is_service &&
	    s->cfg.hooks.is_service(s->cfg.hooks.ctx, (const char *)m.dst.addr.p, m.dst.addr.len)) {
		send_resp_id(s, u, h->id | SMPP_RESP_BIT, 0, h->seq, "", 0);
		up_keyword(s, u, &m);
		return;
	}
	/* A mobile-originated message for someone else: callbar is not a
	 * router of those; the SMSC must not send them on this bind. */
	CNT(s, mo_refused);
	send_resp_id(s, u, h->id | SMPP_RESP_BIT, SMPP_RINVDSTADR, h->seq, NULL, 0);
}

static void up_pdu(struct smpp_server *s, struct conn *u, const struct smpp_hdr *h,
                   const uint8_t *pdu)
{
	const uint8_t *body = pdu + SMPP_HEADER_LEN;
	size_t blen = h->len - SMPP_HEADER_LEN;
	if (link_pdu(s, u, h))
		return;
	switch (h->id) {
	case SMPP_BIND_TRANSCEIVER_RESP:
		if (u->state != S_BINDING)
			return;
		if (h->status) {
			CNT(s, up_bind_fail);
			logf_(s, 3, "smpp upstream refused the bind", NULL, h->status);
			conn_close(s, u, NULL);
			return;
		}
		u->state = S_BOUND;
		u->backoff_ms = 0;
		CNT(s, up_binds_ok);
		GAUGE(s, up_bound, 1);
		logf_(s, 1, "smpp upstream bound", NULL, 0);
		return;
	case SMPP_SUBMIT_SM_RESP:
	case SMPP_DATA_SM_RESP:
	case SMPP_GENERIC_NACK: {
		struct pend *p = pend_at(u, h->seq);
		if (!p)
			return;
		struct smpp_slice id = {body, 0};
		if (h->id != SMPP_GENERIC_NACK && cbar_smpp_parse_resp_id(body, blen, SMPP_MESSAGE_ID_MAX, &id))
			id.len = 0;
		if (p->kind == P_RELAY && !h->status)
			rid_put(s, id.p, id.len, p->peer_idx, now_ms());
		pend_answer(s, u, p, h->id == SMPP_GENERIC_NACK && !h->status ? SMPP_RSYSERR : h->status,
		            id.p, id.len);
		return;
	}
	case SMPP_DELIVER_SM:
	case SMPP_DATA_SM:
		up_deliver(s, u, h, pdu);
		return;
	default:
		if (!(h->id & SMPP_RESP_BIT))
			send_empty(s, u, SMPP_GENERIC_NACK, SMPP_RINVCMDID, h->seq);
		return;
	}
}

/* ---- reading ------------------------------------------------------------------ */

/* Cut c->in into PDUs and handle them; false when c was closed. */
static bool consume(struct smpp_server *s, struct conn *c, struct sockaddr_storage *sa)
{
	size_t at = 0;
	struct smpp_hdr h;
	uint32_t gen = c->gen;
	while (!c->closing) {
		enum smpp_frame f = cbar_smpp_frame(c->in + at, c->inlen - at, s->cfg.pdu_max, &h);
		if (f == SMPP_FRAME_MORE)
			break;
		if (f == SMPP_FRAME_BAD_LEN) {
			/* A stream whose length lies cannot be resynchronised. */
			CNT(s, too_long);
			send_empty(s, c, SMPP_GENERIC_NACK, SMPP_RINVCMDLEN, h.seq);
			logf_(s, 2, "smpp command_length out of bounds: closing", c, SMPP_RINVCMDLEN);
			c->closing = true;
			at = c->inlen;
			break;
		}
		CNT(s, pdus_in);
		c->last_rx_ms = now_ms();
		if (c->kind == K_PEER)
			peer_pdu(s, c, &h, c->in + at, sa);
		else
			up_pdu(s, c, &h, c->in + at);
		if (c->gen != gen || c->state == S_FREE || c->state == S_DOWN)
			return false;
		at += h.len;
	}
	if (at) {
		memmove(c->in, c->in + at, c->inlen - at);
		c->inlen -= at;
	}
	if (c->closing)
		mark_dirty(s, c);
	return true;
}

static void conn_read(struct smpp_server *s, struct conn *c)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		if (c->incap - c->inlen == 0) {
			conn_close(s, c, "input buffer full");
			return;
		}
		ssize_t n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n == 0) {
			conn_close(s, c, c->kind == K_UP ? "upstream closed the connection" : NULL);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(s, c, c->kind == K_UP ? "upstream read failed" : NULL);
			return;
		}
		c->inlen += (size_t)n;
		if (!consume(s, c, NULL))
			return;
		if ((size_t)n < 4096)
			return;
	}
}

static void do_accept(struct smpp_server *s)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof sa;
		int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *c = NULL;
		for (unsigned i = s->cfg.up_binds; i < s->nconns; i++)
			if (s->conns[i].state == S_FREE) {
				c = &s->conns[i];
				break;
			}
		size_t cap = s->cfg.pdu_max > IN_MIN ? s->cfg.pdu_max : IN_MIN;
		if (!c || !(c->in = malloc(cap))) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->kind = K_PEER;
		c->state = S_OPEN;
		c->fd = fd;
		c->incap = cap;
		c->inlen = c->outoff = c->outlen = 0;
		c->closing = c->dirty = c->want_out = false;
		c->last_rx_ms = c->opened_ms = now_ms();
		c->enq_ms = 0;
		c->next_seq = 1;
		c->outstanding = 0;
		c->system_id[0] = '\0';
		cbar__addr_format((struct sockaddr *)&sa, c->addr, sizeof c->addr);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(c - s->conns)};
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->fd = -1;
			free(c->in);
			c->in = NULL;
			c->state = S_FREE;
			continue;
		}
		CNT(s, connections);
		/* The address is checked at bind, against the peer's allow-list:
		 * the bind hook gets it from the connection. */
		memcpy(&c->sa, &sa, sizeof sa);
	}
}

/* ---- timers ----------------------------------------------------------------- */

static void tick(struct smpp_server *s)
{
	int64_t t = now_ms();
	if (t - s->last_tick_ms < 200)
		return;
	s->last_tick_ms = t;
	if (s->concat) {
		cbar_smpp_concat_expire(s->concat, t);
		concat_count(s);
	}
	int64_t idle = (int64_t)s->cfg.enquire_s * 1000;
	for (unsigned i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (c->state == S_FREE || c->test)
			continue;
		if (c->kind == K_UP && c->state == S_DOWN) {
			if (t >= c->retry_ms && s->cfg.up_binds)
				up_connect(s, c);
			continue;
		}
		if (c->kind == K_UP && c->state == S_BOUND && s->cfg.up_timeout_s) {
			int64_t lim = (int64_t)s->cfg.up_timeout_s * 1000;
			for (unsigned k = 0; k <= c->pmask; k++)
				if (c->pend[k].kind && t - c->pend[k].t_ms > lim) {
					CNT(s, upstream_timeouts);
					pend_answer(s, c, &c->pend[k], SMPP_RTHROTTLED, NULL, 0);
				}
		}
		if (!idle)
			continue;
		bool unbound = c->state == S_OPEN || c->state == S_CONNECTING || c->state == S_BINDING;
		if (unbound && t - c->opened_ms > idle) {
			conn_close(s, c, c->kind == K_UP ? "upstream bind timed out" : NULL);
			continue;
		}
		if (unbound)
			continue;
		if (c->enq_ms && t - c->enq_ms > idle) {
			conn_close(s, c, "no answer to enquire_link: closing");
			continue;
		}
		if (!c->enq_ms && t - c->last_rx_ms > idle) {
			send_empty(s, c, SMPP_ENQUIRE_LINK, 0, c->next_seq);
			c->next_seq = (c->next_seq % 0x7FFFFFFFu) + 1;
			c->enq_ms = t;
		}
	}
	/* Receipts that waited too long for their peer's bind. */
	unsigned j = 0;
	int64_t hold = (int64_t)s->cfg.receipt_hold_s * 1000;
	for (unsigned i = 0; i < s->nheld; i++) {
		if (t - s->held[i].t_ms > hold) {
			free(s->held[i].pdu);
			CNT(s, receipts_dropped);
		} else {
			s->held[j++] = s->held[i];
		}
	}
	s->nheld = j;
}

static void *loop(void *arg)
{
	struct smpp_server *s = arg;
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(s->ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			uint32_t tag = evs[i].data.u32;
			if (tag == TAG_STOP)
				return NULL;
			if (tag == TAG_LISTEN) {
				do_accept(s);
				continue;
			}
			struct conn *c = &s->conns[tag];
			if (c->state == S_FREE)
				continue;
			if (c->state == S_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
				up_connected(s, c);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				if (c->kind == K_PEER) {
					/* the bind hook needs the address: consume() gets it */
					struct sockaddr_storage sa = c->sa;
					uint32_t gen = c->gen;
					for (int r = 0; r < 16 && c->gen == gen && c->state != S_FREE; r++) {
						if (c->incap == c->inlen) {
							conn_close(s, c, "input buffer full");
							break;
						}
						ssize_t k = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
						if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
						               errno != EINTR)) {
							conn_close(s, c, NULL);
							break;
						}
						if (k < 0)
							break;
						c->inlen += (size_t)k;
						if (!consume(s, c, &sa) || (size_t)k < 4096)
							break;
					}
				} else {
					conn_read(s, c);
				}
			}
			if (c->state != S_FREE && (evs[i].events & EPOLLOUT))
				flush(s, c);
		}
		tick(s);
		drain_notices(s);
		flush_dirty(s);
	}
}

/* ---- start and stop ---------------------------------------------------------- */

static enum cbar_err alloc_state(struct smpp_server *s)
{
	const struct smpp_server_cfg *cfg = &s->cfg;
	pthread_mutex_init(&s->nq_lock, NULL);
	s->nconns = cfg->up_binds + cfg->max_conns;
	if (s->nconns > 0xFFFF)
		return CBAR_INVAL;
	s->conns = calloc(s->nconns, sizeof *s->conns);
	s->dirty = calloc(s->nconns, sizeof *s->dirty);
	s->held = calloc(cfg->receipt_hold_max ? cfg->receipt_hold_max : 1, sizeof *s->held);
	unsigned nr = 1;
	while (nr < cfg->receipt_ids)
		nr *= 2;
	s->rids = calloc(nr, sizeof *s->rids);
	s->rmask = nr - 1;
	s->concat = calloc(1, sizeof *s->concat);
	if (!s->conns || !s->dirty || !s->held || !s->rids || !s->concat)
		return CBAR_NOMEM;
	s->concat->ttl_ms = (int64_t)cfg->concat_wait_s * 1000;
	if (cfg->notify_from[0]) {
		unsigned nn = 64;
		while (nn < cfg->notify_slots)
			nn *= 2;
		if (!(s->notices = calloc(nn, sizeof *s->notices)))
			return CBAR_NOMEM;
		s->nmask = nn - 1;
	}
	unsigned np = 1;
	while (np < 2 * (cfg->up_window ? cfg->up_window : 1))
		np *= 2;
	for (unsigned i = 0; i < s->nconns; i++) {
		s->conns[i].fd = -1;
		if (i >= cfg->up_binds)
			continue;
		struct conn *u = &s->conns[i];
		u->kind = K_UP;
		u->state = S_DOWN;
		u->sa = cfg->up;
		u->next_seq = 1;
		u->pmask = np - 1;
		size_t cap = cfg->pdu_max > IN_MIN ? cfg->pdu_max : IN_MIN;
		if (!(u->pend = calloc(np, sizeof *u->pend)) || !(u->in = malloc(cap)))
			return CBAR_NOMEM;
		u->incap = cap;
	}
	return CBAR_OK;
}

static void free_state(struct smpp_server *s)
{
	for (unsigned i = 0; s->conns && i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		if (!c->test && c->fd >= 0)
			close(c->fd);
		free(c->in);
		free(c->out);
		free(c->pend);
	}
	for (unsigned i = 0; i < s->nheld; i++)
		free(s->held[i].pdu);
	free(s->conns);
	free(s->dirty);
	free(s->held);
	free(s->rids);
	free(s->notices);
	free(s->concat);
}

static void defaults(struct smpp_server_cfg *c)
{
	if (!c->pdu_max)
		c->pdu_max = SMPP_PDU_MAX_DEFAULT;
	if (c->pdu_max < 64)
		c->pdu_max = 64;
	if (!c->window)
		c->window = 100;
	if (!c->block_status)
		c->block_status = SMPP_RX_R_APPN;
	if (!c->fail_status)
		c->fail_status = SMPP_RSYSERR;
	if (!c->receipt_ids)
		c->receipt_ids = 1u << 18;
	if (!c->max_conns)
		c->max_conns = 1024;
	if (!c->up_window)
		c->up_window = 100;
	if (!c->receipt_hold_s)
		c->receipt_hold_s = 600;
	if (!c->receipt_hold_max)
		c->receipt_hold_max = 10000;
	if (!c->notify_period_s)
		c->notify_period_s = 86400;
	if (!c->notify_slots)
		c->notify_slots = 1u << 16;
	if (!c->concat_wait_s)
		c->concat_wait_s = 30;
}

enum cbar_err cbar_smpp_server_start(const struct smpp_server_cfg *cfg, struct smpp_server **out,
                                     struct cbar_diag *d)
{
	struct smpp_server *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	s->cfg = *cfg;
	defaults(&s->cfg);
	s->lfd = s->ep = s->evfd = -1;
	enum cbar_err err = alloc_state(s);
	if (err) {
		cbar_diag_set(d, err, 0, 0, "smpp: %s", err == CBAR_NOMEM ? "out of memory"
		                                                          : "too many connections");
		goto fail;
	}
	const struct sockaddr_storage *la = &cfg->listen;
	socklen_t sl = la->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                         : sizeof(struct sockaddr_in);
	int one = 1;
	s->lfd = socket(la->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(s->lfd, (const struct sockaddr *)la, sl) || listen(s->lfd, 128)) {
		char a[80];
		cbar__addr_format((const struct sockaddr *)la, a, sizeof a);
		cbar_diag_set(d, CBAR_SMPP_START, 0, 0, "smpp: cannot listen on %s: %s", a,
		              strerror(errno));
		goto fail;
	}
	struct sockaddr_storage b;
	socklen_t bl = sizeof b;
	getsockname(s->lfd, (struct sockaddr *)&b, &bl);
	s->port = ntohs(b.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&b)->sin6_port
	                                        : ((struct sockaddr_in *)(void *)&b)->sin_port);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event le = {.events = EPOLLIN, .data.u32 = TAG_LISTEN};
	struct epoll_event se = {.events = EPOLLIN, .data.u32 = TAG_STOP};
	if (s->ep < 0 || s->evfd < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &le) ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->evfd, &se)) {
		cbar_diag_set(d, CBAR_SMPP_START, 0, 0, "smpp: epoll: %s", strerror(errno));
		goto fail;
	}
	for (unsigned i = 0; i < s->cfg.up_binds; i++)
		s->conns[i].retry_ms = 0; /* connect at the first tick */
	if (pthread_create(&s->th, NULL, loop, s)) {
		cbar_diag_set(d, CBAR_SMPP_START, 0, 0, "smpp: cannot start its thread");
		goto fail;
	}
	s->started = true;
	*out = s;
	return CBAR_OK;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->evfd >= 0)
		close(s->evfd);
	free_state(s);
	free(s);
	return d ? (enum cbar_err)(d->msg[0] ? CBAR_SMPP_START : CBAR_SMPP_START) : CBAR_SMPP_START;
}

uint16_t cbar_smpp_server_port(const struct smpp_server *s)
{
	return s->port;
}

void cbar_smpp_server_counters(struct smpp_server *s, struct smpp_counters *c)
{
	const uint64_t *src = (const uint64_t *)(const void *)&s->c;
	uint64_t *dst = (uint64_t *)(void *)c;
	for (size_t i = 0; i < sizeof *c / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void cbar_smpp_server_stop(struct smpp_server *s)
{
	if (!s)
		return;
	if (s->started) {
		uint64_t one = 1;
		if (write(s->evfd, &one, sizeof one) < 0) {
			/* the thread then stops at its next wake-up */
		}
		pthread_join(s->th, NULL);
		/* Unbind politely: peers and the SMSC see an unbind, not a reset. */
		for (unsigned i = 0; i < s->nconns; i++) {
			struct conn *c = &s->conns[i];
			if (c->fd >= 0 && (c->state == S_TX || c->state == S_RX || c->state == S_TRX ||
			                   c->state == S_BOUND)) {
				uint8_t b[SMPP_HEADER_LEN];
				size_t n = cbar_smpp_write_empty(b, sizeof b, SMPP_UNBIND, 0, c->next_seq);
				if (send(c->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
					/* closing anyway */
				}
			}
		}
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->evfd >= 0)
		close(s->evfd);
	free_state(s);
	free(s);
}

/* ---- the fuzzer's loop without sockets ---------------------------------------- */

struct smpp_server *cbar_smpp_test_new(const struct smpp_server_cfg *cfg)
{
	struct smpp_server *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->cfg.max_conns = 1;
	s->cfg.up_binds = 1;
	s->cfg.receipt_ids = 64;
	s->cfg.receipt_hold_max = 4;
	defaults(&s->cfg);
	s->lfd = s->ep = s->evfd = -1;
	if (alloc_state(s)) {
		free_state(s);
		free(s);
		return NULL;
	}
	/* the upstream bound, the peer connected and not bound yet */
	struct conn *u = &s->conns[0], *c = &s->conns[1];
	u->test = c->test = true;
	u->state = S_BOUND;
	c->kind = K_PEER;
	c->state = S_OPEN;
	c->incap = IN_MIN;
	c->in = malloc(c->incap);
	c->next_seq = 1;
	if (!c->in) {
		free_state(s);
		free(s);
		return NULL;
	}
	return s;
}

void cbar_smpp_test_feed(struct smpp_server *s, const uint8_t *p, size_t n)
{
	/* The first byte of a piece says whose stream it continues: even the
	 * peer's, odd the SMSC's. */
	if (!n)
		return;
	struct conn *c = &s->conns[(p[0] & 1) ? 0 : 1];
	p++, n--;
	if (c->state == S_FREE || c->state == S_DOWN) {
		c->state = c->kind == K_UP ? S_BOUND : S_OPEN;
		if (c->kind == K_PEER && !c->in) {
			c->incap = IN_MIN;
			if (!(c->in = malloc(c->incap)))
				return;
		}
		c->test = true;
	}
	while (n) {
		size_t room = c->incap - c->inlen, k = n < room ? n : room;
		memcpy(c->in + c->inlen, p, k);
		c->inlen += k;
		p += k, n -= k;
		struct sockaddr_storage sa = {.ss_family = AF_INET};
		if (!consume(s, c, &sa) || c->inlen == c->incap) {
			conn_close(s, c, NULL);
			return;
		}
		if (c->closing) {
			conn_close(s, c, NULL);
			return;
		}
	}
	s->ndirty = 0;
	for (unsigned i = 0; i < s->nconns; i++)
		s->conns[i].dirty = false;
}

void cbar_smpp_test_free(struct smpp_server *s)
{
	if (!s)
		return;
	free_state(s);
	free(s);
}
