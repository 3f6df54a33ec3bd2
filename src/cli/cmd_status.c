/* callbar status, callbar history: what the registry holds for a number. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "callbar/scope.h"
#include "cli.h"
#include "load/rules_load.h"
#include "registry.h"

static const char status_help[] =
	"usage: callbar status NUMBER [--registry URL] [--rules FILE] [--json]\n"
	"\n"
	"Show a subscriber's active unlock (or that the line is locked) and every\n"
	"earlier record.  Identity documents show as their type only: the registry\n"
	"never holds the number.\n"
	"\n"
	"With --rules FILE, what the line really gets now, decided by the engine of\n"
	"callbar check with the registry's unlocks: for calls and texts, in and out,\n"
	"with a number abroad (+852 9123 4567), whether they are barred, by which\n"
	"rule and since when, what the unlock on file does, and how to restore them\n"
	"(the rule's announcement).\n" REG_HELP_COMMON
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

/* The effective status: each service and direction decided now against a
 * peer abroad, with the registry's unlocks and without them, so that the
 * answer says both what is barred and what the record on file changes. */
static bool effective(const struct reg *r, uint64_t sub, bool unlocked)
{
	struct cbar_rules *rules = cbar_rules_load(r->np, r->rules);
	struct cbar_unlockset *us = rules ? cbar_unlocks_from_registry(r->url) : NULL;
	if (!us) {
		cbar_rules_free(rules);
		return false;
	}
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(us);
	char num[24];
	snprintf(num, sizeof num, "+%" PRIu64, sub);
	struct cbar_number sn, pn;
	size_t at;
	bool ok = !cbar_number_parse(r->np, r->cn, num, strlen(num), &sn, &at) &&
	          !cbar_number_parse(r->np, r->cn, "+85291234567", 12, &pn, &at);
	int64_t now = (int64_t)time(NULL);
	if (r->json)
		fputs(",\"effective\":[", stdout);
	else
		puts("effective (now, with a number abroad):");
	for (int k = 0; ok && k < 4; k++) {
		struct cbar_event ev = {.service = k < 2 ? CBAR_VOICE : CBAR_SMS,
		                        .direction = k % 2 ? CBAR_OUT : CBAR_IN,
		                        .subscriber = &sn, .peer = &pn, .time = now};
		struct cbar_verdict v, v0;
		enum cbar_decision dec = cbar_decide(rules, &ev, &lk, &v);
		cbar_decide(rules, &ev, NULL, &v0);
		/* the rule that bars, or that the unlock on file lifted */
		const struct cbar_verdict *b = dec == CBAR_BLOCK ? &v : v0.decision == CBAR_BLOCK ? &v0
		                                                                                   : NULL;
		char since[16] = "";
		int64_t s0 = b ? cbar_rules_since(rules, (size_t)b->rule) : 0;
		if (s0) {
			time_t t = (time_t)(s0 + cbar_rules_tz_offset(rules));
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(since, sizeof since, "%Y-%m-%d", &tm);
		}
		const char *how = NULL;
		for (size_t i = 0; b && b->announcement && i < b->announcement->ntexts; i++)
			if (!strcmp(b->announcement->texts[i].lang, "en"))
				how = b->announcement->texts[i].text;
		const char *state = dec == CBAR_BLOCK ? "barred" : dec == CBAR_ALLOW ? "allowed" : "error";
		const char *word = dec == CBAR_BLOCK ? "block" : dec == CBAR_ALLOW ? "allow" : "error";
		if (r->json) {
			printf("%s{\"service\":\"%s\",\"direction\":\"%s\",\"verdict\":\"%s\","
			       "\"rule\":",
			       k ? "," : "", cbar_service_name(ev.service),
			       cbar_direction_name(ev.direction), word);
			if (b)
				printf("\"%s:%u\",\"reason\":", b->file, b->line);
			else
				fputs("null,\"reason\":", stdout);
			cbar_json_fput(stdout, b ? b->reason : NULL);
			fputs(",\"since\":", stdout);
			cbar_json_fput(stdout, since[0] ? since : NULL);
			printf(",\"unlock_restores\":%s,\"restore\":",
			       dec == CBAR_ALLOW && b ? "true" : "false");
			cbar_json_fput(stdout, dec == CBAR_BLOCK ? how : NULL);
			fputc('}', stdout);
		} else if (!b) {
			printf("  %s %s: allowed (no rule bars it)\n", cbar_service_name(ev.service),
			       cbar_direction_name(ev.direction));
		} else {
			printf("  %s %s: %s by %s:%u (%s)%s%s; the unlock on file %s",
			       cbar_service_name(ev.service), cbar_direction_name(ev.direction), state,
			       b->file, b->line, b->reason ? b->reason : "-", since[0] ? " since " : "",
			       since,
			       dec == CBAR_ALLOW ? "restores it"
			       : unlocked        ? "does not restore it"
			                         : "(none) would have to");
			if (dec == CBAR_BLOCK && how)
				printf("; to restore: %s", how);
			fputc('\n', stdout);
		}
	}
	if (r->json)
		fputc(']', stdout);
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	return ok;
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
		fputc(']', stdout);
	else if (!o.n)
		puts("  (none)");
	rc = CLI_OK;
	if (r.rules && !effective(&r, sub, active))
		rc = CLI_BAD;
	if (r.json)
		puts("}");
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
