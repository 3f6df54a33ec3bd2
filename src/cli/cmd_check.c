/* callbar check and callbar explain: decide one event. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/limit.h"
#include "callbar/scope.h"
#include "cli.h"
#include "proto/buf.h"
#include "proto/event.h"
#include "proto/verdict_json.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

/* --peer: a number, or alphanumeric:NAME, a sender written in letters
 * (SMPP type of number 5): no number, matched by `from alphanumeric`. */
static enum cbar_err check_peer(struct cbar_event_in *in, const struct cbar_event_ctx *ec,
                                const char *peer, struct cbar_event_error *ee)
{
	if (!strncmp(peer, "alphanumeric:", 13) && peer[13]) {
		in->ev.peer = NULL;
		in->ev.peer_alnum = true;
		return CBAR_OK;
	}
	return cbar_event_peer(in, ec, peer, strlen(peer), ee);
}

static const char help_check[] =
	"usage: callbar check --rules FILE [--unlocked FILE | --registry URL]\n"
	"                     --service voice|sms\n"
	"                     --direction in|out [--subscriber NUM] --peer NUM\n"
	"                     [--at TIME] [--ingress NAME] [--carrier C] [--region R]\n"
	"                     [--roaming yes|no] [--json] [--segments FILE]\n"
	"                     [--ported FILE] [--carriers FILE]\n"
	"\n"
	"Decide one call or message against a rule file (docs/rules.md).\n"
	"\n"
	"  --rules FILE       the rule file\n"
	"  --unlocked FILE    unlock records, one a line: NUMBER SCOPE LEVEL\n"
	"                     (+8613800571234 voice,sms verified)\n"
	"  --registry URL     unlock records from the registry: sqlite:PATH or\n"
	"                     postgres://... (docs/registry.md)\n"
	"  --service, --direction   what happens: voice|sms, in|out (our subscriber's side)\n"
	"  --subscriber NUM   our subscriber; --peer NUM the other party (any usual form;\n"
	"                     alphanumeric:NAME for a sender written in letters, as\n"
	"                     SMPP carries them);\n"
	"                     without --subscriber only a call to an emergency number is\n"
	"                     decided (allowed), anything else is bad input\n"
	"  --at TIME          2022-05-08T09:30:00+08:00, ...Z, a date alone (midnight in\n"
	"                     the rule file's time zone) or @EPOCH; default now\n"
	"  --ingress NAME     trunk class the event came in on (intl-gateway)\n"
	"  --carrier C, --region R   the subscriber's carrier and region when the switch\n"
	"                     knows them (else from the numbering data)\n"
	"  --roaming yes|no   whether the subscriber is roaming (for rules with\n"
	"                     'roaming yes|no'; not given: such rules do not match)\n"
	"  --json             one JSON object: verdict, rule, reason, announcement,\n"
	"                     exempted_by, error\n"
	"  --segments FILE    the operator's table of number prefixes (carrier, region,\n"
	"                     city), in place of the built-in one (docs/numbering.md)\n"
	"  --ported FILE      the operator's ported numbers: NUMBER<TAB>CARRIER\n"
	"  --carriers FILE    the operator's carrier prefixes (as callbar number)\n"
	"                     The subscriber's carrier and region: --carrier/--region,\n"
	"                     else the ported list, else the segment table, else the\n"
	"                     built-in data.\n"
	"\n"
	"Exit status: 0 allow, 1 block, 2 error or bad input.\n";

static const char help_explain[] =
	"usage: callbar explain (the options of callbar check)\n"
	"\n"
	"Decide like check, and say for every rule looked at whether it matched and,\n"
	"if not, why.  The verdict and exit status are those of check.\n";

struct args {
	const char *rules, *unlocked, *registry, *service, *direction, *subscriber, *peer, *at, *ingress;
	const char *carrier, *region, *roaming;
	struct numplan_files files; /* the operator's numbering tables */
	bool json;
};

/* The verdict: one JSON object (proto/verdict_json.h, as HTTP writes it),
 * or lines for people. */
static void print_verdict(FILE *f, const struct cbar_verdict *v, const char *err, bool json)
{
	if (json) {
		struct cbar_buf b;
		cbar_buf_init(&b, 1u << 20);
		cbar_verdict_json(&b, v, err);
		cbar_buf_put(&b, "\n", 1);
		size_t n = 0;
		char *t = cbar_buf_steal(&b, &n);
		if (t)
			fwrite(t, 1, n, f);
		free(t);
		return;
	}
	fprintf(f, "%s", cbar_decision_name(v->decision));
	if (v->file)
		fprintf(f, " rule=%s:%u", v->file, v->line);
	if (v->reason)
		fprintf(f, " reason=%s", v->reason);
	if (err)
		fprintf(f, " error=\"%s\"", err);
	fputc('\n', f);
	if (v->exempted) {
		char buf[CBAR_SCOPE_TEXT_MAX];
		fprintf(f, "exempted_by: +%llu %s %s\n", (unsigned long long)v->exempted_by.subscriber,
		        cbar_scope_str(v->exempted_by.scope, buf, sizeof buf),
		        cbar_level_name(v->exempted_by.level));
	}
	if (v->announcement)
		for (size_t i = 0; i < v->announcement->ntexts; i++)
			fprintf(f, "announcement %s: %s\n", v->announcement->texts[i].lang,
			        v->announcement->texts[i].text);
}

static void explain_note(void *ctx, size_t rule, unsigned line, bool matched, const char *why)
{
	(void)ctx;
	if (rule == (size_t)-1)
		printf("emergency: %s\n", why);
	else
		printf("line %u: %s: %s\n", line, matched ? "MATCH" : "no", why);
}

static int parse_args(int argc, char **argv, struct args *a, const char *help)
{
	static const struct option opts[] = {
		{"rules", required_argument, NULL, 'r'},      {"unlocked", required_argument, NULL, 'u'},
		{"service", required_argument, NULL, 's'},    {"direction", required_argument, NULL, 'd'},
		{"subscriber", required_argument, NULL, 'S'}, {"peer", required_argument, NULL, 'p'},
		{"at", required_argument, NULL, 't'},         {"ingress", required_argument, NULL, 'i'},
		{"carrier", required_argument, NULL, 'c'},    {"region", required_argument, NULL, 'g'},
		{"roaming", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
		{"registry", required_argument, NULL, 'R'},   {"segments", required_argument, NULL, 'G'},
		{"ported", required_argument, NULL, 'P'},     {"carriers", required_argument, NULL, 'C'},
		{0, 0, 0, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': a->rules = optarg; break;
		case 'u': a->unlocked = optarg; break;
		case 'R': a->registry = optarg; break;
		case 's': a->service = optarg; break;
		case 'd': a->direction = optarg; break;
		case 'S': a->subscriber = optarg; break;
		case 'p': a->peer = optarg; break;
		case 't': a->at = optarg; break;
		case 'i': a->ingress = optarg; break;
		case 'c': a->carrier = optarg; break;
		case 'G': a->files.segments = optarg; break;
		case 'P': a->files.ported = optarg; break;
		case 'C': a->files.carriers = optarg; break;
		case 'm': a->roaming = optarg; break;
		case 'g': a->region = optarg; break;
		case 'j': a->json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	if (optind < argc || !a->rules || !a->service || !a->direction || !a->peer) {
		fprintf(stderr, "callbar %s: --rules, --service, --direction and --peer are required\n",
		        argv[0]);
		fputs(help, stderr);
		return CLI_BAD;
	}
	if (a->unlocked && a->registry) {
		fprintf(stderr, "callbar %s: --unlocked and --registry exclude each other\n", argv[0]);
		return CLI_BAD;
	}
	return -1;
}

/* A bad input: the verdict is error, said on stdout as JSON when asked. */
static int bad_input(const struct args *a, const char *cmd, const char *msg)
{
	fprintf(stderr, "callbar %s: %s\n", cmd, msg);
	if (a->json) {
		struct cbar_verdict v = {.decision = CBAR_ERROR, .rule = -1};
		print_verdict(stdout, &v, msg, true);
	}
	return CLI_BAD;
}

static int run(int argc, char **argv, bool explain)
{
	struct args a = {0};
	int rc = parse_args(argc, argv, &a, explain ? help_explain : help_check);
	if (rc >= 0)
		return rc;
	const char *cmd = argv[0];
	struct cbar_numplan *np = cbar_numplan_load(&a.files);
	struct cbar_rules *rules = NULL;
	struct cbar_unlockset *us = NULL;
	char msg[300];
	rc = CLI_BAD;
	if (!np)
		return CLI_BAD;
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	if (!(rules = cbar_rules_load(np, a.rules)))
		goto out;
	if (a.unlocked && !(us = cbar_unlocks_load(np, cn, a.unlocked, 1)))
		goto out;
	if (a.registry && !(us = cbar_unlocks_from_registry(a.registry)))
		goto out;
	/* The flags are read as every front end reads its fields (proto/event.h):
	 * the peer in the subscriber's country, a time without a zone in the
	 * rule file's. */
	const struct cbar_event_ctx ec = {.np = np, .country = cn, .tz = cbar_rules_tz_offset(rules)};
	struct cbar_event_in in;
	struct cbar_event_error ee;
	const char *flag = NULL, *val = NULL;
	cbar_event_begin(&in);
#define FLAG(name, arg, call) (flag = name, val = arg, (call))
	/* A subscriber that cannot be read is reported after the decision,
	 * unless the call is to an emergency number (allowed whoever calls). */
	struct cbar_event_error sub_e = {0};
	char sub_msg[300] = "";
	if (FLAG("--service", a.service, cbar_event_service(&in, a.service, strlen(a.service), &ee)) ||
	    FLAG("--direction", a.direction,
	         cbar_event_direction(&in, a.direction, strlen(a.direction), &ee)) ||
	    ((a.subscriber ? cbar_event_subscriber(&in, &ec, a.subscriber, strlen(a.subscriber),
	                                           &sub_e)
	                   : cbar_event_no_subscriber(&in, &sub_e)) &&
	     (snprintf(sub_msg, sizeof sub_msg, "--subscriber '%.100s': %s",
	               a.subscriber ? a.subscriber : "", sub_e.message),
	      false)) ||
	    FLAG("--peer", a.peer, check_peer(&in, &ec, a.peer, &ee)) ||
	    (a.at && FLAG("--at", a.at,
	                  cbar_event_time(&in, &ec, a.at, strlen(a.at),
	                                  CBAR_TIME_ZONED | CBAR_TIME_LOCAL | CBAR_TIME_DATE |
	                                          CBAR_TIME_EPOCH,
	                                  &ee))) ||
	    (a.ingress &&
	     FLAG("--ingress", a.ingress, cbar_event_ingress(&in, a.ingress, strlen(a.ingress), &ee))) ||
	    (a.roaming &&
	     FLAG("--roaming", a.roaming, cbar_event_roaming(&in, a.roaming, strlen(a.roaming), &ee))) ||
	    (a.carrier &&
	     FLAG("--carrier", a.carrier, cbar_event_carrier(&in, a.carrier, strlen(a.carrier), &ee))) ||
	    (a.region &&
	     FLAG("--region", a.region, cbar_event_region(&in, &ec, a.region, strlen(a.region), &ee)))) {
		snprintf(msg, sizeof msg, "%s '%.100s': %s", flag, val, ee.message);
		rc = bad_input(&a, cmd, msg);
		goto out;
	}
#undef FLAG
	if (!a.at)
		cbar_event_at(&in, (int64_t)time(NULL)); /* the edge reads the clock, the core never */
	const struct cbar_event ev = in.ev;
	struct cbar_unlock_lookup lk = {0};
	if (us)
		lk = cbar_unlockset_lookup(us);
	/* One event counts once: a limit names its key and count 1 (a bar
	 * needs the traffic that batch and the daemon see). */
	struct cbar_limiter *lim = NULL;
	struct cbar_limit_counter lc;
	struct cbar_limiter_config lcfg = {.max_keys = 8};
	if (cbar_rules_limits(rules) && !cbar_limiter_new(rules, &lcfg, NULL, &lim)) {
		lc = cbar_limiter_counter(lim);
		lk.limits = &lc;
	}
	bool have_lk = us || lim;
	struct cbar_verdict v;
	enum cbar_decision dec = explain ? cbar_explain(rules, &ev, have_lk ? &lk : NULL,
	                                                a.json ? NULL : explain_note, NULL, &v)
	                                 : cbar_decide(rules, &ev, have_lk ? &lk : NULL, &v);
	cbar_limiter_free(lim);
	if (in.sub_err && dec != CBAR_ALLOW) {
		rc = bad_input(&a, cmd, sub_msg);
		goto out;
	}
	print_verdict(stdout, &v, dec == CBAR_ERROR ? cbar_err_message(v.err) : NULL, a.json);
	rc = dec == CBAR_ALLOW ? CLI_OK : dec == CBAR_BLOCK ? CLI_BLOCK : CLI_BAD;
out:
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
	return rc;
}

int cbar_cmd_check(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cbar_cmd_explain(int argc, char **argv)
{
	return run(argc, argv, true);
}
