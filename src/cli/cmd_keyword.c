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
#include "registry.h"

static const char help[] =
	"usage: callbar keyword --subscriber NUMBER --to SERVICE --text TEXT\n"
	"                       [--keywords FILE] [--registry URL] [--json]\n"
	"\n"
	"Act on a text message a subscriber sent to a service number: a keyword\n"
	"of the table unlocks or relocks their line (level self, channel keyword);\n"
	"anything else is answered with the list of valid keywords.  Prints the\n"
	"answer to send back.\n"
	"\n"
	"  --keywords FILE   the keyword table (format: etc/callbar/keywords.conf);\n"
	"                    default " KW_DEFAULT_FILE " when it exists, else the\n"
	"                    built-in table (1219 unlock, 1901 relock, KTGJDX sms)\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0 answered (unknown keywords too), 2 bad input (SERVICE is not\n"
	"a service number of the table, a bad table) or registry error.\n";

static void answer(bool json, const char *result, const char *text, uint64_t sub)
{
	if (json) {
		printf("{\"subscriber\":\"+%" PRIu64 "\",\"result\":", sub);
		cbar_json_fput(stdout, result);
		fputs(",\"answer\":", stdout);
		cbar_json_fput(stdout, text);
		puts("}");
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
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
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
	if (!cbar_reg_open(&r) || !cbar_reg_number(&r, subs, &sub))
		goto done;
	char msg[1024];
	if (!k) {
		cbar_kw_unknown_answer(&t, msg, sizeof msg);
		answer(r.json, "unknown-keyword", msg, sub);
		rc = CLI_OK;
		goto done;
	}
	char why[64];
	const char *result;
	snprintf(why, sizeof why, "keyword %s to %s", k->word, to);
	enum cbar_err err = cbar_kw_apply(r.store, k, sub, why, (int64_t)time(NULL), &result, msg,
	                             sizeof msg, &d);
	if (err) {
		rc = cbar_reg_fail(&r, err, &d);
		goto done;
	}
	answer(r.json, result, msg, sub);
	rc = CLI_OK;
done:
	cbar_reg_release(&r);
	return rc;
}
