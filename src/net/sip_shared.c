/* callbar: what the SIP server's UDP and TCP workers and its start share
 * (sip_workers.h): addresses, epoll, publishing counters, the clock; a leaf,
 * so sip_server.c, sip_udp.c and sip_tcp.c depend on it and not in a circle. */
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

socklen_t cbar__sip_addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int cbar__sip_ep_add(int ep, int fd, uint32_t events, void *item)
{
	struct epoll_event ev = {.events = events, .data.ptr = item};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

void cbar__sip_publish(struct worker *w)
{
	const uint64_t *v = (const uint64_t *)(const void *)&w->local;
	for (size_t i = 0; i < NCOUNTERS; i++)
		atomic_store_explicit(&w->pub[i], v[i], memory_order_relaxed);
}

int64_t cbar__sip_now(const struct sip_server *s)
{
	if (s->cfg.fixed_time)
		return s->cfg.fixed_time;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec;
}
