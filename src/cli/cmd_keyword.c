/* callbar keyword: a subscriber's text message to a service number, e.g.
 * "1219" to 10086, unlocks (or relocks) their line at level self. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "load/numplan_load.h"
#include "load/keywords.h"
#include "load/rules_load.h"
#include "load/status.h"
#include "registry.h"

static const char help[] =
	"usage: callbar keyword --subscriber NUMBER --to SERVICE --text TEXT\n"
	"                       [--keywords FILE] [--registry URL] [--rules FILE] [--json]\n"
	"                       [--segments FILE] [--ported FILE] [--carriers FILE]\n"
	"\n"
	"Act on a text message a subscriber sent to a service number: a keyword\n"
	"of the table unlocks or relocks their line (level self, channel keyword);\n"
	"anything else is answered with the list of valid keywords, and a service\n"
	"number of another carrier (the table's 'service ... carrier') with a\n"
	"refusal.  Prints the answer to send back: the table's replies, told by\n"
	"the effective status on the rule file (--rules, else the default when it\n"
	"exists) whether the registration restores the keyword's services or a\n"
	"rule still bars them (a Henan line's texts from abroad need an ID card).\n"
	"\n"
	"  --keywords FILE   the keyword table (format: etc/callbar/keywords.conf);\n"
	"                    default " KW_DEFAULT_FILE " when it exists, else the\n"
	"                    built-in table (1219 unlock, 1901 relock, KTGJDX sms)\n"
	"  --segments FILE, --ported FILE, --carriers FILE   the operator's numbering\n"
	"                    (as callbar check): the subscriber's carrier and region\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0 answered (unknown keywords too), 2 bad input (SERVICE is not\n"
	"a service number of the table, a bad table) or registry error.\n";

/* restored: -1 not known (no rules, or not an unlock), else 0 or 1. */
static void answer(bool json, const char *result, const char *text, uint64_t sub, int restored)
{
	if (json) {
		printf("{\"subscriber\":\"+%" PRIu64 "\",\"result\":", sub);
		cbar_json_fput(stdout, result);
		fputs(",\"answer\":", stdout);
		cbar_json_fput(stdout, text);
		printf(",\"restored\":%s}\n", restored < 0 ? "null" : restored ? "true" : "false");
	} else {
		printf("%s\n", text);
	}
}

int cbar_cmd_keyword(int argc, char **argv)
{
	static const struct option opts[] = {
		{"subscriber", required_argument, NULL, 's'},
		{"to", required_argument, NULL, 't'},
		{"text", required_argument, NULL, 'x'},
		{"keywords", required_argument, NULL, 'k'},
		{"segments", required_argument, NULL, 'G'},
		{"ported", required_argument, NULL, 'P'},
		{"carriers", required_argument, NULL, 'C'},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	struct numplan_files nf = {0};
	const char *subs = NULL, *to = NULL, *text = NULL, *file = NULL;
	int c, rc = CLI_BAD;
	cbar_reg_init(&r, "keyword");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case 's': subs = optarg; break;
		case 't': to = optarg; break;
		case 'x': text = optarg; break;
		case 'k': file = optarg; break;
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
	if (!subs || !to || !text || optind != argc) {
		fputs("callbar keyword: want --subscriber NUMBER --to SERVICE --text TEXT\n", stderr);
		return CLI_BAD;
	}
	static struct kw_table t;
	struct cbar_diag d = {0};
	if (!cbar_kw_table_load(&t, file, &d)) {
		fprintf(stderr, "callbar keyword: %s:%u: %s\n", d.file, d.line, d.msg);
		return CLI_BAD;
	}
	if (!cbar_kw_is_service(&t, to)) {
		fprintf(stderr, "callbar keyword: --to %s is not a service number of the keyword "
		                "table\n",
		        to);
		return CLI_BAD;
	}
	const struct kw *k = cbar_kw_find(&t, text);
	uint64_t sub;
	if (!cbar_reg_open(&r))
		goto done;
	/* The operator's numbering: the subscriber's carrier (for the service
	 * number) and region (for the rules), as the daemon reads them. */
	if (nf.segments || nf.ported || nf.carriers) {
		struct cbar_numplan *np = cbar_numplan_load(&nf);
		if (!np)
			goto done;
		cbar_numplan_free(r.np);
		r.np = np;
	}
	if (!cbar_reg_number(&r, subs, &sub))
		goto done;
	char msg[2048], num[24];
	struct cbar_number sn;
	size_t at;
	snprintf(num, sizeof num, "+%" PRIu64, sub);
	if (cbar_number_parse(r.np, r.cn, num, strlen(num), &sn, &at))
		goto done;
	/* A service number serves its carrier's subscribers only. */
	if (!cbar_kw_carrier_ok(&t, to, sn.carrier)) {
		cbar_kw_wrong_carrier(&t, to, sn.carrier, msg, sizeof msg);
		answer(r.json, "wrong-carrier", msg, sub, -1);
		rc = CLI_OK;
		goto done;
	}
	if (!k) {
		cbar_kw_unknown_answer(&t, msg, sizeof msg);
		answer(r.json, "unknown-keyword", msg, sub, -1);
		rc = CLI_OK;
		goto done;
	}
	char why[64];
	enum kw_reply what;
	snprintf(why, sizeof why, "keyword %s to %s", k->word, to);
	int64_t now = (int64_t)time(NULL);
	enum cbar_err err = cbar_kw_apply(r.store, k, sub, why, now, &what, &d);
	if (err) {
		rc = cbar_reg_fail(&r, err, &d);
		goto done;
	}
	/* The truth after the change: the effective status on the rule file
	 * (--rules, $CALLBAR_RULES, else the default when it exists) with the
	 * registry's records, as `callbar status --rules` gives it. */
	struct cbar_status_entry eff[CBAR_STATUS_ENTRIES];
	bool have_eff = false;
	const char *rf = r.rules ? r.rules : access(REG_DEFAULT_RULES, R_OK) ? NULL : REG_DEFAULT_RULES;
	struct cbar_rules *rules = k->unlock && rf ? cbar_rules_load(r.np, rf) : NULL;
	struct cbar_status_records recs;
	if (rules && !cbar_status_records_read(r.store, sub, &recs, &d)) {
		struct cbar_unlock_lookup lk = cbar_status_records_lookup(&recs);
		have_eff = cbar_status_decide(rules, r.np, r.cn, sub, &lk, now, eff);
		cbar_status_records_release(&recs);
	}
	bool restored = true;
	cbar_kw_reply(&t, k, what, have_eff ? eff : NULL, &restored, msg, sizeof msg);
	answer(r.json, cbar_kw_result(what), msg, sub, have_eff ? restored : -1);
	cbar_rules_free(rules);
	rc = CLI_OK;
done:
	cbar_reg_release(&r);
	return rc;
}
