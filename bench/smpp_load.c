/*
 * callbar benchmark helper: an SMPP load generator and a sink SMSC, written
 * with callbar's own codec (src/proto/smpp_pdu.h) so that neither side is
 * the bottleneck of what bench/smpp.sh measures (the Perl peers of the
 * tests answer a few thousand PDUs a second).
 *   smpp_load sink PORT
 *       an SMSC on 127.0.0.1:PORT: any bind accepted, every submit_sm
 *       answered with a message id, one thread per connection
 *   smpp_load send PORT SYSTEM_ID PASSWORD BINDS WINDOW MESSAGES
 *       BINDS transceiver binds, each keeping WINDOW submit_sm outstanding
 *       until MESSAGES in all were answered; prints the rate, the answers
 *       by status and the latency (submit to response) percentiles
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/smpp_pdu.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A buffered reader of whole PDUs from fd. */
struct rd {
	int fd;
	uint8_t buf[1 << 16];
	size_t len, at;
};

static const uint8_t *next_pdu(struct rd *r, struct smpp_hdr *h)
{
	for (;;) {
		if (cbar_smpp_frame(r->buf + r->at, r->len - r->at, 1 << 15, h) == SMPP_FRAME_PDU) {
			const uint8_t *p = r->buf + r->at;
			r->at += h->len;
			return p;
		}
		memmove(r->buf, r->buf + r->at, r->len - r->at);
		r->len -= r->at;
		r->at = 0;
		ssize_t n = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
		if (n <= 0)
			return NULL;
		r->len += (size_t)n;
	}
}

static void put_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k <= 0)
			return;
		p += k, n -= (size_t)k;
	}
}

/* ---- sink ----------------------------------------------------------------- */

static unsigned long next_id;

static void *sink_conn(void *arg)
{
	struct rd *r = arg;
	struct smpp_hdr h;
	uint8_t out[1 << 16];
	size_t ol = 0;
	while (next_pdu(r, &h)) {
		char id[32];
		size_t n = 0;
		uint32_t rid = h.id | SMPP_RESP_BIT;
		if (h.id == SMPP_SUBMIT_SM || h.id == SMPP_DATA_SM) {
			int k = snprintf(id, sizeof id, "S%lu",
			                 __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED));
			n = cbar_smpp_write_resp_id(out + ol, sizeof out - ol, rid, 0, h.seq, id,
			                            (size_t)k);
		} else if (h.id == SMPP_BIND_TRANSCEIVER || h.id == SMPP_BIND_TRANSMITTER ||
		           h.id == SMPP_BIND_RECEIVER) {
			n = cbar_smpp_write_resp_id(out + ol, sizeof out - ol, rid, 0, h.seq, "sink", 4);
		} else if (h.id == SMPP_ENQUIRE_LINK || h.id == SMPP_UNBIND ||
		           h.id == SMPP_DELIVER_SM) {
			n = h.id == SMPP_DELIVER_SM
			        ? cbar_smpp_write_resp_id(out + ol, sizeof out - ol, rid, 0, h.seq, "", 0)
			        : cbar_smpp_write_empty(out + ol, sizeof out - ol, rid, 0, h.seq);
		}
		ol += n;
		/* answer what one read brought in one write */
		if (r->at == r->len || sizeof out - ol < 256) {
			put_all(r->fd, out, ol);
			ol = 0;
		}
	}
	close(r->fd);
	free(r);
	return NULL;
}

static int sink(int port)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 64)) {
		perror("sink");
		return 1;
	}
	printf("sink listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		int fd = accept(l, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct rd *r = calloc(1, sizeof *r);
		pthread_t t;
		r->fd = fd;
		pthread_create(&t, NULL, sink_conn, r);
		pthread_detach(t);
	}
}

/* ---- send ------------------------------------------------------------------- */

static int port_;
static const char *sysid_, *pw_;
static unsigned window_;
static long total_, taken_;
static unsigned long by_status[256];
static double *lat_;
static long nlat_;

static void *sender(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		perror("connect");
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	uint8_t b[512];
	size_t n = cbar_smpp_write_bind(b, sizeof b, SMPP_BIND_TRANSCEIVER, 1, sysid_, pw_, "");
	put_all(fd, b, n);
	struct rd *r = calloc(1, sizeof *r);
	r->fd = fd;
	struct smpp_hdr h;
	if (!next_pdu(r, &h) || h.status) {
		fprintf(stderr, "bind refused: 0x%x\n", h.status);
		exit(1);
	}
	double *sent = calloc(65536, sizeof *sent);
	uint32_t seq = 2;
	unsigned out = 0;
	bool more = true;
	for (;;) {
		/* fill the window */
		struct smpp_w w;
		uint8_t burst[1 << 15];
		cbar_smpp_w_init(&w, burst, sizeof burst);
		while (more && out < window_ && sizeof burst - w.len > 128) {
			if (__atomic_add_fetch(&taken_, 1, __ATOMIC_RELAXED) > total_) {
				more = false;
				break;
			}
			size_t st = w.len;
			cbar_smpp_w_begin(&w, SMPP_SUBMIT_SM, 0, seq);
			cbar_smpp_w_cstr(&w, "", 0, 6);
			cbar_smpp_w_u8(&w, 1), cbar_smpp_w_u8(&w, 1);
			cbar_smpp_w_cstr(&w, "85291234567", 11, 21);
			cbar_smpp_w_u8(&w, 1), cbar_smpp_w_u8(&w, 1);
			cbar_smpp_w_cstr(&w, "8613910000000", 13, 21);
			cbar_smpp_w_u8(&w, 0), cbar_smpp_w_u8(&w, 0), cbar_smpp_w_u8(&w, 0);
			cbar_smpp_w_cstr(&w, "", 0, 17), cbar_smpp_w_cstr(&w, "", 0, 17);
			cbar_smpp_w_u8(&w, 0), cbar_smpp_w_u8(&w, 0), cbar_smpp_w_u8(&w, 0);
			cbar_smpp_w_u8(&w, 0);
			static const char text[] = "Your code is 123456. Do not share it.";
			cbar_smpp_w_u8(&w, sizeof text - 1);
			cbar_smpp_w_bytes(&w, text, sizeof text - 1);
			cbar_smpp_w_end(&w, st);
			sent[seq & 0xFFFF] = now();
			seq++;
			out++;
		}
		if (w.len)
			put_all(fd, burst, w.len);
		if (!out)
			break;
		const uint8_t *p = next_pdu(r, &h);
		if (!p)
			break;
		if (h.id == SMPP_SUBMIT_SM_RESP) {
			out--;
			__atomic_add_fetch(&by_status[h.status & 0xFF], 1, __ATOMIC_RELAXED);
			long k = __atomic_fetch_add(&nlat_, 1, __ATOMIC_RELAXED);
			if (k < total_)
				lat_[k] = now() - sent[h.seq & 0xFFFF];
		} else if (h.id == SMPP_ENQUIRE_LINK) {
			n = cbar_smpp_write_empty(b, sizeof b, SMPP_ENQUIRE_LINK_RESP, 0, h.seq);
			put_all(fd, b, n);
		}
	}
	n = cbar_smpp_write_empty(b, sizeof b, SMPP_UNBIND, 0, seq);
	put_all(fd, b, n);
	close(fd);
	free(r);
	free(sent);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "sink"))
		return sink(atoi(argv[2]));
	if (argc != 8 || strcmp(argv[1], "send")) {
		fputs("usage: smpp_load sink PORT | send PORT SYSID PW BINDS WINDOW MESSAGES\n", stderr);
		return 2;
	}
	port_ = atoi(argv[2]);
	sysid_ = argv[3];
	pw_ = argv[4];
	unsigned binds = (unsigned)atoi(argv[5]);
	window_ = (unsigned)atoi(argv[6]);
	total_ = atol(argv[7]);
	lat_ = calloc((size_t)total_, sizeof *lat_);
	pthread_t t[64];
	double t0 = now();
	for (unsigned i = 0; i < binds && i < 64; i++)
		pthread_create(&t[i], NULL, sender, NULL);
	for (unsigned i = 0; i < binds && i < 64; i++)
		pthread_join(t[i], NULL);
	double el = now() - t0;
	long n = nlat_ < total_ ? nlat_ : total_;
	qsort(lat_, (size_t)n, sizeof *lat_, cmp);
	printf("messages=%ld seconds=%.3f rate=%.0f/s ok=%lu throttled=%lu other=%ld "
	       "p50_ms=%.3f p99_ms=%.3f\n",
	       n, el, (double)n / el, by_status[0], by_status[0x58],
	       n - (long)by_status[0] - (long)by_status[0x58], n ? lat_[n / 2] * 1e3 : 0.0,
	       n ? lat_[n * 99 / 100] * 1e3 : 0.0);
	return 0;
}
