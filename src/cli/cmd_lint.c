/* callbar lint: compile a rule file and warn about rules that never match. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

static const char help[] =
	"usage: callbar lint FILE...\n"
	"\n"
	"Compile each rule file and report errors (file:line:column, the line and a\n"
	"caret), then warn about rules that can never match: shadowed by an earlier\n"
	"rule without 'unless' that matches every event they do, or with an empty\n"
	"date range.  Unknown regions, carriers and names are compile errors.\n"
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

int cbar_cmd_lint(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_BAD : CLI_OK;
	}
	struct numplan_files files = {0};
	struct cbar_numplan *np = cbar_numplan_load(&files);
	if (!np)
		return CLI_BAD;
	int rc = CLI_OK;
	for (int i = 1; i < argc; i++) {
		struct cbar_rules *r = cbar_rules_load(np, argv[i]);
		if (!r) {
			rc = CLI_BAD;
			continue;
		}
		struct lint_ctx c = {argv[i]};
		size_t n = cbar_rules_lint(r, warn, &c);
		if (n && rc == CLI_OK)
			rc = CLI_BLOCK;
		fprintf(stderr, "%s: %zu rules, %zu warnings\n", argv[i], cbar_rules_count(r), n);
		cbar_rules_free(r);
	}
	cbar_numplan_free(np);
	return rc;
}
