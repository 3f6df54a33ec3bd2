/*
 * callbar: the SIP server's workers, as sip_server.c (start, stop, what the
 * transports share), sip_udp.c (the recvmmsg/sendmmsg threads and the ACK
 * filter) and sip_tcp.c (the epoll threads: accept, framing, idle timeout)
 * see them.  Private to src/net: sip_server.h is the interface.
 *
 * Threads: each worker slot is one epoll thread (struct worker in s->w)
 * that owns the slot's sockets, its TCP listeners and connections; each
 * UDP socket of a slot has a thread of its own (struct worker in s->u,
 * pointing at the slot's socket).  A thread writes only its own worker;
 * its counters are published with relaxed atomic stores for any reader.
 */
#ifndef CALLBAR_NET_SIP_WORKERS_H
#define CALLBAR_NET_SIP_WORKERS_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "sip_server.h"

#define UDP_BATCH 32 /* datagrams a recvmmsg() reads; TCP messages decided at once */
#define IN_CAP    (CBAR_SIP_MAX_MSG + 1)    /* one more: a datagram too big shows */
#define OUT_CAP   (CBAR_SIP_MAX_MSG + 8192) /* a reply echoes every Via of a request */
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

struct conn;       /* sip_tcp.c */
struct tcp_source; /* sip_tcp.c */

/* TCP admission, shared by every epoll thread under its lock (taken once
 * per accepted and per closed connection, never per message): how many
 * connections each source holds (a hash table of the sources that hold
 * any) and how many the server holds. */
struct tcp_admit {
	pthread_mutex_t lock;
	struct tcp_source **bucket;
	size_t mask;         /* buckets - 1 */
	uint64_t seed;       /* of the hash: sources are the peer's choice */
	unsigned open;       /* connections held, every worker */
	unsigned per_source; /* limits */
	unsigned max;
};

struct worker {
	alignas(64) struct sip_server *srv;
	pthread_t th;
	bool started;
	int ep;
	struct sock *socks;              /* nlisteners * 2: UDP at 2i, TCP at 2i+1 (fd -1: none);
	                                    the epoll thread of a slot owns them */
	const struct sock *udp;          /* a UDP thread's socket; NULL for an epoll thread */
	struct conn *conns, *conns_tail; /* most and least recently active */
	unsigned nconn;
	char *in;  /* UDP: UDP_BATCH * IN_CAP */
	char *out; /* UDP: UDP_BATCH * OUT_CAP; epoll: one OUT_CAP for TCP */
	/* A batch's messages between reading and replying, and their verdicts
	 * (UDP_BATCH each): a recvmmsg() batch, or the whole messages of one
	 * TCP read, is decided in one call. */
	struct sip_pending *pend;
	struct cbar_verdict *verdict;
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
	struct worker *w; /* nworkers epoll threads (slots) */
	struct worker *u; /* nu UDP threads */
	unsigned nu;
	atomic_bool stop;
	int stopfd;
	struct item stop_item;
	pthread_mutex_t kdrop_lock;
	struct tcp_admit admit;
};

/* ---- sip_server.c: shared by the transports ------------------------------ */

/* Copy the worker's counters where cbar_sip_server_counters() reads them. */
void cbar__sip_publish(struct worker *w);
/* The event time: the fixed time of tests, else the wall clock's second. */
int64_t cbar__sip_now(const struct sip_server *s);
socklen_t cbar__sip_addr_len(const struct sockaddr_storage *a);
/* Add fd to the epoll set ep, its events pointing at item. */
int cbar__sip_ep_add(int ep, int fd, uint32_t events, void *item);

/* ---- sip_udp.c ------------------------------------------------------------ */

/* A blocking SO_REUSEPORT UDP socket bound to a, with the ACK filter when
 * asked; -1 with errno on failure. */
int cbar__sip_udp_open(const struct sockaddr_storage *a, bool filter_ack);
/* A UDP thread (arg: its struct worker). */
void *cbar__sip_udp_main(void *arg);
/* The kernel's drop count of a UDP thread's socket, summed across wraps. */
uint64_t cbar__sip_udp_kernel_drops(struct sip_server *s, struct worker *u);

/* ---- sip_tcp.c ------------------------------------------------------------ */

/* A non-blocking SO_REUSEPORT TCP socket bound to a and listening; -1 with
 * errno on failure. */
int cbar__sip_tcp_open(const struct sockaddr_storage *a);
/* A slot's epoll thread (arg: its struct worker). */
void *cbar__sip_tcp_main(void *arg);
/* Close every connection of the slot (the thread has stopped). */
void cbar__sip_tcp_close_all(struct worker *w);
/* The admission table with these limits (sip_server_cfg's tcp_per_source
 * and tcp_max, 0 resolved); -1 when out of memory.  Release: NULL-safe
 * after a zeroed struct, once every connection is closed. */
int cbar__sip_tcp_admit_init(struct tcp_admit *a, unsigned per_source, unsigned max);
void cbar__sip_tcp_admit_release(struct tcp_admit *a);

#endif
