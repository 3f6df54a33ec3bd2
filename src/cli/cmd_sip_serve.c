/* callbar sip-serve: the SIP policy server on its own (docs/sip.md,
 * "Running the server"). */
#include <arpa/inet.h>
#include <pthread.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "net/sip_server.h"
#include "net/addr.h"
#include "net/fd_limit.h"
#include "cli.h"
#include "callbar/limit.h"
#include "proto/event.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

static const char help[] =
	"usage: callbar sip-serve --rules FILE [--unlocked FILE | --registry URL]\n"
	"                         --sip ADDR:PORT [--sip-in ADDR:PORT] [--listener SPEC] ...\n"
	"                         [--block-status 403|603] [--fail-mode 302|500]\n"
	"                         [--ingress CIDR=NAME ...] [--workers N] [--at TIME]\n"
	"                         [--coalesce-us N] [--no-ack-filter] [--tcp-idle S]\n"
	"                         [--tcp-per-source N] [--segments FILE] [--ported FILE]\n"
	"                         [--carriers FILE] [--annc-uri TEMPLATE]\n"
	"\n"
	"Answer SIP INVITE (voice) and MESSAGE (SMS) over UDP and TCP as a stateless\n"
	"redirect server: 302 with Contact = the Request-URI when allowed, 403 (or 603)\n"
	"with Reason and X-Callbar-Rule when blocked (docs/sip.md).\n"
	"\n"
	"  --rules FILE        the rule file, compiled once at start\n"
	"  --unlocked FILE     unlock records, one a line (NUMBER SCOPE LEVEL)\n"
	"  --registry URL      unlock records from the registry (sqlite:PATH, postgres://...)\n"
	"  --sip ADDR:PORT     UDP and TCP listener for calls our subscribers make\n"
	"                      (direction out: subscriber P-Asserted-Identity, else From;\n"
	"                      peer the Request-URI); repeatable; port 0: any free port\n"
	"  --sip-in ADDR:PORT  the same for calls to our subscribers (direction in:\n"
	"                      subscriber Request-URI, else To; peer P-Asserted-Identity,\n"
	"                      else From)\n"
	"  --listener SPEC     a listener described in full (repeatable):\n"
	"                      'ADDR:PORT [direction=out|in] [transport=udp|tcp|udp,tcp]\n"
	"                      [subscriber=SRC,...] [peer=SRC,...] [via=CIDR=NAME]...\n"
	"                      [block=403|603|annc] [fail=302|500] [roaming=yes|no]\n"
	"                      [carrier=HEADER] [region=HEADER]\n"
	"                      [allow=CIDR,...]' with SRC ruri, to, from or pai,\n"
	"                      tried in order; allow= the only sources answered\n"
	"                      (others: UDP dropped, TCP closed); its via classes\n"
	"                      replace --ingress for it, its block and fail\n"
	"                      --block-status and --fail-mode (docs/sip.md)\n"
	"  --block-status S    403 (default) or 603 for a blocked call\n"
	"  --fail-mode S       the answer when no decision can be made (bad number,\n"
	"                      store down): 302 (fail open) or 500 (default)\n"
	"  --ingress CIDR=NAME requests from that network come in on ingress NAME (the\n"
	"                      rules' 'via NAME'); repeatable, the longest prefix wins\n"
	"  --workers N         worker threads (default: one per CPU)\n"
	"  --at TIME           decide every event at this time (tests), as in check\n"
	"  --coalesce-us N     UDP: after a short batch wait N us (<= 1000) so that\n"
	"                      datagrams gather: less CPU per call, up to N us more\n"
	"                      latency (default 0: answer each as it comes)\n"
	"  --tcp-idle S        close a TCP connection after S seconds without traffic\n"
	"                      (default 120; 0: never)\n"
	"  --tcp-per-source N  TCP connections one source address (IPv6: /64) may hold\n"
	"                      (default 64); more are closed at once\n"
	"  --no-ack-filter     UDP: let ACKs reach the workers (counted as dropped)\n"
	"                      rather than dropping them in the kernel (docs/sip.md)\n"
	"  --annc-uri T        the announcement server's RFC 4240 URI for listeners\n"
	"                      with block=annc: {name} and {lang} replaced, e.g.\n"
	"                      'sip:annc@ms.example;play=file:///annc/{name}-{lang}.wav'\n"
	"  --segments FILE, --ported FILE, --carriers FILE   the operator's numbering\n"
	"                      tables, as callbar check reads them\n"
	"\n"
	"Prints one line per listener (\"sip out 127.0.0.1:5060 udp,tcp\") once bound.\n"
	"SIGTERM or SIGINT stops it (exit 0) after printing its counters to stderr.\n";

#define MAX_LISTENERS 16
#define MAX_INGRESS 64

struct ctx {
	const struct cbar_rules *rules;
	struct cbar_unlock_lookup lk;
	bool have_lk;
};

/* The limits' counting state, shared by the workers behind one lock (the
 * limiter is pure state, callbar/limit.h); per process, no registry. */
struct locked_limiter {
	pthread_mutex_t mu;
	struct cbar_limiter *lm;
	struct cbar_limit_counter counter;
};

static enum cbar_err locked_hit(void *p, const struct cbar_rules *rules,
                                const struct cbar_limit_query *q, struct cbar_limit_answer *a)
{
	struct locked_limiter *l = p;
	(void)rules;
	pthread_mutex_lock(&l->mu);
	enum cbar_err e = cbar_limiter_hit(l->lm, q, a);
	pthread_mutex_unlock(&l->mu);
	return e;
}

static enum cbar_decision decide(void *p, const struct cbar_event *ev, struct cbar_verdict *v)
{
	const struct ctx *c = p;
	return cbar_decide(c->rules, ev, c->have_lk ? &c->lk : NULL, v);
}

/* A UDP worker's recvmmsg() batch in one call (sip_server.h). */
static void decide_many(void *p, const struct cbar_event *const *ev, size_t n,
                        struct cbar_verdict *v)
{
	const struct ctx *c = p;
	if (n == 1) /* cbar_decide() prefetches the records before matching (engine.c) */
		cbar_decide(c->rules, ev[0], c->have_lk ? &c->lk : NULL, v);
	else
		cbar_decide_many(c->rules, ev, n, c->have_lk ? &c->lk : NULL, v);
}


static void print_addr(FILE *f, const struct sockaddr_storage *a, uint16_t port)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (a->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)a)->sin_addr, host,
		          sizeof host);
		fprintf(f, "%s:%u", host, port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr, host,
		          sizeof host);
		fprintf(f, "[%s]:%u", host, port);
	}
}

static void print_counters(FILE *f, const struct sip_counters *c)
{
	fprintf(f,
	        "sip-serve: received %llu dropped %llu parse_errors %llu send_errors %llu "
	        "udp_kernel_dropped %llu udp_refused_source %llu\n",
	        (unsigned long long)c->received, (unsigned long long)c->dropped,
	        (unsigned long long)c->parse_errors, (unsigned long long)c->send_errors,
	        (unsigned long long)c->udp_kernel_dropped, (unsigned long long)c->udp_refused_source);
	fprintf(f, "sip-serve: decisions allow %llu block %llu error %llu\nsip-serve: answered",
	        (unsigned long long)c->decisions[CBAR_ALLOW],
	        (unsigned long long)c->decisions[CBAR_BLOCK],
	        (unsigned long long)c->decisions[CBAR_ERROR]);
	for (unsigned i = 0; i < SIP_ST_COUNT; i++)
		if (c->answered[i]) {
			if (i == SIP_ST_OTHER)
				fprintf(f, " other %llu", (unsigned long long)c->answered[i]);
			else
				fprintf(f, " %u %llu", cbar_sip_status_code((enum sip_status_slot)i),
				        (unsigned long long)c->answered[i]);
		}
	fprintf(f, "\nsip-serve: tcp accepted %llu closed %llu idle_closed %llu pings %llu\n",
	        (unsigned long long)c->tcp_accepted, (unsigned long long)c->tcp_closed,
	        (unsigned long long)c->tcp_idle_closed, (unsigned long long)c->tcp_pings);
	fprintf(f, "sip-serve: tcp refused not_allowed %llu per_source %llu full %llu\n",
	        (unsigned long long)c->tcp_refused_not_allowed,
	        (unsigned long long)c->tcp_refused_per_source,
	        (unsigned long long)c->tcp_refused_full);
}

/* --NAME N: a whole number from lo to hi into *out, or a message. */
static bool uint_opt(const char *name, const char *arg, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);
	if (*end || !*arg || *arg == '-' || n < lo || n > hi) {
		fprintf(stderr, "callbar sip-serve: --%s must be %u..%u\n", name, lo, hi);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

int cbar_cmd_sip_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, NULL, 'r'},     {"unlocked", required_argument, NULL, 'u'},
		{"registry", required_argument, NULL, 'R'},  {"sip", required_argument, NULL, 'o'},
		{"sip-in", required_argument, NULL, 'i'},    {"block-status", required_argument, NULL, 'b'},
		{"fail-mode", required_argument, NULL, 'f'}, {"ingress", required_argument, NULL, 'g'},
		{"workers", required_argument, NULL, 'w'},   {"at", required_argument, NULL, 't'},
		{"coalesce-us", required_argument, NULL, 'C'},
		{"no-ack-filter", no_argument, NULL, 'A'},
		{"listener", required_argument, NULL, 'L'},
		{"tcp-idle", required_argument, NULL, 'I'},
		{"tcp-per-source", required_argument, NULL, 'P'},
		{"segments", required_argument, NULL, 'G'},  {"ported", required_argument, NULL, 'T'},
		{"carriers", required_argument, NULL, 'K'},
		{"annc-uri", required_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},            {0, 0, 0, 0},
	};
	struct numplan_files files = {0};
	const char *annc = NULL;
	const char *rules_path = NULL, *unlocked = NULL, *registry = NULL, *at = NULL;
	struct sip_listener_cfg ls[MAX_LISTENERS];
	struct sip_ingress ing[MAX_INGRESS], ling[MAX_INGRESS]; /* --ingress; --listener via */
	size_t nls = 0, ning = 0, nling = 0;
	unsigned block = 403, workers = 0, coalesce = 0, tcp_idle = 120, per_source = 64;
	bool fail_open = false, ack_filter = true;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rules_path = optarg; break;
		case 'u': unlocked = optarg; break;
		case 'R': registry = optarg; break;
		case 't': at = optarg; break;
		case 'G': files.segments = optarg; break;
		case 'T': files.ported = optarg; break;
		case 'K': files.carriers = optarg; break;
		case 'N': annc = optarg; break;
		case 'o':
		case 'i':
			if (nls == MAX_LISTENERS) {
				fprintf(stderr, "callbar sip-serve: at most %d listeners\n", MAX_LISTENERS);
				return CLI_BAD;
			}
			memset(&ls[nls], 0, sizeof ls[nls]);
			socklen_t alen;
			if (cbar__addr_parse(optarg, strlen(optarg), &ls[nls].addr, &alen)) {
				fprintf(stderr, "callbar sip-serve: '%s': want ADDR:PORT\n", optarg);
				return CLI_BAD;
			}
			ls[nls].transports = SIP_UDP | SIP_TCP;
			ls[nls].direction = c == 'o' ? CBAR_OUT : CBAR_IN;
			nls++;
			break;
		case 'L': {
			if (nls == MAX_LISTENERS) {
				fprintf(stderr, "callbar sip-serve: at most %d listeners\n", MAX_LISTENERS);
				return CLI_BAD;
			}
			struct cbar_diag ld = {0};
			if (cbar_sip_listener_spec(optarg, strlen(optarg), &ls[nls], ling, MAX_INGRESS, &nling,
			                      &ld)) {
				fprintf(stderr, "callbar sip-serve: --listener '%s': at byte %u: %s\n", optarg,
				        ld.column, ld.msg);
				return CLI_BAD;
			}
			nls++;
			break;
		}
		case 'b':
			if (strcmp(optarg, "403") && strcmp(optarg, "603")) {
				fprintf(stderr, "callbar sip-serve: --block-status must be 403 or 603\n");
				return CLI_BAD;
			}
			block = optarg[0] == '6' ? 603 : 403; /* one of the two, checked above */
			break;
		case 'f':
			if (strcmp(optarg, "302") && strcmp(optarg, "500")) {
				fprintf(stderr, "callbar sip-serve: --fail-mode must be 302 or 500\n");
				return CLI_BAD;
			}
			fail_open = !strcmp(optarg, "302");
			break;
		case 'g':
			if (ning == MAX_INGRESS || !cbar_sip_ingress_parse(optarg, strlen(optarg), &ing[ning])) {
				fprintf(stderr, "callbar sip-serve: --ingress '%s': want CIDR=NAME\n", optarg);
				return CLI_BAD;
			}
			ning++;
			break;
		case 'w':
			if (!uint_opt("workers", optarg, 1, 256, &workers))
				return CLI_BAD;
			break;
		case 'C':
			if (!uint_opt("coalesce-us", optarg, 0, 1000, &coalesce))
				return CLI_BAD;
			break;
		case 'A': ack_filter = false; break;
		case 'I':
			if (!uint_opt("tcp-idle", optarg, 0, 86400, &tcp_idle))
				return CLI_BAD;
			break;
		case 'P':
			if (!uint_opt("tcp-per-source", optarg, 1, 65535, &per_source))
				return CLI_BAD;
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	if (optind < argc || !rules_path || !nls) {
		fprintf(stderr, "callbar sip-serve: --rules and --sip, --sip-in or --listener are required\n");
		fputs(help, stderr);
		return CLI_BAD;
	}
	if (unlocked && registry) {
		fprintf(stderr, "callbar sip-serve: --unlocked and --registry exclude each other\n");
		return CLI_BAD;
	}
	struct cbar_numplan *np = cbar_numplan_load(&files);
	struct cbar_rules *rules = NULL;
	struct cbar_unlockset *us = NULL;
	struct locked_limiter lim = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct sip_server *srv = NULL;
	int rc = CLI_BAD;
	if (!np)
		return CLI_BAD;
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	if (!(rules = cbar_rules_load(np, rules_path)))
		goto out;
	if (unlocked && !(us = cbar_unlocks_load(np, cn, unlocked, 1)))
		goto out;
	if (registry && !(us = cbar_unlocks_from_registry(registry)))
		goto out;
	struct sip_server_cfg cfg = {
		.listeners = ls,
		.nlisteners = nls,
		.workers = workers,
		.np = np,
		.coalesce_us = coalesce,
		.ack_filter = ack_filter,
		.tcp_idle_s = tcp_idle,
		.tcp_per_source = per_source,
	};
	if (at && cbar_time_read(at, strlen(at), cbar_rules_tz_offset(rules),
	                         CBAR_TIME_ZONED | CBAR_TIME_LOCAL | CBAR_TIME_DATE | CBAR_TIME_EPOCH,
	                         &cfg.fixed_time)) {
		fprintf(stderr, "callbar sip-serve: --at '%s': want 2022-05-08T09:30:00+08:00, "
		                "...Z, YYYY-MM-DD or @EPOCH\n", at);
		goto out;
	}
	struct ctx ctx = {.rules = rules};
	if (us) {
		ctx.lk = cbar_unlockset_lookup(us);
		ctx.have_lk = true;
	}
	/* Limits count here, per process (no registry: its bars are its own;
	 * docs/limits.md). */
	if (cbar_rules_limits(rules)) {
		if (cbar_limiter_new(rules, NULL, NULL, &lim.lm)) {
			fputs("callbar sip-serve: out of memory\n", stderr);
			goto out;
		}
		lim.counter = (struct cbar_limit_counter){.hit = locked_hit, .ctx = &lim};
		ctx.lk.limits = &lim.counter;
		ctx.have_lk = true;
	}
	cfg.decider =
	    (struct sip_decider){.decide = decide, .ctx = &ctx, .decide_many = decide_many};
	for (size_t i = 0; i < nls; i++) {
		cbar_sip_listener_defaults(&ls[i], (uint16_t)block, fail_open, cn, ing, ning);
		ls[i].annc_uri = annc;
	}
	/* The workers inherit this mask, so the signals come to sigwait() here. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	cbar__fd_limit_raise(); /* the TCP connection cap is the limit less a reserve */
	struct cbar_diag sd = {0};
	if (cbar_sip_server_start(&cfg, &srv, &sd)) {
		fprintf(stderr, "callbar sip-serve: %s\n", sd.msg);
		goto out;
	}
	for (size_t i = 0; i < nls; i++) {
		printf("sip %s ", ls[i].direction == CBAR_OUT ? "out" : "in");
		print_addr(stdout, &ls[i].addr, cbar_sip_server_port(srv, i));
		unsigned t = ls[i].transports;
		printf(" %s\n", t == SIP_UDP ? "udp" : t == SIP_TCP ? "tcp" : "udp,tcp");
	}
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	struct sip_counters sum = {0};
	cbar_sip_server_counters(srv, &sum);
	cbar_sip_server_stop(srv);
	print_counters(stderr, &sum);
	rc = CLI_OK;
out:
	cbar_limiter_free(lim.lm);
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
	return rc;
}
