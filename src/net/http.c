/* callbar: HTTP server on libmicrohttpd (contract in http.h). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "http.h"

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_ops ops;
	size_t body_max;
	bool tls;
	char bound[80];
	_Atomic unsigned in_flight; /* begun and not done: no lock per request */
	pthread_mutex_t lock;       /* only for the drain's wait on idle */
	pthread_cond_t idle;
};

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
		resp->len, resp->body ? resp->body : (void *)"", resp->body ? MHD_RESPMEM_MUST_FREE
		                                                             : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp->body);
		return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (resp->header_name)
		MHD_add_response_header(r, resp->header_name, resp->header_value);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	st->rq.status = resp->status;
	st->answered = true;
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
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
		if (s->ops.begin(s->ops.ctx, &st->rq, &resp))
			return queue(c, st, &resp);
		/* A declared length over the cap is refused before reading it. */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
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
	(void)c;
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

enum cbar_err http_start(struct http_server **out, const struct http_options *o,
                         const struct http_ops *ops, struct cbar_diag *d)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	*out = NULL;
	if (cbar__addr_parse(o->listen, strlen(o->listen), &ss, &sl))
		return cbar_diag_set(d, CBAR_ADDR, 0, 0, "'%s' is not a numeric HOST:PORT", o->listen);
	bool tls = o->tls_cert_pem && o->tls_key_pem;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return cbar_diag_set(d, CBAR_HTTP, 0, 0, "this libmicrohttpd was built without TLS");
	struct http_server *s = calloc(1, sizeof *s);
	if (!s)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	s->ops = *ops;
	s->body_max = o->body_max;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	/* The TLS options come last: without TLS, MHD_OPTION_END ends the list
	 * before them. */
	s->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)o->conn_timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, o->tls_cert_pem,
		MHD_OPTION_HTTPS_MEM_KEY, o->tls_key_pem,
		/* TLS 1.2 and 1.3 only, GnuTLS's usual ciphers among them */
		MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
		MHD_OPTION_END);
	if (!s->mhd) {
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return cbar_diag_set(d, CBAR_HTTP, 0, 0,
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

const char *http_bound(const struct http_server *s)
{
	return s->bound;
}

bool http_tls(const struct http_server *s)
{
	return s->tls;
}

const char *http_header(const struct http_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
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

void http_query_each(const struct http_request *rq,
                     void (*each)(void *arg, const char *key, const char *value), void *arg)
{
	struct query_walk w = {each, arg};
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_one, &w);
}

unsigned http_in_flight(const struct http_server *s)
{
	return atomic_load(&((struct http_server *)s)->in_flight);
}

unsigned http_drain_and_stop(struct http_server *s, unsigned timeout_s)
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
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return left;
}
