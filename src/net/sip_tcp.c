/*
 * callbar: the SIP server's TCP side (sip_workers.h): each worker slot's
 * listeners and connections are one level-triggered epoll thread, with one
 * capped input and output buffer per connection.  Messages are cut with
 * cbar_sip_frame(); a CRLFCRLF ping is answered CRLF; a bad Content-Length
 * closes the connection (a stream cannot be resynchronised).  The
 * connections are listed in order of activity, so the idle sweep looks at
 * expired ones only.  Stopping: the server's eventfd, in every slot's epoll
 * set, written once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sip_workers.h"

#define TCP_IN_MAX   (CBAR_SIP_MAX_MSG + 4096)
#define TCP_IN_FIRST 4096
#define TCP_OUT_MAX  (1u << 20) /* a peer that does not read is closed */
#define TCP_MAX_CONN 4096       /* per worker */

struct conn {
	struct item it;
	int fd;
	const struct sip_listener *l;
	struct sockaddr_storage peer;
	char *in, *out;
	size_t inlen, incap, outoff, outlen, outcap;
	bool want_out;
	int64_t last;             /* CLOCK_MONOTONIC millisecond of the last event */
	struct conn *prev, *next; /* the worker's list, most recently active first */
	struct tcp_source *src;   /* its count in the admission table */
};

/* ---- admission: connections per source and in all --------------------- */

/* A source that holds connections: an IPv4 address (as ::ffff:a.b.c.d) or
 * an IPv6 /64 (the rest zero): one site is given a /64 at least, so
 * counting whole IPv6 addresses would limit nobody. */
struct tcp_source {
	uint8_t key[16];
	unsigned n;
	struct tcp_source *next;
};

static void source_key(const struct sockaddr_storage *a, uint8_t key[16])
{
	memset(key, 0, 16);
	if (a->ss_family == AF_INET6) {
		const uint8_t *b =
		    ((const struct sockaddr_in6 *)(const void *)a)->sin6_addr.s6_addr;
		bool mapped = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)b);
		memcpy(key, b, mapped ? 16 : 8);
	} else {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)a)->sin_addr, 4);
	}
}

static size_t source_hash(const struct tcp_admit *a, const uint8_t key[16])
{
	uint64_t h = 0xcbf29ce484222325u ^ a->seed; /* FNV-1a, seeded */
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 0x100000001b3u;
	return (size_t)(h ^ (h >> 29)) & a->mask;
}

int cbar__sip_tcp_admit_init(struct tcp_admit *a, unsigned per_source, unsigned max)
{
	size_t n = 64;
	while (n < max / 4 && n < 65536)
		n *= 2;
	a->per_source = per_source;
	a->max = max;
	a->mask = n - 1;
	if (getrandom(&a->seed, sizeof a->seed, GRND_NONBLOCK) != sizeof a->seed)
		a->seed = (uint64_t)(uintptr_t)a ^ (uint64_t)time(NULL);
	if (!(a->bucket = calloc(n, sizeof *a->bucket)))
		return -1;
	pthread_mutex_init(&a->lock, NULL);
	return 0;
}

void cbar__sip_tcp_admit_release(struct tcp_admit *a)
{
	if (!a->bucket)
		return;
	for (size_t i = 0; i <= a->mask; i++)
		while (a->bucket[i]) {
			struct tcp_source *e = a->bucket[i];
			a->bucket[i] = e->next;
			free(e);
		}
	free(a->bucket);
	a->bucket = NULL;
	pthread_mutex_destroy(&a->lock);
}

/* Count a connection from peer in, or say which limit refuses it. */
enum admit { ADMIT_OK, ADMIT_PER_SOURCE, ADMIT_FULL };

static enum admit admit(struct tcp_admit *a, const struct sockaddr_storage *peer,
                        struct tcp_source **out)
{
	uint8_t key[16];
	source_key(peer, key);
	size_t h = source_hash(a, key);
	enum admit r = ADMIT_OK;
	pthread_mutex_lock(&a->lock);
	struct tcp_source *e = a->bucket[h];
	while (e && memcmp(e->key, key, 16))
		e = e->next;
	if (a->open >= a->max)
		r = ADMIT_FULL;
	else if (e && e->n >= a->per_source)
		r = ADMIT_PER_SOURCE;
	else if (!e && !(e = calloc(1, sizeof *e)))
		r = ADMIT_FULL; /* no memory: as if full */
	else {
		if (!e->n) {
			memcpy(e->key, key, 16);
			e->next = a->bucket[h];
			a->bucket[h] = e;
		}
		e->n++;
		a->open++;
		*out = e;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* Give back a connection's count; the source leaves the table at 0. */
static void admit_release(struct tcp_admit *a, struct tcp_source *e)
{
	pthread_mutex_lock(&a->lock);
	a->open--;
	if (!--e->n) {
		struct tcp_source **p = &a->bucket[source_hash(a, e->key)];
		while (*p != e)
			p = &(*p)->next;
		*p = e->next;
		free(e);
	}
	pthread_mutex_unlock(&a->lock);
}

int cbar__sip_tcp_open(const struct sockaddr_storage *a)
{
	/* non-blocking: driven by epoll */
	int fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one))
		goto fail;
	if (bind(fd, (const struct sockaddr *)a, cbar__sip_addr_len(a)) || listen(fd, 1024))
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

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
	admit_release(&w->srv->admit, c->src);
	free(c->in);
	free(c->out);
	free(c);
	w->nconn--;
	w->local.tcp_closed++;
}

/*
 * Take every pending connection.  One refused (a source outside the
 * listener's allow=, over its per-source count, the server full, this
 * worker full or out of memory) is closed at once, so that it does not
 * wait in the backlog and the listener does not stay readable.
 */
static void tcp_accept(struct worker *w, const struct sock *s)
{
	struct tcp_admit *ad = &w->srv->admit;
	const struct sip_listener_cfg *lc = &s->l->cfg;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd =
		    accept4(s->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (lc->nallow &&
		    !cbar__cidr_match(lc->allow, lc->nallow, (struct sockaddr *)&peer)) {
			w->local.tcp_refused_not_allowed++;
			close(fd);
			continue;
		}
		struct tcp_source *src = NULL;
		enum admit r = w->nconn >= TCP_MAX_CONN ? ADMIT_FULL : admit(ad, &peer, &src);
		if (r != ADMIT_OK) {
			if (r == ADMIT_PER_SOURCE)
				w->local.tcp_refused_per_source++;
			else
				w->local.tcp_refused_full++;
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof *c);
		if (!c || !(c->in = malloc(TCP_IN_FIRST))) {
			free(c);
			goto refuse;
		}
		c->it.kind = IT_CONN;
		c->fd = fd;
		c->l = s->l;
		c->peer = peer;
		c->incap = TCP_IN_FIRST;
		c->src = src;
		if (cbar__sip_ep_add(w->ep, fd, EPOLLIN | EPOLLRDHUP, c)) {
			free(c->in);
			free(c);
			goto refuse;
		}
		c->last = mono_ms();
		conn_push_front(w, c);
		w->nconn++;
		w->local.tcp_accepted++;
		continue;
	refuse:
		admit_release(ad, src);
		w->local.tcp_refused_full++;
		close(fd);
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

/* Decide the n messages read into w->pend (one call when the decider
 * takes batches) and queue their replies in order; false: close. */
static bool conn_answer(struct worker *w, struct conn *c, unsigned n)
{
	cbar_sip_decide_pending(&w->srv->cfg.decider, w->pend, n, w->verdict);
	for (unsigned i = 0; i < n; i++) {
		size_t olen = cbar_sip_handle_reply(c->l, &w->pend[i], &w->verdict[i], w->out,
		                                    OUT_CAP, &w->local);
		if (olen && !conn_queue(c, w->out, olen))
			return false;
	}
	return true;
}

/*
 * Answer every whole message in the input; false: close the connection.
 * The messages are read UDP_BATCH at a time and their INVITEs and
 * MESSAGEs decided together, as a UDP batch's; a ping ends a batch, so
 * that its pong goes out after the replies to the messages before it.
 */
static bool conn_process(struct worker *w, struct conn *c)
{
	struct sip_server *srv = w->srv;
	size_t off = 0;
	bool ok = true, more = true;
	int64_t now = cbar__sip_now(srv);
	if (srv->cfg.decider.enter)
		srv->cfg.decider.enter(srv->cfg.decider.ctx);
	const struct cbar_numplan *np =
	    srv->cfg.decider.plan ? srv->cfg.decider.plan(srv->cfg.decider.ctx) : srv->cfg.np;
	while (ok && more && off < c->inlen) {
		unsigned n = 0;
		enum cbar_err bad = CBAR_OK;
		while (n < UDP_BATCH && off < c->inlen) {
			size_t skip, msglen;
			bool ping;
			enum cbar_err e =
			    cbar_sip_frame(c->in + off, c->inlen - off, &skip, &msglen, &ping);
			if (ping && n)
				break; /* answered once the batch before it is */
			if (ping) {
				w->local.tcp_pings++;
				if (!conn_queue(c, "\r\n", 2)) {
					ok = false;
					break;
				}
			}
			off += skip;
			if (e == CBAR_SIP_MORE) {
				more = false;
				break;
			}
			if (e) { /* too big or a bad Content-Length: no way to resynchronise */
				bad = e;
				break;
			}
			cbar_sip_handle_read(c->l, np, c->in + off, msglen, CBAR_SIP_STREAM,
			                     (const struct sockaddr *)&c->peer, now, &w->pend[n],
			                     &w->verdict[n], &w->local);
			n++;
			off += msglen;
		}
		if (ok && n && !conn_answer(w, c, n))
			ok = false;
		if (bad) {
			w->local.received++;
			w->local.parse_errors++;
			ok = false;
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

void *cbar__sip_tcp_main(void *arg)
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
				cbar__sip_publish(w);
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
		cbar__sip_publish(w);
	}
	cbar__sip_publish(w);
	return NULL;
}

void cbar__sip_tcp_close_all(struct worker *w)
{
	while (w->conns)
		conn_close(w, w->conns);
}
