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
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "sip_workers.h"

/* "WHAT TRANSPORT ADDR:PORT: strerror" into err; errno is the cause. */
static void errf(char *err, size_t cap, const char *what, const char *tp,
                 const struct sockaddr_storage *a)
{
	char addr[INET6_ADDRSTRLEN + 8];
	cbar__addr_format((const struct sockaddr *)a, addr, sizeof addr);
	if (err && cap)
		snprintf(err, cap, "%s %s %s: %s", what, tp, addr, strerror(errno));
}

static uint16_t get_port(const struct sockaddr_storage *a)
{
	return ntohs(a->ss_family == AF_INET6
	                 ? ((const struct sockaddr_in6 *)(const void *)a)->sin6_port
	                 : ((const struct sockaddr_in *)(const void *)a)->sin_port);
}

/* ---- counters -------------------------------------------------------------- */

void cbar_sip_server_counters(struct sip_server *s, struct sip_counters *sum)
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
	free(w->pend);
	free(w->verdict);
}

/*
 * Whether anyone else holds a (type SOCK_DGRAM or SOCK_STREAM): bind a
 * socket without SO_REUSEPORT there, which fails with EADDRINUSE when any
 * other socket is bound to the port (wildcard and specific addresses
 * alike), a second callbar's SO_REUSEPORT workers included; the kernel
 * would otherwise add our workers to theirs and split the calls between
 * two servers.  TCP sets SO_REUSEADDR, so that connections of a previous
 * run in TIME_WAIT do not count (a listening socket still does).  A port
 * 0 is resolved here into *a: no reuse group can be joined by chance.  0,
 * or -1 with errno; the probe is closed either way.
 */
static int probe(struct sockaddr_storage *a, int type)
{
	int fd = socket(a->ss_family, type | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return -1;
	int r = -1;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one))
		goto out;
	if (bind(fd, (const struct sockaddr *)a, cbar__sip_addr_len(a)))
		goto out;
	socklen_t al = sizeof *a;
	r = getsockname(fd, (struct sockaddr *)a, &al);
out:;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Close listener i's sockets in every worker. */
static void close_listener(struct sip_server *s, size_t i)
{
	for (unsigned k = 0; k < s->nworkers; k++)
		for (size_t t = 0; t < 2; t++) {
			struct sock *so = &s->w[k].socks[2 * i + t];
			if (so->fd >= 0)
				close(so->fd);
			so->fd = -1;
		}
}

/*
 * Open listener i's sockets for every worker.  First the probes (above):
 * a port someone else holds stops the start with "address in use", as
 * nginx and Kamailio do; a port 0 becomes one free port for UDP and TCP.
 * Then the workers bind with SO_REUSEPORT, sharing it among themselves
 * only.  Between the probe's close and the first worker's bind is a window
 * of a few system calls in which another process could still take the
 * port (and then, with SO_REUSEPORT under the same user, share it); two
 * servers started at the same instant are the only way into it.
 */
static int open_listener(struct sip_server *s, size_t i, char *err, size_t errcap)
{
	struct sip_listener *l = &s->ls[i];
	bool any = get_port(&l->cfg.addr) == 0;
	const char *tp = "";
	for (int attempt = 0; attempt < (any ? 32 : 1); attempt++) {
		struct sockaddr_storage a = l->cfg.addr;
		unsigned k = 0;
		/* a free port for UDP may be taken for TCP: try another */
		tp = "UDP";
		if ((l->cfg.transports & SIP_UDP) && probe(&a, SOCK_DGRAM))
			goto again;
		tp = "TCP";
		if ((l->cfg.transports & SIP_TCP) && probe(&a, SOCK_STREAM))
			goto again;
		for (k = 0; k < s->nworkers; k++) {
			struct sock *u = &s->w[k].socks[2 * i], *t = &s->w[k].socks[2 * i + 1];
			tp = "UDP";
			if ((l->cfg.transports & SIP_UDP) &&
			    (u->fd = cbar__sip_udp_open(&a, s->cfg.ack_filter)) < 0)
				break;
			tp = "TCP";
			if ((l->cfg.transports & SIP_TCP) && (t->fd = cbar__sip_tcp_open(&a)) < 0)
				break;
		}
		if (k == s->nworkers) {
			l->cfg.addr = a;
			return 0;
		}
	again:;
		int e = errno;
		close_listener(s, i);
		errno = e;
		if (!any || e != EADDRINUSE)
			break;
	}
	if (errno == EADDRINUSE) {
		char addr[INET6_ADDRSTRLEN + 8];
		cbar__addr_format((const struct sockaddr *)&l->cfg.addr, addr, sizeof addr);
		snprintf(err, errcap,
		         "%s %s: address in use (another process holds the port: a second callbar, "
		         "Kamailio...)",
		         tp, addr);
	} else {
		errf(err, errcap, "cannot bind", tp, &l->cfg.addr);
	}
	return -1;
}

/*
 * The TCP connections the server may hold when not told: the descriptor
 * limit less SIP_FD_RESERVE, so that a flood of connections never leaves
 * the registry, the logs, a reload or HTTP without a descriptor (accept()
 * failing with EMFILE would also leave the listener readable, and its
 * thread spinning).  Under twice the reserve, half the limit.
 */
static unsigned tcp_max_of_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024 - SIP_FD_RESERVE;
	rlim_t n = rl.rlim_cur;
	if (n == RLIM_INFINITY || n > UINT_MAX)
		n = UINT_MAX;
	return (unsigned)(n >= 2 * SIP_FD_RESERVE ? n - SIP_FD_RESERVE : n / 2);
}

static int server_start(const struct sip_server_cfg *cfg, struct sip_server **out, char *err,
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
		pthread_mutex_destroy(&s->kdrop_lock);
		free(s);
		return -1;
	}
	if (cbar__sip_tcp_admit_init(&s->admit,
	                             cfg->tcp_per_source ? cfg->tcp_per_source : SIP_TCP_PER_SOURCE,
	                             cfg->tcp_max ? cfg->tcp_max : tcp_max_of_limit()))
		goto nomem;
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
			memcpy(l->ingress, cfg->listeners[i].ingress,
			       l->cfg.ningress * sizeof *l->ingress);
		}
		l->cfg.ingress = l->ingress;
		cbar_sip_listener_init(l);
	}
	for (unsigned k = 0; k < s->nworkers; k++) {
		struct worker *w = &s->w[k];
		w->srv = s;
		w->ep = -1;
		if (!(w->socks = malloc(s->nls * 2 * sizeof *w->socks)))
			goto nomem;
		for (size_t i = 0; i < s->nls * 2; i++)
			w->socks[i] = (struct sock){
			    .it.kind = i % 2 ? IT_LISTEN : IT_UDP, .fd = -1, .l = &s->ls[i / 2]};
		if (!(w->out = malloc(OUT_CAP)) ||
		    !(w->pend = malloc(UDP_BATCH * sizeof *w->pend)) ||
		    !(w->verdict = malloc(UDP_BATCH * sizeof *w->verdict)))
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
			if (w->socks[i].fd >= 0 &&
			    cbar__sip_ep_add(w->ep, w->socks[i].fd, EPOLLIN, &w->socks[i])) {
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
				    !(u->out = malloc((size_t)UDP_BATCH * OUT_CAP)) ||
				    !(u->pend = malloc(UDP_BATCH * sizeof *u->pend)) ||
				    !(u->verdict = malloc(UDP_BATCH * sizeof *u->verdict)))
					goto nomem;
			}
	for (unsigned k = 0; k < s->nworkers + s->nu; k++) {
		struct worker *w = k < s->nworkers ? &s->w[k] : &s->u[k - s->nworkers];
		int e = pthread_create(
		    &w->th, NULL, k < s->nworkers ? cbar__sip_tcp_main : cbar__sip_udp_main, w);
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
	cbar_sip_server_stop(s);
	return -1;
}

uint16_t cbar_sip_server_port(const struct sip_server *s, size_t i)
{
	return i < s->nls ? get_port(&s->ls[i].cfg.addr) : 0;
}

unsigned cbar_sip_server_workers(const struct sip_server *s)
{
	return s->nworkers;
}

void cbar_sip_server_stop(struct sip_server *s)
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
		free(s->u[k].pend);
		free(s->u[k].verdict);
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
	cbar__sip_tcp_admit_release(&s->admit);
	pthread_mutex_destroy(&s->kdrop_lock);
	free(s);
}

enum cbar_err cbar_sip_server_start(const struct sip_server_cfg *cfg, struct sip_server **out,
                               struct cbar_diag *d)
{
	char msg[sizeof d->msg];
	msg[0] = '\0';
	if (!server_start(cfg, out, msg, sizeof msg))
		return CBAR_OK;
	return cbar_diag_set(d, strcmp(msg, "out of memory") ? CBAR_SIP_START : CBAR_NOMEM, 0, 0,
	                     "%s", msg);
}
