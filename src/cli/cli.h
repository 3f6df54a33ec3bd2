/* callbar: the command line's shared pieces. */
#ifndef CALLBAR_CLI_H
#define CALLBAR_CLI_H

#include <stdio.h>

/* Exit statuses every command uses. */
enum { CLI_OK = 0, CLI_BLOCK = 1, CLI_BAD = 2 };

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

int cbar_cmd_number(int argc, char **argv);
int cbar_cmd_check(int argc, char **argv);
int cbar_cmd_explain(int argc, char **argv);
int cbar_cmd_lint(int argc, char **argv);
int cbar_cmd_batch(int argc, char **argv);
/* The unlock registry (cmd_unlock.c, cmd_status.c, cmd_audit.c, cmd_csv.c,
 * cmd_keyword.c). */
int cbar_cmd_unlock(int argc, char **argv);
int cbar_cmd_relock(int argc, char **argv);
int cbar_cmd_status(int argc, char **argv);
int cbar_cmd_history(int argc, char **argv);
int cbar_cmd_audit(int argc, char **argv);
int cbar_cmd_bars(int argc, char **argv);
int cbar_cmd_export(int argc, char **argv);
int cbar_cmd_import(int argc, char **argv);
int cbar_cmd_keyword(int argc, char **argv);
/* The SIP server on its own (cmd_sip_serve.c, src/net/). */
int cbar_cmd_sip_serve(int argc, char **argv);
/* Several daemons at once (cmd_cluster.c). */
int cbar_cmd_cluster(int argc, char **argv);

/* Write s as a JSON string (with quotes), or null when s is NULL. */
void cbar_json_fput(FILE *f, const char *s);

#endif
