/* callbar lint: compile a rule file and warn about rules that never match. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

static const char help[] =
	"usage: callbar lint [--segments FILE] [--ported FILE] [--carriers FILE] FILE...\n"
	"\n"
	"Compile each rule file and report errors (file:line:column, the line and a\n"
	"caret), then warn about rules that can never match: shadowed by an earlier\n"
	"rule without 'unless' that matches every event they do, or with an empty\n"
	"date range.  Unknown regions, carriers and names are compile errors.\n"
	"A rule naming regions is warned about when the numbering data (the built-in\n"
	"one, or the operator's: --segments, --ported, --carriers as callbar check\n"
	"takes them) leaves mobile numbers without a region: the warning gives their\n"
	"share, the numbers such a rule silently skips.\n"
	"\n"
	"Exit status: 0 clean, 1 warnings only, 2 errors.\n";

struct lint_ctx {
	const char *file;
};

static void warn(void *ctx, unsigned line, const char *msg)
{
	const struct lint_ctx *c = ctx;
	printf("%s:%u: warning: %s\n", c->file, line, msg);
}

/* The share (0 to 1) of China's mobile number blocks (the seven-digit
 * prefixes 1300000 to 1999999) with a carrier but no region in the plan:
 * numbers a region rule never matches.  The carrier tells an assigned block
 * from an unassigned one. */
static double unknown_region_share(const struct cbar_numplan *np, uint16_t cn)
{
	unsigned long known = 0, unknown = 0;
	char d[12];
	for (unsigned long p = 1300000; p <= 1999999; p++) {
		snprintf(d, sizeof d, "%lu0000", p);
		struct cbar_number n;
		size_t at;
		if (cbar_number_parse(np, cn, d, 11, &n, &at) || n.carrier == CBAR_NONE)
			continue;
		if (n.region == CBAR_NONE)
			unknown++;
		else
			known++;
	}
	return known + unknown ? (double)unknown / (double)(known + unknown) : 0.0;
}

int cbar_cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{"segments", required_argument, NULL, 'G'}, {"ported", required_argument, NULL, 'P'},
		{"carriers", required_argument, NULL, 'K'}, {"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct numplan_files files = {0};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'G': files.segments = optarg; break;
		case 'P': files.ported = optarg; break;
		case 'K': files.carriers = optarg; break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	if (optind >= argc) {
		fputs(help, stderr);
		return CLI_BAD;
	}
	struct cbar_numplan *np = cbar_numplan_load(&files);
	if (!np)
		return CLI_BAD;
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	double share = -1; /* computed once, when a rule names regions */
	int rc = CLI_OK;
	for (int i = optind; i < argc; i++) {
		struct cbar_rules *r = cbar_rules_load(np, argv[i]);
		if (!r) {
			rc = CLI_BAD;
			continue;
		}
		struct lint_ctx c = {argv[i]};
		size_t n = cbar_rules_lint(r, warn, &c);
		/* One warning a file, at its first rule naming regions. */
		size_t nreg = 0, first = 0;
		for (size_t k = cbar_rules_count(r); k-- > 0;)
			if (cbar_rules_names_region(r, k))
				nreg++, first = k;
		if (nreg && share < 0)
			share = unknown_region_share(np, cn);
		if (nreg && share > 0) {
			char msg[240];
			snprintf(msg, sizeof msg,
			         "%zu rule%s name%s regions, and %.1f%% of mobile number blocks have "
			         "no region in the numbering data: those subscribers never match them "
			         "(the operator's table: --segments FILE)",
			         nreg, nreg > 1 ? "s" : "", nreg > 1 ? "" : "s", share * 100.0);
			warn(&c, cbar_rules_line(r, first), msg);
			n++;
		}
		if (n && rc == CLI_OK)
			rc = CLI_BLOCK;
		fprintf(stderr, "%s: %zu rules, %zu warnings\n", argv[i], cbar_rules_count(r), n);
		cbar_rules_free(r);
	}
	cbar_numplan_free(np);
	return rc;
}
