/* callbar: HTTP server on libmicrohttpd (contract in http.h). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "http.h"

/* One per connection, for the header deadline.  The list and cut are the
 * reaper's lock's; deadline is written by the pool's threads without it. */
struct watch {
	struct watch *prev, *next;
	int fd;
	bool cut;
	_Atomic int64_t deadline_ms; /* CLOCK_MONOTONIC; 0: the header is in */
};

/* The thread that cuts connections past their header deadline. */
struct reaper {
	pthread_t thread;
	bool running, stop;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC */
	struct watch list;   /* sentinel of a ring */
	int64_t timeout_ms;  /* header_timeout; 0: no reaper */
	_Atomic unsigned long cut;
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_ops ops;
	size_t body_max;
	bool tls;
	char bound[80];
	_Atomic unsigned in_flight; /* begun and not done: no lock per request */
	pthread_mutex_t lock;       /* only for the drain's wait on idle */
	pthread_cond_t idle;
	unsigned threads, conn_limit;
	struct reaper reaper;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the header deadline ---------------------------------------------- */

/*
 * Why a thread of our own: libmicrohttpd's connection timeout counts
 * silence, not time, and it has no hook per header line.  It does tell us
 * when a connection opens and closes (MHD_OPTION_NOTIFY_CONNECTION), and
 * the access handler runs once the header is in; between the two the
 * reaper looks at the clock.  It only ever calls shutdown(), never close():
 * the library sees the end of the stream and closes the connection on its
 * own thread as if the client had gone.  The descriptor cannot have been
 * reused under us, because the library tells us of the close (and the
 * watch leaves the list, under the reaper's lock) before it closes it.
 */
static void *reaper_main(void *arg)
{
	struct reaper *r = arg;
	/* Look four times per timeout, at most once a second, at least every
	 * 100 ms: a connection is cut at most a quarter of the timeout late. */
	int64_t tick = r->timeout_ms / 4;
	tick = tick < 100 ? 100 : tick > 1000 ? 1000 : tick;
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		int64_t now = now_ms();
		for (struct watch *w = r->list.next; w != &r->list; w = w->next) {
			int64_t dl = atomic_load_explicit(&w->deadline_ms, memory_order_relaxed);
			if (dl && now >= dl && !w->cut) {
				shutdown(w->fd, SHUT_RDWR);
				w->cut = true;
				atomic_fetch_add(&r->cut, 1);
			}
		}
		int64_t until = now + tick;
		struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000};
		pthread_cond_timedwait(&r->wake, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	struct reaper *r = &s->reaper;
	struct watch *w = *socket_context;
	if (!r->timeout_ms)
		return;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		/* Without memory the connection goes unwatched: its silence is
		 * still bounded by the connection timeout. */
		if (!ci || !(w = calloc(1, sizeof *w)))
			return;
		w->fd = ci->connect_fd;
		atomic_init(&w->deadline_ms, now_ms() + r->timeout_ms);
		pthread_mutex_lock(&r->lock);
		w->next = r->list.next;
		w->prev = &r->list;
		r->list.next->prev = w;
		r->list.next = w;
		pthread_mutex_unlock(&r->lock);
		*socket_context = w;
		return;
	}
	if (!w)
		return;
	pthread_mutex_lock(&r->lock);
	w->prev->next = w->next;
	w->next->prev = w->prev;
	pthread_mutex_unlock(&r->lock);
	free(w);
	*socket_context = NULL;
}

/* The header is in (deadline 0), or a kept-alive connection waits for the
 * next one (a new deadline). */
static void watch_set(struct http_server *s, struct MHD_Connection *c, bool header_in)
{
	if (!s->reaper.timeout_ms)
		return;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watch *w = ci ? ci->socket_context : NULL;
	if (w)
		atomic_store_explicit(&w->deadline_ms,
		                      header_in ? 0 : now_ms() + s->reaper.timeout_ms,
		                      memory_order_relaxed);
}

static enum cbar_err reaper_start(struct reaper *r, unsigned timeout_s)
{
	r->list.next = r->list.prev = &r->list;
	r->timeout_ms = (int64_t)timeout_s * 1000;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (!timeout_s)
		return CBAR_OK;
	if (pthread_create(&r->thread, NULL, reaper_main, r))
		return CBAR_NOMEM;
	r->running = true;
	return CBAR_OK;
}

/* After the library stopped: every connection is closed and unlisted. */
static void reaper_stop(struct reaper *r)
{
	if (r->running) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
}

/* ---- ambiguous requests ----------------------------------------------- */

/* Header fields that may appear once; a second one is refused. */
static const char *const single_headers[] = {
    MHD_HTTP_HEADER_AUTHORIZATION, MHD_HTTP_HEADER_CONTENT_LENGTH,    MHD_HTTP_HEADER_CONTENT_TYPE,
    MHD_HTTP_HEADER_HOST,          MHD_HTTP_HEADER_TRANSFER_ENCODING,
};
#define NSINGLE (sizeof single_headers / sizeof single_headers[0])

struct scan {
	unsigned seen[NSINGLE];
	const char *nul;                 /* a header or argument holding a NUL */
	const char *from, *to;           /* the header block in the read buffer */
	const char *prev_key, *prev_end; /* the previous header, its value's end */
	struct {
		const char *key;
		size_t len;
	} args[HTTP_QUERY_MAX];
	size_t nargs;
	bool too_many;
};

/*
 * Whether bytes a NUL cut from the field before `next` lie in [p, next).
 * libmicrohttpd 0.9.75 reads header lines as C strings: a NUL ends the
 * value early (value_size is its strlen), and nothing says so.  The bytes
 * of the header are still in the connection's read buffer, in the order
 * they came, with the colon and the line ends overwritten by NULs; so
 * between the end of one value and the next key (or the end of the block)
 * there are only NULs, unless the value held one.  When the pointers are
 * not laid out that way (a folded line is copied elsewhere) nothing is
 * concluded.
 */
static bool cut_short(const struct scan *sc, const char *p, const char *next)
{
	if (!sc->from || p < sc->from || next > sc->to || p > next || next - p > 8192)
		return false;
	for (; p < next; p++)
		if (*p)
			return true;
	return false;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
	struct scan *sc = cls;
	(void)kind;
	if (sc->nul)
		; /* one is enough */
	else if (strlen(key) != key_size || (value && strlen(value) != value_size))
		sc->nul = key;
	else if (sc->prev_end && cut_short(sc, sc->prev_end, key))
		sc->nul = sc->prev_key;
	sc->prev_key = key;
	sc->prev_end = value ? value + value_size : NULL;
	for (size_t i = 0; i < NSINGLE; i++)
		if (!strcasecmp(key, single_headers[i]))
			sc->seen[i]++;
	return MHD_YES;
}

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
	struct scan *sc = cls;
	(void)kind;
	if ((strlen(key) != key_size || (value && strlen(value) != value_size)) && !sc->nul)
		sc->nul = key;
	if (sc->nargs == HTTP_QUERY_MAX) {
		sc->too_many = true;
		return MHD_NO;
	}
	sc->args[sc->nargs].key = key;
	sc->args[sc->nargs++].len = key_size;
	return MHD_YES;
}

/* A field name fit to echo in the answer: printable ASCII, short. */
static const char *echo_name(const char *k, size_t len)
{
	if (len == 0 || len > 40)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f || k[i] == '"' ||
		    k[i] == '\\')
			return NULL;
	return k;
}

/* Whether the request is ambiguous (http.h); if so, what to answer. */
static bool refused(struct MHD_Connection *c, const char *method, enum cbar_err *code,
                    const char **field, char *msg, size_t cap)
{
	struct scan sc;
	memset(&sc, 0, sizeof sc);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci && ci->header_size) {
		sc.from = method;
		sc.to = method + ci->header_size;
	}
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_header, &sc);
	const char *last = sc.nul ? NULL : sc.prev_end;
	if (last && cut_short(&sc, last, sc.to))
		sc.nul = sc.prev_key;
	*code = CBAR_BAD_HEADER;
	*field = NULL;
	if (sc.nul) {
		const char *n = echo_name(sc.nul, strlen(sc.nul));
		snprintf(msg, cap, "a NUL byte in the header field %s", n ? n : "(unprintable)");
		return true;
	}
	for (size_t i = 0; i < NSINGLE; i++)
		if (sc.seen[i] > 1) {
			snprintf(msg, cap, "the header field %s is given %u times; once at most",
			         single_headers[i], sc.seen[i]);
			return true;
		}
	if (sc.seen[1] && sc.seen[4]) {
		snprintf(msg, cap, "Content-Length and Transfer-Encoding together");
		return true;
	}
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, scan_arg, &sc);
	*code = CBAR_DUP_QUERY;
	if (sc.nul) {
		*code = CBAR_BAD_VALUE;
		*field = echo_name(sc.nul, strlen(sc.nul));
		snprintf(msg, cap, "a NUL byte in a query argument");
		return true;
	}
	if (sc.too_many) {
		*code = CBAR_BAD_VALUE;
		snprintf(msg, cap, "more than %d query arguments", HTTP_QUERY_MAX);
		return true;
	}
	for (size_t i = 0; i < sc.nargs; i++)
		for (size_t j = i + 1; j < sc.nargs; j++)
			if (sc.args[i].len == sc.args[j].len &&
			    !memcmp(sc.args[i].key, sc.args[j].key, sc.args[i].len)) {
				*field = echo_name(sc.args[i].key, sc.args[i].len);
				snprintf(msg, cap, "query argument given more than once");
				return true;
			}
	return false;
}

/* ---- requests --------------------------------------------------------- */

/* Per request: the public part first. */
struct conn_state {
	struct http_request rq;
	struct http_server *srv;
	char *buf;
	size_t len, alloc;
	bool too_big;
	bool answered;
};

static enum MHD_Result queue(struct MHD_Connection *c, struct conn_state *st,
                             struct http_response *resp)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    resp->len, resp->body ? resp->body : (void *)"",
	    resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp->body);
		return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->header_name)
		MHD_add_response_header(r, resp->header_name, resp->header_value);
	for (const char *const *h = resp->headers; h && h[0]; h += 2)
		MHD_add_response_header(r, h[0], h[1]);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (resp->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	st->rq.status = resp->status;
	st->answered = true;
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct conn_state *st = *con_cls;
	struct http_response resp = {0};
	(void)version;

	if (!st) {
		if (!(st = calloc(1, sizeof *st)))
			return MHD_NO;
		st->srv = s;
		st->rq.conn = c;
		st->rq.method = method;
		st->rq.path = url;
		clock_gettime(CLOCK_MONOTONIC, &st->rq.start);
		*con_cls = st;
		atomic_fetch_add(&s->in_flight, 1);
		watch_set(s, c, true);
		enum cbar_err code;
		const char *field;
		char msg[120];
		if (refused(c, method, &code, &field, msg, sizeof msg)) {
			if (s->ops.refuse) {
				s->ops.refuse(s->ops.ctx, &st->rq, &resp, code, field, msg);
			} else {
				resp.status = 400;
				resp.body = strdup(msg);
				resp.len = resp.body ? strlen(resp.body) : 0;
				resp.content_type = "text/plain";
			}
			resp.close = true; /* the framing itself may be in doubt */
			return queue(c, st, &resp);
		}
		if (s->ops.begin(s->ops.ctx, &st->rq, &resp))
			return queue(c, st, &resp);
		/* A declared length over the cap is refused before reading it. */
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > s->body_max) {
			s->ops.too_big(s->ops.ctx, &st->rq, &resp);
			return queue(c, st, &resp);
		}
		return MHD_YES;
	}
	if (st->answered) {
		*upload_size = 0; /* answered early: drop the body */
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (st->too_big || st->len + n > s->body_max) {
			st->too_big = true; /* keep reading, keep nothing */
			return MHD_YES;
		}
		if (st->len + n + 1 > st->alloc) {
			size_t a = st->alloc ? st->alloc : 1024;
			while (a < st->len + n + 1)
				a *= 2;
			char *nb = realloc(st->buf, a);
			if (!nb)
				return MHD_NO;
			st->buf = nb;
			st->alloc = a;
		}
		memcpy(st->buf + st->len, upload, n);
		st->len += n;
		return MHD_YES;
	}
	if (st->too_big) {
		s->ops.too_big(s->ops.ctx, &st->rq, &resp);
		return queue(c, st, &resp);
	}
	st->rq.body = st->buf ? st->buf : "";
	if (st->buf)
		st->buf[st->len] = '\0';
	st->rq.body_len = st->len;
	s->ops.finish(s->ops.ctx, &st->rq, &resp);
	return queue(c, st, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct conn_state *st = *con_cls;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		watch_set(s, c, false); /* kept alive: the next header's deadline */
	if (!st)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !st->answered)
		st->rq.status = 0; /* the client went away */
	s->ops.done(s->ops.ctx, &st->rq);
	free(st->buf);
	free(st);
	*con_cls = NULL;
	/* The last one out wakes a drain that may be waiting; the lock makes
	 * the wake-up land after the waiter checked the count. */
	if (atomic_fetch_sub(&s->in_flight, 1) == 1) {
		pthread_mutex_lock(&s->lock);
		pthread_cond_broadcast(&s->idle);
		pthread_mutex_unlock(&s->lock);
	}
}

/* The connection cap when none is given: the soft descriptor limit (the
 * daemon raised it to the hard one at start, fd_limit.h) less
 * HTTP_FD_RESERVE, and at least floor. */
static unsigned fd_budget(unsigned floor)
{
	struct rlimit rl;
	uint64_t n = 1024;
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		n = rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
	n = n > HTTP_FD_RESERVE ? n - HTTP_FD_RESERVE : 0;
	if (n < floor)
		n = floor;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

/* "auto" request threads: one per online core, at least HTTP_THREADS_MIN. */
static unsigned auto_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < HTTP_THREADS_MIN ? HTTP_THREADS_MIN : n > 256 ? 256 : (unsigned)n;
}

enum cbar_err cbar_http_start(struct http_server **out, const struct http_options *o,
                         const struct http_ops *ops, struct cbar_diag *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	*out = NULL;
	if (cbar__addr_parse(o->listen, strlen(o->listen), &ss, &sl))
		return cbar_diag_set(d, CBAR_ADDR, 0, 0, "'%s' is not a numeric HOST:PORT",
		                     o->listen);
	bool tls = o->tls_cert_pem && o->tls_key_pem;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return cbar_diag_set(d, CBAR_HTTP, 0, 0,
		                     "this libmicrohttpd was built without TLS");
	/* epoll, else poll: never select(), blind past descriptor 1023. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	else if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
		flags |= MHD_USE_POLL;
	else
		return cbar_diag_set(
		    d, CBAR_HTTP, 0, 0,
		    "this libmicrohttpd has neither epoll nor poll, only select(): "
		    "it could not use descriptors past 1023");
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	struct http_server *s = calloc(1, sizeof *s);
	if (!s)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	s->ops = *ops;
	s->body_max = o->body_max;
	s->threads = o->threads ? o->threads : auto_threads();
	s->conn_limit = o->conn_limit ? o->conn_limit : fd_budget(s->threads * 4);
	/* The library shares the cap out between the threads: each needs one. */
	if (s->conn_limit < s->threads)
		s->conn_limit = s->threads;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (reaper_start(&s->reaper, o->header_timeout)) {
		reaper_stop(&s->reaper);
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0,
		                     "cannot start the header-deadline thread");
	}
	/* The TLS options come last: without TLS, MHD_OPTION_END ends the list
	 * before them. */
	s->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, s->threads, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)o->conn_timeout, MHD_OPTION_CONNECTION_LIMIT, s->conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_source_limit, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, o->tls_cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, o->tls_key_pem,
	    /* TLS 1.2 and 1.3 only, GnuTLS's usual ciphers among them */
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_END);
	if (!s->mhd) {
		reaper_stop(&s->reaper);
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return cbar_diag_set(
		    d, CBAR_HTTP, 0, 0,
		    tls ? "cannot listen on %s with TLS (address in use, not ours, "
		          "or a certificate and key that do not load or match)"
		        : "cannot listen on %s (address in use, or not ours?)",
		    o->listen);
	}
	s->tls = tls;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(info ? info->port : 0);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons(info ? info->port : 0);
	cbar__addr_format((struct sockaddr *)&ss, s->bound, sizeof s->bound);
	*out = s;
	return CBAR_OK;
}

unsigned cbar_http_threads(const struct http_server *s)
{
	return s->threads;
}

unsigned cbar_http_conn_limit(const struct http_server *s)
{
	return s->conn_limit;
}

unsigned long cbar_http_header_timeouts(const struct http_server *s)
{
	return atomic_load(&((struct http_server *)s)->reaper.cut);
}

const char *cbar_http_bound(const struct http_server *s)
{
	return s->bound;
}

bool cbar_http_tls(const struct http_server *s)
{
	return s->tls;
}

const char *cbar_http_header(const struct http_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *cbar_http_query(const struct http_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *cbar_http_cookie(const struct http_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

void cbar_http_peer(const struct http_request *rq, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	buf[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	const void *a = sa->sa_family == AF_INET6
	                    ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
	                    : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    !inet_ntop(sa->sa_family, a, buf, (socklen_t)cap))
		buf[0] = '\0';
}

struct query_walk {
	void (*each)(void *arg, const char *key, const char *value);
	void *arg;
};

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	struct query_walk *w = cls;
	(void)kind;
	w->each(w->arg, key, value ? value : "");
	return MHD_YES;
}

void cbar_http_query_each(const struct http_request *rq,
                     void (*each)(void *arg, const char *key, const char *value), void *arg)
{
	struct query_walk w = {each, arg};
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_one, &w);
}

unsigned cbar_http_in_flight(const struct http_server *s)
{
	return atomic_load(&((struct http_server *)s)->in_flight);
}

unsigned cbar_http_drain_and_stop(struct http_server *s, unsigned timeout_s)
{
	MHD_socket fd = MHD_quiesce_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s;
	pthread_mutex_lock(&s->lock);
	while (atomic_load(&s->in_flight) > 0)
		if (pthread_cond_timedwait(&s->idle, &s->lock, &until))
			break;
	unsigned left = atomic_load(&s->in_flight);
	pthread_mutex_unlock(&s->lock);
	MHD_stop_daemon(s->mhd);
	reaper_stop(&s->reaper);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return left;
}
