/* callbar status, callbar history: what the registry holds for a number. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "callbar/scope.h"
#include "cli.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"
#include "load/status.h"
#include "registry.h"

static const char status_help[] =
	"usage: callbar status NUMBER [--registry URL] [--rules FILE] [--json]\n"
	"                      [--segments FILE] [--ported FILE] [--carriers FILE]\n"
	"\n"
	"Show a subscriber's active unlock (or that the line is locked) and every\n"
	"earlier record.  Identity documents show as their type only: the registry\n"
	"never holds the number.\n"
	"\n"
	"With --rules FILE, what the line really gets now, decided by the engine of\n"
	"callbar check with the registry's unlocks: for calls and texts, in and out,\n"
	"with a number abroad (+852 9123 4567), whether they are barred, by which\n"
	"rule and since when, what the unlock on file does, and how to restore them\n"
	"(the rule's announcement), and whether a self registration would.  The\n"
	"daemon's GET /v1/subscribers/NUMBER answers the same.\n" REG_HELP_COMMON
	"  --segments FILE, --ported FILE, --carriers FILE   the operator's numbering\n"
	"                    (as callbar check): the subscriber's region and carrier\n"
	"\n"
	"Exit status: 0 (unlocked or not), 2 bad input or registry error.\n";

static const char history_help[] =
	"usage: callbar history NUMBER [--registry URL] [--json]\n"
	"\n"
	"Every record of a subscriber, oldest first, one per line (JSON: one object\n"
	"per line).\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0, or 2 bad input or registry error.\n";

struct out {
	bool json;
	unsigned n;
};

static int print_line(void *arg, const struct cbar_store_record *rec)
{
	struct out *o = arg;
	if (o->json) {
		cbar_reg_json_record(stdout, rec);
		fputc('\n', stdout);
	} else {
		cbar_reg_print_record(stdout, rec);
	}
	o->n++;
	return 0;
}

/* The effective status (callbar/status.h): each service and direction
 * decided now against a peer abroad by the engine of check, with the
 * registry's unlocks of this subscriber (recs); the daemon's GET
 * /v1/subscribers/{number} answers from the same functions.  rules is
 * loaded here. */
static bool effective(const struct reg *r, uint64_t sub, const struct cbar_status_records *recs,
                      struct cbar_status_entry eff[], struct cbar_rules **rules)
{
	if (!(*rules = cbar_rules_load(r->np, r->rules)))
		return false;
	struct cbar_unlock_lookup lk = cbar_status_records_lookup(recs);
	if (!cbar_status_decide(*rules, r->np, r->cn, sub, &lk, (int64_t)time(NULL), eff)) {
		fprintf(stderr, "callbar status: +%" PRIu64 " cannot be decided on\n", sub);
		return false;
	}
	return true;
}

/* The entries as sentences, for a person at a counter. */
static void print_effective(const struct cbar_status_entry *eff, bool unlocked, int32_t tz)
{
	puts("effective (now, with a number abroad):");
	for (int k = 0; k < CBAR_STATUS_ENTRIES; k++) {
		const struct cbar_status_entry *e = &eff[k];
		const char *svc = cbar_service_name(e->service), *dir = cbar_direction_name(e->direction);
		char rule[300], since[16];
		if (e->decision == CBAR_ERROR) {
			printf("  %s %s: cannot be decided (%s)\n", svc, dir, cbar_err_message(e->err));
			continue;
		}
		if (e->rule < 0) {
			printf("  %s %s: allowed (no rule bars it)\n", svc, dir);
			continue;
		}
		cbar_status_day(e->since, tz, since, sizeof since);
		printf("  %s %s: %s by %s (%s)%s%s; the unlock on file %s", svc, dir,
		       e->decision == CBAR_BLOCK ? "barred" : "allowed",
		       cbar_status_rule_name(e, rule, sizeof rule), e->reason ? e->reason : "-",
		       since[0] ? " since " : "", since,
		       e->decision == CBAR_ALLOW ? "restores it"
		       : unlocked                ? "does not restore it"
		                                 : "(none) would have to");
		const char *how = cbar_status_text(e->announcement, "en");
		if (e->decision == CBAR_BLOCK && how)
			printf("; to restore: %s", how);
		if (e->decision == CBAR_BLOCK)
			fputs(e->restore_by == CBAR_RESTORE_SELF ? " (a self registration restores it)"
			      : e->restore_by == CBAR_RESTORE_VERIFIED
			          ? " (a self registration does not restore it: only an unlock with "
			            "an identity document checked in person)"
			          : " (no unlock restores it)",
			      stdout);
		fputc('\n', stdout);
	}
}

static int run(int argc, char **argv, const char *cmd, const char *help, bool status)
{
	static const struct option opts[] = {
		{"segments", required_argument, NULL, 'G'},
		{"ported", required_argument, NULL, 'P'},
		{"carriers", required_argument, NULL, 'C'},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	struct numplan_files nf = {0};
	int c, rc = CLI_BAD;
	cbar_reg_init(&r, cmd);
	if (!status && (c = cbar_reg_options_only(&r, argc, argv, help)) >= 0)
		return c;
	if (status)
		optind = 1;
	while (status && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case 'G': nf.segments = optarg; break;
		case 'P': nf.ported = optarg; break;
		case 'C': nf.carriers = optarg; break;
		case 'h':
			fputs(help, stdout);
			return CLI_OK;
		default:
			fputs(help, stderr);
			return CLI_BAD;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "callbar %s: want exactly one NUMBER\n", cmd);
		return CLI_BAD;
	}
	uint64_t sub;
	if (!cbar_reg_open(&r))
		goto done;
	/* The operator's numbering, as check and the daemon decide with it. */
	if (nf.segments || nf.ported || nf.carriers) {
		struct cbar_numplan *np = cbar_numplan_load(&nf);
		if (!np)
			goto done;
		cbar_numplan_free(r.np);
		r.np = np;
	}
	if (!cbar_reg_number(&r, argv[optind], &sub))
		goto done;
	struct cbar_diag d = {0};
	struct out o = {r.json, 0};
	enum cbar_err e;
	if (!status) {
		if ((e = cbar_store_history(r.store, sub, print_line, &o, &d)))
			rc = cbar_reg_fail(&r, e, &d);
		else
			rc = CLI_OK;
		goto done;
	}
	struct cbar_status_records recs;
	if ((e = cbar_status_records_read(r.store, sub, &recs, &d))) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	struct cbar_status_entry eff[CBAR_STATUS_ENTRIES];
	struct cbar_rules *rules = NULL;
	bool with_eff = r.rules != NULL;
	if (with_eff && !effective(&r, sub, &recs, eff, &rules)) {
		rc = CLI_BAD;
		goto free;
	}
	int32_t tz = rules ? cbar_rules_tz_offset(rules) : cbar_reg_zone();
	rc = CLI_OK;
	if (r.json) {
		struct cbar_buf b;
		cbar_buf_init(&b, 1u << 26);
		if (cbar_status_json(&b, &recs, with_eff ? eff : NULL, tz))
			printf("%.*s\n", (int)b.len, b.p);
		else
			rc = CLI_BAD;
		cbar_buf_release(&b);
		goto free;
	}
	printf("+%" PRIu64 " %s\n", sub, recs.unlocked ? "unlocked" : "locked (no active unlock)");
	if (recs.unlocked) {
		fputs("active: ", stdout);
		cbar_reg_print_record(stdout, &recs.active);
	}
	puts("history:");
	for (size_t i = 0; i < recs.n; i++) {
		fputs("  ", stdout);
		cbar_reg_print_record(stdout, &recs.hist[i]);
	}
	if (!recs.n)
		puts("  (none)");
	if (with_eff)
		print_effective(eff, recs.unlocked, tz);
free:
	cbar_rules_free(rules);
	cbar_status_records_release(&recs);
done:
	cbar_reg_release(&r);
	return rc;
}

int cbar_cmd_status(int argc, char **argv)
{
	return run(argc, argv, "status", status_help, true);
}

int cbar_cmd_history(int argc, char **argv)
{
	return run(argc, argv, "history", history_help, false);
}
