/* callbar status, callbar history: what the registry holds for a number. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "registry.h"

static const char status_help[] =
	"usage: callbar status NUMBER [--registry URL] [--json]\n"
	"\n"
	"Show a subscriber's active unlock (or that the line is locked) and every\n"
	"earlier record.  Identity documents show as their type only: the registry\n"
	"never holds the number.\n" REG_HELP_COMMON
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

static int print_one(void *arg, const struct cbar_store_record *rec)
{
	struct out *o = arg;
	if (o->json) {
		if (o->n)
			fputc(',', stdout);
		cbar_reg_json_record(stdout, rec);
	} else {
		fputs("  ", stdout);
		cbar_reg_print_record(stdout, rec);
	}
	o->n++;
	return 0;
}

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

static int run(int argc, char **argv, const char *cmd, const char *help, bool status)
{
	struct reg r;
	int c, rc = CLI_BAD;
	cbar_reg_init(&r, cmd);
	if ((c = cbar_reg_options_only(&r, argc, argv, help)) >= 0)
		return c;
	if (optind != argc - 1) {
		fprintf(stderr, "callbar %s: want exactly one NUMBER\n", cmd);
		return CLI_BAD;
	}
	uint64_t sub;
	if (!cbar_reg_open(&r) || !cbar_reg_number(&r, argv[optind], &sub))
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
	struct cbar_store_record act;
	e = cbar_store_get_active(r.store, sub, &act, &d);
	if (e && e != CBAR_STORE_NOTFOUND) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	bool active = !e;
	if (r.json) {
		printf("{\"subscriber\":\"+%" PRIu64 "\",\"unlocked\":%s,\"active\":", sub,
		       active ? "true" : "false");
		if (active)
			cbar_reg_json_record(stdout, &act);
		else
			fputs("null", stdout);
		fputs(",\"history\":[", stdout);
	} else {
		printf("+%" PRIu64 " %s\n", sub, active ? "unlocked" : "locked (no active unlock)");
		if (active) {
			fputs("active: ", stdout);
			cbar_reg_print_record(stdout, &act);
		}
		fputs("history:\n", stdout);
	}
	d = (struct cbar_diag){0};
	if ((e = cbar_store_history(r.store, sub, print_one, &o, &d))) {
		if (r.json)
			puts("]}");
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	if (r.json)
		puts("]}");
	else if (!o.n)
		puts("  (none)");
	rc = CLI_OK;
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
