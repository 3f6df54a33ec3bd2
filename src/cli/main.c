/* callbar: the command line. */
#include <stdio.h>
#include <string.h>

#include "callbar/version.h"
#include "cli.h"
#include "daemon/serve.h"

static const struct cli_command commands[] = {
	{"number", cbar_cmd_number, "normalise numbers to E.164 and classify them"},
	{"check", cbar_cmd_check, "decide one call or message against a rule file"},
	{"explain", cbar_cmd_explain, "decide like check and say why for every rule"},
	{"lint", cbar_cmd_lint, "compile rule files and warn about rules that never match"},
	{"batch", cbar_cmd_batch, "decide every event of a CDR file (CSV or JSON lines)"},
	{"unlock", cbar_cmd_unlock, "unlock a subscriber's line (registry)"},
	{"relock", cbar_cmd_relock, "lock a subscriber's line again (registry)"},
	{"status", cbar_cmd_status, "a subscriber's unlock and its history (registry)"},
	{"history", cbar_cmd_history, "every unlock record of a subscriber (registry)"},
	{"audit", cbar_cmd_audit, "list or verify the registry's audit chain"},
	{"bars", cbar_cmd_bars, "list or lift the keys limits barred (registry)"},
	{"export", cbar_cmd_export, "write the registry as CSV"},
	{"import", cbar_cmd_import, "read records from CSV into the registry"},
	{"keyword", cbar_cmd_keyword, "act on a subscriber's keyword text message"},
	{"serve", cbar_serve_main, "run the daemon: HTTP/JSON and SIP decisions, registry, metrics"},
	{"token", cbar_token_main, "create, list and revoke the daemon's API tokens"},
	{"smpp-peer", cbar_smpp_peer_main, "add, list and remove the SMPP firewall's peers"},
	{"sip-serve", cbar_cmd_sip_serve, "answer SIP INVITE and MESSAGE (UDP, TCP) by the rules"},
	{"cluster", cbar_cmd_cluster, "ask several daemons whether they are ready and agree"},
};

static void usage(FILE *f)
{
	fputs("usage: callbar COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'callbar COMMAND --help' explains a command; 'callbar --version' names the "
	      "build.\n",
	      f);
}

/* The version and the commit the binary was built from, as /metrics
 * callbar_build_info gives them, so an operator can match the two. */
static int version(void)
{
	printf("callbar %s (commit %s)\n", cbar_version, cbar_commit);
	return CLI_OK;
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
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return version();
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "callbar: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_BAD;
}
