/*
 * callbar: the SIP server's UDP threads (sip_workers.h).
 *
 * Each UDP socket has its own thread, blocked in recvmmsg(MSG_WAITFORONE):
 * a wake-up is one recvmmsg() and one sendmmsg() for a whole batch, with
 * no epoll_wait() in between (at low rates, where a batch is one datagram,
 * that is a third of the system calls).  Stopping: shutdown(SHUT_RD) on
 * the socket wakes a blocked recvmmsg() (SO_RCVTIMEO is the fallback).
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
#include <errno.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sip_workers.h"

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

int cbar__sip_udp_open(const struct sockaddr_storage *a, bool filter_ack)
{
	/* blocking: the socket has a thread of its own */
	int fd = socket(a->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one))
		goto fail;
	int sz = 4 << 20; /* absorb bursts; the kernel caps it at rmem_max */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	struct timeval tv = {.tv_usec = 250000}; /* to see the stop flag */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sock_fprog prog = {.len = sizeof ack_filter / sizeof ack_filter[0],
	                          .filter = (struct sock_filter *)ack_filter};
	if (filter_ack && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog))
		goto fail;
	if (bind(fd, (const struct sockaddr *)a, cbar__sip_addr_len(a)))
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The kernel's drop counter of a UDP thread's socket, summed across the
 * 32-bit counter's wraps (it wraps after four billion ACKs). */
uint64_t cbar__sip_udp_kernel_drops(struct sip_server *s, struct worker *u)
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
	int64_t now = cbar__sip_now(srv);
	const struct sip_decider *dc = &srv->cfg.decider;
	if (dc->enter)
		dc->enter(dc->ctx);
	const struct cbar_numplan *np = dc->plan ? dc->plan(dc->ctx) : srv->cfg.np;
	const struct sip_listener_cfg *lc = &s->l->cfg;
	/* Every datagram read and triaged first, the events of the batch's
	 * INVITEs and MESSAGEs decided in one call (their unlock and limit
	 * lookups overlap), then the replies written in the order received:
	 * the same bytes as deciding each on its own. */
	bool refused[UDP_BATCH];
	for (int i = 0; i < n; i++) {
		struct sip_pending *p = &w->pend[i];
		/* outside allow=: no reply, so no reflection (a reply is about
		 * twice the request) */
		refused[i] = lc->nallow && !cbar__cidr_match(lc->allow, lc->nallow,
		                                             (const struct sockaddr *)&w->src[i]);
		if (refused[i]) {
			w->local.udp_refused_source++;
			p->step = SIP_STEP_DROP; /* nothing to decide */
			continue;
		}
		size_t len = w->rmsg[i].msg_len;
		if (w->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC)
			len = IN_CAP; /* past CBAR_SIP_MAX_MSG: 513 */
		cbar_sip_handle_read(s->l, np, w->in + (size_t)i * IN_CAP, len, CBAR_SIP_DGRAM,
		                     (const struct sockaddr *)&w->src[i], now, p, &w->verdict[i],
		                     &w->local);
	}
	cbar_sip_decide_pending(dc, w->pend, (size_t)n, w->verdict);
	unsigned k = 0;
	for (int i = 0; i < n; i++) {
		if (refused[i])
			continue;
		char *out = w->out + (size_t)k * OUT_CAP;
		size_t olen =
		    cbar_sip_handle_reply(s->l, &w->pend[i], &w->verdict[i], out, OUT_CAP, &w->local);
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
	if (dc->leave)
		dc->leave(dc->ctx);
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

void *cbar__sip_udp_main(void *arg)
{
	struct worker *w = arg;
	const struct sip_server_cfg *cfg = &w->srv->cfg;
	struct timespec pause = {.tv_nsec = (long)cfg->coalesce_us * 1000};
	int flags = MSG_WAITFORONE;
	while (!atomic_load_explicit(&w->srv->stop, memory_order_relaxed)) {
		int n = udp_batch(w, w->udp, flags);
		cbar__sip_publish(w);
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
