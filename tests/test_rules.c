/*
 * callbar tests: rule files, decisions and compile errors, driven by case
 * files.  Usage: test_rules events CASES UNLOCKED | test_rules errors CASES
 *
 * events: FILE | AT | SERVICE | DIRECTION | SUBSCRIBER | PEER | EXPECT
 *   FILE is a rule file relative to the cases file; AT as for --at (civil.h,
 *   CBAR_CIVIL_CLI, in the rule file's zone); PEER "-" for an unknown peer
 *   (the event's peer is NULL), "@NAME" for an alphanumeric sender (NULL,
 *   peer_alnum set: SMPP TON 5), SUBSCRIBER "-" for none (an error, unless
 *   the peer is an emergency number);
 *   EXPECT: verdict (allow/block/error), line (the deciding rule's line or
 *   -), reason, announce (a name or -), exempt (+number or -), and inputs
 *   via=INGRESS, carrier=C, region=R, roaming=yes|no.  Every case is decided twice, by
 *   cbar_decide() and by cbar_explain(), and both must give the same verdict;
 *   why="TEXT": some sentence of the explanation holds TEXT.
 * errors: NAME | TEXT | EXPECT, TEXT a rule file (quoted, \n between lines)
 *   compiled as NAME.rules beside the cases file (for its list files);
 *   EXPECT error=CODE line=L col=C msg="..." for a file that must not
 *   compile, or lint=L1,L2 (lines warned about, - for none) for one that must.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/scope.h"

#include "callbar/civil.h"
#include "callbar/data.h"
#include "callbar/rules.h"
#include "casefile.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

static struct cbar_numplan *np;
static struct cbar_unlockset *unlocks;
static char dir[4096];
static uint16_t cn;

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

/* Rule files compiled once, by path. */
static struct {
	char path[4200];
	struct cbar_rules *r;
} cache[32];

static struct cbar_rules *rules_for(const struct tcase *c)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, c->field[0]);
	for (size_t i = 0; i < 32 && cache[i].r; i++)
		if (!strcmp(cache[i].path, path))
			return cache[i].r;
	struct cbar_rules *r = cbar_rules_load(np, path);
	if (!r)
		FAILF(c, "%s does not compile\n", path);
	for (size_t i = 0; i < 32; i++)
		if (!cache[i].r) {
			snprintf(cache[i].path, sizeof cache[i].path, "%s", path);
			cache[i].r = r;
			break;
		}
	return r;
}

static const char *words[] = {"allow", "block", "error"};

static void same_verdict(const struct tcase *c, const struct cbar_verdict *a,
                         const struct cbar_verdict *b)
{
	if (a->decision != b->decision || a->rule != b->rule || a->exempted != b->exempted ||
	    (a->exempted && a->exempted_by.subscriber != b->exempted_by.subscriber) ||
	    a->reason != b->reason)
		FAILF(c, "decide and explain disagree: %s line %u vs %s line %u\n",
		      words[a->decision], a->line, words[b->decision], b->line);
}


static void run_event(void **state)
{
	const struct tcase *c = *state;
	char buf[256];
	if (c->nfields != 7)
		FAILF(c, "want 7 fields: FILE | AT | SERVICE | DIRECTION | SUBSCRIBER | PEER | EXPECT\n");
	struct cbar_rules *r = rules_for(c);
	const char *exp = c->field[6];
	struct cbar_number sub, peer;
	bool alnum = c->field[5][0] == '@';
	bool unknown = !strcmp(c->field[5], "-") || alnum, nosub = !strcmp(c->field[4], "-");
	struct cbar_event ev = {.subscriber = nosub ? NULL : &sub, .peer = unknown ? NULL : &peer,
	                        .peer_alnum = alnum};
	struct cbar_civil_fail f;
	if (cbar_civil_parse(c->field[1], c->len[1], CBAR_CIVIL_CLI, cbar_rules_tz_offset(r),
	                     &ev.time, &f))
		FAILF(c, "bad time %s at %zu: %s\n", c->field[1], f.at, f.why);
	if (!cbar_service_parse(c->field[2], strlen(c->field[2]), &ev.service) ||
	    !cbar_direction_parse(c->field[3], strlen(c->field[3]), &ev.direction))
		FAILF(c, "bad service or direction\n");
	if ((!nosub && cbar_number_parse(np, cn, c->field[4], c->len[4], &sub, NULL)) ||
	    (!unknown && cbar_number_parse(np, cn, c->field[5], c->len[5], &peer, NULL)))
		FAILF(c, "bad subscriber or peer number\n");
	char via[64];
	if (case_expect(exp, "via", via, sizeof via)) {
		ev.ingress = via;
		ev.ingress_len = strlen(via);
	}
	if (case_expect(exp, "carrier", buf, sizeof buf))
		ev.carrier = (uint8_t)cbar_carrier_lookup(buf, strlen(buf));
	if (case_expect(exp, "roaming", buf, sizeof buf))
		ev.roaming = !strcmp(buf, "yes") ? CBAR_ROAMING_YES : CBAR_ROAMING_NO;
	if (case_expect(exp, "region", buf, sizeof buf))
		ev.region = cbar_numplan_region(np, buf, strlen(buf));
	struct cbar_unlock_lookup lk = cbar_unlockset_lookup(unlocks);
	struct cbar_verdict v, x;
	cbar_decide(r, &ev, &lk, &v);
	struct notes notes = {.n = 0};
	cbar_explain(r, &ev, &lk, case_note, &notes, &x);
	same_verdict(c, &v, &x);
	if (case_expect(exp, "why", buf, sizeof buf) && !strstr(notes.text, buf))
		FAILF(c, "why: want \"%s\" in\n%s", buf, notes.text);

	if (case_expect(exp, "verdict", buf, sizeof buf) && strcmp(buf, words[v.decision]))
		FAILF(c, "verdict: want %s, got %s (line %u, reason %s)\n", buf, words[v.decision],
		      v.line, v.reason ? v.reason : "-");
	if (case_expect(exp, "line", buf, sizeof buf)) {
		unsigned want = strcmp(buf, "-") ? (unsigned)atoi(buf) : 0;
		if (want != v.line)
			FAILF(c, "line: want %s, got %u\n", buf, v.line);
	}
	if (case_expect(exp, "reason", buf, sizeof buf) &&
	    (strcmp(buf, "-") ? !v.reason || strcmp(buf, v.reason) : v.reason != NULL))
		FAILF(c, "reason: want %s, got %s\n", buf, v.reason ? v.reason : "-");
	if (case_expect(exp, "announce", buf, sizeof buf) &&
	    (strcmp(buf, "-") ? !v.announcement || strcmp(buf, v.announcement->name)
	                      : v.announcement != NULL))
		FAILF(c, "announce: want %s, got %s\n", buf,
		      v.announcement ? v.announcement->name : "-");
	if (case_expect(exp, "exempt", buf, sizeof buf)) {
		if (!strcmp(buf, "-") ? v.exempted
		                      : !v.exempted || strtoull(buf + 1, NULL, 10) !=
		                                               v.exempted_by.subscriber)
			FAILF(c, "exempt: want %s, got %s%llu\n", buf, v.exempted ? "+" : "-",
			      v.exempted ? (unsigned long long)v.exempted_by.subscriber : 0ull);
	}
}

/* List files of the error cases come from the cases file's folder. */
static enum cbar_err load_list(void *ctx, const char *rule_file, const char *path,
                               size_t pathlen, char **text, size_t *len, struct cbar_diag *d)
{
	(void)ctx;
	(void)rule_file;
	char full[4400];
	snprintf(full, sizeof full, "%s/%.*s", dir, (int)pathlen, path);
	if (!(*text = cbar_file_read(full, 1u << 20, len)))
		return cbar_diag_set(d, CBAR_IO, 0, 0, "no such file");
	return CBAR_OK;
}

struct warned {
	char lines[256];
};

static void on_warn(void *ctx, unsigned line, const char *msg)
{
	struct warned *w = ctx;
	size_t k = strlen(w->lines);
	(void)msg;
	snprintf(w->lines + k, sizeof w->lines - k, "%s%u", k ? "," : "", line);
}

static void run_error(void **state)
{
	const struct tcase *c = *state;
	char buf[256], name[300];
	if (c->nfields != 3)
		FAILF(c, "want 3 fields: NAME | TEXT | EXPECT\n");
	const char *exp = c->field[2];
	snprintf(name, sizeof name, "%s.rules", c->field[0]);
	struct cbar_rules_loader loader = {load_list, NULL};
	struct cbar_diag d;
	struct cbar_rules *r = (struct cbar_rules *)1;
	enum cbar_err err = cbar_rules_compile(np, c->field[1], c->len[1], name, &loader, &d, &r);
	if (case_expect(exp, "error", buf, sizeof buf)) {
		if (!err)
			FAILF(c, "want error %s, compiled\n", buf);
		if (r)
			FAILF(c, "a failed compile returned a snapshot\n");
		if (strcmp(buf, cbar_err_name(err)))
			FAILF(c, "want error %s, got %s: %s\n", buf, cbar_err_name(err), d.msg);
		if (!d.file || strcmp(d.file, name))
			FAILF(c, "diag file: want %s\n", name);
		if (case_expect(exp, "line", buf, sizeof buf) && (unsigned)atoi(buf) != d.line)
			FAILF(c, "line: want %s, got %u (%s)\n", buf, d.line, d.msg);
		if (case_expect(exp, "col", buf, sizeof buf) && (unsigned)atoi(buf) != d.column)
			FAILF(c, "col: want %s, got %u (%s)\n", buf, d.column, d.msg);
		if (case_expect(exp, "msg", buf, sizeof buf) && strcmp(buf, d.msg))
			FAILF(c, "msg: want \"%s\", got \"%s\"\n", buf, d.msg);
		return;
	}
	if (err)
		FAILF(c, "does not compile: %u:%u: %s\n", d.line, d.column, d.msg);
	struct warned w = {{0}};
	cbar_rules_lint(r, on_warn, &w);
	if (case_expect(exp, "lint", buf, sizeof buf) &&
	    strcmp(strcmp(buf, "-") ? buf : "", w.lines)) {
		cbar_rules_free(r);
		FAILF(c, "lint warnings at lines: want %s, got %s\n", buf, w.lines[0] ? w.lines : "-");
	}
	cbar_rules_free(r);
}

int main(int argc, char **argv)
{
	bool events = argc == 4 && !strcmp(argv[1], "events");
	if (!events && !(argc == 3 && !strcmp(argv[1], "errors"))) {
		fprintf(stderr, "usage: test_rules events CASES UNLOCKED | test_rules errors CASES\n");
		return 2;
	}
	struct numplan_files files = {0};
	if (!(np = cbar_numplan_load(&files)))
		return 2;
	cn = cbar_numplan_country(np, "CN", 2);
	snprintf(dir, sizeof dir, "%s", argv[2]);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	if (events && !(unlocks = cbar_unlocks_load(np, cn, argv[3], 1)))
		return 2;
	size_t n;
	struct tcase *cases = casefile_read(argv[2], &n);
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	char (*names)[160] = calloc(n, sizeof *names);
	const char *base = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "%s:%u", base, cases[i].line);
		tests[i].name = names[i];
		tests[i].test_func = events ? run_event : run_error;
		tests[i].initial_state = &cases[i];
	}
	int failed = _cmocka_run_group_tests(base, tests, n, NULL, NULL);
	for (size_t i = 0; i < 32 && cache[i].r; i++)
		cbar_rules_free(cache[i].r);
	cbar_unlockset_free(unlocks);
	cbar_numplan_free(np);
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < cases[i].nfields; k++)
			free(cases[i].field[k]);
	free(cases);
	free(tests);
	free(names);
	return failed ? 1 : 0;
}
