/* callbar serve: start, signals, reload, graceful stop. */
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"
#include "series.h"

enum { SERVE_OK = 0, SERVE_BAD = 2 };
#include "callbar/data.h"
#include "callbar/version.h"
#include "net/addr.h"
#include "bars.h"
#include "callbar/store.h"
#include "daemon.h"
#include "limits.h"
#include "load/numplan_load.h"
#include "log.h"
#include "decision.h"
#include "net/fd_limit.h"
#include "rule_counts.h"
#include "smpp_front.h"
#include "snapshot.h"

static const char help[] =
	"usage: callbar serve [--config FILE] [--http ADDR:PORT] [--rules FILE]\n"
	"                     [--registry URL] [--sip ADDR:PORT] [--tokens FILE]\n"
	"                     [--smpp ADDR:PORT] [--log-level LEVEL] [--check]\n"
	"\n"
	"Run the decision daemon: HTTP/JSON on ADDR:PORT (default 127.0.0.1:8080;\n"
	"port 0 lets the kernel pick one, printed at start).  Flags override the\n"
	"configuration file; with no file the defaults are loopback, the rule file\n"
	"etc/callbar/pilots.rules and the registry sqlite:var/callbar.db.\n"
	"docs/config.md describes every key, docs/api.md every route.\n"
	"\n"
	"  --config FILE      read the configuration (key = value in [sections])\n"
	"  --http ADDR:PORT   http.listen\n"
	"  --rules FILE       rules.file\n"
	"  --registry URL     registry.url (sqlite:PATH or postgresql://...)\n"
	"  --sip ADDR:PORT    sip.listen: answer SIP INVITE/MESSAGE on UDP and TCP\n"
	"                     (direction out; docs/sip.md)\n"
	"  --smpp ADDR:PORT   smpp.listen: the SMPP firewall, where interconnect peers\n"
	"                     bind (docs/smpp.md; peers: callbar smpp-peer)\n"
	"  --tokens FILE      auth.tokens (default var/tokens)\n"
	"  --log-level LEVEL  log.level: debug, info, warn, error\n"
	"  --check            check the configuration and the rule file, print the\n"
	"                     effective configuration and exit\n"
	"\n"
	"Signals: SIGHUP reloads the rule file (a file that fails keeps the old\n"
	"rules); SIGTERM or SIGINT stop accepting, finish the requests in flight\n"
	"(at most http.drain_timeout seconds) and exit 0.\n"
	"\n"
	"Exit status: 0 after a clean stop, 1 when requests were cut at the drain\n"
	"timeout, 2 for a bad configuration or rule file at start.\n";

void cbar_daemon_ready_add(struct daemon *d, const char *name,
                      enum cbar_err (*check)(void *ctx, struct cbar_diag *diag), void *ctx)
{
	if (d->nready < READY_CHECKS_MAX)
		d->ready[d->nready++] = (struct ready_check){name, check, ctx};
}

static enum cbar_err ready_snapshot(void *ctx, struct cbar_diag *diag)
{
	struct daemon *d = ctx;
	cbar_slot_read_begin();
	bool have = cbar_slot_get(&d->rules) != NULL;
	cbar_slot_read_end();
	return have ? CBAR_OK : cbar_diag_set(diag, CBAR_UNAVAILABLE, 0, 0, "no rules loaded");
}

static enum cbar_err ready_tokens(void *ctx, struct cbar_diag *diag)
{
	struct daemon *d = ctx;
	return token_store_ready(&d->tokens, diag);
}

static enum cbar_err ready_registry(void *ctx, struct cbar_diag *diag)
{
	struct daemon *d = ctx;
	return cbar_engine_ready(d->engine, diag);
}

static void print_diag(const char *what, const struct cbar_diag *d)
{
	if (d->line)
		fprintf(stderr, "callbar serve: %s:%u:%u: %s\n", d->file ? d->file : what, d->line,
		        d->column, d->msg);
	else
		fprintf(stderr, "callbar serve: %s: %s\n", d->file ? d->file : what, d->msg);
}

static void print_try(const char *addr, bool tls, const struct daemon_config *c)
{
	const char *u = tls ? "https" : "http";
	printf("callbar serve: listening on %s://%s\n", u, addr);
	printf("Try it:\n"
	       "  curl -s %s://%s/healthz\n"
	       "  curl -s %s://%s/readyz\n"
	       "  curl -s %s://%s/metrics\n"
	       "  TOKEN=$(build/callbar token create --role admin --name try-$(date +%%s) --tokens %s)\n"
	       "  curl -s -H \"Authorization: Bearer $TOKEN\" %s://%s/v1/rules\n"
	       "  curl -s -X POST -H \"Authorization: Bearer $TOKEN\" %s://%s/v1/reload\n"
	       "  curl -s -X POST -H \"Authorization: Bearer $TOKEN\" %s://%s/v1/decide \\\n"
	       "       -d '{\"service\":\"voice\",\"direction\":\"in\",\"subscriber\":\"13805710000\","
	       "\"peer\":\"+85291234567\"}'\n"
	       "SIGHUP reloads the rules; Ctrl-C or SIGTERM stops.\n",
	       u, addr, u, addr, u, addr, c->tokens_file, u, addr, u, addr, u, addr);
	fflush(stdout);
}

/* A PEM file of http.tls_cert or http.tls_key, whole and NUL-ended, or
 * NULL with a message.  A key others may read is named in a warning. */
#define PEM_MAX (1u << 20)
static char *read_pem(const char *path, const char *key)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	struct stat st;
	if (!f) {
		fprintf(stderr, "callbar serve: %s: %s: cannot open\n", key, path);
		return NULL;
	}
	if (!fstat(fileno(f), &st) && !strcmp(key, "http.tls_key") && (st.st_mode & 077))
		fprintf(stderr, "callbar serve: warning: %s: %s is readable by others (chmod 600)\n",
		        key, path);
	size_t n = 0;
	if ((buf = malloc(PEM_MAX + 1)))
		n = fread(buf, 1, PEM_MAX + 1, f);
	fclose(f);
	if (!buf || n > PEM_MAX) {
		fprintf(stderr, "callbar serve: %s: %s: %s\n", key, path,
		        buf ? "larger than 1 MiB" : "out of memory");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (!strstr(buf, "-----BEGIN ")) {
		fprintf(stderr, "callbar serve: %s: %s: not PEM (no '-----BEGIN ' line)\n", key, path);
		sodium_memzero(buf, n);
		free(buf);
		return NULL;
	}
	return buf;
}

static void free_pem(char **p)
{
	if (*p) {
		sodium_memzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* ---- the SIP front end: the same snapshot and unlock records as HTTP ---- */

static enum cbar_decision sip_decide(void *p, const struct cbar_event *ev, struct cbar_verdict *v)
{
	struct daemon *d = p;
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	enum cbar_decision dec = cbar_daemon_decide(d, s, ev, v);
	cbar_daemon_record(s, DAEMON_FRONT_SIP, ev, v);
	return dec;
}

/* A UDP worker's recvmmsg() batch: its events decided in one call, then
 * each recorded as a single one is. */
static void sip_decide_many(void *p, const struct cbar_event *const *ev, size_t n,
                            struct cbar_verdict *v)
{
	struct daemon *d = p;
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	cbar_daemon_decide_many(d, s, ev, n, v);
	for (size_t i = 0; i < n; i++)
		cbar_daemon_record(s, DAEMON_FRONT_SIP, ev[i], &v[i]);
}

/* The numbering plan of the snapshot a SIP worker holds (after enter). */
static const struct cbar_numplan *sip_plan(void *p)
{
	struct daemon *d = p;
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	return s ? s->np : d->np;
}

/* A worker holds the snapshot from before it decides a batch until the
 * replies, which quote the verdict's strings, are built. */
static void sip_enter(void *p)
{
	(void)p;
	cbar_slot_read_begin();
}

static void sip_leave(void *p)
{
	(void)p;
	cbar_slot_read_end();
}

/* sip.listen (direction out) and sip.listen_in (direction in): UDP and TCP
 * each, the default number sources; then each sip.listener line as it
 * describes itself (cbar_sip_listener_spec).  All take the status and fail mode
 * of [sip], and its ingress classes unless a line names its own (via=).
 * The SIP workers decide on the daemon's snapshot and unlock records. */
#define SIP_INGRESS_MAX 64

static bool start_sip(struct daemon *d)
{
	struct sip_listener_cfg l[2 + CONFIG_SPECS_MAX];
	static struct sip_ingress ing[SIP_INGRESS_MAX], ling[SIP_INGRESS_MAX];
	size_t nl = 0, ning = 0, nling = 0;
	const char *ig = d->cfg.sip_ingress;
	while (*ig) {
		const char *e = strchr(ig, ',');
		size_t n = e ? (size_t)(e - ig) : strlen(ig);
		if (ning == SIP_INGRESS_MAX || !cbar_sip_ingress_parse(ig, n, &ing[ning])) {
			fprintf(stderr, "callbar serve: sip.ingress: want CIDR=NAME[,CIDR=NAME...] "
			                "(at most %d), not '%.*s'\n",
			        SIP_INGRESS_MAX, (int)n, ig);
			return false;
		}
		ning++;
		ig += n + (e != NULL);
	}
	const char *addrs[2] = {d->cfg.sip_listen, d->cfg.sip_listen_in};
	for (int i = 0; i < 2; i++) {
		if (!addrs[i][0])
			continue;
		memset(&l[nl], 0, sizeof l[nl]);
		socklen_t alen;
		if (cbar__addr_parse(addrs[i], strlen(addrs[i]), &l[nl].addr, &alen)) {
			fprintf(stderr, "callbar serve: %s: want HOST:PORT, not '%s'\n",
			        i ? "sip.listen_in" : "sip.listen", addrs[i]);
			return false;
		}
		l[nl].transports = SIP_UDP | SIP_TCP;
		l[nl].direction = i ? CBAR_IN : CBAR_OUT;
		nl++;
	}
	const struct config_specs *cs = &d->cfg.sip_listeners;
	for (unsigned i = 0; i < cs->n; i++) {
		struct cbar_diag ld = {0};
		if (cbar_sip_listener_spec(cs->v[i], strlen(cs->v[i]), &l[nl], ling, SIP_INGRESS_MAX,
		                      &nling, &ld)) {
			fprintf(stderr, "callbar serve: sip.listener '%s': %s\n", cs->v[i], ld.msg);
			return false;
		}
		nl++;
	}
	for (size_t i = 0; i < nl; i++) {
		cbar_sip_listener_defaults(&l[i], d->cfg.sip_block ? 603 : 403, d->cfg.sip_fail == 0,
		                      d->country, ing, ning);
		l[i].annc_uri = d->cfg.sip_annc_uri[0] ? d->cfg.sip_annc_uri : NULL;
	}
	struct sip_server_cfg sc = {
		.listeners = l,
		.nlisteners = nl,
		.np = d->np,
		.decider = {sip_decide, d, sip_enter, sip_leave, sip_plan, sip_decide_many},
		.coalesce_us = d->cfg.sip_coalesce_us,
		.ack_filter = d->cfg.sip_ack_filter,
		.tcp_idle_s = d->cfg.sip_tcp_idle,
		.tcp_per_source = d->cfg.sip_tcp_per_source,
	};
	struct cbar_diag sd = {0};
	if (cbar_sip_server_start(&sc, &d->sip, &sd)) {
		fprintf(stderr, "callbar serve: sip: %s\n", sd.msg);
		return false;
	}
	for (size_t i = 0; i < nl; i++) {
		char addr[80];
		cbar__addr_format((const struct sockaddr *)&l[i].addr, addr, sizeof addr);
		/* Port 0 asks for any free port: say which one it got. */
		char *colon = strrchr(addr, ':');
		if (colon)
			snprintf(colon, sizeof addr - (size_t)(colon - addr), ":%u",
			         cbar_sip_server_port(d->sip, i));
		const char *dir = l[i].direction == CBAR_IN ? "in" : "out";
		unsigned t = l[i].transports;
		cbar_log_line(LOG_LV_INFO, "sip listening", "{s:s,s:s,s:s,s:i}", "sip", addr, "direction",
		         dir, "transports", t == SIP_UDP ? "udp" : t == SIP_TCP ? "tcp" : "udp,tcp",
		         "workers", (int)cbar_sip_server_workers(d->sip));
		printf("callbar serve: SIP on %s (%s, direction %s)\n", addr,
		       t == SIP_UDP ? "UDP" : t == SIP_TCP ? "TCP" : "UDP and TCP", dir);
	}
	fflush(stdout);
	return true;
}

int cbar_serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},  {"http", required_argument, NULL, 'H'},
		{"rules", required_argument, NULL, 'r'},   {"registry", required_argument, NULL, 'R'},
		{"sip", required_argument, NULL, 's'},     {"tokens", required_argument, NULL, 't'},
		{"log-level", required_argument, NULL, 'l'}, {"check", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},          {"smpp", required_argument, NULL, 'S'},
		{0, 0, 0, 0},
	};
	/* Flags are applied after the file, in the order given. */
	static const struct {
		int opt;
		const char *key;
	} flag_keys[] = {
		{'H', "http.listen"}, {'r', "rules.file"},   {'R', "registry.url"},
		{'s', "sip.listen"},  {'t', "auth.tokens"},  {'l', "log.level"},
		{'S', "smpp.listen"},
	};
	const char *config = NULL;
	const char *flag_val[sizeof flag_keys / sizeof flag_keys[0]] = {0};
	bool check = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		size_t i;
		for (i = 0; i < sizeof flag_keys / sizeof flag_keys[0]; i++)
			if (flag_keys[i].opt == c) {
				flag_val[i] = optarg;
				break;
			}
		if (i < sizeof flag_keys / sizeof flag_keys[0])
			continue;
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			fputs(help, stdout);
			return SERVE_OK;
		default:
			fputs(help, stderr);
			return SERVE_BAD;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "callbar serve: unexpected argument '%s'\n", argv[optind]);
		return SERVE_BAD;
	}

	/* SIGHUP, SIGTERM and SIGINT are taken by sigwait() in this thread
	 * only.  They are blocked before anything starts a thread (the
	 * registry follower, the SIP workers, the HTTP pool), so every thread
	 * inherits the mask: a signal that found a thread not blocking it
	 * would take its default action there and end the process without a
	 * drain.  One that arrives while the daemon starts waits for the loop. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	static struct daemon dm; /* static: the signal loop and the routes share it */
	struct daemon *d = &dm;
	struct cbar_diag diag = {0};
	int rc = SERVE_BAD;
	cbar_config_init(&d->cfg);
	if (config && cbar_config_load(&d->cfg, config, &diag)) {
		print_diag(config, &diag);
		return SERVE_BAD;
	}
	for (size_t i = 0; i < sizeof flag_keys / sizeof flag_keys[0]; i++)
		if (flag_val[i] && cbar_config_set(&d->cfg, flag_keys[i].key, flag_val[i], &diag)) {
			const char *name = "?";
			for (const struct option *o = opts; o->name; o++)
				if (o->val == flag_keys[i].opt)
					name = o->name;
			fprintf(stderr, "callbar serve: --%s: %s\n", name, diag.msg);
			return SERVE_BAD;
		}
	cbar_log_setup(d->cfg.log_level, d->cfg.decision_log, NULL);
	if (!check && d->cfg.decision_log && d->cfg.decision_file[0] &&
	    cbar_log_decision_file(d->cfg.decision_file, d->cfg.decision_days, d->cfg.decision_group,
	                      &diag)) {
		fprintf(stderr, "callbar serve: log.decision_file: %s\n", diag.msg);
		return SERVE_BAD;
	}
	if (d->cfg.decision_log && !d->cfg.decision_file[0] && !check)
		cbar_log_line(LOG_LV_WARN, "decision lines go to the main log: their retention is the log "
		                      "system's (set log.decision_file for files kept "
		                      "log.decision_retention_days)",
		         NULL);
	if (sodium_init() < 0) {
		fputs("callbar serve: libsodium failed to start\n", stderr);
		return SERVE_BAD;
	}
	/* The built-in numbering: the country and the registry routes'
	 * numbers.  The operator's numbering (numbering.*) is loaded with
	 * each reload into the snapshot (reload.c), which every front end
	 * decides on: HTTP through the snapshot's event context, SIP through
	 * sip_plan(). */
	const struct numplan_files nf = {0};
	if (!(d->np = cbar_numplan_load(&nf)))
		return SERVE_BAD;
	d->country = cbar_numplan_country(d->np, d->cfg.country, strlen(d->cfg.country));
	if (d->country == CBAR_NONE) {
		fprintf(stderr, "callbar serve: rules.country: unknown country '%s'\n", d->cfg.country);
		goto out_np;
	}
	if (cbar_sessions_init(&d->sessions)) {
		fputs("callbar serve: out of memory\n", stderr);
		goto out_np;
	}
	d->sessions.idle_s = d->cfg.console_idle;
	d->sessions.life_s = d->cfg.console_life;
	cbar_slot_init(&d->rules);
	pthread_mutex_init(&d->reload_lock, NULL);
	/* auth.tokens = registry: the tokens live in the unlock registry,
	 * shared by every node; anything else names a token file. */
	bool reg_tokens = !strcmp(d->cfg.tokens_file, "registry");
	char url_r[CONFIG_PATH_MAX]; /* the registry URL for messages */
	cbar_config_url_redact(d->cfg.registry_url, url_r, sizeof url_r);
	if (reg_tokens && check) {
		/* --check does not reach the registry: nothing to open. */
	} else if (reg_tokens ? cbar_token_registry_open(&d->tokens, d->cfg.registry_url, "serve", &diag)
	                      : cbar_token_file_open(&d->tokens, d->cfg.tokens_file, &diag)) {
		if (reg_tokens)
			diag.file = NULL; /* it is the URL, password and all */
		print_diag(reg_tokens ? url_r : d->cfg.tokens_file, &diag);
		goto out_slot;
	}
	/* A token file that is malformed or not to be trusted stops the start,
	 * as a rule file that fails does; later it is a failing ready check. */
	if (token_store_ready(&d->tokens, &diag)) {
		fprintf(stderr, "callbar serve: %s\n", diag.msg);
		goto out_tokens;
	}
	/* --check looks at the configuration and the rules only: it does not
	 * need the registry to be up. */
	if (!check && cbar_engine_open(&d->engine, d->cfg.registry_url, d->cfg.registry_read_url,
	                               d->cfg.registry_snapshot, d->cfg.keywords_file, &diag)) {
		diag.file = NULL; /* it is the URL, password and all */
		print_diag(url_r, &diag);
		goto out_tokens;
	}
	/* keyword answers tell the truth from the rules in use */
	if (!check)
		cbar_engine_set_rules(d->engine, &d->rules);
	/* The audit chain's head at start, in the log an operator keeps
	 * elsewhere: a later rewrite of the whole chain cannot match it. */
	char head_hash[65];
	int64_t head_seq;
	struct cbar_diag hd = {0};
	if (!check && cbar_engine_has_registry(d->engine) &&
	    !cbar_engine_audit_head(d->engine, &head_seq, head_hash, &hd))
		cbar_log_line(LOG_LV_INFO, "audit chain head", "{s:I,s:s}", "seq", (json_int_t)head_seq,
		         "hash", head_hash);
	cbar_metric_gauge(&cbar_m_build_info, (const char *const[]){cbar_version, cbar_commit}, 1);
	cbar_metric_count(&cbar_m_reloads, (const char *const[]){"ok"}, 0);
	cbar_metric_count(&cbar_m_reloads, (const char *const[]){"failed"}, 0);
	/* Limits count from the first snapshot on (limits.h). */
	if (cbar_daemon_limits_new(&d->limits, d->cfg.limits_max_keys, d->cfg.limits_tolerance)) {
		fputs("callbar serve: out of memory\n", stderr);
		goto out_engine;
	}
	/* The first snapshot: a daemon that cannot load its rules does not start. */
	if (cbar_daemon_reload(d, "start", &diag)) {
		print_diag(d->cfg.rules_file, &diag);
		goto out_engine;
	}
	if (check) {
		cbar_config_write(&d->cfg, stdout);
		rc = SERVE_OK;
		goto out_engine;
	}
	if (cbar_engine_has_registry(d->engine)) {
		char node[CBAR_STORE_NAME_MAX + 1] = "callbar@", host[256] = "";
		gethostname(host, sizeof host - 1);
		snprintf(node + 8, sizeof node - 8, "%.*s", (int)(sizeof node - 9), host);
		if (cbar_daemon_bars_start(&d->bars, d->engine, d->limits, node)) {
			fputs("callbar serve: cannot start following the registry's bars\n", stderr);
			goto out_engine;
		}
	}
	cbar_daemon_ready_add(d, "rules", ready_snapshot, d);
	cbar_daemon_ready_add(d, "tokens", ready_tokens, d);
	if (cbar_engine_has_registry(d->engine))
		cbar_daemon_ready_add(d, "registry", ready_registry, d);
	/* Thousands of SIP and HTTP connections need more descriptors than
	 * the usual soft limit: take the hard one, before either server sizes
	 * its connection cap from it (src/net/fd_limit.h). */
	unsigned long nofile = cbar__fd_limit_raise();
	if ((d->cfg.sip_listen[0] || d->cfg.sip_listen_in[0] || d->cfg.sip_listeners.n) &&
	    !start_sip(d))
		goto out_engine;
	if (d->cfg.smpp_listen[0]) {
		if (!cbar_smpp_start(d))
			goto out_engine;
		cbar_daemon_ready_add(d, "smpp_upstream", cbar_smpp_ready, d);
	}

	struct http_ops ops = cbar_daemon_http_ops_template;
	ops.ctx = d;
	struct http_options ho = {
		.listen = d->cfg.http_listen,
		.threads = d->cfg.http_threads,
		.body_max = d->cfg.body_max,
		.conn_timeout = d->cfg.conn_timeout,
		.header_timeout = d->cfg.header_timeout,
		.per_source_limit = d->cfg.per_source,
	};
	if (!d->cfg.tls_cert[0] != !d->cfg.tls_key[0]) {
		fprintf(stderr, "callbar serve: http.tls_cert and http.tls_key go together\n");
		goto out_engine;
	}
	if (d->cfg.tls_cert[0]) {
		if (!(d->tls_cert_pem = read_pem(d->cfg.tls_cert, "http.tls_cert")) ||
		    !(d->tls_key_pem = read_pem(d->cfg.tls_key, "http.tls_key")))
			goto out_engine;
		ho.tls_cert_pem = d->tls_cert_pem;
		ho.tls_key_pem = d->tls_key_pem;
	}
	/* The console's per-minute series, sampled from the decision counts. */
	if (cbar_series_start()) {
		fputs("callbar serve: cannot start the series' thread\n", stderr);
		goto out_engine;
	}
	if (cbar_http_start(&d->http, &ho, &ops, &diag)) {
		fprintf(stderr, "callbar serve: %s\n", diag.msg);
		goto out_engine;
	}
	cbar_log_line(LOG_LV_INFO, "listening", "{s:s,s:i,s:I,s:I,s:s,s:s}", "http",
	         cbar_http_bound(d->http), "threads", (int)cbar_http_threads(d->http), "connection_limit",
	         (json_int_t)cbar_http_conn_limit(d->http), "descriptor_limit", (json_int_t)nofile,
	         "decide_auth",
	         d->cfg.decide_auth == DECIDE_AUTH_NONE ? "none" : "token", "registry", url_r);
	print_try(cbar_http_bound(d->http), cbar_http_tls(d->http), &d->cfg);

	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig))
			continue;
		if (sig == SIGHUP) {
			struct cbar_diag rd = {0};
			cbar_daemon_reload(d, "sighup", &rd);
			continue;
		}
		cbar_log_line(LOG_LV_INFO, "stopping: draining requests in flight", "{s:s,s:i,s:i}",
		         "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", "in_flight",
		         (int)cbar_http_in_flight(d->http), "timeout_s", (int)d->cfg.drain_timeout);
		break;
	}
	cbar_sip_server_stop(d->sip); /* stateless: nothing in flight to drain */
	d->sip = NULL;
	cbar_smpp_stop(d); /* unbinds peers and the SMSC */
	unsigned left = cbar_http_drain_and_stop(d->http, d->cfg.drain_timeout);
	d->http = NULL;
	cbar_log_line(left ? LOG_LV_WARN : LOG_LV_INFO, "stopped", "{s:i}", "cut", (int)left);
	rc = left ? 1 : SERVE_OK;
out_engine:
	cbar_sip_server_stop(d->sip);
	d->sip = NULL;
	cbar_smpp_stop(d);
	free_pem(&d->tls_cert_pem);
	free_pem(&d->tls_key_pem);
	cbar_daemon_bars_stop(d->bars); /* writes this node's last bars */
	d->bars = NULL;
	cbar_engine_close(d->engine);
	d->engine = NULL;
	cbar_daemon_limits_free(d->limits);
	d->limits = NULL;
out_tokens:
	token_store_release(&d->tokens);
out_slot:
	cbar_slot_release(&d->rules);
	pthread_mutex_destroy(&d->reload_lock);
out_np:
	cbar_series_stop();
	cbar_sessions_release(&d->sessions);
	cbar_rule_counts_release(); /* every thread that counted is gone */
	cbar_numplan_free(d->np);
	cbar_metrics_release(cbar_daemon_metrics, cbar_daemon_metrics_count);
	return rc;
}
