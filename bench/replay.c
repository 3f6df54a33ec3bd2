/*
 * callbar benchmark: a synthetic day replayed through callbar serve nodes
 * over HTTP and SIP (bench/replay.sh starts everything and runs this).
 *
 *   replay registered N SEED SEGMENTS      the registered set, as CSV for
 *                                          `callbar import --map`
 *   replay run OPTIONS                     the day (options: usage())
 *
 * The sender is C so that it is not the bottleneck: one thread, epoll,
 * keep-alive HTTP connections to every node (one request in flight on
 * each) and one UDP socket for SIP; a second thread makes the peak hour's
 * registrations and the rule reload with blocking requests, so that a
 * registry write (milliseconds, fsync) never holds the decisions back.
 *
 * The day: 24 hours compressed to HOUR_MS each, each hour's rate the peak
 * rate times the hour's weight (low at 04:00, peaks at 10:00 and 20:00),
 * Poisson arrivals.  An event is a call (voice) or a text (sms), out or
 * in, to a peer at home or abroad, for a subscriber drawn from the
 * registered set or at random over every mobile block of the numbering
 * plan; it goes to a random node, by HTTP (POST /v1/decide, bearer token)
 * or by SIP (an INVITE for a call, a MESSAGE for a text, to the node's
 * listener of that direction; 302 is allow, 403 block, anything else an
 * error).  Latency is from the request's send to its answer; an event
 * that could not be sent on time (every connection to its node busy)
 * waits in the node's queue, and the wait is counted as "late".
 *
 * At the peak hour (10:00): REGS registrations (PUT /v1/unlocks on the
 * nodes in turn) of Zhejiang CMCC lines, whose texts from abroad the
 * pilots' policy bars unless unlocked, and, half way, one rule reload on
 * every node.  Before the day each of those lines must be barred on every
 * node; after it, allowed on every node over HTTP and over SIP: a check,
 * whose failure is the exit status 1, as is any error.
 *
 * Output: one line an hour, the peak hour and the windows of one front
 * alone (--solo-s) in detail, and lines 'FIGURE name value'
 * (BENCHMARKS.md, docs/capacity.md).  CPU per
 * decision: each node's utime + stime (/proc/PID/stat) over the window,
 * divided by the decisions it answered in it.
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NODES     3
#define CONNS_MAX 64
#define REGS_MAX  1000

enum front { F_HTTP, F_SIP, F_FRONTS };
enum result { R_PENDING, R_ALLOW, R_BLOCK, R_ERROR };
static const char *front_name[F_FRONTS] = {"http", "sip"};

/* Hour weights of the day, the share of the peak hour's rate. */
static const double weight[24] = {0.30, 0.20, 0.14, 0.11, 0.10, 0.14, 0.28, 0.52,
                                  0.78, 0.94, 1.00, 0.96, 0.86, 0.84, 0.88, 0.90,
                                  0.88, 0.84, 0.86, 0.93, 0.98, 0.84, 0.64, 0.44};
#define PEAK_HOUR 10

struct ev {
	uint64_t t_send; /* ns, monotonic; 0 while queued */
	uint64_t t_due;
	uint32_t lat_us;
	uint8_t phase, front, node, result;
	uint8_t service, direction, intl, registered;
	uint64_t subscriber, peer; /* E.164 digits */
};

struct conn {
	int fd;
	int node;
	int64_t ev; /* in flight, or -1 */
	char in[4096];
	size_t len;
};

struct node {
	int http_port, sip_out, sip_in;
	int pid;
	int64_t *queue; /* events waiting for a free connection */
	size_t qhead, qtail, qcap;
};

/* A phase: the day's hours, then optional single-front windows. */
struct phase {
	const char *name;
	double seconds, rate;
	int front; /* -1 mixed, else F_HTTP or F_SIP */
	uint64_t t0, t1;
	long cpu0[NODES], cpu1[NODES], self0, self1;
	double load0, load1;
};

static struct {
	struct node node[NODES];
	int conns;
	const char *token;
	const char *rules;
	uint32_t *seg;
	size_t nseg;
	uint32_t *zj;
	size_t nzj;
	size_t registered;
	uint64_t seed;
	double peak;
	double hour_s;
	double sip_share;
	size_t regs;
	double solo_s;
	int ep;
	int udp;
	int udp_port;
	struct ev *ev;
	size_t nev, evcap;
	size_t late;
	size_t lost;
	size_t acks; /* ACKs sent for INVITEs answered 3xx-6xx */
} R;

struct reg {
	uint64_t number;
	int node;
	int status;
	double ms;
};

static struct reg regs[REGS_MAX];
static int reload_status[NODES];
static char reload_answer[NODES][160];

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15u;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 32;
	return x;
}

static double unit(uint64_t *s)
{
	return (double)(bench_xorshift(s) >> 11) / 9007199254740992.0;
}

/* The k-th line of the registered set: a mobile of a random block. */
static uint64_t registered_number(size_t k)
{
	uint64_t r = mix(R.seed * 0x9e3779b97f4a7c15u + k + 1);
	return 8600000000000ull + (uint64_t)R.seg[r % R.nseg] * 10000u + (r >> 40) % 10000u;
}

static uint64_t random_mobile(uint64_t *s)
{
	uint64_t r = bench_xorshift(s);
	return 8600000000000ull + (uint64_t)R.seg[r % R.nseg] * 10000u + (r >> 40) % 10000u;
}

/* Peers abroad: a country code and a national number of its length. */
static const struct {
	uint16_t cc;
	uint64_t first, span;
} abroad[] = {
    {852, 51000000, 48000000},   {853, 62000000, 6000000},     {886, 900000000, 99999999},
    {1, 2012000000, 7000000000}, {44, 7400000000, 599999999},  {81, 9000000000, 999999999},
    {63, 9050000000, 949999999}, {60, 120000000, 79999999},    {65, 81000000, 17999999},
    {61, 400000000, 99999999},   {49, 15100000000, 999999999}, {7, 9000000000, 999999999},
    {971, 500000000, 99999999},  {234, 8030000000, 999999999}, {880, 1700000000, 99999999},
};

static size_t load_list(const char *path, uint32_t **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(path);
	size_t n = 0, cap = 1024;
	uint32_t *v = malloc(cap * sizeof *v);
	char line[64];
	while (fgets(line, sizeof line, f)) {
		if (line[0] < '0' || line[0] > '9')
			continue;
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[n++] = (uint32_t)strtoul(line, NULL, 10);
	}
	fclose(f);
	if (!n) {
		fprintf(stderr, "replay: %s: no segments\n", path);
		exit(2);
	}
	*out = v;
	return n;
}

static long proc_cpu(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* After the command's closing parenthesis: fields 3 on; utime and
	 * stime are fields 14 and 15. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static double loadavg(void)
{
	double l = 0;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = 0;
		fclose(f);
	}
	return l;
}

/* ---- one blocking HTTP request (the admin thread, the checks) ---------- */

static int http_once(int port, const char *method, const char *path, const char *body, char *ans,
                     size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {.tv_sec = 20};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	char req[1024];
	size_t bl = body ? strlen(body) : 0;
	int n = snprintf(req, sizeof req,
	                 "%s %s HTTP/1.1\r\nHost: replay\r\nAuthorization: Bearer %s\r\n"
	                 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n%s",
	                 method, path, R.token, bl, body ? body : "");
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t len = 0;
	ssize_t k;
	while (len < cap - 1 && (k = read(fd, ans + len, cap - 1 - len)) > 0)
		len += (size_t)k;
	ans[len] = 0;
	close(fd);
	int status = 0;
	if (sscanf(ans, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	char *b = strstr(ans, "\r\n\r\n");
	if (b)
		memmove(ans, b + 4, strlen(b + 4) + 1);
	return status;
}

/* A text from Hong Kong to the subscriber, decided by one node over HTTP:
 * 1 allow, 0 block, -1 anything else. */
static int http_verdict(int node, uint64_t sub)
{
	char body[256], ans[2048];
	snprintf(body, sizeof body,
	         "{\"service\":\"sms\",\"direction\":\"in\",\"subscriber\":\"+%llu\","
	         "\"peer\":\"+85291234567\"}",
	         (unsigned long long)sub);
	int st = http_once(R.node[node].http_port, "POST", "/v1/decide", body, ans, sizeof ans);
	if (st != 200)
		return -1;
	if (strstr(ans, "\"verdict\":\"allow\""))
		return 1;
	if (strstr(ans, "\"verdict\":\"block\""))
		return 0;
	return -1;
}

/* The same over SIP: a MESSAGE to the node's incoming listener. */
static int sip_verdict(int node, uint64_t sub)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)R.node[node].sip_in)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char msg[1024], ans[2048];
	static unsigned check;
	int n = snprintf(msg, sizeof msg,
	                 "MESSAGE sip:+%llu@callbar SIP/2.0\r\n"
	                 "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKchk%u\r\n"
	                 "Max-Forwards: 70\r\nFrom: <sip:+85291234567@hk.example>;tag=c%u\r\n"
	                 "To: <sip:+%llu@callbar>\r\nCall-ID: chk%u@replay\r\nCSeq: 1 MESSAGE\r\n"
	                 "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
	                 (unsigned long long)sub, check, check, (unsigned long long)sub, check);
	check++;
	int v = -1;
	for (int tries = 0; tries < 3 && v < 0; tries++) {
		sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&a, sizeof a);
		ssize_t k = recv(fd, ans, sizeof ans - 1, 0);
		if (k <= 0)
			continue;
		ans[k] = 0;
		if (!strncmp(ans, "SIP/2.0 302", 11))
			v = 1;
		else if (!strncmp(ans, "SIP/2.0 403", 11) || !strncmp(ans, "SIP/2.0 603", 11))
			v = 0;
		else
			break;
	}
	close(fd);
	return v;
}

/* ---- the admin thread: registrations and the reload at the peak -------- */

static double now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();
	if (d > 0) {
		struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

static void *admin(void *arg)
{
	double t0 = *(double *)arg;
	double span = R.hour_s;
	size_t half = R.regs / 2;
	for (size_t k = 0; k <= R.regs; k++) {
		if (k == half) {
			/* The reload: the rule file changed (a comment added), then
			 * every node told to read it again. */
			sleep_until(t0 + span * 0.5);
			FILE *f = fopen(R.rules, "a");
			if (f) {
				fprintf(f, "# reloaded by the replay at the peak hour\n");
				fclose(f);
			}
			for (int i = 0; i < NODES; i++) {
				char ans[4096];
				reload_status[i] = http_once(R.node[i].http_port, "POST",
				                             "/v1/reload", NULL, ans, sizeof ans);
				snprintf(reload_answer[i], sizeof reload_answer[i], "%.150s", ans);
			}
		}
		if (k == R.regs)
			break;
		sleep_until(t0 + span * ((double)k + 0.5) / (double)R.regs);
		struct reg *g = &regs[k];
		char path[64], ans[2048];
		snprintf(path, sizeof path, "/v1/unlocks/+%llu", (unsigned long long)g->number);
		double a = now_s();
		g->status =
		    http_once(R.node[g->node].http_port, "PUT", path,
		              "{\"channel\":\"api\",\"service\":\"sms\",\"direction\":\"in\"}", ans,
		              sizeof ans);
		g->ms = (now_s() - a) * 1e3;
	}
	return NULL;
}

/* ---- the event loop ----------------------------------------------------- */

static struct conn conns[NODES * CONNS_MAX];

static void conn_open(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)R.node[c->node].http_port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS)
		die("connect");
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
	epoll_ctl(R.ep, EPOLL_CTL_ADD, c->fd, &e);
	c->ev = -1;
	c->len = 0;
}

static int sub_digits(uint64_t v, char *out)
{
	return sprintf(out, "+%llu", (unsigned long long)v);
}

static void peer_text(const struct ev *e, char *out)
{
	sprintf(out, "+%llu", (unsigned long long)e->peer);
}

static void finish(int64_t i, int result, uint64_t t)
{
	struct ev *e = &R.ev[i];
	if (e->result != R_PENDING)
		return;
	e->result = (uint8_t)result;
	uint64_t d = (t - e->t_send) / 1000;
	e->lat_us = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void http_send(struct conn *c, int64_t i)
{
	struct ev *e = &R.ev[i];
	char body[256], req[768], sub[24], peer[24];
	sub_digits(e->subscriber, sub);
	peer_text(e, peer);
	int bl = snprintf(body, sizeof body,
	                  "{\"service\":\"%s\",\"direction\":\"%s\",\"subscriber\":\"%s\","
	                  "\"peer\":\"%s\"}",
	                  e->service ? "sms" : "voice", e->direction ? "in" : "out", sub, peer);
	int n = snprintf(req, sizeof req,
	                 "POST /v1/decide HTTP/1.1\r\nHost: replay\r\nAuthorization: Bearer %s\r\n"
	                 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
	                 R.token, bl, body);
	e->t_send = bench_now_ns();
	c->ev = i;
	c->len = 0;
	if (write(c->fd, req, (size_t)n) != n) {
		/* Not connected yet or gone: the event fails, the connection is
		 * made again. */
		finish(i, R_ERROR, bench_now_ns());
		c->ev = -1;
		epoll_ctl(R.ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		conn_open(c);
	}
}

static void sip_send(int64_t i)
{
	struct ev *e = &R.ev[i];
	char msg[1024], sub[24], peer[24];
	sub_digits(e->subscriber, sub);
	peer_text(e, peer);
	/* The caller in From, the called in the Request-URI and To: out, our
	 * subscriber calls; in, someone calls our subscriber. */
	const char *from = e->direction ? peer : sub, *to = e->direction ? sub : peer;
	const char *method = e->service ? "MESSAGE" : "INVITE";
	int n = snprintf(msg, sizeof msg,
	                 "%s sip:%s@callbar;user=phone SIP/2.0\r\n"
	                 "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKr%lld\r\n"
	                 "Max-Forwards: 70\r\n"
	                 "From: <sip:%s@switch.example;user=phone>;tag=t%lld\r\n"
	                 "To: <sip:%s@callbar;user=phone>\r\n"
	                 "Call-ID: r%lld@replay\r\n"
	                 "CSeq: 1 %s\r\n"
	                 "Contact: <sip:switch@127.0.0.1:%d>\r\n"
	                 "%s",
	                 method, to, R.udp_port, (long long)i, from, (long long)i, to, (long long)i,
	                 method, R.udp_port,
	                 e->service ? "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
	                            : "Content-Length: 0\r\n\r\n");
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_port =
	    htons((uint16_t)(e->direction ? R.node[e->node].sip_in : R.node[e->node].sip_out));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e->t_send = bench_now_ns();
	if (sendto(R.udp, msg, (size_t)n, 0, (struct sockaddr *)&a, sizeof a) != n)
		finish(i, R_ERROR, e->t_send);
}

/* The ACK a caller sends for a final answer to its INVITE (RFC 3261
 * 17.1.1.3: the same Via branch, From, Call-ID and CSeq number, the
 * answer's To with its tag), to the node and listener it asked: the
 * daemon reads and drops it, so its cost counts as it would behind a
 * switch. */
static void sip_ack(int64_t i, const char *answer)
{
	const struct ev *e = &R.ev[i];
	const char *to = strstr(answer, "\r\nTo:");
	if (!to)
		return;
	to += 2;
	const char *eol = strstr(to, "\r\n");
	if (!eol)
		return;
	char msg[1024], sub[24], peer[24];
	sub_digits(e->subscriber, sub);
	peer_text(e, peer);
	const char *from = e->direction ? peer : sub, *called = e->direction ? sub : peer;
	int n = snprintf(msg, sizeof msg,
	                 "ACK sip:%s@callbar;user=phone SIP/2.0\r\n"
	                 "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKr%lld\r\n"
	                 "Max-Forwards: 70\r\n"
	                 "From: <sip:%s@switch.example;user=phone>;tag=t%lld\r\n"
	                 "%.*s\r\n"
	                 "Call-ID: r%lld@replay\r\n"
	                 "CSeq: 1 ACK\r\n"
	                 "Content-Length: 0\r\n\r\n",
	                 called, R.udp_port, (long long)i, from, (long long)i, (int)(eol - to), to,
	                 (long long)i);
	if (n <= 0 || (size_t)n >= sizeof msg)
		return;
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_port =
	    htons((uint16_t)(e->direction ? R.node[e->node].sip_in : R.node[e->node].sip_out));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(R.udp, msg, (size_t)n, 0, (struct sockaddr *)&a, sizeof a) == n)
		R.acks++;
}

static void sip_read(void)
{
	char buf[4096];
	for (;;) {
		ssize_t n = recv(R.udp, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n <= 0)
			return;
		buf[n] = 0;
		uint64_t t = bench_now_ns();
		int status = 0;
		if (sscanf(buf, "SIP/2.0 %d", &status) != 1 || status < 200)
			continue;
		char *p = strstr(buf, "\r\nCall-ID: r");
		if (!p)
			continue;
		long long i = strtoll(p + 12, NULL, 10);
		if (i < 0 || (size_t)i >= R.nev)
			continue;
		finish(i,
		       status == 302                    ? R_ALLOW
		       : status == 403 || status == 603 ? R_BLOCK
		                                        : R_ERROR,
		       t);
		if (!R.ev[i].service && status >= 300) /* an INVITE's final non-2xx answer */
			sip_ack(i, buf);
	}
}

static void pump(struct node *nd);

static void http_read(struct conn *c)
{
	ssize_t n = read(c->fd, c->in + c->len, sizeof c->in - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		if (c->ev >= 0)
			finish(c->ev, R_ERROR, bench_now_ns());
		epoll_ctl(R.ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		conn_open(c);
		return;
	}
	c->len += (size_t)n;
	c->in[c->len] = 0;
	char *h = strstr(c->in, "\r\n\r\n");
	if (!h)
		return;
	char *cl = strcasestr(c->in, "\r\nContent-Length:");
	size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
	size_t need = (size_t)(h + 4 - c->in) + body;
	if (c->len < need)
		return;
	int status = 0;
	sscanf(c->in, "HTTP/1.%*d %d", &status);
	int r = R_ERROR;
	if (status == 200 && strstr(h, "\"verdict\":\"allow\""))
		r = R_ALLOW;
	else if (status == 200 && strstr(h, "\"verdict\":\"block\""))
		r = R_BLOCK;
	if (c->ev >= 0)
		finish(c->ev, r, bench_now_ns());
	c->ev = -1;
	c->len = 0;
	pump(&R.node[c->node]);
}

/* Send the node's queued events on its idle connections. */
static void pump(struct node *nd)
{
	int ni = (int)(nd - R.node);
	for (int k = 0; k < R.conns && nd->qhead != nd->qtail; k++) {
		struct conn *c = &conns[ni * CONNS_MAX + k];
		if (c->ev >= 0)
			continue;
		int64_t i = nd->queue[nd->qhead++ % nd->qcap];
		if (bench_now_ns() - R.ev[i].t_due > 2000000)
			R.late++;
		http_send(c, i);
	}
}

static void make_event(struct ev *e, uint64_t *s, int phase, int front)
{
	memset(e, 0, sizeof *e);
	e->phase = (uint8_t)phase;
	e->service = unit(s) < 0.45;   /* 45% texts, 55% calls */
	e->direction = unit(s) < 0.5;  /* in or out */
	e->intl = unit(s) < 0.15;      /* 15% to or from abroad */
	e->registered = unit(s) < 0.3; /* 30% of the lines seen are registered */
	size_t k = (size_t)(bench_xorshift(s) % (R.registered ? R.registered : 1));
	e->subscriber = e->registered && R.registered ? registered_number(k) : random_mobile(s);
	if (e->intl) {
		size_t a = (size_t)(bench_xorshift(s) % (sizeof abroad / sizeof abroad[0]));
		uint64_t nn = abroad[a].first + bench_xorshift(s) % abroad[a].span;
		uint64_t m = 1;
		while (m <= nn)
			m *= 10;
		e->peer = abroad[a].cc * m + nn;
	} else {
		e->peer = random_mobile(s);
	}
	e->node = (uint8_t)(bench_xorshift(s) % NODES);
	e->front = (uint8_t)(front >= 0 ? front : unit(s) < R.sip_share ? F_SIP : F_HTTP);
}

static void run_phase(struct phase *ph, int pi, uint64_t *s)
{
	ph->t0 = bench_now_ns();
	ph->load0 = loadavg();
	for (int i = 0; i < NODES; i++)
		ph->cpu0[i] = proc_cpu(R.node[i].pid);
	ph->self0 = proc_cpu(getpid());
	uint64_t end = ph->t0 + (uint64_t)(ph->seconds * 1e9);
	double next = (double)ph->t0;
	struct epoll_event evs[64];
	for (;;) {
		uint64_t now = bench_now_ns();
		while ((double)now >= next && next < (double)end) {
			if (R.nev == R.evcap) {
				fprintf(stderr, "replay: more events than planned\n");
				exit(2);
			}
			int64_t i = (int64_t)R.nev++;
			struct ev *e = &R.ev[i];
			make_event(e, s, pi, ph->front);
			e->t_due = (uint64_t)next;
			if (e->front == F_SIP) {
				sip_send(i);
			} else {
				struct node *nd = &R.node[e->node];
				if (nd->qtail - nd->qhead == nd->qcap) {
					finish(i, R_ERROR, now); /* the driver's queue is full */
				} else {
					nd->queue[nd->qtail++ % nd->qcap] = i;
					pump(nd);
				}
			}
			next += -log(1.0 - unit(s)) / ph->rate * 1e9;
		}
		if (now >= end)
			break;
		/* Rounded up: a sender that spun for the next event's
		 * microsecond would take the cores the nodes need; an event
		 * goes up to a millisecond late instead (its latency is
		 * counted from when it is sent). */
		double wait = (next < (double)end ? next : (double)end) - (double)now;
		int ms = wait > 0 ? (int)ceil(wait / 1e6) : 0;
		int n = epoll_wait(R.ep, evs, 64, ms);
		for (int k = 0; k < n; k++) {
			if (evs[k].data.ptr == NULL)
				sip_read();
			else
				http_read(evs[k].data.ptr);
		}
	}
	ph->t1 = bench_now_ns();
	ph->load1 = loadavg();
	for (int i = 0; i < NODES; i++)
		ph->cpu1[i] = proc_cpu(R.node[i].pid);
	ph->self1 = proc_cpu(getpid());
}

/* Answers still on their way after the last phase: wait for them. */
static void drain(double seconds)
{
	uint64_t end = bench_now_ns() + (uint64_t)(seconds * 1e9);
	struct epoll_event evs[64];
	for (;;) {
		int pending = 0;
		for (int i = 0; i < NODES; i++)
			pending |= R.node[i].qhead != R.node[i].qtail;
		for (size_t c = 0; c < NODES * CONNS_MAX; c++)
			pending |= conns[c].fd > 0 && conns[c].ev >= 0;
		size_t sip_pending = 0;
		for (size_t i = R.nev > 200000 ? R.nev - 200000 : 0; i < R.nev; i++)
			sip_pending += R.ev[i].result == R_PENDING;
		if ((!pending && !sip_pending) || bench_now_ns() > end)
			break;
		int n = epoll_wait(R.ep, evs, 64, 50);
		for (int k = 0; k < n; k++) {
			if (evs[k].data.ptr == NULL)
				sip_read();
			else
				http_read(evs[k].data.ptr);
		}
	}
	for (size_t i = 0; i < R.nev; i++)
		if (R.ev[i].result == R_PENDING) {
			R.ev[i].result = R_ERROR;
			R.lost++;
		}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct stats {
	size_t n, allow, block, error;
	double p50, p99, max; /* ms */
	size_t per_node[NODES];
};

static struct stats phase_stats(int pi, int front)
{
	struct stats st = {0};
	uint32_t *lat = malloc((R.nev + 1) * sizeof *lat);
	size_t k = 0;
	for (size_t i = 0; i < R.nev; i++) {
		const struct ev *e = &R.ev[i];
		if (e->phase != pi || (front >= 0 && e->front != front))
			continue;
		st.n++;
		st.per_node[e->node]++;
		if (e->result == R_ALLOW)
			st.allow++;
		else if (e->result == R_BLOCK)
			st.block++;
		else
			st.error++;
		if (e->result != R_ERROR)
			lat[k++] = e->lat_us;
	}
	if (k) {
		qsort(lat, k, sizeof *lat, cmp_u32);
		st.p50 = lat[k / 2] / 1e3;
		st.p99 = lat[(size_t)((double)k * 0.99)] / 1e3;
		st.max = lat[k - 1] / 1e3;
	}
	free(lat);
	return st;
}

static void report_phase(const struct phase *ph, int pi, int detail)
{
	double secs = (double)(ph->t1 - ph->t0) / 1e9;
	struct stats all = phase_stats(pi, -1);
	long hz = sysconf(_SC_CLK_TCK);
	printf("%-8s %7.0f/s planned %7.0f/s sent, %zu decisions (%zu allow, %zu block, %zu "
	       "errors), load %.1f\n",
	       ph->name, ph->rate, (double)all.n / secs, all.n, all.allow, all.block, all.error,
	       ph->load1);
	if (!detail)
		return;
	for (int f = 0; f < F_FRONTS; f++) {
		struct stats st = phase_stats(pi, f);
		if (!st.n)
			continue;
		printf(
		    "  %-4s %zu decisions, %.0f/s, p50 %.3f ms, p99 %.3f ms, max %.1f ms, errors "
		    "%zu\n",
		    front_name[f], st.n, (double)st.n / secs, st.p50, st.p99, st.max, st.error);
		printf(
		    "FIGURE %s_%s_rate %.0f\nFIGURE %s_%s_p50_ms %.3f\nFIGURE %s_%s_p99_ms %.3f\n"
		    "FIGURE %s_%s_errors %zu\n",
		    ph->name, front_name[f], (double)st.n / secs, ph->name, front_name[f], st.p50,
		    ph->name, front_name[f], st.p99, ph->name, front_name[f], st.error);
	}
	double cpu_all = 0;
	for (int i = 0; i < NODES; i++) {
		double cpu = (double)(ph->cpu1[i] - ph->cpu0[i]) / (double)hz;
		cpu_all += cpu;
		double per = all.per_node[i] ? cpu / (double)all.per_node[i] * 1e6 : 0;
		printf(
		    "  node %d: %zu decisions, CPU %.2f s (%.0f%% of a core), %.1f us a decision\n",
		    i + 1, all.per_node[i], cpu, cpu / secs * 100, per);
		printf("FIGURE %s_node%d_cpu_us_per_decision %.1f\n", ph->name, i + 1, per);
	}
	double self = (double)(ph->self1 - ph->self0) / (double)hz;
	printf("  all nodes: %.1f us CPU a decision; the driver %.1f us a decision; load average "
	       "%.1f -> %.1f\n",
	       all.n ? cpu_all / (double)all.n * 1e6 : 0, all.n ? self / (double)all.n * 1e6 : 0,
	       ph->load0, ph->load1);
	printf("FIGURE %s_cpu_us_per_decision %.1f\nFIGURE %s_rate %.0f\n", ph->name,
	       all.n ? cpu_all / (double)all.n * 1e6 : 0, ph->name, (double)all.n / secs);
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: replay registered N SEED SEGMENTS [copy]\n"
	        "       replay run --nodes HTTP:SIPOUT:SIPIN:PID,... (three) --token T\n"
	        "              --segments FILE --zj FILE --rules FILE [--registered N] [--seed S]\n"
	        "              [--peak RATE] [--hour-ms MS] [--sip-share F] [--regs K]\n"
	        "              [--conns C] [--solo-s S]\n");
	return 2;
}

/* The registered set: CSV for `callbar import --map` or, with "copy", rows
 * for COPY into the registry's unlock table (as bench_ready fills it: bulk
 * rows of seq 0, before the audit chain, which a node's full load reads
 * like any other active record). */
static int cmd_registered(int argc, char **argv)
{
	if (argc != 5 && argc != 6)
		return usage();
	size_t n = strtoull(argv[2], NULL, 10);
	R.seed = strtoull(argv[3], NULL, 10);
	R.nseg = load_list(argv[4], &R.seg);
	int copy = argc == 6 && !strcmp(argv[5], "copy");
	/* The same line drawn twice is written once (import refuses
	 * doubles): sorted, then each value once. */
	uint64_t *v = malloc((n + 1) * sizeof *v);
	for (size_t k = 0; k < n; k++)
		v[k] = registered_number(k);
	qsort(v, n, sizeof *v, cmp_u64);
	static const char *scope[] = {"all", "sms", "voice", "all"};
	static const unsigned bits[] = {15, 12, 3, 15};
	if (!copy)
		printf("number,scope,level\n");
	for (size_t k = 0; k < n; k++) {
		if (k && v[k] == v[k - 1])
			continue;
		unsigned c = (unsigned)(mix(v[k]) % 4);
		if (copy)
			printf(
			    "%zu\t%llu\t%u\tself\tactive\t1700000000\t0\timport\t\t\t\t0\t\t\t0\n",
			    k + 1000000000, (unsigned long long)v[k], bits[c]);
		else
			printf("+%llu,%s,self\n", (unsigned long long)v[k], scope[c]);
	}
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "registered"))
		return cmd_registered(argc, argv);
	if (strcmp(argv[1], "run"))
		return usage();
	R.seed = 1;
	R.peak = 1000;
	R.hour_s = 10;
	R.sip_share = 0.5;
	R.regs = 30;
	R.conns = 8;
	const char *segs = NULL, *zj = NULL, *nodes = NULL;
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--nodes"))
			nodes = v;
		else if (!strcmp(k, "--token"))
			R.token = v;
		else if (!strcmp(k, "--segments"))
			segs = v;
		else if (!strcmp(k, "--zj"))
			zj = v;
		else if (!strcmp(k, "--rules"))
			R.rules = v;
		else if (!strcmp(k, "--registered"))
			R.registered = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--seed"))
			R.seed = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--peak"))
			R.peak = atof(v);
		else if (!strcmp(k, "--hour-ms"))
			R.hour_s = atof(v) / 1e3;
		else if (!strcmp(k, "--sip-share"))
			R.sip_share = atof(v);
		else if (!strcmp(k, "--regs"))
			R.regs = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--conns"))
			R.conns = atoi(v);
		else if (!strcmp(k, "--solo-s"))
			R.solo_s = atof(v);
		else
			return usage();
	}
	if (!nodes || !R.token || !segs || !zj || !R.rules || R.regs > REGS_MAX || R.conns < 1 ||
	    R.conns > CONNS_MAX || R.peak <= 0 || R.hour_s <= 0)
		return usage();
	R.nseg = load_list(segs, &R.seg);
	R.nzj = load_list(zj, &R.zj);
	const char *p = nodes;
	for (int i = 0; i < NODES; i++) {
		struct node *nd = &R.node[i];
		if (sscanf(p, "%d:%d:%d:%d", &nd->http_port, &nd->sip_out, &nd->sip_in, &nd->pid) !=
		    4)
			return usage();
		p = strchr(p, ',');
		if (i < NODES - 1 && !p)
			return usage();
		p = p ? p + 1 : p;
		nd->qcap = 1 << 16;
		nd->queue = malloc(nd->qcap * sizeof *nd->queue);
	}

	/* The phases: the day, then one window for each front alone. */
	struct phase ph[26];
	int nph = 0;
	static char names[24][8];
	for (int h = 0; h < 24; h++) {
		snprintf(names[h], sizeof names[h], "h%02d", h);
		ph[nph++] = (struct phase){.name = h == PEAK_HOUR ? "peak" : names[h],
		                           .seconds = R.hour_s,
		                           .rate = R.peak * weight[h],
		                           .front = -1};
	}
	if (R.solo_s > 0) {
		ph[nph++] = (struct phase){
		    .name = "solo_sip", .seconds = R.solo_s, .rate = R.peak, .front = F_SIP};
		ph[nph++] = (struct phase){
		    .name = "solo_http", .seconds = R.solo_s, .rate = R.peak, .front = F_HTTP};
	}
	double planned = 0;
	for (int i = 0; i < nph; i++)
		planned += ph[i].seconds * ph[i].rate;
	R.evcap = (size_t)(planned * 1.3) + 10000;
	R.ev = calloc(R.evcap, sizeof *R.ev);
	if (!R.ev)
		die("calloc");

	R.ep = epoll_create1(0);
	R.udp = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;
	setsockopt(R.udp, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(R.udp, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(R.udp, (struct sockaddr *)&a, sizeof a))
		die("bind");
	socklen_t al = sizeof a;
	getsockname(R.udp, (struct sockaddr *)&a, &al);
	R.udp_port = ntohs(a.sin_port);
	struct epoll_event ue = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(R.ep, EPOLL_CTL_ADD, R.udp, &ue);
	for (int i = 0; i < NODES; i++)
		for (int k = 0; k < R.conns; k++) {
			conns[i * CONNS_MAX + k].node = i;
			conn_open(&conns[i * CONNS_MAX + k]);
		}

	/* The lines registered at the peak: Zhejiang CMCC, barred before. */
	uint64_t rs = mix(R.seed + 12345) | 1;
	int failed = 0;
	for (size_t k = 0; k < R.regs; k++) {
		uint64_t r = bench_xorshift(&rs);
		regs[k].number =
		    8600000000000ull + (uint64_t)R.zj[r % R.nzj] * 10000u + (r >> 40) % 10000u;
		regs[k].node = (int)(k % NODES);
		for (int i = 0; i < NODES; i++)
			if (http_verdict(i, regs[k].number) != 0) {
				fprintf(stderr,
				        "replay: +%llu not barred on node %d before the day\n",
				        (unsigned long long)regs[k].number, i + 1);
				failed = 1;
			}
	}
	printf(
	    "replay: %zu registered lines, %zu mobile blocks, peak %.0f events/s, an hour %.1f s, "
	    "SIP share %.2f, %d connections a node, %zu registrations at the peak\n",
	    R.registered, R.nseg, R.peak, R.hour_s, R.sip_share, R.conns, R.regs);
	fflush(stdout);

	uint64_t s = mix(R.seed) | 1;
	pthread_t adm;
	double peak_t0 = 0;
	int adm_started = 0;
	for (int i = 0; i < nph; i++) {
		if (i == PEAK_HOUR && R.regs) {
			peak_t0 = now_s();
			if (pthread_create(&adm, NULL, admin, &peak_t0))
				die("pthread_create");
			adm_started = 1;
		}
		run_phase(&ph[i], i, &s);
	}
	drain(5);
	if (adm_started)
		pthread_join(adm, NULL);

	size_t errors = 0, total = 0;
	for (size_t i = 0; i < R.nev; i++) {
		total++;
		errors += R.ev[i].result == R_ERROR;
	}
	for (int i = 0; i < nph; i++)
		report_phase(&ph[i], i, i == PEAK_HOUR || i >= 24);
	printf("day: %zu decisions, %zu errors (%zu unanswered), %zu sent late (> 2 ms after their "
	       "time: every connection to the node busy), %zu ACKs sent\n",
	       total, errors, R.lost, R.late, R.acks);
	printf("FIGURE day_decisions %zu\nFIGURE day_errors %zu\nFIGURE day_late %zu\n", total,
	       errors, R.late);
	if (errors)
		failed = 1;

	/* The registrations and the reload made at the peak, then each line
	 * allowed on every node and both fronts (the followers may take a
	 * moment: asked again for up to 10 s). */
	size_t ok = 0, honoured = 0;
	double maxms = 0;
	for (size_t k = 0; k < R.regs; k++) {
		if (regs[k].status == 200 || regs[k].status == 201)
			ok++;
		else
			fprintf(stderr, "replay: registration of +%llu on node %d: HTTP %d\n",
			        (unsigned long long)regs[k].number, regs[k].node + 1,
			        regs[k].status);
		if (regs[k].ms > maxms)
			maxms = regs[k].ms;
	}
	for (int i = 0; i < NODES; i++)
		if (reload_status[i] != 200 || !strstr(reload_answer[i], "\"reloaded\":true")) {
			fprintf(stderr, "replay: reload on node %d: HTTP %d %s\n", i + 1,
			        reload_status[i], reload_answer[i]);
			failed = 1;
		}
	for (size_t k = 0; k < R.regs; k++) {
		int good = 0;
		for (int tries = 0; tries < 100 && !good; tries++) {
			good = 1;
			for (int i = 0; i < NODES; i++)
				good &= http_verdict(i, regs[k].number) == 1 &&
				        sip_verdict(i, regs[k].number) == 1;
			if (!good)
				usleep(100000);
		}
		honoured += (size_t)good;
		if (!good)
			fprintf(
			    stderr,
			    "replay: +%llu registered at the peak is not allowed on every node\n",
			    (unsigned long long)regs[k].number);
	}
	printf("peak: %zu of %zu registrations acknowledged (slowest %.1f ms), %zu honoured by all "
	       "three nodes over HTTP and SIP afterwards; reload: %s %s %s\n",
	       ok, R.regs, maxms, honoured, reload_status[0] == 200 ? "ok" : "FAILED",
	       reload_status[1] == 200 ? "ok" : "FAILED",
	       reload_status[2] == 200 ? "ok" : "FAILED");
	printf("FIGURE peak_registrations %zu\nFIGURE peak_registrations_honoured %zu\n", ok,
	       honoured);
	if (ok != R.regs || honoured != R.regs)
		failed = 1;
	printf("replay: %s\n", failed ? "FAILED" : "ok");
	return failed;
}
