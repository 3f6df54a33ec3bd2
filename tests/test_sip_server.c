/*
 * callbar: the SIP server's sockets, in process: cbar_sip_server_start() on
 * port 0 with a decider that blocks one number, then over UDP a
 * retransmitted INVITE gets byte-identical answers, a batch of datagrams is
 * answered one for one, a batch's INVITEs are decided in one decide_many()
 * call, in order, and over TCP two pipelined messages, a message cut
 * in two and a CRLFCRLF ping are answered; an ACK over UDP is dropped by
 * the kernel's socket filter while a 2-byte keep-alive still reaches the
 * worker; the counters add up; stop is clean.  A TCP connection idle past
 * the limit is closed, an active one is not.  A port another socket holds
 * stops the start; allow= answers only its networks; TCP connections are
 * limited per source and in all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "callbar/data.h"
#include "net/fd_limit.h"
#include "net/sip_server.h"


/* The server's calls with their errors as text, for the checks below (the
 * API gives a struct cbar_diag: CBAR_CONFIG with the word's column, or
 * CBAR_SIP_START). */
static bool spec_ok(const char *s, size_t len, struct sip_listener_cfg *l,
                    struct sip_ingress *ing, size_t cap, size_t *ning, char *err, size_t errcap,
                    size_t *at)
{
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_sip_listener_spec(s, len, l, ing, cap, ning, &d);
	snprintf(err, errcap, "%s", d.msg);
	*at = d.column ? d.column - 1 : 0;
	if (e && (e != CBAR_CONFIG || !d.column))
		fail_msg("'%.*s': error %s without a column", (int)len, s, cbar_err_name(e));
	return e == CBAR_OK;
}

static int start_srv(const struct sip_server_cfg *cfg, struct sip_server **out, char *err,
                     size_t cap)
{
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_sip_server_start(cfg, out, &d);
	snprintf(err, cap, "%s", d.msg);
	if (e && e != CBAR_SIP_START && e != CBAR_NOMEM)
		fail_msg("cbar_sip_server_start: error %s", cbar_err_name(e));
	return e ? -1 : 0;
}

static struct cbar_numplan *np;
static struct sip_server *srv;
static uint16_t port;
static struct cbar_event last_ev; /* copied: the pointers are not kept */
static char last_ingress[32];
static atomic_int entered, left, inside_bad;
static _Thread_local int inside;

/* enter/leave: balanced per worker, decide() only between them */
static void toy_enter(void *ctx)
{
	(void)ctx;
	if (inside++)
		atomic_fetch_add(&inside_bad, 1);
	atomic_fetch_add(&entered, 1);
}

static void toy_leave(void *ctx)
{
	(void)ctx;
	if (--inside)
		atomic_fetch_add(&inside_bad, 1);
	atomic_fetch_add(&left, 1);
}

/* Blocks calls to +852, allows the rest; "error" for a subscriber +999. */
static enum cbar_decision toy_decide(void *ctx, const struct cbar_event *ev, struct cbar_verdict *v)
{
	(void)ctx;
	if (!inside)
		atomic_fetch_add(&inside_bad, 1);
	last_ev = *ev;
	last_ev.subscriber = last_ev.peer = NULL;
	snprintf(last_ingress, sizeof last_ingress, "%.*s", (int)ev->ingress_len,
	         ev->ingress ? ev->ingress : "");
	*v = (struct cbar_verdict){.rule = -1, .exempted_rule = -1};
	if (ev->peer->cc == 852) {
		v->decision = CBAR_BLOCK;
		v->rule = 0;
		v->file = "/etc/callbar/toy.rules";
		v->line = 7;
		v->reason = "intl-locked";
	}
	return v->decision;
}

static const char invite[] =
	"INVITE sip:+85291234567@gw SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKretrans1\r\n"
	"From: <sip:13805710000@sw>;tag=f1\r\n"
	"To: <sip:+85291234567@gw>\r\n"
	"Call-ID: retrans@test\r\n"
	"CSeq: 1 INVITE\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";

static const char invite_ok[] =
	"INVITE sip:13900000000@gw SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKok1\r\n"
	"From: <sip:13805710000@sw>;tag=f2\r\n"
	"To: <sip:13900000000@gw>\r\n"
	"Call-ID: ok@test\r\n"
	"CSeq: 1 INVITE\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";

static int setup(void **state)
{
	(void)state;
	struct cbar_diag d;
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	struct sip_ingress ing = {.prefix = 8, .name = "loop"};
	struct sockaddr_in *n4 = (void *)&ing.net;
	n4->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.0", &n4->sin_addr);
	struct sip_listener_cfg l = {.transports = SIP_UDP | SIP_TCP, .direction = CBAR_OUT,
	                             .country = cbar_numplan_country(np, "CN", 2),
	                             .ingress = &ing, .ningress = 1};
	struct sockaddr_in *a = (void *)&l.addr;
	a->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
	struct sip_server_cfg cfg = {.listeners = &l, .nlisteners = 1, .workers = 2, .np = np,
	                             .decider = {toy_decide, NULL, toy_enter, toy_leave, NULL, NULL}, .fixed_time = 1655251200,
	                             .ack_filter = true};
	char err[256];
	assert_int_equal(start_srv(&cfg, &srv, err, sizeof err), 0);
	port = cbar_sip_server_port(srv, 0);
	assert_true(port != 0);
	assert_int_equal(cbar_sip_server_workers(srv), 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cbar_sip_server_stop(srv);
	cbar_numplan_free(np);
	return 0;
}

static struct sockaddr_in server_addr(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	return a;
}

/* Receive one datagram, waiting at most 5 s (a lost answer fails, it does
 * not hang). */
static ssize_t recv_one(int fd, char *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 5000) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

static void udp_retransmission(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = server_addr();
	char r1[4096], r2[4096];
	assert_true(sendto(fd, invite, sizeof invite - 1, 0, (void *)&a, sizeof a) > 0);
	ssize_t n1 = recv_one(fd, r1, sizeof r1);
	assert_true(sendto(fd, invite, sizeof invite - 1, 0, (void *)&a, sizeof a) > 0);
	ssize_t n2 = recv_one(fd, r2, sizeof r2);
	assert_true(n1 > 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(r1, r2, (size_t)n1);
	r1[n1] = 0;
	assert_non_null(strstr(r1, "SIP/2.0 403 Forbidden\r\n"));
	assert_non_null(strstr(r1, "\r\nReason: Q.850;cause=21;text=\"intl-locked\"\r\n"));
	assert_non_null(strstr(r1, "\r\nX-Callbar-Rule: toy.rules:7\r\n"));
	assert_int_equal(last_ev.service, CBAR_VOICE);
	close(fd);
}

static void udp_batch(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = server_addr();
	enum { N = 50 };
	char msg[1024], r[4096];
	for (int i = 0; i < N; i++) {
		int len = snprintf(msg, sizeof msg,
		                   "MESSAGE sip:13900000000@gw SIP/2.0\r\n"
		                   "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKb%d\r\n"
		                   "From: <sip:13805710000@sw>;tag=f%d\r\n"
		                   "To: <sip:13900000000@gw>\r\n"
		                   "Call-ID: batch%d@test\r\n"
		                   "CSeq: 1 MESSAGE\r\n"
		                   "Max-Forwards: 70\r\n"
		                   "Content-Length: 2\r\n\r\nhi",
		                   i, i, i);
		assert_true(sendto(fd, msg, (size_t)len, 0, (void *)&a, sizeof a) > 0);
	}
	bool seen[N] = {0};
	for (int i = 0; i < N; i++) {
		ssize_t n = recv_one(fd, r, sizeof r - 1);
		assert_true(n > 0);
		r[n] = 0;
		assert_non_null(strstr(r, "SIP/2.0 302 Moved Temporarily\r\n"));
		assert_non_null(strstr(r, "\r\nContact: <sip:13900000000@gw>\r\n"));
		const char *c = strstr(r, "Call-ID: batch");
		assert_non_null(c);
		int k = atoi(c + 14);
		assert_true(k >= 0 && k < N && !seen[k]);
		seen[k] = true;
	}
	close(fd);
}

static const char ack[] = "ACK sip:+85291234567@gw SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKretrans1\r\n"
                          "From: <sip:13805710000@sw>;tag=f1\r\n"
                          "To: <sip:+85291234567@gw>;tag=x\r\n"
                          "Call-ID: retrans@test\r\n"
                          "CSeq: 1 ACK\r\n"
                          "Max-Forwards: 70\r\n"
                          "Content-Length: 0\r\n\r\n";
static const char options[] = "OPTIONS sip:callbar@gw SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKopt1\r\n"
                              "From: <sip:probe@sw>;tag=p1\r\n"
                              "To: <sip:callbar@gw>\r\n"
                              "Call-ID: options@test\r\n"
                              "CSeq: 1 OPTIONS\r\n"
                              "Max-Forwards: 70\r\n"
                              "Content-Length: 0\r\n\r\n";

/* ACK never reaches a worker over UDP: the socket filter drops it, and the
 * kernel's drop counter says so.  A datagram too short for the filter's
 * 4-byte test passes (the worker drops it), and OPTIONS, sent last on the
 * same socket and so read by the same worker after the others, is answered. */
static void udp_ack_filter(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = server_addr();
	char r[4096];
	assert_true(sendto(fd, ack, sizeof ack - 1, 0, (void *)&a, sizeof a) > 0);
	assert_true(sendto(fd, "\r\n", 2, 0, (void *)&a, sizeof a) > 0);
	assert_true(sendto(fd, options, sizeof options - 1, 0, (void *)&a, sizeof a) > 0);
	ssize_t n = recv_one(fd, r, sizeof r - 1);
	assert_true(n > 0);
	r[n] = 0;
	assert_true(strstr(r, "SIP/2.0 200 OK\r\n") == r);
	/* the kernel counts the ACK when loopback delivers it (a softirq,
	 * maybe on another CPU than the OPTIONS): wait a little for it */
	struct sip_counters c = {0};
	for (int i = 0; i < 100; i++) {
		memset(&c, 0, sizeof c);
		cbar_sip_server_counters(srv, &c);
		if (c.udp_kernel_dropped)
			break;
		usleep(10000);
	}
	assert_int_equal(c.udp_kernel_dropped, 1);
	close(fd);
}

/* Read from a stream until want bytes came (or 5 s passed). */
static size_t read_some(int fd, char *buf, size_t cap, size_t want)
{
	size_t got = 0;
	while (got < want && got < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			break;
		ssize_t n = recv(fd, buf + got, cap - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void tcp_stream(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = server_addr();
	assert_int_equal(connect(fd, (void *)&a, sizeof a), 0);
	char r[8192];
	/* a ping first: answered with CRLF */
	assert_int_equal(send(fd, "\r\n\r\n", 4, 0), 4);
	assert_int_equal(read_some(fd, r, sizeof r, 2), 2);
	assert_memory_equal(r, "\r\n", 2);
	/* two messages in one write, the second cut across two writes */
	char two[2048];
	size_t l1 = sizeof invite_ok - 1, l2 = sizeof invite - 1;
	memcpy(two, invite_ok, l1);
	memcpy(two + l1, invite, l2);
	assert_int_equal(send(fd, two, l1 + 10, 0), (ssize_t)(l1 + 10));
	size_t got = read_some(fd, r, sizeof r - 1, 100);
	assert_int_equal(send(fd, two + l1 + 10, l2 - 10, 0), (ssize_t)(l2 - 10));
	char *end;
	while (!(end = strstr(r, "SIP/2.0 403")) || !strstr(end, "Content-Length: 0\r\n\r\n")) {
		r[got] = 0;
		size_t more = read_some(fd, r + got, sizeof r - 1 - got, 1);
		assert_true(more > 0);
		got += more;
		r[got] = 0;
	}
	assert_true(strstr(r, "SIP/2.0 302 Moved Temporarily\r\n") == r);
	assert_non_null(strstr(r, "Call-ID: ok@test\r\n"));
	assert_non_null(strstr(r, "Call-ID: retrans@test\r\n"));
	close(fd);
}

static void counters(void **state)
{
	(void)state;
	struct sip_counters c = {0};
	/* the workers publish after each wake-up: the last one may lag a bit */
	for (int i = 0; i < 100; i++) {
		memset(&c, 0, sizeof c);
		cbar_sip_server_counters(srv, &c);
		if (c.tcp_closed >= 1)
			break;
		usleep(10000);
	}
	/* UDP: 2 INVITEs, 50 MESSAGEs, a keep-alive and OPTIONS (not the ACK);
	 * TCP: 2 INVITEs */
	assert_int_equal(c.received, 2 + 50 + 2 + 2);
	assert_int_equal(c.answered[SIP_ST_200], 1);
	assert_int_equal(c.dropped, 1);
	assert_int_equal(c.udp_kernel_dropped, 1);
	assert_int_equal(c.answered[SIP_ST_403], 3);
	assert_int_equal(c.answered[SIP_ST_302], 51);
	assert_int_equal(c.decisions[CBAR_BLOCK], 3);
	assert_int_equal(c.decisions[CBAR_ALLOW], 51);
	assert_int_equal(c.tcp_pings, 1);
	assert_int_equal(c.tcp_accepted, 1);
	assert_int_equal(c.tcp_closed, 1);
	assert_int_equal(c.parse_errors, 1); /* the 2-byte datagram, dropped as junk */
	/* the last event: at the fixed time, voice, out, from the loopback class */
	assert_int_equal(last_ev.time, 1655251200);
	assert_int_equal(last_ev.direction, CBAR_OUT);
	assert_string_equal(last_ingress, "loop");
	assert_true(atomic_load(&entered) > 0);
	assert_int_equal(atomic_load(&entered), atomic_load(&left));
	assert_int_equal(atomic_load(&inside_bad), 0);
}

/* A one-worker server of its own on 127.0.0.1 (port in *a), with cfg's
 * decider (the toy one when it has none), transports, filter and idle
 * limit. */
static struct sip_server *own_server_allow(unsigned transports, struct sip_server_cfg cfg,
                                           const char *allow, struct sockaddr_in *a)
{
	struct sip_listener_cfg l = {.transports = transports, .direction = CBAR_OUT,
	                             .country = cbar_numplan_country(np, "CN", 2)};
	for (const char *p = allow; p && *p; l.nallow++) {
		size_t n = strcspn(p, ",");
		assert_int_equal(cbar__cidr_parse(p, n, &l.allow[l.nallow]), CBAR_OK);
		p += n + (p[n] == ',');
	}
	struct sockaddr_in *a4 = (void *)&l.addr;
	a4->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a4->sin_addr);
	cfg.listeners = &l;
	cfg.nlisteners = 1;
	cfg.workers = 1;
	cfg.np = np;
	if (!cfg.decider.decide)
		cfg.decider =
		    (struct sip_decider){toy_decide, NULL, toy_enter, toy_leave, NULL, NULL};
	struct sip_server *s2;
	char err[256];
	assert_int_equal(start_srv(&cfg, &s2, err, sizeof err), 0);
	*a = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(cbar_sip_server_port(s2, 0))};
	inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
	return s2;
}

static struct sip_server *own_server(unsigned transports, struct sip_server_cfg cfg,
                                     struct sockaddr_in *a)
{
	return own_server_allow(transports, cfg, NULL, a);
}

/* A server of its own with a 2-second TCP idle limit: a silent connection is
 * closed by it, one that pings every 200 ms meanwhile is not. */
static void tcp_idle(void **state)
{
	(void)state;
	struct sockaddr_in a;
	struct sip_server *s2 = own_server(SIP_TCP, (struct sip_server_cfg){.tcp_idle_s = 2}, &a);
	char r[16];
	int quiet = socket(AF_INET, SOCK_STREAM, 0), busy = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(quiet, (void *)&a, sizeof a), 0);
	assert_int_equal(connect(busy, (void *)&a, sizeof a), 0);
	bool quiet_closed = false;
	for (int i = 0; i < 25 && !quiet_closed; i++) { /* 5 s at most */
		assert_int_equal(send(busy, "\r\n\r\n", 4, 0), 4);
		assert_int_equal(read_some(busy, r, sizeof r, 2), 2); /* the pong */
		struct pollfd p = {.fd = quiet, .events = POLLIN};
		if (poll(&p, 1, 200) == 1)
			quiet_closed = recv(quiet, r, sizeof r, 0) == 0;
	}
	assert_true(quiet_closed);
	/* the busy one still answers */
	assert_int_equal(send(busy, "\r\n\r\n", 4, 0), 4);
	assert_int_equal(read_some(busy, r, sizeof r, 2), 2);
	struct sip_counters c = {0};
	cbar_sip_server_counters(s2, &c);
	assert_int_equal(c.tcp_accepted, 2);
	assert_int_equal(c.tcp_idle_closed, 1);
	close(quiet);
	close(busy);
	cbar_sip_server_stop(s2);
}

/* decide_many: the worker's enter() holds the first batch (one datagram)
 * until the test has queued 40 more, so the next recvmmsg() reads 32 at
 * once and their INVITEs come to decide_many() in one call, in the order
 * sent; every answer is what toy_decide() gives for its INVITE. */
static atomic_bool gate_closed, gate_waiting;
static atomic_int many_calls, many_max, many_events, many_order_bad;
static atomic_int one_calls;

static void gate_enter(void *ctx)
{
	toy_enter(ctx);
	if (atomic_load(&gate_closed)) {
		atomic_store(&gate_waiting, true);
		while (atomic_load(&gate_closed))
			usleep(1000);
	}
}

static enum cbar_decision count_decide(void *ctx, const struct cbar_event *ev,
                                       struct cbar_verdict *v)
{
	atomic_fetch_add(&one_calls, 1);
	return toy_decide(ctx, ev, v);
}

static void toy_decide_many(void *ctx, const struct cbar_event *const *ev, size_t n,
                            struct cbar_verdict *v)
{
	atomic_fetch_add(&many_calls, 1);
	atomic_fetch_add(&many_events, (int)n);
	if ((int)n > atomic_load(&many_max))
		atomic_store(&many_max, (int)n);
	for (size_t i = 0; i < n; i++) {
		/* the peers end in the datagrams' numbers, sent in order */
		if (i && ev[i]->peer->e164 % 10000 <= ev[i - 1]->peer->e164 % 10000)
			atomic_fetch_add(&many_order_bad, 1);
		toy_decide(ctx, ev[i], &v[i]);
	}
}

static void udp_decide_many(void **state)
{
	(void)state;
	struct sockaddr_in a;
	struct sip_server_cfg cfg = {
	    .decider = {count_decide, NULL, gate_enter, toy_leave, NULL, toy_decide_many}};
	struct sip_server *s2 = own_server(SIP_UDP, cfg, &a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	enum { N = 41 };
	char msg[1024], r[4096];
	atomic_store(&gate_closed, true);
	for (int i = 0; i < N; i++) {
		/* even: to Hong Kong (403), odd: at home (302) */
		int len = snprintf(msg, sizeof msg,
		                   "INVITE sip:%s%04d@gw SIP/2.0\r\n"
		                   "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKm%d\r\n"
		                   "From: <sip:13805710000@sw>;tag=f%d\r\n"
		                   "To: <sip:x@gw>\r\n"
		                   "Call-ID: many%d@test\r\n"
		                   "CSeq: 1 INVITE\r\n"
		                   "Max-Forwards: 70\r\n"
		                   "Content-Length: 0\r\n\r\n",
		                   i % 2 ? "1390000" : "+8529123", i, i, i, i);
		assert_true(sendto(fd, msg, (size_t)len, 0, (void *)&a, sizeof a) > 0);
		for (int k = 0; !i && k < 5000 && !atomic_load(&gate_waiting); k++)
			usleep(1000); /* the worker holds the first one (5 s at most) */
		if (!i)
			assert_true(atomic_load(&gate_waiting));
	}
	atomic_store(&gate_closed, false);
	bool seen[N] = {0};
	for (int i = 0; i < N; i++) {
		ssize_t n = recv_one(fd, r, sizeof r - 1);
		assert_true(n > 0);
		r[n] = 0;
		const char *c = strstr(r, "Call-ID: many");
		assert_non_null(c);
		int k = atoi(c + 13);
		assert_true(k >= 0 && k < N && !seen[k]);
		seen[k] = true;
		assert_non_null(strstr(r, k % 2 ? "SIP/2.0 302 Moved Temporarily\r\n"
		                                : "SIP/2.0 403 Forbidden\r\n"));
		if (!(k % 2))
			assert_non_null(strstr(r, "\r\nX-Callbar-Rule: toy.rules:7\r\n"));
	}
	assert_int_equal(atomic_load(&many_events), N);
	assert_int_equal(atomic_load(&many_max), 32);  /* UDP_BATCH */
	assert_int_equal(atomic_load(&many_calls), 3); /* 1, 32, 8 */
	assert_int_equal(atomic_load(&many_order_bad), 0);
	assert_int_equal(atomic_load(&one_calls), 0);
	close(fd);
	cbar_sip_server_stop(s2);
}

/* With the filter off (sip.ack_filter = false) the ACK reaches a worker,
 * which absorbs it: counted as received and dropped, not by the kernel. */
static void ack_unfiltered(void **state)
{
	(void)state;
	struct sockaddr_in a;
	struct sip_server *s2 = own_server(SIP_UDP, (struct sip_server_cfg){.ack_filter = false}, &a);
	char r[4096];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(sendto(fd, ack, sizeof ack - 1, 0, (void *)&a, sizeof a) > 0);
	assert_true(sendto(fd, options, sizeof options - 1, 0, (void *)&a, sizeof a) > 0);
	assert_true(recv_one(fd, r, sizeof r) > 0); /* OPTIONS: read after the ACK */
	struct sip_counters c = {0};
	for (int i = 0; i < 100 && c.received < 2; i++) { /* published after the batch */
		memset(&c, 0, sizeof c);
		cbar_sip_server_counters(s2, &c);
		if (c.received < 2)
			usleep(10000);
	}
	assert_int_equal(c.received, 2);
	assert_int_equal(c.dropped, 1);
	assert_int_equal(c.udp_kernel_dropped, 0);
	close(fd);
	cbar_sip_server_stop(s2);
}

/* cbar_sip_listener_spec(): every option, the defaults, and each error with the
 * byte offset of the word at fault. */
static void listener_spec(void **state)
{
	(void)state;
	struct sip_listener_cfg l;
	struct sip_ingress ing[3];
	size_t ning = 0, at = 99;
	char err[160];
	const char *s = "  10.0.0.1:5070\tdirection=in transport=tcp subscriber=ruri,to,pai "
	                "peer=from via=10.1.0.0/16=gw via=10.2.0.0/16=core block=603 fail=302 roaming=yes";
	assert_true(spec_ok(s, strlen(s), &l, ing, 3, &ning, err, sizeof err, &at));
	assert_int_equal(l.addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)(void *)&l.addr)->sin_port), 5070);
	assert_int_equal(l.direction, CBAR_IN);
	assert_int_equal(l.transports, SIP_TCP);
	assert_int_equal(l.nsub, 3);
	assert_int_equal(l.sub_src[0], CBAR_SIP_SRC_RURI);
	assert_int_equal(l.sub_src[1], CBAR_SIP_SRC_TO);
	assert_int_equal(l.sub_src[2], CBAR_SIP_SRC_PAI);
	assert_int_equal(l.npeer, 1);
	assert_int_equal(l.peer_src[0], CBAR_SIP_SRC_FROM);
	assert_int_equal(ning, 2);
	assert_ptr_equal(l.ingress, ing);
	assert_int_equal(l.ningress, 2);
	assert_string_equal(ing[1].name, "core");
	assert_int_equal(l.block_status, 603);
	assert_true(l.fail_open);
	assert_int_equal(l.given, SIP_GIVEN_BLOCK | SIP_GIVEN_FAIL);
	assert_int_equal(l.roaming, CBAR_ROAMING_YES);
	/* the address alone: out, UDP and TCP, default sources, no via */
	assert_true(spec_ok("[::1]:5060", 10, &l, ing, 3, &ning, err, sizeof err, &at));
	assert_int_equal(l.addr.ss_family, AF_INET6);
	assert_int_equal(l.direction, CBAR_OUT);
	assert_int_equal(l.transports, SIP_UDP | SIP_TCP);
	assert_int_equal(l.nsub + l.npeer, 0);
	assert_null(l.ingress);
	assert_int_equal(l.given, 0);
	assert_int_equal(l.roaming, CBAR_ROAMING_UNKNOWN);
	assert_int_equal(l.nallow, 0);
	/* allow=: comma lists, repeatable, adding up to SIP_ALLOW_MAX */
	const char *al = "10.0.0.5:5060 allow=10.0.0.0/8,192.0.2.1 transport=udp allow=2001:db8::/32";
	assert_true(spec_ok(al, strlen(al), &l, ing, 3, &ning, err, sizeof err, &at));
	assert_int_equal(l.nallow, 3);
	assert_int_equal(l.allow[0].bits, 8);
	assert_int_equal(l.allow[1].bits, 32);
	assert_int_equal(l.allow[2].family, AF_INET6);
	char many[2048] = "10.0.0.5:5060";
	for (int i = 0; i <= SIP_ALLOW_MAX; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), " allow=10.0.%d.0/24", i);
	assert_false(spec_ok(many, strlen(many), &l, ing, 3, &ning, err, sizeof err, &at));
	assert_non_null(strstr(err, "allow: more than 32 networks"));
	assert_int_equal(at, strlen(many) - strlen("allow=10.0.32.0/24"));
	static const struct {
		const char *spec;
		size_t at;
		const char *msg;
	} bad[] = {
		{"", 0, "empty"},
		{"   ", 0, "empty"},
		{"host:5060", 0, "not a numeric ADDR:PORT"},
		{"1.2.3.4:5 direction=sideways", 10, "direction: want out or in"},
		{"1.2.3.4:5 transport=sctp", 10, "transport: want udp"},
		{"1.2.3.4:5 subscriber=", 10, "subscriber: want"},
		{"1.2.3.4:5 peer=from,from", 10, "peer: want"},
		{"1.2.3.4:5 peer=ruri,to,from,pai,ruri", 10, "peer: want"},
		{"1.2.3.4:5 peer=ruri,", 10, "peer: want"},
		{"1.2.3.4:5 via=10.0.0.0/33=x", 10, "via: want CIDR=NAME"},
		{"1.2.3.4:5 via=1.0.0.0/8=a via=2.0.0.0/8=b", 26, "via: more than 3"},
		{"1.2.3.4:5 direction=in direction=out", 23, "'direction' given twice"},
		{"1.2.3.4:5 colour=blue", 10, "unknown option 'colour'"},
		{"1.2.3.4:5 in", 10, "want NAME=VALUE"},
		{"1.2.3.4:5 block=404", 10, "block: want 403, 603 or annc"},
		{"1.2.3.4:5 fail=200", 10, "fail: want 302 or 500"},
		{"1.2.3.4:5 fail=302 fail=500", 19, "'fail' given twice"},
		{"1.2.3.4:5 roaming=maybe", 10, "roaming: want yes or no"},
		{"1.2.3.4:5 allow=", 10, "allow: want CIDR"},
		{"1.2.3.4:5 allow=10.0.0.1/8", 10, "allow: '10.0.0.1/8' is not a network"},
		{"1.2.3.4:5 allow=10.0.0.0/8,,1.2.3.4", 10, "allow: '' is not a network"},
		{"1.2.3.4:5 allow=10.0.0.0/8,", 10, "allow: '' is not a network"},
		{"1.2.3.4:5 allow=gw.example", 10, "is not a network"},
		{"1.2.3.4:5 allow=::/129", 10, "is not a network"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ning = 2; /* two taken: room for one more via */
		err[0] = 0;
		bool ok = spec_ok(bad[i].spec, strlen(bad[i].spec), &l, ing, 3, &ning, err,
		                            sizeof err, &at);
		if (ok || at != bad[i].at || !strstr(err, bad[i].msg))
			fail_msg("'%s': ok %d at %zu err '%s'", bad[i].spec, ok, at, err);
	}
}

/* Try a server of its own on host:p; 0 when it started (then stopped at
 * once), else -1 with the message in err. */
static int try_start(const char *host, uint16_t p, unsigned transports, char *err, size_t cap)
{
	struct sip_listener_cfg l = {.transports = transports, .direction = CBAR_OUT,
	                             .country = cbar_numplan_country(np, "CN", 2)};
	struct sockaddr_in *a4 = (void *)&l.addr;
	a4->sin_family = AF_INET;
	a4->sin_port = htons(p);
	inet_pton(AF_INET, host, &a4->sin_addr);
	struct sip_server_cfg cfg = {.listeners = &l, .nlisteners = 1, .workers = 2, .np = np,
	                             .decider = {toy_decide, NULL, toy_enter, toy_leave, NULL, NULL}};
	struct sip_server *s2;
	err[0] = 0;
	if (start_srv(&cfg, &s2, err, cap))
		return -1;
	cbar_sip_server_stop(s2);
	return 0;
}

/* A plain socket (no SO_REUSEPORT) of type bound to host:0, listening when
 * TCP; its port in *p. */
static int hold(int type, const char *host, uint16_t *p)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, host, &a.sin_addr);
	assert_int_equal(bind(fd, (void *)&a, sizeof a), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	socklen_t al = sizeof a;
	getsockname(fd, (void *)&a, &al);
	*p = ntohs(a.sin_port);
	return fd;
}

/*
 * A port another socket holds stops the start with "address in use" and
 * the address: a second server (SO_REUSEPORT, as a second callbar would
 * be; the kernel used to share the port and split the calls), a plain UDP
 * socket, a plain TCP listener, a socket on the wildcard address.  A port
 * nobody holds works, and so does port 0 with two workers.
 */
static void port_clash(void **state)
{
	(void)state;
	char err[256], want[64];
	assert_int_equal(try_start("127.0.0.1", port, SIP_UDP | SIP_TCP, err, sizeof err), -1);
	snprintf(want, sizeof want, "127.0.0.1:%u", port);
	if (!strstr(err, "address in use") || !strstr(err, want))
		fail_msg("err '%s'", err);
	/* each transport on its own */
	assert_int_equal(try_start("127.0.0.1", port, SIP_UDP, err, sizeof err), -1);
	assert_non_null(strstr(err, "UDP"));
	assert_int_equal(try_start("127.0.0.1", port, SIP_TCP, err, sizeof err), -1);
	assert_non_null(strstr(err, "TCP"));
	uint16_t p;
	int fd = hold(SOCK_DGRAM, "127.0.0.1", &p);
	assert_int_equal(try_start("127.0.0.1", p, SIP_UDP | SIP_TCP, err, sizeof err), -1);
	assert_non_null(strstr(err, "address in use"));
	close(fd);
	/* free again (UDP alone: the same TCP port may be anyone's) */
	assert_int_equal(try_start("127.0.0.1", p, SIP_UDP, err, sizeof err), 0);
	fd = hold(SOCK_STREAM, "127.0.0.1", &p);
	assert_int_equal(try_start("127.0.0.1", p, SIP_TCP, err, sizeof err), -1);
	assert_non_null(strstr(err, "address in use"));
	close(fd);
	fd = hold(SOCK_DGRAM, "0.0.0.0", &p);
	assert_int_equal(try_start("127.0.0.1", p, SIP_UDP, err, sizeof err), -1);
	assert_non_null(strstr(err, "address in use"));
	close(fd);
	assert_int_equal(try_start("127.0.0.1", 0, SIP_UDP | SIP_TCP, err, sizeof err), 0);
}

/* A socket of type bound to the loopback address from (127.0.0.2 and the
 * like exist on lo without any set-up). */
static int sock_from(int type, const char *from)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in b = {.sin_family = AF_INET};
	inet_pton(AF_INET, from, &b.sin_addr);
	assert_int_equal(bind(fd, (void *)&b, sizeof b), 0);
	return fd;
}

/* The server's counters once cond holds of them (published after each
 * batch or event), waiting 5 s at most. */
#define COUNTERS_WHEN(s, c, cond)                                                          \
	do {                                                                               \
		for (int i_ = 0; i_ < 500; i_++) {                                         \
			memset(&(c), 0, sizeof(c));                                        \
			cbar_sip_server_counters((s), &(c));                                    \
			if (cond)                                                          \
				break;                                                     \
			usleep(10000);                                                     \
		}                                                                          \
	} while (0)

/* cbar__cidr_parse() and cbar__cidr_match(): IPv4, IPv6, mapped, strict. */
static void cidr(void **state)
{
	(void)state;
	struct cbar__cidr c[3];
	assert_int_equal(cbar__cidr_parse("10.0.0.0/8", 10, &c[0]), CBAR_OK);
	assert_int_equal(cbar__cidr_parse("2001:db8::/32", 13, &c[1]), CBAR_OK);
	assert_int_equal(cbar__cidr_parse("192.0.2.1", 9, &c[2]), CBAR_OK);
	assert_int_equal(c[2].bits, 32);
	static const char *const bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8",
	                                  "10.0.0.0/8x", "10.0.0.0/0008", "2001:db8::1/32",
	                                  "::/129", "gw.example/8", "10.0.0.0 /8"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cbar__cidr_parse(bad[i], strlen(bad[i]), &c[0]) != CBAR_ADDR)
			fail_msg("'%s' parsed", bad[i]);
	assert_int_equal(cbar__cidr_parse("10.0.0.0/8", 10, &c[0]), CBAR_OK);
	static const struct {
		const char *addr;
		bool in;
	} cases[] = {
		{"10.255.1.2", true},  {"11.0.0.0", false},     {"192.0.2.1", true},
		{"192.0.2.2", false},  {"2001:db8:ffff::1", true}, {"2001:db9::1", false},
		{"::ffff:10.1.2.3", true}, {"::ffff:11.1.2.3", false}, {"::a00:1", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss = {0};
		socklen_t sl;
		char buf[80];
		snprintf(buf, sizeof buf, strchr(cases[i].addr, ':') ? "[%s]:1" : "%s:1",
		         cases[i].addr);
		assert_int_equal(cbar__addr_parse(buf, strlen(buf), &ss, &sl), CBAR_OK);
		if (cbar__cidr_match(c, 3, (struct sockaddr *)&ss) != cases[i].in)
			fail_msg("%s: want %d", cases[i].addr, cases[i].in);
	}
	struct cbar__cidr all;
	assert_int_equal(cbar__cidr_parse("0.0.0.0/0", 9, &all), CBAR_OK);
	struct sockaddr_in any4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x01020304)};
	assert_true(cbar__cidr_match(&all, 1, (struct sockaddr *)&any4));
}

/*
 * allow=127.0.0.1/32: a request from 127.0.0.1 is answered, over UDP and
 * TCP; from 127.0.0.2 a datagram gets nothing (counted udp_refused_source)
 * and a connection is closed at once (tcp_refused_not_allowed).  One
 * worker, the refused datagram sent first: when the allowed one's answer
 * is in, the refused one has been read.
 */
static void allow_list(void **state)
{
	(void)state;
	struct sockaddr_in a;
	struct sip_server *s2 = own_server_allow(SIP_UDP | SIP_TCP, (struct sip_server_cfg){0},
	                                         "10.0.0.0/8,127.0.0.1/32", &a);
	char r[4096];
	int bad = sock_from(SOCK_DGRAM, "127.0.0.2"), good = sock_from(SOCK_DGRAM, "127.0.0.1");
	assert_true(sendto(bad, options, sizeof options - 1, 0, (void *)&a, sizeof a) > 0);
	assert_true(sendto(good, options, sizeof options - 1, 0, (void *)&a, sizeof a) > 0);
	ssize_t n = recv_one(good, r, sizeof r - 1);
	assert_true(n > 0);
	r[n] = 0;
	assert_non_null(strstr(r, "SIP/2.0 200 OK\r\n"));
	assert_int_equal(recv(bad, r, sizeof r, MSG_DONTWAIT), -1);
	struct sip_counters c;
	COUNTERS_WHEN(s2, c, c.udp_refused_source == 1 && c.received == 1);
	assert_int_equal(c.udp_refused_source, 1);
	assert_int_equal(c.received, 1);
	assert_int_equal(c.answered[SIP_ST_200], 1);
	close(bad);
	close(good);
	/* TCP */
	bad = sock_from(SOCK_STREAM, "127.0.0.2");
	good = sock_from(SOCK_STREAM, "127.0.0.1");
	assert_int_equal(connect(bad, (void *)&a, sizeof a), 0);
	assert_int_equal(connect(good, (void *)&a, sizeof a), 0);
	assert_int_equal(send(good, "\r\n\r\n", 4, 0), 4);
	assert_int_equal(read_some(good, r, sizeof r, 2), 2);
	struct pollfd p = {.fd = bad, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(recv(bad, r, sizeof r, 0) <= 0); /* closed */
	COUNTERS_WHEN(s2, c, c.tcp_refused_not_allowed == 1);
	assert_int_equal(c.tcp_refused_not_allowed, 1);
	assert_int_equal(c.tcp_accepted, 1);
	close(bad);
	close(good);
	cbar_sip_server_stop(s2);
}

/* Whether the connection fd is answered (a ping gets its CRLF) or was
 * closed by the server (end of stream or reset). */
static bool pong(int fd)
{
	char r[8];
	if (send(fd, "\r\n\r\n", 4, MSG_NOSIGNAL) != 4)
		return false;
	return read_some(fd, r, sizeof r, 2) == 2 && !memcmp(r, "\r\n", 2);
}

static int tcp_from(const char *from, const struct sockaddr_in *a)
{
	int fd = sock_from(SOCK_STREAM, from);
	assert_int_equal(connect(fd, (const void *)a, sizeof *a), 0);
	return fd;
}

/*
 * Three connections at most per source, five in all, two workers: the
 * fourth from 127.0.0.1 is closed at once, 127.0.0.2 still gets two, the
 * sixth in all (from 127.0.0.3) is closed; when one of 127.0.0.1's
 * closes, it may open another; decisions over UDP and TCP still answer.
 */
static void tcp_limits(void **state)
{
	(void)state;
	struct sockaddr_in a;
	struct sip_server *s2 =
		own_server_allow(SIP_UDP | SIP_TCP,
		                 (struct sip_server_cfg){.workers = 2, .tcp_per_source = 3, .tcp_max = 5},
		                 NULL, &a);
	int one[4], two[2];
	for (int i = 0; i < 3; i++) {
		one[i] = tcp_from("127.0.0.1", &a);
		assert_true(pong(one[i]));
	}
	one[3] = tcp_from("127.0.0.1", &a);
	assert_false(pong(one[3]));
	for (int i = 0; i < 2; i++) {
		two[i] = tcp_from("127.0.0.2", &a);
		assert_true(pong(two[i]));
	}
	int three = tcp_from("127.0.0.3", &a);
	assert_false(pong(three));
	struct sip_counters c;
	COUNTERS_WHEN(s2, c, c.tcp_refused_per_source == 1 && c.tcp_refused_full == 1);
	assert_int_equal(c.tcp_refused_per_source, 1);
	assert_int_equal(c.tcp_refused_full, 1);
	assert_int_equal(c.tcp_accepted, 5);
	/* a decision over TCP on a held connection, and over UDP */
	char r[4096];
	assert_int_equal(send(two[0], invite_ok, sizeof invite_ok - 1, 0), (ssize_t)sizeof invite_ok - 1);
	size_t n = read_some(two[0], r, sizeof r - 1, 20);
	r[n] = 0;
	assert_non_null(strstr(r, "SIP/2.0 302 "));
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(sendto(u, invite, sizeof invite - 1, 0, (void *)&a, sizeof a) > 0);
	assert_true(recv_one(u, r, sizeof r) > 0);
	assert_non_null(strstr(r, "SIP/2.0 403 "));
	close(u);
	/* one of 127.0.0.1's goes: its place is free again */
	close(one[0]);
	COUNTERS_WHEN(s2, c, c.tcp_closed == 1); /* refused ones were never accepted */
	assert_int_equal(c.tcp_closed, 1);
	one[0] = tcp_from("127.0.0.1", &a);
	assert_true(pong(one[0]));
	for (int i = 0; i < 4; i++)
		close(one[i]);
	close(two[0]);
	close(two[1]);
	close(three);
	cbar_sip_server_stop(s2);
}

/* cbar__fd_limit_raise(): the soft limit up to the hard one. */
static void fd_limit(void **state)
{
	(void)state;
	struct rlimit rl, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= 512)
		skip();
	low = (struct rlimit){.rlim_cur = 512, .rlim_max = rl.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	unsigned long n = cbar__fd_limit_raise();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &low), 0);
	assert_true(low.rlim_cur == rl.rlim_max);
	assert_true(n == (rl.rlim_max == RLIM_INFINITY ? (unsigned long)-1 : rl.rlim_max));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_retransmission),
		cmocka_unit_test(udp_batch),
		cmocka_unit_test(udp_decide_many),
		cmocka_unit_test(udp_ack_filter),
		cmocka_unit_test(tcp_stream),
		cmocka_unit_test(counters),
		cmocka_unit_test(listener_spec),
		cmocka_unit_test(tcp_idle),
		cmocka_unit_test(ack_unfiltered),
		cmocka_unit_test(port_clash),
		cmocka_unit_test(cidr),
		cmocka_unit_test(allow_list),
		cmocka_unit_test(tcp_limits),
		cmocka_unit_test(fd_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
