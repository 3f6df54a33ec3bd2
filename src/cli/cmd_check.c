/* callbar check and callbar explain: decide one event. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "numplan_load.h"
#include "rules_load.h"

static const char help_check[] =
	"usage: callbar check --rules FILE [--unlocked FILE | --registry URL]\n"
	"                     --service voice|sms\n"
	"                     --direction in|out --subscriber NUM --peer NUM\n"
	"                     [--at TIME] [--ingress NAME] [--carrier C] [--region R]\n"
	"                     [--roaming yes|no] [--json]\n"
	"\n"
	"Decide one call or message against a rule file (docs/rules.md).\n"
	"\n"
	"  --rules FILE       the rule file\n"
	"  --unlocked FILE    unlock records, one a line: NUMBER SCOPE LEVEL\n"
	"                     (+8613800571234 voice,sms verified)\n"
	"  --registry URL     unlock records from the registry: sqlite:PATH or\n"
	"                     postgres://... (docs/registry.md)\n"
	"  --service, --direction   what happens: voice|sms, in|out (our subscriber's side)\n"
	"  --subscriber NUM   our subscriber; --peer NUM the other party (any usual form)\n"
	"  --at TIME          2022-05-08T09:30:00+08:00, ...Z, a date alone (midnight in\n"
	"                     the rule file's time zone) or @EPOCH; default now\n"
	"  --ingress NAME     trunk class the event came in on (intl-gateway)\n"
	"  --carrier C, --region R   the subscriber's carrier and region when the switch\n"
	"                     knows them (else from the numbering data)\n"
	"  --roaming yes|no   whether the subscriber is roaming (for rules with\n"
	"                     'roaming yes|no'; not given: such rules do not match)\n"
	"  --json             one JSON object: verdict, rule, reason, announcement,\n"
	"                     exempted_by, error\n"
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
	bool json;
};

static void json_unlock(FILE *f, const struct cbar_verdict *v)
{
	if (!v->exempted) {
		fputs("null", f);
		return;
	}
	char buf[64];
	fprintf(f, "{\"subscriber\":\"+%llu\",\"scope\":\"%s\",\"level\":\"%s\"}",
	        (unsigned long long)v->exempted_by.subscriber,
	        scope_text(v->exempted_by.scope, buf, sizeof buf),
	        v->exempted_by.level == CBAR_UNLOCK_VERIFIED ? "verified" : "self");
}

static const char *verdict_word(enum cbar_decision d)
{
	return d == CBAR_ALLOW ? "allow" : d == CBAR_BLOCK ? "block" : "error";
}

static void print_verdict(FILE *f, const struct cbar_verdict *v, const char *err, bool json)
{
	if (json) {
		fprintf(f, "{\"verdict\":\"%s\",\"rule\":", verdict_word(v->decision));
		if (v->file) {
			char buf[4200];
			snprintf(buf, sizeof buf, "%s:%u", v->file, v->line);
			json_str(f, buf);
		} else {
			fputs("null", f);
		}
		fputs(",\"reason\":", f);
		json_str(f, v->reason);
		fputs(",\"announcement\":", f);
		if (v->announcement) {
			fputc('{', f);
			for (size_t i = 0; i < v->announcement->ntexts; i++) {
				if (i)
					fputc(',', f);
				json_str(f, v->announcement->texts[i].lang);
				fputc(':', f);
				json_str(f, v->announcement->texts[i].text);
			}
			fputs("},\"announcement_name\":", f);
			json_str(f, v->announcement->name);
		} else {
			fputs("null,\"announcement_name\":null", f);
		}
		fputs(",\"exempted_by\":", f);
		json_unlock(f, v);
		fputs(",\"error\":", f);
		json_str(f, err);
		fputs("}\n", f);
		return;
	}
	fprintf(f, "%s", verdict_word(v->decision));
	if (v->file)
		fprintf(f, " rule=%s:%u", v->file, v->line);
	if (v->reason)
		fprintf(f, " reason=%s", v->reason);
	if (err)
		fprintf(f, " error=\"%s\"", err);
	fputc('\n', f);
	if (v->exempted) {
		char buf[64];
		fprintf(f, "exempted_by: +%llu %s %s\n", (unsigned long long)v->exempted_by.subscriber,
		        scope_text(v->exempted_by.scope, buf, sizeof buf),
		        v->exempted_by.level == CBAR_UNLOCK_VERIFIED ? "verified" : "self");
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
		{"registry", required_argument, NULL, 'R'},   {0, 0, 0, 0},
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
		case 'm': a->roaming = optarg; break;
		case 'g': a->region = optarg; break;
		case 'j': a->json = true; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	if (optind < argc || !a->rules || !a->service || !a->direction || !a->subscriber ||
	    !a->peer) {
		fprintf(stderr, "callbar %s: --rules, --service, --direction, --subscriber and --peer "
		                "are required\n", argv[0]);
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
	struct numplan_files files = {0};
	struct cbar_numplan *np = numplan_load(&files);
	struct cbar_rules *rules = NULL;
	struct cbar_unlockset *us = NULL;
	char msg[300];
	rc = CLI_BAD;
	if (!np)
		return CLI_BAD;
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	if (!(rules = rules_load(np, a.rules)))
		goto out;
	if (a.unlocked && !(us = unlocks_load(np, cn, a.unlocked)))
		goto out;
	if (a.registry && !(us = unlocks_from_registry(a.registry)))
		goto out;
	struct cbar_number sub, peer;
	struct cbar_event ev = {.subscriber = &sub, .peer = &peer};
	size_t at = 0;
	enum cbar_err err;
	if (!parse_service(a.service, &ev.service)) {
		rc = bad_input(&a, cmd, "--service must be voice or sms");
		goto out;
	}
	if (!parse_direction(a.direction, &ev.direction)) {
		rc = bad_input(&a, cmd, "--direction must be in or out");
		goto out;
	}
	if ((err = cbar_number_parse(np, cn, a.subscriber, strlen(a.subscriber), &sub, &at))) {
		snprintf(msg, sizeof msg, "--subscriber '%s': %s at byte %zu", a.subscriber,
		         cbar_err_message(err), at);
		rc = bad_input(&a, cmd, msg);
		goto out;
	}
	if ((err = cbar_number_parse(np, sub.country ? sub.country : cn, a.peer, strlen(a.peer),
	                             &peer, &at))) {
		snprintf(msg, sizeof msg, "--peer '%s': %s at byte %zu", a.peer, cbar_err_message(err),
		         at);
		rc = bad_input(&a, cmd, msg);
		goto out;
	}
	if (a.at) {
		if (!parse_time(a.at, strlen(a.at), cbar_rules_tz_offset(rules), &ev.time)) {
			snprintf(msg, sizeof msg,
			         "--at '%s': want 2022-05-08T09:30:00+08:00, ...Z, YYYY-MM-DD or @EPOCH",
			         a.at);
			rc = bad_input(&a, cmd, msg);
			goto out;
		}
	} else {
		ev.time = (int64_t)time(NULL); /* the edge reads the clock, the core never */
	}
	if (a.ingress) {
		ev.ingress = a.ingress;
		ev.ingress_len = strlen(a.ingress);
	}
	if (a.roaming) {
		if (strcmp(a.roaming, "yes") && strcmp(a.roaming, "no")) {
			rc = bad_input(&a, cmd, "--roaming must be yes or no");
			goto out;
		}
		ev.roaming = !strcmp(a.roaming, "yes") ? CBAR_ROAMING_YES : CBAR_ROAMING_NO;
	}
	if (a.carrier && !(ev.carrier = (uint8_t)cbar_carrier_lookup(a.carrier, strlen(a.carrier)))) {
		rc = bad_input(&a, cmd, "unknown --carrier");
		goto out;
	}
	if (a.region && !(ev.region = cbar_numplan_region(np, a.region, strlen(a.region)))) {
		rc = bad_input(&a, cmd, "unknown --region");
		goto out;
	}
	struct cbar_unlock_lookup lk = {0};
	if (us)
		lk = cbar_unlockset_lookup(us);
	struct cbar_verdict v;
	enum cbar_decision dec = explain ? cbar_explain(rules, &ev, us ? &lk : NULL,
	                                                a.json ? NULL : explain_note, NULL, &v)
	                                 : cbar_decide(rules, &ev, us ? &lk : NULL, &v);
	print_verdict(stdout, &v, dec == CBAR_ERROR ? cbar_err_message(v.err) : NULL, a.json);
	rc = dec == CBAR_ALLOW ? CLI_OK : dec == CBAR_BLOCK ? CLI_BLOCK : CLI_BAD;
out:
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cmd_explain(int argc, char **argv)
{
	return run(argc, argv, true);
}
