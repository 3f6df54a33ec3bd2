/* callbar token: create, list and revoke API tokens (entry in serve.h).
 * It lives with the daemon because it works on the daemon's token stores
 * (token_store.h), which the command line does not see. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callbar/store.h"
#include "serve.h"
#include "token_store.h"

enum { TOKEN_CMD_OK = 0, TOKEN_CMD_BAD = 2 };

static const char help[] =
	"usage: callbar token create --role ROLE --name NAME [--tokens FILE | --registry URL]\n"
	"       callbar token list [--tokens FILE | --registry URL]\n"
	"       callbar token revoke NAME [--tokens FILE | --registry URL]\n"
	"\n"
	"Manage the bearer tokens of 'callbar serve'.  create prints a new token\n"
	"once, on standard output: only its SHA-256 is kept, with the name and the\n"
	"role.  ROLE is agent (unlock after an identity check, read status),\n"
	"supervisor (also relock, read the audit log), admin (also reload), or\n"
	"gateway: the SMS centre's, which may post keywords (POST /v1/keyword)\n"
	"and nothing else; no other role may.  A running daemon sees changes at\n"
	"its next request; no restart.\n"
	"\n"
	"  --tokens FILE   the token file (default var/tokens, as auth.tokens)\n"
	"  --registry URL  the tokens of the unlock registry (sqlite:PATH or\n"
	"                  postgres://...), shared by every node of it; a daemon with\n"
	"                  auth.tokens = registry reads them (within a second).\n"
	"                  Creating and revoking there are entries of its audit log\n"
	"                  (token-add, token-revoke), by --by NAME\n"
	"  --by NAME       who makes the change, for the audit log (default\n"
	"                  cli:LOGIN, the user running the command)\n"
	"\n"
	"Exit status: 0 on success, 2 on a bad argument, a taken or unknown name,\n"
	"or a file that cannot be read or written.\n";

static void print_one(void *arg, const struct token_info *t)
{
	char when[32] = "?";
	struct tm tm;
	time_t s = (time_t)t->created;
	(void)arg;
	if (gmtime_r(&s, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\t%s\t%s\n", t->name, cbar_role_name(t->role), when);
}

int cbar_token_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"role", required_argument, NULL, 'r'},   {"name", required_argument, NULL, 'n'},
		{"tokens", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
		{"registry", required_argument, NULL, 'R'}, {"by", required_argument, NULL, 'b'},
		{0, 0, 0, 0},
	};
	const char *role = NULL, *name = NULL, *file = "var/tokens", *registry = NULL, *by = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't':
			file = optarg;
			break;
		case 'R':
			registry = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return TOKEN_CMD_OK;
		default:
			fputs(help, stderr);
			return TOKEN_CMD_BAD;
		}
	}
	if (optind >= argc) {
		fputs(help, stderr);
		return TOKEN_CMD_BAD;
	}
	const char *verb = argv[optind++];
	struct token_store ts = {0};
	struct cbar_diag d = {0};
	enum cbar_err err;
	char who[CBAR_STORE_NAME_MAX];
	if (by) {
		if (strlen(by) >= sizeof who - 1 || !*by) {
			fprintf(stderr, "callbar token: --by: 1 to %zu bytes\n", sizeof who - 2);
			return TOKEN_CMD_BAD;
		}
		snprintf(who, sizeof who, "%s", by);
	} else {
		const struct passwd *pw = getpwuid(geteuid());
		snprintf(who, sizeof who, "cli:%.50s", pw ? pw->pw_name : "unknown");
	}
	if (registry ? cbar_token_registry_open(&ts, registry, who, &d) : cbar_token_file_open(&ts, file, &d)) {
		fprintf(stderr, "callbar token: %s: %s\n", registry ? registry : file, d.msg);
		return TOKEN_CMD_BAD;
	}
	if (!strcmp(verb, "create") && optind == argc) {
		char token[TOKEN_TEXT_MAX];
		if (!role || !name) {
			fputs("callbar token create: --role and --name are required\n", stderr);
			err = CBAR_INVAL;
		} else if (cbar_role_parse(role) == ROLE_NONE) {
			fprintf(stderr,
			        "callbar token create: role '%s': want agent, supervisor, admin or "
			        "gateway\n",
			        role);
			err = CBAR_INVAL;
		} else if ((err = ts.ops->create(ts.ctx, name, cbar_role_parse(role), token, &d))) {
			fprintf(stderr, "callbar token create: %s\n", d.msg);
		} else {
			puts(token);
			fprintf(stderr, "callbar token: created '%s' (%s) in %s; the token is shown once\n",
			        name, role, registry ? "the registry" : file);
		}
	} else if (!strcmp(verb, "list") && optind == argc) {
		if ((err = ts.ops->list(ts.ctx, print_one, NULL, &d)))
			fprintf(stderr, "callbar token list: %s:%u: %s\n", file, d.line, d.msg);
	} else if (!strcmp(verb, "revoke") && optind + 1 == argc) {
		if ((err = ts.ops->revoke(ts.ctx, argv[optind], &d)))
			fprintf(stderr, "callbar token revoke: %s\n", d.msg);
	} else {
		fputs(help, stderr);
		err = CBAR_INVAL;
	}
	token_store_release(&ts);
	return err ? TOKEN_CMD_BAD : TOKEN_CMD_OK;
}
