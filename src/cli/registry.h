/* callbar: what the registry commands share (cmd_unlock.c, cmd_status.c,
 * cmd_audit.c, cmd_csv.c, cmd_keyword.c). */
#ifndef CALLBAR_CLI_REGISTRY_H
#define CALLBAR_CLI_REGISTRY_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "callbar/dochash.h"
#include "callbar/number.h"
#include "callbar/store.h"

#define REG_DEFAULT_URL "sqlite:var/callbar.db"
#define REG_DEFAULT_RULES "etc/callbar/pilots.rules"

/* The options every registry command takes (long only; codes from 1000). */
enum { REG_OPT_REGISTRY = 1000, REG_OPT_JSON, REG_OPT_KEY, REG_OPT_BUSY, REG_OPT_LIMIT,
       REG_OPT_RULES };
#define REG_LONGOPTS                                                             \
	{"registry", required_argument, NULL, REG_OPT_REGISTRY},                 \
		{"json", no_argument, NULL, REG_OPT_JSON},                       \
		{"key", required_argument, NULL, REG_OPT_KEY},                   \
		{"busy-ms", required_argument, NULL, REG_OPT_BUSY},              \
		{"max-per-id", required_argument, NULL, REG_OPT_LIMIT},          \
		{"rules", required_argument, NULL, REG_OPT_RULES},               \
		{"help", no_argument, NULL, 'h'}

#define REG_HELP_COMMON                                                          \
	"  --registry URL    sqlite:PATH or postgres://... (libpq URI); default\n" \
	"                    $CALLBAR_REGISTRY, else " REG_DEFAULT_URL "\n"          \
	"  --key FILE        the document hashing key (32 bytes or 64 hex digits,\n" \
	"                    mode 0600); default $CALLBAR_KEY, else callbar.key\n"  \
	"                    beside a SQLite registry, created on first use\n"     \
	"  --busy-ms N       wait N ms for another writer's lock (default 5000)\n"  \
	"  --max-per-id N    active unlocks allowed per identity document (5)\n"    \
	"  --rules FILE      the rule file whose 'timezone' dates are read and\n"  \
	"                    written in (--expires, audit --since, times shown);\n" \
	"                    default $CALLBAR_RULES, else " REG_DEFAULT_RULES "\n"   \
	"                    when it exists (else times in UTC, dates refused)\n" \
	"  --json            JSON output\n"

struct reg {
	const char *cmd; /* "unlock": for messages */
	const char *url;
	const char *keyfile;
	const char *rules; /* the rule file giving the operator's time zone */
	bool json;
	struct cbar_store_opts opts;
	struct cbar_store *store;
	struct cbar_numplan *np;
	uint16_t cn;
};

void cbar_reg_init(struct reg *r, const char *cmd);
/* Handle a common option: 1 when c was one, -1 when its value is bad
 * (after a message), 0 when c is not common. */
int cbar_reg_option(struct reg *r, int c, const char *arg);
/* For a command whose only options are the common ones and --help: parse
 * them all.  -1 to go on (optind at the first argument), else the exit
 * status (help printed to stdout, or usage to stderr). */
int cbar_reg_options_only(struct reg *r, int argc, char **argv, const char *help);
/* Open the registry (and the numbering plan); false after a message. */
bool cbar_reg_open(struct reg *r);
/* Load the key and bind it to the registry; false after a message. */
bool cbar_reg_key(struct reg *r, struct cbar_key *key);
void cbar_reg_release(struct reg *r);
/* A subscriber number in the CN context to E.164; false after a message. */
bool cbar_reg_number(struct reg *r, const char *s, uint64_t *e164);
/* "Error: message" for a store failure; returns CLI_BAD. */
int cbar_reg_fail(struct reg *r, enum cbar_err e, const struct cbar_diag *d);

/* YYYY-MM-DD as the end of that day in China (UTC+8), unix seconds;
 * -1 when not a date. */
int64_t cbar_reg_date_end(const char *s);
/* YYYY-MM-DD as the start of that day in UTC+8; -1 when not a date. */
int64_t cbar_reg_date_start(const char *s);
/* Today in China as YYYYMMDD. */
uint32_t cbar_reg_today(int64_t now);
/* Unix seconds as 2024-06-11T08:00:00+08:00 into buf. */
const char *cbar_reg_time_str(int64_t t, char *buf, size_t cap);

/* One record, plain (one line) or as a JSON object (no newline). */
void cbar_reg_print_record(FILE *f, const struct cbar_store_record *rec);
void cbar_reg_json_record(FILE *f, const struct cbar_store_record *rec);
/* The operator's zone (seconds east of UTC) times are written in: the
 * rule file's, else 0 (UTC). */
int32_t cbar_reg_zone(void);

#endif
