/*
 * callbar cluster status: ask every node of a cluster what it runs and
 * whether it is ready, and say whether they agree.
 *
 * Each node is asked over plain HTTP for GET /readyz (its checks) and GET
 * /metrics (the rule file's SHA-256 in callbar_rules_info, the registry
 * sequence it has followed in callbar_registry_sequence, callbar_store_up
 * and callbar_build_info): the routes a monitoring system reads too, so
 * this command sees what Prometheus sees.  A node's lag is how many registry
 * changes it is behind the most advanced node.  The HTTP client is a small
 * one of its own (HTTP/1.0, one request a connection, a bounded answer, a
 * deadline): it talks to callbar only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
    "usage: callbar cluster status [--token TOKEN] [--timeout SECONDS] [--max-lag N]\n"
    "                              [--json] URL...\n"
    "\n"
    "Ask each callbar node (URL: http://HOST:PORT) for its readiness (GET\n"
    "/readyz), the SHA-256 of the rule file it runs, the registry change\n"
    "sequence its copy has followed, whether its registry answers, and its\n"
    "version (GET /metrics); print one line a node, then whether they agree.\n"
    "A node's lag is the number of registry changes it is behind the most\n"
    "advanced node.\n"
    "\n"
    "  --token TOKEN     bearer token for nodes with http.metrics_auth = on\n"
    "                    (default $CALLBAR_TOKEN)\n"
    "  --timeout S       seconds to wait for each node (default 2, at most 60)\n"
    "  --max-lag N       registry changes a node may be behind and still agree\n"
    "                    (default 0)\n"
    "  --json            one JSON object a node, then a summary object\n"
    "\n"
    "Output, one line a node:\n"
    "  URL ready|NOT-READY rules=SHA256 seq=N lag=N store=up|down version=V commit=C\n"
    "\n"
    "Exit status: 0 every node answered, is ready and they agree (the same\n"
    "rule file, lag within --max-lag); 1 they differ or one is not ready;\n"
    "2 a node did not answer, or a bad argument.\n";

/* An answer is at most this long: /metrics of a busy node is some 100 KiB. */
#define ANSWER_MAX (4u << 20)

struct answer {
	int status;
	char *body; /* NUL-terminated, owned */
	size_t len;
};

struct node {
	const char *url;
	char host[256], port[8];
	bool answered, ready, store_up, have_seq, have_store;
	char sha[65], version[64], commit[64];
	int64_t seq, lag;
	char err[512];
};

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* http://HOST:PORT[/] into n->host and n->port ([v6] in brackets). */
static bool parse_url(struct node *n)
{
	const char *p = n->url;
	if (strncmp(p, "http://", 7))
		return false;
	p += 7;
	const char *end = p + strcspn(p, "/");
	const char *colon;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb || rb[1] != ':')
			return false;
		if ((size_t)(rb - p - 1) >= sizeof n->host)
			return false;
		memcpy(n->host, p + 1, (size_t)(rb - p - 1));
		n->host[rb - p - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		if (!colon || (size_t)(colon - p) >= sizeof n->host || colon == p)
			return false;
		memcpy(n->host, p, (size_t)(colon - p));
		n->host[colon - p] = '\0';
	}
	size_t plen = (size_t)(end - colon - 1);
	if (plen == 0 || plen >= sizeof n->port || strspn(colon + 1, "0123456789") < plen)
		return false;
	memcpy(n->port, colon + 1, plen);
	n->port[plen] = '\0';
	return *end == '\0' || !strcmp(end, "/");
}

/* Wait for fd to be ready for ev until deadline; false on timeout. */
static bool wait_fd(int fd, short ev, double deadline)
{
	for (;;) {
		double left = deadline - now_mono();
		if (left <= 0)
			return false;
		struct pollfd p = {.fd = fd, .events = ev};
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

/* GET path from the node; false with n->err set when it did not answer. */
static bool http_get(struct node *n, const char *path, const char *token, double timeout,
                     struct answer *a)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	int fd = -1;
	char *buf = NULL;
	bool ok = false;
	double deadline = now_mono() + timeout;
	memset(a, 0, sizeof *a);
	int gai = getaddrinfo(n->host, n->port, &hints, &ai);
	if (gai) {
		snprintf(n->err, sizeof n->err, "%s: %s", n->host, gai_strerror(gai));
		return false;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail_errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		goto fail_errno;
	if (!wait_fd(fd, POLLOUT, deadline))
		goto fail_timeout;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		errno = soerr;
		goto fail_errno;
	}
	char req[1024];
	int rl = snprintf(req, sizeof req,
	                  "GET %s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: callbar-cluster\r\n%s%s%s"
	                  "\r\n",
	                  path, n->host, n->port, token ? "Authorization: Bearer " : "",
	                  token ? token : "", token ? "\r\n" : "");
	if (rl < 0 || (size_t)rl >= sizeof req) {
		snprintf(n->err, sizeof n->err, "token too long");
		goto fail;
	}
	for (size_t off = 0; off < (size_t)rl;) {
		ssize_t w = send(fd, req + off, (size_t)rl - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN) {
			if (!wait_fd(fd, POLLOUT, deadline))
				goto fail_timeout;
			continue;
		}
		if (w < 0)
			goto fail_errno;
		off += (size_t)w;
	}
	size_t len = 0, cap = 65536;
	if (!(buf = malloc(cap + 1)))
		goto fail_errno;
	for (;;) {
		if (len == cap) {
			if (cap >= ANSWER_MAX) {
				snprintf(n->err, sizeof n->err, "%s: answer over %u bytes", path,
				         ANSWER_MAX);
				goto fail;
			}
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb)
				goto fail_errno;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!wait_fd(fd, POLLIN, deadline))
				goto fail_timeout;
			continue;
		}
		if (r < 0)
			goto fail_errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	/* "HTTP/1.x NNN ...", headers, a blank line, the body. */
	char *sep = strstr(buf, "\r\n\r\n");
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) || !sep) {
		snprintf(n->err, sizeof n->err, "%s: not an HTTP answer", path);
		goto fail;
	}
	a->status = (int)strtol(buf + 9, NULL, 10);
	a->len = len - (size_t)(sep + 4 - buf);
	memmove(buf, sep + 4, a->len + 1);
	a->body = buf;
	buf = NULL;
	ok = true;
	goto out;
fail_timeout:
	snprintf(n->err, sizeof n->err, "%s: no answer within %g s", path, timeout);
	goto fail;
fail_errno:
	snprintf(n->err, sizeof n->err, "%s: %s", path, strerror(errno));
fail:
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok;
}

/* The value of label name in a series line's {...}, into out. */
static void label_of(const char *line, const char *name, char *out, size_t size)
{
	char key[64];
	snprintf(key, sizeof key, "%s=\"", name);
	const char *p = strstr(line, key);
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	size_t l = strcspn(p, "\"\n");
	if (l >= size)
		l = size - 1;
	memcpy(out, p, l);
	out[l] = '\0';
}

/* The value at the end of a series line ("... 1\n"). */
static double value_of(const char *line)
{
	const char *eol = line + strcspn(line, "\n");
	const char *sp = eol;
	while (sp > line && sp[-1] != ' ')
		sp--;
	return strtod(sp, NULL);
}

static void read_metrics(struct node *n, const char *body)
{
	for (const char *l = body; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		if (*l == '#')
			continue;
		if (!strncmp(l, "callbar_rules_info{", 19) && value_of(l) == 1)
			label_of(l, "sha256", n->sha, sizeof n->sha);
		else if (!strncmp(l, "callbar_registry_sequence ", 26)) {
			n->seq = (int64_t)value_of(l);
			n->have_seq = true;
		} else if (!strncmp(l, "callbar_store_up ", 17)) {
			n->store_up = value_of(l) == 1;
			n->have_store = true;
		} else if (!strncmp(l, "callbar_build_info{", 19)) {
			label_of(l, "version", n->version, sizeof n->version);
			label_of(l, "commit", n->commit, sizeof n->commit);
		}
	}
}

static void ask(struct node *n, const char *token, double timeout)
{
	struct answer a;
	if (!parse_url(n)) {
		snprintf(n->err, sizeof n->err, "not an http://HOST:PORT URL");
		return;
	}
	if (!http_get(n, "/readyz", NULL, timeout, &a))
		return;
	json_t *j = json_loadb(a.body, a.len, 0, NULL);
	n->ready = a.status == 200 && json_is_true(json_object_get(j, "ready"));
	json_decref(j);
	free(a.body);
	if (!http_get(n, "/metrics", token, timeout, &a))
		return;
	if (a.status != 200) {
		snprintf(n->err, sizeof n->err, "/metrics: HTTP %d%s", a.status,
		         a.status == 401 ? " (give --token)" : "");
		free(a.body);
		return;
	}
	read_metrics(n, a.body);
	free(a.body);
	n->answered = true;
}

static int status_main(int argc, char **argv, const char *token, double timeout, int64_t max_lag,
                       bool json)
{
	int n = argc;
	struct node *nodes = calloc((size_t)n, sizeof *nodes);
	if (!nodes) {
		fputs("callbar cluster: out of memory\n", stderr);
		return CLI_BAD;
	}
	bool all_answered = true, agree = true;
	int64_t top = 0;
	for (int i = 0; i < n; i++) {
		nodes[i].url = argv[i];
		ask(&nodes[i], token, timeout);
		all_answered &= nodes[i].answered;
		if (nodes[i].answered && nodes[i].have_seq && nodes[i].seq > top)
			top = nodes[i].seq;
	}
	const char *first_sha = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = &nodes[i];
		if (!x->answered)
			continue;
		x->lag = x->have_seq ? top - x->seq : 0;
		if (!x->ready || x->lag > max_lag)
			agree = false;
		if (!first_sha)
			first_sha = x->sha;
		else if (strcmp(first_sha, x->sha))
			agree = false;
	}
	for (int i = 0; i < n; i++) {
		struct node *x = &nodes[i];
		if (json) {
			json_t *o =
			    x->answered
			        ? json_pack("{s:s,s:b,s:s,s:o,s:o,s:o,s:s,s:s}", "url", x->url,
			                    "ready", x->ready, "rules_sha256", x->sha, "seq",
			                    x->have_seq ? json_integer(x->seq) : json_null(), "lag",
			                    x->have_seq ? json_integer(x->lag) : json_null(),
			                    "store_up",
			                    x->have_store ? json_boolean(x->store_up) : json_null(),
			                    "version", x->version, "commit", x->commit)
			        : json_pack("{s:s,s:s}", "url", x->url, "error", x->err);
			char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
			if (s)
				puts(s);
			free(s);
			json_decref(o);
		} else if (x->answered) {
			char seq[24] = "-", lag[24] = "-";
			if (x->have_seq) {
				snprintf(seq, sizeof seq, "%" PRId64, x->seq);
				snprintf(lag, sizeof lag, "%" PRId64, x->lag);
			}
			printf("%s %s rules=%s seq=%s lag=%s store=%s version=%s commit=%s\n",
			       x->url, x->ready ? "ready" : "NOT-READY", x->sha[0] ? x->sha : "-",
			       seq, lag,
			       !x->have_store ? "-"
			       : x->store_up  ? "up"
			                      : "down",
			       x->version[0] ? x->version : "-", x->commit[0] ? x->commit : "-");
		} else {
			printf("%s NO-ANSWER %s\n", x->url, x->err);
		}
	}
	const char *verdict = !all_answered ? "a node did not answer"
	                      : agree       ? "the nodes agree"
	                                    : "the nodes differ";
	if (json)
		printf("{\"nodes\":%d,\"answered\":%s,\"agree\":%s}\n", n,
		       all_answered ? "true" : "false", all_answered && agree ? "true" : "false");
	else
		printf("%s\n", verdict);
	free(nodes);
	return !all_answered ? CLI_BAD : agree ? CLI_OK : 1;
}

int cbar_cmd_cluster(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"token", required_argument, NULL, 't'},   {"timeout", required_argument, NULL, 'T'},
	    {"max-lag", required_argument, NULL, 'm'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},          {0, 0, 0, 0},
	};
	const char *token = getenv("CALLBAR_TOKEN");
	double timeout = 2;
	int64_t max_lag = 0;
	bool json = false;
	int c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			token = optarg;
			break;
		case 'T':
			timeout = strtod(optarg, &end);
			if (*end || !(timeout > 0 && timeout <= 60)) {
				fprintf(stderr, "callbar cluster: --timeout: 0 to 60 seconds\n");
				return CLI_BAD;
			}
			break;
		case 'm':
			errno = 0;
			max_lag = strtoll(optarg, &end, 10);
			if (*end || errno || max_lag < 0) {
				fprintf(stderr, "callbar cluster: --max-lag: a count of changes\n");
				return CLI_BAD;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return CLI_OK;
		default:
			fputs(help, stderr);
			return CLI_BAD;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "status") || optind + 1 >= argc) {
		fputs(help, stderr);
		return CLI_BAD;
	}
	if (token && !token[0])
		token = NULL;
	return status_main(argc - optind - 1, argv + optind + 1, token, timeout, max_lag, json);
}
