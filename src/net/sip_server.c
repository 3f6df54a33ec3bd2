/*
 * callbar: the SIP server's sockets and workers (sip_server.h).
 *
 * Each worker slot has its own SO_REUSEPORT UDP and TCP sockets (one per
 * listener: the kernel spreads datagrams and connections over the workers
 * by the 4-tuple hash).  Each UDP socket has its own thread, blocked in
 * recvmmsg(MSG_WAITFORONE): a wake-up is one recvmmsg() and one sendmmsg()
 * for a whole batch, with no epoll_wait() in between (at low rates, where a
 * batch is one datagram, that is a third of the system calls).  Each slot's
 * TCP listeners and connections are one level-triggered epoll thread, with
 * one capped input and output buffer per connection.  Every thread has its
 * own buffers and counters.  Stopping: a flag, an eventfd written once for
 * the epoll threads, and shutdown(SHUT_RD) on the UDP sockets, which wakes
 * a blocked recvmmsg() (SO_RCVTIMEO is the fallback).
 *
 * ACK over UDP never reaches the process: a stateless server answers
 * nothing to it (RFC 3261 sections 8.3, 17.2.1), so a classic BPF filter on
 * each UDP socket drops datagrams that begin "ACK " in the kernel, and the
 * worker is not woken for them.  At moderate rates a batch is one datagram
 * and every call is an INVITE and an ACK: the filter halves the wake-ups,
 * which are most of the CPU a call costs (BENCHMARKS.md).  The kernel counts
 * what the filter drops with what a full receive buffer drops (the
 * socket's drop counter, read with SO_MEMINFO for the metrics).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sip_server.h"

#define UDP_BATCH 32
#define IN_CAP (CBAR_SIP_MAX_MSG + 1)       /* one more: a datagram too big shows */
#define OUT_CAP (CBAR_SIP_MAX_MSG + 8192)   /* a reply echoes every Via of a request */
#define TCP_IN_MAX (CBAR_SIP_MAX_MSG + 4096)
#define TCP_IN_FIRST 4096
#define TCP_OUT_MAX (1u << 20)              /* a peer that does not read is closed */
#define TCP_MAX_CONN 4096                   /* per worker */
#define NCOUNTERS (sizeof(struct sip_counters) / sizeof(uint64_t))

_Static_assert(sizeof(struct sip_counters) % sizeof(uint64_t) == 0,
               "struct sip_counters is uint64_t only");

enum item_kind { IT_STOP, IT_UDP, IT_LISTEN, IT_CONN };

/* What an epoll event points at: the first member of each of these. */
struct item {
	enum item_kind kind;
};

struct sock {
	struct item it;
	int fd;
	const struct sip_listener *l;
};

struct conn {
	struct item it;
	int fd;
	const struct sip_listener *l;
	struct sockaddr_storage peer;
	char *in, *out;
	size_t inlen, incap, outoff, outlen, outcap;
	bool want_out;
	int64_t last;        /* CLOCK_MONOTONIC millisecond of the last event */
	struct conn *prev, *next; /* the worker's list, most recently active first */
};

struct worker {
	alignas(64) struct sip_server *srv;
	pthread_t th;
	bool started;
	int ep;
	struct sock *socks;  /* nlisteners * 2: UDP at 2i, TCP at 2i+1 (fd -1: none);
	                        the epoll thread of a slot owns them */
	const struct sock *udp; /* a UDP thread's socket; NULL for an epoll thread */
	struct conn *conns, *conns_tail; /* most and least recently active */
	unsigned nconn;
	char *in;            /* UDP: UDP_BATCH * IN_CAP */
	char *out;           /* UDP: UDP_BATCH * OUT_CAP; epoll: one OUT_CAP for TCP */
	struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
	struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
	struct sockaddr_storage src[UDP_BATCH];
	struct sip_counters local;
	alignas(64) _Atomic uint64_t pub[NCOUNTERS];
	uint32_t kdrop_seen;  /* UDP: the socket's 32-bit drop counter, last read */
	uint64_t kdrop_total; /* and its sum across wraps (under srv->kdrop_lock) */
};

struct sip_server {
	struct sip_server_cfg cfg;
	struct sip_listener *ls;
	size_t nls;
	unsigned nworkers;
	struct worker *w;    /* nworkers epoll threads (slots) */
	struct worker *u;    /* nu UDP threads */
	unsigned nu;
	atomic_bool stop;
	int stopfd;
	struct item stop_item;
	pthread_mutex_t kdrop_lock;
};

static void errf(char *err, size_t cap, const char *what, const struct sockaddr_storage *a)
{
	char host[64] = "?";
	unsigned port = 0;
	if (a && a->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)a;
		const uint8_t *b = (const uint8_t *)&s4->sin_addr;
		snprintf(host, sizeof host, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		port = ntohs(s4->sin_port);
	} else if (a && a->ss_family == AF_INET6) {
		snprintf(host, sizeof host, "[IPv6]");
		port = ntohs(((const struct sockaddr_in6 *)(const void *)a)->sin6_port);
	}
	if (err && cap)
		snprintf(err, cap, "%s %s:%u: %s", what, host, port, strerror(errno));
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static uint16_t get_port(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)(const void *)a)->sin6_port
	                                      : ((const struct sockaddr_in *)(const void *)a)->sin_port);
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)a)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)(void *)a)->sin_port = htons(port);
}

/*
 * The UDP socket filter: drop a datagram whose payload begins "ACK ".
 * A classic BPF program on a UDP socket sees the UDP header first (8
 * bytes), so the payload's first word is at 8; shorter datagrams pass (a
 * load past the end would drop them).  Anything else, leading CRLFs or a
 * lower-case "ack" included, goes to the parser as before.
 */
static const struct sock_filter ack_filter[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 8 + 4, 0, 2),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x41434b20 /* "ACK " */, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffffu), /* keep all of it */
	BPF_STMT(BPF_RET | BPF_K, 0),           /* drop */
};

/* A non-blocking SO_REUSEPORT socket bound to a, listening when TCP; UDP
 * with the ACK filter when asked. */
static int open_sock(const struct sockaddr_storage *a, int type, bool filter_ack)
{
	/* UDP blocks in its own thread; TCP is driven by epoll */
	int fd = socket(a->ss_family, type | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC,
	                0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
	    (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)))
		goto fail;
	if (type == SOCK_DGRAM) {
		int sz = 4 << 20; /* absorb bursts; the kernel caps it at rmem_max */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		struct timeval tv = {.tv_usec = 250000}; /* to see the stop flag */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		struct sock_fprog prog = {.len = sizeof ack_filter / sizeof ack_filter[0],
		                          .filter = (struct sock_filter *)ack_filter};
		if (filter_ack && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog))
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)a, addr_len(a)))
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 1024))
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int ep_add(int ep, int fd, uint32_t events, void *item)
{
	struct epoll_event ev = {.events = events, .data.ptr = item};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- counters -------------------------------------------------------------- */

static void publish(struct worker *w)
{
	const uint64_t *v = (const uint64_t *)(const void *)&w->local;
	for (size_t i = 0; i < NCOUNTERS; i++)
		atomic_store_explicit(&w->pub[i], v[i], memory_order_relaxed);
}

/* The kernel's drop counter of a UDP thread's socket, summed across the
 * 32-bit counter's wraps (it wraps after four billion ACKs). */
static uint64_t kernel_drops(struct sip_server *s, struct worker *u)
{
	uint32_t mi[SK_MEMINFO_VARS] = {0};
	socklen_t ml = sizeof mi;
	pthread_mutex_lock(&s->kdrop_lock);
	if (!getsockopt(u->udp->fd, SOL_SOCKET, SO_MEMINFO, mi, &ml) &&
	    ml > SK_MEMINFO_DROPS * sizeof mi[0]) {
		u->kdrop_total += (uint32_t)(mi[SK_MEMINFO_DROPS] - u->kdrop_seen);
		u->kdrop_seen = mi[SK_MEMINFO_DROPS];
	}
	uint64_t t = u->kdrop_total;
	pthread_mutex_unlock(&s->kdrop_lock);
	return t;
}

void sip_server_counters(struct sip_server *s, struct sip_counters *sum)
{
	uint64_t *v = (uint64_t *)(void *)sum;
	for (unsigned k = 0; k < s->nworkers; k++)
		for (size_t i = 0; i < NCOUNTERS; i++)
			v[i] += atomic_load_explicit(&s->w[k].pub[i], memory_order_relaxed);
	for (unsigned k = 0; k < s->nu; k++)
		for (size_t i = 0; i < NCOUNTERS; i++)
			v[i] += atomic_load_explicit(&s->u[k].pub[i], memory_order_relaxed);
	for (unsigned k = 0; k < s->nu; k++)
		sum->udp_kernel_dropped += kernel_drops(s, &s->u[k]);
}

static int64_t now_of(const struct sip_server *s)
{
	if (s->cfg.fixed_time)
		return s->cfg.fixed_time;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec;
}

/* ---- UDP ----------------------------------------------------------------- */

/* Read datagrams (recvmmsg flags: MSG_WAITFORONE waits for the first,
 * MSG_DONTWAIT not at all), answer them all; one batch. */
static int udp_batch(struct worker *w, const struct sock *s, int flags)
{
	struct sip_server *srv = w->srv;
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		w->riov[i] = (struct iovec){w->in + (size_t)i * IN_CAP, IN_CAP};
		w->rmsg[i].msg_hdr = (struct msghdr){
			.msg_name = &w->src[i],
			.msg_namelen = sizeof w->src[i],
			.msg_iov = &w->riov[i],
			.msg_iovlen = 1,
		};
	}
	int n = recvmmsg(s->fd, w->rmsg, UDP_BATCH, flags, NULL);
	if (n <= 0)
		return n;
	int64_t now = now_of(srv);
	unsigned k = 0;
	if (srv->cfg.decider.enter)
		srv->cfg.decider.enter(srv->cfg.decider.ctx);
	for (int i = 0; i < n; i++) {
		size_t len = w->rmsg[i].msg_len;
		if (w->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC)
			len = IN_CAP; /* past CBAR_SIP_MAX_MSG: 513 */
		char *out = w->out + (size_t)k * OUT_CAP;
		size_t olen = sip_handle(s->l, srv->cfg.np, &srv->cfg.decider,
		                         w->in + (size_t)i * IN_CAP, len, CBAR_SIP_DGRAM,
		                         (const struct sockaddr *)&w->src[i], now, out, OUT_CAP,
		                         &w->local);
		if (!olen)
			continue;
		w->siov[k] = (struct iovec){out, olen};
		w->smsg[k].msg_hdr = (struct msghdr){
			.msg_name = &w->src[i],
			.msg_namelen = w->rmsg[i].msg_hdr.msg_namelen,
			.msg_iov = &w->siov[k],
			.msg_iovlen = 1,
		};
		k++;
	}
	if (srv->cfg.decider.leave)
		srv->cfg.decider.leave(srv->cfg.decider.ctx);
	for (unsigned sent = 0; sent < k;) {
		int r = sendmmsg(s->fd, w->smsg + sent, k - sent, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* unreachable peer or full buffer: skip that one reply,
			 * UDP's sender retransmits */
			w->local.send_errors++;
			sent++;
			continue;
		}
		sent += (unsigned)r;
	}
	return n;
}

static void *udp_main(void *arg)
{
	struct worker *w = arg;
	const struct sip_server_cfg *cfg = &w->srv->cfg;
	struct timespec pause = {.tv_nsec = (long)cfg->coalesce_us * 1000};
	int flags = MSG_WAITFORONE;
	while (!atomic_load_explicit(&w->srv->stop, memory_order_relaxed)) {
		int n = udp_batch(w, w->udp, flags);
		publish(w);
		/* Coalescing: while datagrams keep coming, sleep after a short
		 * batch and then read what gathered without blocking, so one
		 * timer wake-up answers several; block again (woken by the
		 * next datagram) only once a read finds nothing. */
		flags = MSG_WAITFORONE;
		if (cfg->coalesce_us && n > 0) {
			if (n < UDP_BATCH)
				nanosleep(&pause, NULL);
			flags = MSG_DONTWAIT;
		}
	}
	return NULL;
}

/* ---- TCP ----------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connection list is kept in order of activity, so the idle sweep
 * looks only at its tail. */
static void conn_unlink(struct worker *w, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		w->conns_tail = c->prev;
	c->prev = c->next = NULL;
}

static void conn_push_front(struct worker *w, struct conn *c)
{
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	else
		w->conns_tail = c;
	w->conns = c;
}

static void conn_close(struct worker *w, struct conn *c)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conn_unlink(w, c);
	free(c->in);
	free(c->out);
	free(c);
	w->nconn--;
	w->local.tcp_closed++;
}

static void tcp_accept(struct worker *w, const struct sock *s)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd = accept4(s->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct conn *c = NULL;
		if (w->nconn >= TCP_MAX_CONN || !(c = calloc(1, sizeof *c)) ||
		    !(c->in = malloc(TCP_IN_FIRST))) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->it.kind = IT_CONN;
		c->fd = fd;
		c->l = s->l;
		c->peer = peer;
		c->incap = TCP_IN_FIRST;
		if (ep_add(w->ep, fd, EPOLLIN | EPOLLRDHUP, c)) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->last = mono_ms();
		conn_push_front(w, c);
		w->nconn++;
		w->local.tcp_accepted++;
	}
}

/* Queue bytes for the peer; false when the cap is passed or memory short. */
static bool conn_queue(struct conn *c, const char *p, size_t n)
{
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n > c->outcap) {
		size_t need = c->outlen - c->outoff + n;
		if (need > TCP_OUT_MAX)
			return false;
		if (c->outoff) {
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outlen + n > c->outcap) {
			size_t cap = c->outcap ? c->outcap : 4096;
			while (cap < c->outlen + n)
				cap *= 2;
			char *nb = realloc(c->out, cap);
			if (!nb)
				return false;
			c->out = nb;
			c->outcap = cap;
		}
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	return true;
}

/* Write what is queued; false when the connection failed. */
static bool conn_flush(struct worker *w, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t r = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->outoff += (size_t)r;
	}
	bool want = c->outoff < c->outlen;
	if (want != c->want_out) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0),
		                         .data.ptr = c};
		if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev))
			return false;
		c->want_out = want;
	}
	return true;
}

/* Answer every whole message in the input; false: close the connection. */
static bool conn_process(struct worker *w, struct conn *c)
{
	struct sip_server *srv = w->srv;
	size_t off = 0;
	bool ok = true;
	int64_t now = now_of(srv);
	if (srv->cfg.decider.enter)
		srv->cfg.decider.enter(srv->cfg.decider.ctx);
	while (off < c->inlen) {
		size_t skip, msglen;
		bool ping;
		enum cbar_err e = cbar_sip_frame(c->in + off, c->inlen - off, &skip, &msglen, &ping);
		if (ping) {
			w->local.tcp_pings++;
			if (!conn_queue(c, "\r\n", 2)) {
				ok = false;
				break;
			}
		}
		off += skip;
		if (e == CBAR_SIP_MORE)
			break;
		if (e) { /* too big or a bad Content-Length: no way to resynchronise */
			w->local.received++;
			w->local.parse_errors++;
			ok = false;
			break;
		}
		size_t olen = sip_handle(c->l, srv->cfg.np, &srv->cfg.decider, c->in + off, msglen,
		                         CBAR_SIP_STREAM, (const struct sockaddr *)&c->peer, now,
		                         w->out, OUT_CAP, &w->local);
		off += msglen;
		if (olen && !conn_queue(c, w->out, olen)) {
			ok = false;
			break;
		}
	}
	if (srv->cfg.decider.leave)
		srv->cfg.decider.leave(srv->cfg.decider.ctx);
	if (off) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return ok;
}

static void conn_io(struct worker *w, struct conn *c, uint32_t events)
{
	c->last = mono_ms();
	if (w->conns != c) {
		conn_unlink(w, c);
		conn_push_front(w, c);
	}
	if (events & EPOLLIN) {
		for (;;) {
			if (c->inlen == c->incap) {
				if (c->incap >= TCP_IN_MAX)
					goto close; /* cbar_sip_frame() would have said TOO_BIG */
				size_t cap = c->incap * 2 > TCP_IN_MAX ? TCP_IN_MAX : c->incap * 2;
				char *nb = realloc(c->in, cap);
				if (!nb)
					goto close;
				c->in = nb;
				c->incap = cap;
			}
			ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
			if (r == 0)
				goto close_after;
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				goto close;
			}
			c->inlen += (size_t)r;
			if (c->inlen == c->incap && !conn_process(w, c))
				goto close;
		}
		if (!conn_process(w, c))
			goto close;
	}
	if (!conn_flush(w, c))
		goto close;
	if (events & (EPOLLERR | EPOLLHUP))
		goto close;
	return;
close_after:
	/* the peer closed its side: answer what it sent, then close */
	if (conn_process(w, c))
		conn_flush(w, c);
close:
	conn_close(w, c);
}

/* ---- workers ------------------------------------------------------------- */

/* Close the connections idle for tcp_idle_s or more (oldest first); the
 * milliseconds until the next one would be (-1: none to wait for). */
static int conn_sweep(struct worker *w)
{
	int64_t idle = (int64_t)w->srv->cfg.tcp_idle_s * 1000;
	if (!idle || !w->conns_tail)
		return -1;
	int64_t now = mono_ms();
	while (w->conns_tail && now - w->conns_tail->last >= idle) {
		w->local.tcp_idle_closed++;
		conn_close(w, w->conns_tail);
	}
	return w->conns_tail ? (int)(w->conns_tail->last + idle - now) + 1 : -1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];
	int timeout = -1; /* until the oldest connection's idle limit, if any */
	for (;;) {
		int n = epoll_wait(w->ep, evs, 64, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct item *it = evs[i].data.ptr;
			switch (it->kind) {
			case IT_STOP:
				publish(w);
				return NULL;
			case IT_UDP: /* UDP sockets have their own threads */
				break;
			case IT_LISTEN:
				tcp_accept(w, (struct sock *)(void *)it);
				break;
			case IT_CONN:
				conn_io(w, (struct conn *)(void *)it, evs[i].events);
				break;
			}
		}
		timeout = conn_sweep(w);
		publish(w);
	}
	publish(w);
	return NULL;
}

static void worker_release(struct worker *w, size_t nls)
{
	while (w->conns)
		conn_close(w, w->conns);
	if (w->socks)
		for (size_t i = 0; i < nls * 2; i++)
			if (w->socks[i].fd >= 0)
				close(w->socks[i].fd);
	if (w->ep >= 0)
		close(w->ep);
	free(w->socks);
	free(w->in);
	free(w->out);
}

/* Open listener i's sockets for every worker; a port 0 is resolved by the
 * first socket and shared by the rest. */
static int open_listener(struct sip_server *s, size_t i, char *err, size_t errcap)
{
	struct sip_listener *l = &s->ls[i];
	bool any = get_port(&l->cfg.addr) == 0;
	for (int attempt = 0; attempt < (any ? 32 : 1); attempt++) {
		struct sockaddr_storage a = l->cfg.addr;
		unsigned k;
		for (k = 0; k < s->nworkers; k++) {
			struct sock *u = &s->w[k].socks[2 * i], *t = &s->w[k].socks[2 * i + 1];
			if ((l->cfg.transports & SIP_UDP) && (u->fd = open_sock(&a, SOCK_DGRAM, s->cfg.ack_filter)) < 0)
				break;
			if (get_port(&a) == 0) {
				socklen_t al = sizeof a;
				getsockname(u->fd, (struct sockaddr *)&a, &al);
			}
			if ((l->cfg.transports & SIP_TCP) && (t->fd = open_sock(&a, SOCK_STREAM, false)) < 0)
				break;
			if (get_port(&a) == 0) {
				socklen_t al = sizeof a;
				getsockname(t->fd, (struct sockaddr *)&a, &al);
			}
		}
		if (k == s->nworkers) {
			set_port(&l->cfg.addr, get_port(&a));
			return 0;
		}
		int e = errno;
		for (unsigned j = 0; j <= k && j < s->nworkers; j++)
			for (int t = 0; t < 2; t++) {
				struct sock *so = &s->w[j].socks[2 * i + (size_t)t];
				if (so->fd >= 0)
					close(so->fd);
				so->fd = -1;
			}
		errno = e;
		if (!any || e != EADDRINUSE)
			break;
	}
	errf(err, errcap, "cannot bind", &l->cfg.addr);
	return -1;
}

int sip_server_start(const struct sip_server_cfg *cfg, struct sip_server **out, char *err,
                     size_t errcap)
{
	*out = NULL;
	struct sip_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	s->cfg = *cfg;
	s->stopfd = -1;
	s->stop_item.kind = IT_STOP;
	pthread_mutex_init(&s->kdrop_lock, NULL);
	s->nworkers = cfg->workers;
	if (!s->nworkers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		s->nworkers = n > 0 ? (unsigned)n : 1;
	}
	if (s->nworkers > 256)
		s->nworkers = 256;
	if (s->cfg.coalesce_us > 1000)
		s->cfg.coalesce_us = 1000;
	s->nls = cfg->nlisteners;
	if (!s->nls || !cfg->decider.decide || !cfg->np) {
		snprintf(err, errcap, "no listener, decider or numbering plan");
		free(s);
		return -1;
	}
	s->ls = calloc(s->nls, sizeof *s->ls);
	size_t nudp = 0;
	for (size_t i = 0; i < s->nls; i++)
		nudp += (cfg->listeners[i].transports & SIP_UDP) != 0;
	s->nu = s->nworkers * (unsigned)nudp;
	s->w = aligned_alloc(64, ((s->nworkers * sizeof *s->w + 63) / 64) * 64);
	if (s->nu)
		s->u = aligned_alloc(64, ((s->nu * sizeof *s->u + 63) / 64) * 64);
	if (!s->ls || !s->w || (s->nu && !s->u))
		goto nomem;
	memset(s->w, 0, s->nworkers * sizeof *s->w);
	if (s->nu)
		memset(s->u, 0, s->nu * sizeof *s->u);
	for (size_t i = 0; i < s->nls; i++) {
		struct sip_listener *l = &s->ls[i];
		l->cfg = cfg->listeners[i];
		if (l->cfg.ningress) {
			if (!(l->ingress = calloc(l->cfg.ningress, sizeof *l->ingress)))
				goto nomem;
			memcpy(l->ingress, cfg->listeners[i].ingress, l->cfg.ningress * sizeof *l->ingress);
		}
		l->cfg.ingress = l->ingress;
		sip_listener_init(l);
	}
	for (unsigned k = 0; k < s->nworkers; k++) {
		struct worker *w = &s->w[k];
		w->srv = s;
		w->ep = -1;
		if (!(w->socks = malloc(s->nls * 2 * sizeof *w->socks)))
			goto nomem;
		for (size_t i = 0; i < s->nls * 2; i++)
			w->socks[i] = (struct sock){.it.kind = i % 2 ? IT_LISTEN : IT_UDP, .fd = -1,
			                            .l = &s->ls[i / 2]};
		if (!(w->out = malloc(OUT_CAP)))
			goto nomem;
		if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			snprintf(err, errcap, "epoll_create1: %s", strerror(errno));
			goto fail;
		}
	}
	if ((s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errcap, "eventfd: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < s->nls; i++)
		if (open_listener(s, i, err, errcap))
			goto fail;
	for (unsigned k = 0; k < s->nworkers; k++) {
		struct worker *w = &s->w[k];
		if (ep_add(w->ep, s->stopfd, EPOLLIN, &s->stop_item)) {
			snprintf(err, errcap, "epoll_ctl: %s", strerror(errno));
			goto fail;
		}
		for (size_t i = 1; i < s->nls * 2; i += 2)
			if (w->socks[i].fd >= 0 && ep_add(w->ep, w->socks[i].fd, EPOLLIN, &w->socks[i])) {
				snprintf(err, errcap, "epoll_ctl: %s", strerror(errno));
				goto fail;
			}
	}
	for (unsigned k = 0, j = 0; k < s->nworkers; k++)
		for (size_t i = 0; i < s->nls; i++)
			if (s->w[k].socks[2 * i].fd >= 0) {
				struct worker *u = &s->u[j++];
				u->srv = s;
				u->ep = -1;
				u->udp = &s->w[k].socks[2 * i];
				if (!(u->in = malloc((size_t)UDP_BATCH * IN_CAP)) ||
				    !(u->out = malloc((size_t)UDP_BATCH * OUT_CAP)))
					goto nomem;
			}
	for (unsigned k = 0; k < s->nworkers + s->nu; k++) {
		struct worker *w = k < s->nworkers ? &s->w[k] : &s->u[k - s->nworkers];
		int e = pthread_create(&w->th, NULL, k < s->nworkers ? worker_main : udp_main, w);
		if (e) {
			snprintf(err, errcap, "pthread_create: %s", strerror(e));
			goto fail;
		}
		w->started = true;
	}
	*out = s;
	return 0;
nomem:
	snprintf(err, errcap, "out of memory");
fail:
	sip_server_stop(s);
	return -1;
}

uint16_t sip_server_port(const struct sip_server *s, size_t i)
{
	return i < s->nls ? get_port(&s->ls[i].cfg.addr) : 0;
}

unsigned sip_server_workers(const struct sip_server *s)
{
	return s->nworkers;
}

void sip_server_stop(struct sip_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	if (s->stopfd >= 0) {
		uint64_t one = 1;
		ssize_t r = write(s->stopfd, &one, sizeof one);
		(void)r;
	}
	for (unsigned k = 0; k < s->nu; k++)
		if (s->u[k].started) {
			shutdown(s->u[k].udp->fd, SHUT_RD); /* wakes recvmmsg() */
			pthread_join(s->u[k].th, NULL);
		}
	for (unsigned k = 0; k < s->nu; k++) {
		free(s->u[k].in);
		free(s->u[k].out);
	}
	free(s->u);
	if (s->w) {
		for (unsigned k = 0; k < s->nworkers; k++)
			if (s->w[k].started)
				pthread_join(s->w[k].th, NULL);
		for (unsigned k = 0; k < s->nworkers; k++)
			if (s->w[k].srv)
				worker_release(&s->w[k], s->nls);
	}
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->ls)
		for (size_t i = 0; i < s->nls; i++)
			free(s->ls[i].ingress);
	free(s->ls);
	free(s->w);
	pthread_mutex_destroy(&s->kdrop_lock);
	free(s);
}

/* "10.1.0.0/16=intl-gateway" (no /: a host); false when malformed. */
bool sip_ingress_parse(const char *s0, size_t len, struct sip_ingress *g)
{
	memset(g, 0, sizeof *g);
	char s[160];
	if (len >= sizeof s)
		return false;
	memcpy(s, s0, len);
	s[len] = 0;
	const char *eq = strchr(s, '=');
	if (!eq || !eq[1] || strlen(eq + 1) >= sizeof g->name)
		return false;
	char net[64];
	size_t nl = (size_t)(eq - s);
	if (nl >= sizeof net)
		return false;
	memcpy(net, s, nl);
	net[nl] = 0;
	char *slash = strchr(net, '/');
	long bits = -1;
	if (slash) {
		char *end;
		*slash = 0;
		bits = strtol(slash + 1, &end, 10);
		if (*end || slash[1] == 0 || bits < 0)
			return false;
	}
	struct sockaddr_in *a4 = (void *)&g->net;
	struct sockaddr_in6 *a6 = (void *)&g->net;
	if (inet_pton(AF_INET, net, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		if (bits > 32)
			return false;
		g->prefix = (uint8_t)(bits < 0 ? 32 : bits);
	} else if (inet_pton(AF_INET6, net, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		if (bits > 128)
			return false;
		g->prefix = (uint8_t)(bits < 0 ? 128 : bits);
	} else {
		return false;
	}
	strcpy(g->name, eq + 1);
	return true;
}
