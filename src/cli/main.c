/* callbar: the command line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
	{"number", cmd_number, "normalise numbers to E.164 and classify them"},
	{"serve", cmd_serve, "run the daemon: HTTP/JSON decisions, metrics, reload"},
	{"token", cmd_token, "create, list and revoke the daemon's API tokens"},
};

static void usage(FILE *f)
{
	fputs("usage: callbar COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'callbar COMMAND --help' explains a command.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_BAD;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "callbar: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_BAD;
}
