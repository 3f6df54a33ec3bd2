/* callbar: what the registry commands share (registry.h). */
#include <getopt.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "callbar/civil.h"
#include "callbar/data.h"
#include "cli.h"
#include "load/keyfile.h"
#include "load/rules_load.h"
#include "load/status.h"
#include "registry.h"

/* The operator's time zone, seconds east of UTC: the rule file's
 * `timezone`, read by cbar_reg_open() (dates of a registry command are the
 * operator's dates, as the rules' are). */
static int32_t zone;
static bool zone_known, zone_tried;
static const char *zone_file; /* --rules, $CALLBAR_RULES; NULL: the default if there */

/* The zone, read from the rule file the first time a date needs it: a file
 * named that does not load is an error; without one named, the default
 * file when it exists, else none known (times in UTC, dates refused). */
static bool zone_load(void)
{
	if (zone_tried)
		return zone_known || !zone_file;
	zone_tried = true;
	struct stat st;
	const char *path = zone_file ? zone_file : REG_DEFAULT_RULES;
	if (!zone_file && stat(path, &st))
		return true;
	struct cbar_numplan *np = NULL;
	struct cbar_rules *rules = NULL;
	if (!cbar_numplan_embedded(&np, NULL))
		rules = cbar_rules_load(np, path);
	if (rules) {
		zone = cbar_rules_tz_offset(rules);
		zone_known = true;
	} else {
		fprintf(stderr, "callbar: the time zone comes from the rule file %s (--rules)\n", path);
	}
	cbar_rules_free(rules);
	cbar_numplan_free(np);
	return zone_known;
}

void cbar_reg_init(struct reg *r, const char *cmd)
{
	memset(r, 0, sizeof *r);
	r->cmd = cmd;
	r->url = getenv("CALLBAR_REGISTRY");
	if (!r->url || !*r->url)
		r->url = REG_DEFAULT_URL;
	r->keyfile = NULL; /* --key; else $CALLBAR_KEY, else beside the registry: keyfile.h */
	r->rules = getenv("CALLBAR_RULES");
	if (r->rules && !*r->rules)
		r->rules = NULL;
	zone_file = r->rules;
}

static bool count(const char *s, unsigned *out)
{
	char *e;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (errno || !*s || *e || v > 1000000)
		return false;
	*out = (unsigned)v;
	return true;
}

int cbar_reg_option(struct reg *r, int c, const char *arg)
{
	switch (c) {
	case REG_OPT_REGISTRY:
		r->url = arg;
		return 1;
	case REG_OPT_JSON:
		r->json = true;
		return 1;
	case REG_OPT_KEY:
		r->keyfile = arg;
		return 1;
	case REG_OPT_RULES:
		r->rules = zone_file = arg;
		return 1;
	case REG_OPT_BUSY:
		if (!count(arg, &r->opts.busy_ms) || !r->opts.busy_ms) {
			fprintf(stderr, "callbar %s: --busy-ms wants milliseconds, 1 to 1000000\n",
			        r->cmd);
			return -1;
		}
		return 1;
	case REG_OPT_LIMIT:
		if (!count(arg, &r->opts.max_per_id) || !r->opts.max_per_id) {
			fprintf(stderr, "callbar %s: --max-per-id wants a number from 1\n", r->cmd);
			return -1;
		}
		return 1;
	}
	return 0;
}

int cbar_reg_options_only(struct reg *r, int argc, char **argv, const char *help)
{
	static const struct option opts[] = {REG_LONGOPTS, {0, 0, 0, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		if (c == 'h') {
			fputs(help, stdout);
			return CLI_OK;
		}
		fputs(help, stderr);
		return CLI_BAD;
	}
	return -1;
}

int cbar_reg_fail(struct reg *r, enum cbar_err e, const struct cbar_diag *d)
{
	fprintf(stderr, "callbar %s: %s: %s\n", r->cmd, cbar_err_message(e),
	        d->msg[0] ? d->msg : cbar_err_name(e));
	return CLI_BAD;
}

bool cbar_reg_open(struct reg *r)
{
	struct cbar_diag d = {0};
	enum cbar_err e;
	if ((e = cbar_numplan_embedded(&r->np, &d))) {
		cbar_reg_fail(r, e, &d);
		return false;
	}
	r->cn = cbar_numplan_country(r->np, "CN", 2);
	if (!zone_load())
		return false;
	/* The embedded default lives in var/: make it on first use. */
	if (!strcmp(r->url, REG_DEFAULT_URL))
		mkdir("var", 0700);
	if ((e = cbar_store_open(&r->store, r->url, &r->opts, &d))) {
		cbar_reg_fail(r, e, &d);
		return false;
	}
	return true;
}

bool cbar_reg_key(struct reg *r, struct cbar_key *key)
{
	struct cbar_diag d = {0};
	char id[17];
	enum cbar_err e = cbar_key_find(r->keyfile, r->url, key, &d);
	if (e) {
		fprintf(stderr, "callbar %s: %s\n", r->cmd, d.msg);
		return false;
	}
	cbar_key_id(key, id);
	if ((e = cbar_store_bind_key(r->store, id, &d))) {
		cbar_key_release(key);
		cbar_reg_fail(r, e, &d);
		return false;
	}
	return true;
}

void cbar_reg_release(struct reg *r)
{
	cbar_store_free(r->store);
	cbar_numplan_free(r->np);
	r->store = NULL;
	r->np = NULL;
}

bool cbar_reg_number(struct reg *r, const char *s, uint64_t *e164)
{
	struct cbar_number n;
	size_t at = 0;
	enum cbar_err e = cbar_number_parse(r->np, r->cn, s, strlen(s), &n, &at);
	if (e) {
		fprintf(stderr, "callbar %s: '%s': %s at byte %zu\n", r->cmd, s, cbar_err_message(e),
		        at);
		return false;
	}
	if (n.flags & (CBAR_NUM_EMERGENCY | CBAR_NUM_SHORT)) {
		fprintf(stderr, "callbar %s: '%s' is not a subscriber number\n", r->cmd, s);
		return false;
	}
	*e164 = n.e164;
	return true;
}

int64_t cbar_reg_date_start(const char *s)
{
	int y, m, d, n = 0;
	static const int mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || s[n] || y < 1970 ||
	    y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m] ||
	    (m == 2 && d == 29 && !((y % 4 == 0 && y % 100) || y % 400 == 0)))
		return -1;
	if (!zone_load())
		return -1;
	if (!zone_known) {
		fprintf(stderr, "callbar: the date %s is a day in the operator's time zone: name the "
		                "rule file that gives it (--rules FILE or $CALLBAR_RULES)\n", s);
		return -1;
	}
	return cbar_days_from_civil(y, m, d) * 86400 - zone;
}

int64_t cbar_reg_date_end(const char *s)
{
	int64_t t = cbar_reg_date_start(s);
	return t < 0 ? -1 : t + 86400;
}

uint32_t cbar_reg_today(int64_t now)
{
	int64_t y;
	unsigned m, d;
	zone_load();
	int64_t days = now + zone >= 0 ? (now + zone) / 86400 : (now + zone - 86399) / 86400;
	cbar_civil_from_days(days, &y, &m, &d);
	return (uint32_t)(y * 10000 + m * 100 + d);
}

const char *cbar_reg_time_str(int64_t t, char *buf, size_t cap)
{
	zone_load();
	if (!cbar_civil_format(t, zone, buf, cap) && cap)
		snprintf(buf, cap, "@%lld", (long long)t);
	return buf;
}

void cbar_reg_print_record(FILE *f, const struct cbar_store_record *rec)
{
	char sc[64], t1[40], t2[40];
	fprintf(f, "#%" PRId64 " +%" PRIu64 " %s scope=%s level=%s channel=%s created=%s expires=%s",
	        rec->id, rec->subscriber, cbar_store_status_key(rec->status),
	        cbar_store_scope_str(rec->scope, sc, sizeof sc), cbar_store_level_key(rec->level),
	        cbar_store_channel_key(rec->channel), cbar_reg_time_str(rec->created, t1, sizeof t1),
	        rec->expires ? cbar_reg_time_str(rec->expires, t2, sizeof t2) : "never");
	if (rec->agent[0])
		fprintf(f, " agent=%s", rec->agent);
	if (rec->doc_type[0])
		fprintf(f, " document=%s", rec->doc_type);
	if (rec->status == CBAR_STORE_REVOKED)
		fprintf(f, " revoked=%s by=%s why=\"%s\"", cbar_reg_time_str(rec->revoked_at, t1, sizeof t1),
		        rec->revoked_by, rec->revoked_why);
	fputc('\n', f);
}

void cbar_reg_json_record(FILE *f, const struct cbar_store_record *rec)
{
	/* One writer of a record's JSON for the commands and the daemon
	 * (load/status.h), so that `status --json` and GET
	 * /v1/subscribers/{number} agree byte for byte. */
	struct cbar_buf b;
	cbar_buf_init(&b, 1u << 16);
	if (cbar_status_record_json(&b, rec, cbar_reg_zone()))
		fwrite(b.p, 1, b.len, f);
	cbar_buf_release(&b);
}

int32_t cbar_reg_zone(void)
{
	zone_load();
	return zone;
}
