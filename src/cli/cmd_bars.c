/* callbar bars: the auto-bars `limit` statements set, in the registry. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "registry.h"

static const char help[] =
	"usage: callbar bars list [--all] [--registry URL] [--json]\n"
	"       callbar bars lift KEY [--as NAME] [--registry URL] [--json]\n"
	"\n"
	"The keys limits have barred (docs/limits.md), shared by every node of the\n"
	"registry.  list: the active bars (--all: the last 100, lifted and expired\n"
	"ones too).  lift: end the bars of KEY (+447911123456, or +447911* for a\n"
	"range) now; the audit log records it as bar-lift by NAME (default the\n"
	"user), and every node follows within a second.\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0 done, 1 nothing to lift, 2 bad input or registry error.\n";

static int print_bar(void *arg, const struct cbar_store_bar *b)
{
	bool json = *(bool *)arg;
	char since[40], until[40], lifted[40];
	cbar_reg_time_str(b->created, since, sizeof since);
	cbar_reg_time_str(b->until, until, sizeof until);
	if (!json) {
		printf("%s %s %s count %u since %s until %s", b->key, b->rule,
		       b->reason[0] ? b->reason : "-", b->count, since, until);
		if (b->lifted_at)
			printf(" lifted %s by %s",
			       cbar_reg_time_str(b->lifted_at, lifted, sizeof lifted), b->lifted_by);
		putchar('\n');
		return 0;
	}
	printf("{\"id\":%" PRId64 ",\"key\":", b->id);
	cbar_json_fput(stdout, b->key);
	printf(",\"limit\":\"%s\",\"rule\":", b->limit);
	cbar_json_fput(stdout, b->rule);
	fputs(",\"reason\":", stdout);
	cbar_json_fput(stdout, b->reason[0] ? b->reason : NULL);
	printf(",\"count\":%u,\"since\":\"%s\",\"until\":\"%s\",\"lifted_by\":", b->count, since,
	       until);
	cbar_json_fput(stdout, b->lifted_at ? b->lifted_by : NULL);
	puts("}");
	return 0;
}

int cbar_cmd_bars(int argc, char **argv)
{
	enum { OPT_ALL = 2000, OPT_AS };
	static const struct option opts[] = {
		{"all", no_argument, NULL, OPT_ALL},
		{"as", required_argument, NULL, OPT_AS},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	int c, rc = CLI_BAD;
	bool all = false;
	const char *as = NULL;
	cbar_reg_init(&r, "bars");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case OPT_ALL: all = true; break;
		case OPT_AS: as = optarg; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	bool list = optind < argc && !strcmp(argv[optind], "list") && optind + 1 == argc;
	bool lift = optind < argc && !strcmp(argv[optind], "lift") && optind + 2 == argc;
	if (!list && !lift) {
		fputs(help, stderr);
		return CLI_BAD;
	}
	if (!cbar_reg_open(&r))
		goto done;
	struct cbar_diag d = {0};
	enum cbar_err e;
	int64_t now = (int64_t)time(NULL);
	if (list) {
		e = cbar_store_bars(r.store, all ? 0 : now, 0, 100, print_bar, &r.json, &d);
		rc = e ? cbar_reg_fail(&r, e, &d) : CLI_OK;
		goto done;
	}
	char who[CBAR_STORE_NAME_MAX + 16];
	const char *user = getenv("USER");
	snprintf(who, sizeof who, "cli:%s", as ? as : user ? user : "unknown");
	unsigned n = 0;
	e = cbar_store_bar_lift(r.store, argv[optind + 1], NULL, who, now, &n, &d);
	if (e == CBAR_STORE_NOTFOUND) {
		fprintf(stderr, "callbar bars: %s\n", d.msg);
		rc = CLI_BLOCK;
		goto done;
	}
	if (e) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	if (r.json)
		printf("{\"key\":\"%s\",\"lifted\":%u}\n", argv[optind + 1], n);
	else
		printf("lifted %u bar%s of %s\n", n, n == 1 ? "" : "s", argv[optind + 1]);
	rc = CLI_OK;
done:
	cbar_reg_release(&r);
	return rc;
}
