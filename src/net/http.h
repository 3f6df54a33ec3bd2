/*
 * callbar: the HTTP server, on libmicrohttpd.
 *
 * libmicrohttpd (Debian's libmicrohttpd-dev) does the HTTP: it is mature,
 * small, has a thread-pool mode, and spares us a hand-written HTTP parser
 * facing the network.  This file is the only one that includes it: the rest
 * of the daemon sees struct http_request and struct http_response.
 *
 * A request goes through the ops in this order, on one of the pool's
 * threads:
 *   begin()   once the headers are in.  It may answer at once (unknown
 *             route, wrong method, no token) by filling resp and returning
 *             true; then the body is not read.
 *   finish()  once the whole body is in (at most body_max bytes: past that
 *             the server answers 413 itself with resp from too_big()).
 *   done()    when the answer was sent or the connection died, always once
 *             per begin(), so counts of requests in flight stay exact.
 *
 * Ownership: resp->body is malloc()ed by the handler and freed by the
 * server.  rq->user is the handler's, to free in done().
 */
#ifndef CALLBAR_NET_HTTP_H
#define CALLBAR_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "callbar/error.h"

struct http_server;

struct http_request {
	void *conn;          /* the library's connection; use the functions below */
	const char *method;
	const char *path;    /* percent-decoded path, no query */
	const char *body;    /* NUL-ended, body_len bytes (may hold NULs) */
	size_t body_len;
	int status;          /* of the answer, once sent */
	struct timespec start; /* CLOCK_MONOTONIC at begin() */
	void *user;
};

struct http_response {
	int status;
	char *body;                /* malloc()ed; the server frees it */
	size_t len;
	const char *content_type;  /* a static string */
	const char *header_name;   /* one extra header (Allow, WWW-Authenticate) */
	const char *header_value;
};

struct http_ops {
	bool (*begin)(void *ctx, struct http_request *rq, struct http_response *resp);
	void (*finish)(void *ctx, struct http_request *rq, struct http_response *resp);
	void (*too_big)(void *ctx, struct http_request *rq, struct http_response *resp);
	void (*done)(void *ctx, struct http_request *rq);
	void *ctx;
};

struct http_options {
	const char *listen;     /* HOST:PORT; port 0: the kernel picks */
	unsigned threads;
	size_t body_max;
	unsigned conn_timeout;  /* seconds */
	/* HTTPS when both are set: PEM text of the certificate (chain) and of
	 * its private key (libmicrohttpd's GnuTLS does the TLS); NULL: HTTP. */
	const char *tls_cert_pem, *tls_key_pem;
};

/* Start listening; on failure d says why (address in use, ...). */
enum cbar_err http_start(struct http_server **out, const struct http_options *o,
                         const struct http_ops *ops, struct cbar_diag *d);

/* The address actually bound ("127.0.0.1:41234"), for port 0. */
const char *http_bound(const struct http_server *s);

/* Whether it speaks HTTPS. */
bool http_tls(const struct http_server *s);

/* A request header or query argument, or NULL. */
const char *http_header(const struct http_request *rq, const char *name);
const char *http_query(const struct http_request *rq, const char *name);

/* Call each(arg, key, value) for every query argument, in order. */
void http_query_each(const struct http_request *rq,
                     void (*each)(void *arg, const char *key, const char *value), void *arg);

/* Requests begun and not yet done. */
unsigned http_in_flight(const struct http_server *s);

/*
 * Graceful stop: close the listening socket (new connections are refused),
 * wait until no request is in flight or timeout_s seconds passed, then
 * stop the threads and free everything.  Returns the requests still in
 * flight when it gave up waiting (0 for a clean drain).
 */
unsigned http_drain_and_stop(struct http_server *s, unsigned timeout_s);

#endif
