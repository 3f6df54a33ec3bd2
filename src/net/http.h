/*
 * callbar: the HTTP server, on libmicrohttpd.
 *
 * libmicrohttpd (Debian's libmicrohttpd-dev) does the HTTP: it is mature,
 * small, has a thread-pool mode, and spares us a hand-written HTTP parser
 * facing the network.  This file is the only one that includes it: the rest
 * of the daemon sees struct http_request and struct http_response.
 *
 * The pool's threads wait on epoll (poll where the library has no epoll):
 * select() cannot see a descriptor numbered 1024 or more, and a daemon
 * that also holds thousands of SIP TCP connections gets such descriptors
 * for its HTTP clients.
 *
 * What one client may take is bounded: connections per source address
 * (per_source_limit), connections in all (conn_limit, by default the
 * descriptor limit less HTTP_FD_RESERVE), seconds of
 * silence (conn_timeout), and seconds to send a request's header
 * (header_timeout): libmicrohttpd's own timeout restarts with every byte,
 * so a client trickling one header line every few seconds would keep its
 * connection for ever; a reaper thread cuts (shutdown()) a connection whose
 * header is not in header_timeout seconds after the connection opened, or
 * after the previous answer on a kept-alive connection.
 *
 * Before any op runs, a request is refused (400 through refuse(), and the
 * connection closed) when its header is ambiguous: a NUL byte in a header
 * field or a query argument (C strings would cut it short: a token
 * "good\0junk" would be read as "good"), Authorization, Content-Length,
 * Content-Type, Host or Transfer-Encoding given twice, Content-Length with
 * Transfer-Encoding (a proxy in front may frame the body the other way),
 * a query argument given twice (which one counts?), or more than
 * HTTP_QUERY_MAX query arguments.
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

/* The least number of request threads "auto" gives: a registry write that
 * waits for the disk holds its thread, and every connection that thread
 * serves, so even one core gets a few. */
#define HTTP_THREADS_MIN 4

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
	bool close;                /* close the connection after this answer */
	char *body;                /* malloc()ed; the server frees it */
	size_t len;
	const char *content_type;  /* a static string */
	const char *header_name;   /* one extra header (Allow, WWW-Authenticate) */
	const char *header_value;
	/* More headers (the console's security headers, Set-Cookie): name and
	 * value pairs, a NULL name after the last.  They are copied when the
	 * answer is queued, so they need only live until the op returns. */
	const char *const *headers;
};

struct http_ops {
	bool (*begin)(void *ctx, struct http_request *rq, struct http_response *resp);
	void (*finish)(void *ctx, struct http_request *rq, struct http_response *resp);
	void (*too_big)(void *ctx, struct http_request *rq, struct http_response *resp);
	void (*done)(void *ctx, struct http_request *rq);
	/* An ambiguous request (see above), answered 400 before begin();
	 * field is the query argument at fault or NULL.  done() follows with
	 * rq->user NULL. */
	void (*refuse)(void *ctx, struct http_request *rq, struct http_response *resp,
	               enum cbar_err code, const char *field, const char *message);
	void *ctx;
};

/* Descriptors the default connection cap leaves free for the registry, the
 * logs, rule and PEM files and reloads. */
#define HTTP_FD_RESERVE 256u

/* More query arguments than this are refused: no route takes so many, and
 * finding a repeated one stays cheap. */
#define HTTP_QUERY_MAX 32

struct http_options {
	const char *listen;     /* HOST:PORT; port 0: the kernel picks */
	unsigned threads;       /* 0: one per online core, at least HTTP_THREADS_MIN */
	size_t body_max;
	unsigned conn_timeout;  /* seconds of silence before a connection is closed */
	unsigned header_timeout; /* seconds to send a request's header; 0: no limit */
	unsigned per_source_limit; /* connections from one address; 0: no limit */
	unsigned conn_limit;    /* connections in all; 0: the descriptor budget */
	/* HTTPS when both are set: PEM text of the certificate (chain) and of
	 * its private key (libmicrohttpd's GnuTLS does the TLS); NULL: HTTP. */
	const char *tls_cert_pem, *tls_key_pem;
};

/* Start listening; on failure d says why (address in use, ...). */
enum cbar_err cbar_http_start(struct http_server **out, const struct http_options *o,
                         const struct http_ops *ops, struct cbar_diag *d);

/* The address actually bound ("127.0.0.1:41234"), for port 0. */
const char *cbar_http_bound(const struct http_server *s);

/* Request threads running, and the connection cap in force. */
unsigned cbar_http_threads(const struct http_server *s);
unsigned cbar_http_conn_limit(const struct http_server *s);

/* Connections cut by the header deadline since start. */
unsigned long cbar_http_header_timeouts(const struct http_server *s);

/* Whether it speaks HTTPS. */
bool cbar_http_tls(const struct http_server *s);

/* A request header or query argument, or NULL. */
const char *cbar_http_header(const struct http_request *rq, const char *name);
const char *cbar_http_query(const struct http_request *rq, const char *name);

/* A cookie of the request's Cookie header, or NULL. */
const char *cbar_http_cookie(const struct http_request *rq, const char *name);

/* The client's address without its port ("127.0.0.1", "::1") into buf;
 * "" when it cannot be told. */
void cbar_http_peer(const struct http_request *rq, char *buf, size_t cap);

/* Call each(arg, key, value) for every query argument, in order. */
void cbar_http_query_each(const struct http_request *rq,
                     void (*each)(void *arg, const char *key, const char *value), void *arg);

/* Requests begun and not yet done. */
unsigned cbar_http_in_flight(const struct http_server *s);

/*
 * Graceful stop: close the listening socket (new connections are refused),
 * wait until no request is in flight or timeout_s seconds passed, then
 * stop the threads and free everything.  Returns the requests still in
 * flight when it gave up waiting (0 for a clean drain).
 */
unsigned cbar_http_drain_and_stop(struct http_server *s, unsigned timeout_s);

#endif
