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

int cmd_number(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);

/* Write s as a JSON string (with quotes), or null when s is NULL. */
void json_str(FILE *f, const char *s);

#endif
