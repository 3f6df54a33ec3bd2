/*
 * callbar: the SIP server's start and stop, and what its UDP threads
 * (sip_udp.c) and TCP epoll threads (sip_tcp.c) share (sip_workers.h).
 *
 * Each worker slot has its own SO_REUSEPORT UDP and TCP sockets (one per
 * listener: the kernel spreads datagrams and connections over the workers
 * by the 4-tuple hash).  Every thread has its own buffers and counters.
 * Stopping: a flag, an eventfd written once for the epoll threads, and
 * shutdown(SHUT_RD) on the UDP sockets, which wakes a blocked recvmmsg().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sip_workers.h"

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

socklen_t cbar__sip_addr_len(const struct sockaddr_storage *a)
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

int cbar__sip_ep_add(int ep, int fd, uint32_t events, void *item)
{
	struct epoll_event ev = {.events = events, .data.ptr = item};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- counters -------------------------------------------------------------- */

void cbar__sip_publish(struct worker *w)
{
	const uint64_t *v = (const uint64_t *)(const void *)&w->local;
	for (size_t i = 0; i < NCOUNTERS; i++)
		atomic_store_explicit(&w->pub[i], v[i], memory_order_relaxed);
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
		sum->udp_kernel_dropped += cbar__sip_udp_kernel_drops(s, &s->u[k]);
}

int64_t cbar__sip_now(const struct sip_server *s)
{
	if (s->cfg.fixed_time)
		return s->cfg.fixed_time;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec;
}

static void worker_release(struct worker *w, size_t nls)
{
	cbar__sip_tcp_close_all(w);
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
			if ((l->cfg.transports & SIP_UDP) && (u->fd = cbar__sip_udp_open(&a, s->cfg.ack_filter)) < 0)
				break;
			if (get_port(&a) == 0) {
				socklen_t al = sizeof a;
				getsockname(u->fd, (struct sockaddr *)&a, &al);
			}
			if ((l->cfg.transports & SIP_TCP) && (t->fd = cbar__sip_tcp_open(&a)) < 0)
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
		if (cbar__sip_ep_add(w->ep, s->stopfd, EPOLLIN, &s->stop_item)) {
			snprintf(err, errcap, "epoll_ctl: %s", strerror(errno));
			goto fail;
		}
		for (size_t i = 1; i < s->nls * 2; i += 2)
			if (w->socks[i].fd >= 0 && cbar__sip_ep_add(w->ep, w->socks[i].fd, EPOLLIN, &w->socks[i])) {
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
		int e = pthread_create(&w->th, NULL, k < s->nworkers ? cbar__sip_tcp_main : cbar__sip_udp_main, w);
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
