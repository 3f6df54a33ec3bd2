/*
 * callbar tests: `limit` statements over timed event sequences, driven by
 * case files (the .txt files of tests/limits).  Usage: test_limits CASES
 *
 * A case file is one sequence: its events are decided in file order
 * against one counting state, so each line sees what the lines before it
 * counted.  Lines (fields separated by '|'):
 *   FILE | AT | SERVICE | DIRECTION | SUBSCRIBER | PEER | EXPECT
 *     an event, as in tests/rules (FILE relative to the cases file, AT in
 *     the rule file's zone or @EPOCH); PEER "-" is unknown, "invalid:TEXT"
 *     a presented caller ID the numbering data refuses.  EXPECT: verdict,
 *     line, reason, announce as in tests/rules, and key=+NUMBER (the limit
 *     key the verdict names, - for none), count=N, until=TIME (when the
 *     bar expires, - for not barred), new=yes|no (this event went over),
 *     why="TEXT" (in explain's notes); inputs via=INGRESS; repeat=N decides
 *     the event N times, '#'s in SUBSCRIBER or PEER replaced by the
 *     repetition's number (as many digits as '#'s) and AT advanced by
 *     step=SECONDS each time; the other expectations hold for every
 *     repetition, last=... ones (lastverdict=, lastcount=) for the last one.
 *   config | max_keys=N tolerance=S
 *     a new counting state with these sizes (before the first event).
 *   reload | FILE
 *     compile FILE and carry the counters over (cbar_limiter_new with the
 *     old state), as the daemon's reload does.
 *   keys | N
 *     the first limit of the current file tracks N keys.
 * Every event is decided by cbar_decide() on one state and cbar_explain()
 * on a twin state, and both must agree (verdict, rule, key, count, bar).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/civil.h"
#include "callbar/data.h"
#include "callbar/limit.h"
#include "callbar/rules.h"
#include "callbar/scope.h"
#include "casefile.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

static struct cbar_numplan *np;
static char dir[4096];
static uint16_t cn;
static struct cbar_rules *rules;
static char rules_path[4200];
static struct cbar_limiter *lim, *twin;
static struct cbar_limiter_config cfg = {.max_keys = 1024, .tolerance = 5};

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

static const char *words[] = {"allow", "block", "error"};

static void use_rules(const struct tcase *c, const char *file, bool carry)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (rules && !carry && !strcmp(path, rules_path))
		return;
	struct cbar_rules *r = cbar_rules_load(np, path);
	if (!r)
		FAILF(c, "%s does not compile\n", path);
	struct cbar_limiter *a, *b;
	if (cbar_limiter_new(r, &cfg, carry ? lim : NULL, &a) ||
	    cbar_limiter_new(r, &cfg, carry ? twin : NULL, &b))
		FAILF(c, "no limiter\n");
	cbar_limiter_free(lim);
	cbar_limiter_free(twin);
	cbar_rules_free(rules);
	lim = a;
	twin = b;
	rules = r;
	snprintf(rules_path, sizeof rules_path, "%s", path);
}


/* s with its '#'s replaced by i's digits (as many as there are '#'). */
static void fill(char *out, size_t cap, const char *s, unsigned long i)
{
	size_t n = strlen(s), k = 0;
	unsigned hashes = 0;
	for (size_t j = 0; j < n; j++)
		hashes += s[j] == '#';
	char digits[32];
	snprintf(digits, sizeof digits, "%0*lu", (int)hashes, i);
	for (size_t j = 0, h = 0; j < n && k + 1 < cap; j++)
		out[k++] = s[j] == '#' ? digits[h++] : s[j];
	out[k] = 0;
}

static void expect_one(const struct tcase *c, const char *exp, const char *prefix,
                       const struct cbar_verdict *v, const struct notes *notes)
{
	char buf[256], k[64];
#define KEY(name) (snprintf(k, sizeof k, "%s%s", prefix, name), k)
	if (case_expect(exp, KEY("verdict"), buf, sizeof buf) && strcmp(buf, words[v->decision]))
		FAILF(c, "verdict: want %s, got %s (line %u, reason %s)\n", buf, words[v->decision],
		      v->line, v->reason ? v->reason : "-");
	if (case_expect(exp, KEY("line"), buf, sizeof buf)) {
		unsigned want = strcmp(buf, "-") ? (unsigned)atoi(buf) : 0;
		if (want != v->line)
			FAILF(c, "line: want %s, got %u\n", buf, v->line);
	}
	if (case_expect(exp, KEY("reason"), buf, sizeof buf) &&
	    (strcmp(buf, "-") ? !v->reason || strcmp(buf, v->reason) : v->reason != NULL))
		FAILF(c, "reason: want %s, got %s\n", buf, v->reason ? v->reason : "-");
	if (case_expect(exp, KEY("announce"), buf, sizeof buf) &&
	    (strcmp(buf, "-") ? !v->announcement || strcmp(buf, v->announcement->name)
	                      : v->announcement != NULL))
		FAILF(c, "announce: want %s, got %s\n", buf,
		      v->announcement ? v->announcement->name : "-");
	if (case_expect(exp, KEY("key"), buf, sizeof buf)) {
		char got[32] = "-";
		if (v->limit_rule >= 0) {
			const struct cbar_limit_info *l = NULL;
			for (size_t i = 0; i < cbar_rules_limits(rules); i++)
				if (cbar_rules_limit(rules, i)->rule == (size_t)v->limit_rule)
					l = cbar_rules_limit(rules, i);
			cbar_limit_key_text(l, v->limit_key, got, sizeof got);
		}
		if (strcmp(buf, got))
			FAILF(c, "key: want %s, got %s\n", buf, got);
	}
	if (case_expect(exp, KEY("count"), buf, sizeof buf) &&
	    (unsigned)atoi(buf) != v->limit_count)
		FAILF(c, "count: want %s, got %u\n", buf, v->limit_count);
	if (case_expect(exp, KEY("new"), buf, sizeof buf) &&
	    (!strcmp(buf, "yes") != v->limit_new_bar))
		FAILF(c, "new: want %s\n", buf);
	if (case_expect(exp, KEY("until"), buf, sizeof buf)) {
		int64_t want = 0;
		struct cbar_civil_fail f;
		if (strcmp(buf, "-") && cbar_civil_parse(buf, strlen(buf), CBAR_CIVIL_CLI,
		                                         cbar_rules_tz_offset(rules), &want, &f))
			FAILF(c, "bad until %s\n", buf);
		if (want != v->limit_bar_until)
			FAILF(c, "until: want %s (%lld), got %lld\n", buf, (long long)want,
			      (long long)v->limit_bar_until);
	}
	if (notes && case_expect(exp, KEY("why"), buf, sizeof buf) && !strstr(notes->text, buf))
		FAILF(c, "why: want \"%s\" in\n%s", buf, notes->text);
#undef KEY
}

static void run_event(const struct tcase *c)
{
	char buf[256];
	const char *exp = c->field[6];
	use_rules(c, c->field[0], false);
	struct cbar_civil_fail f;
	int64_t t0;
	if (cbar_civil_parse(c->field[1], c->len[1], CBAR_CIVIL_CLI, cbar_rules_tz_offset(rules),
	                     &t0, &f))
		FAILF(c, "bad time %s at %zu: %s\n", c->field[1], f.at, f.why);
	unsigned long repeat = case_expect(exp, "repeat", buf, sizeof buf) ? strtoul(buf, NULL, 10) : 1;
	long step = case_expect(exp, "step", buf, sizeof buf) ? strtol(buf, NULL, 10) : 0;
	char via[64];
	bool has_via = case_expect(exp, "via", via, sizeof via) != NULL;
	struct cbar_limit_counter ca = cbar_limiter_counter(lim), cb = cbar_limiter_counter(twin);
	struct cbar_unlock_lookup la = {.limits = &ca}, lb = {.limits = &cb};
	for (unsigned long i = 0; i < repeat; i++) {
		struct cbar_number sub, peer;
		char s[128], p[128];
		fill(s, sizeof s, c->field[4], i);
		fill(p, sizeof p, c->field[5], i);
		bool unknown = !strcmp(p, "-"), invalid = !strncmp(p, "invalid:", 8);
		struct cbar_event ev = {.subscriber = &sub,
		                        .peer = unknown || invalid ? NULL : &peer,
		                        .peer_invalid = invalid,
		                        .time = t0 + step * (long)i};
		if (!cbar_service_parse(c->field[2], strlen(c->field[2]), &ev.service) ||
		    !cbar_direction_parse(c->field[3], strlen(c->field[3]), &ev.direction))
			FAILF(c, "bad service or direction\n");
		if (cbar_number_parse(np, cn, s, strlen(s), &sub, NULL) ||
		    (ev.peer && cbar_number_parse(np, cn, p, strlen(p), &peer, NULL)))
			FAILF(c, "bad subscriber or peer number %s %s\n", s, p);
		if (invalid && !cbar_number_parse(np, cn, p + 8, strlen(p + 8), &peer, NULL))
			FAILF(c, "%s is a valid number\n", p + 8);
		if (has_via) {
			ev.ingress = via;
			ev.ingress_len = strlen(via);
		}
		struct cbar_verdict v, x;
		struct notes notes = {.n = 0};
		cbar_decide(rules, &ev, &la, &v);
		cbar_explain(rules, &ev, &lb, case_note, &notes, &x);
		if (v.decision != x.decision || v.rule != x.rule || v.limit_rule != x.limit_rule ||
		    v.limit_key != x.limit_key || v.limit_count != x.limit_count ||
		    v.limit_bar_until != x.limit_bar_until)
			FAILF(c, "repetition %lu: decide and explain disagree: %s line %u count %u vs "
			         "%s line %u count %u\n",
			      i, words[v.decision], v.line, v.limit_count, words[x.decision], x.line,
			      x.limit_count);
		expect_one(c, exp, "", &v, &notes);
		if (i + 1 == repeat)
			expect_one(c, exp, "last", &v, &notes);
	}
}

static void run_line(void **state)
{
	const struct tcase *c = *state;
	char buf[64];
	if (!strcmp(c->field[0], "config")) {
		if (case_expect(c->field[1], "max_keys", buf, sizeof buf))
			cfg.max_keys = strtoul(buf, NULL, 10);
		if (case_expect(c->field[1], "tolerance", buf, sizeof buf))
			cfg.tolerance = (uint32_t)strtoul(buf, NULL, 10);
		return;
	}
	if (!strcmp(c->field[0], "reload")) {
		use_rules(c, c->field[1], true);
		return;
	}
	if (!strcmp(c->field[0], "keys")) {
		if (cbar_limiter_keys(lim, 0) != strtoul(c->field[1], NULL, 10))
			FAILF(c, "keys: want %s, got %zu\n", c->field[1], cbar_limiter_keys(lim, 0));
		return;
	}
	if (c->nfields != 7)
		FAILF(c, "want 7 fields: FILE | AT | SERVICE | DIRECTION | SUBSCRIBER | PEER | EXPECT\n");
	run_event(c);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_limits CASES\n");
		return 2;
	}
	struct numplan_files files = {0};
	if (!(np = cbar_numplan_load(&files)))
		return 2;
	cn = cbar_numplan_country(np, "CN", 2);
	snprintf(dir, sizeof dir, "%s", argv[1]);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	size_t n;
	struct tcase *cases = casefile_read(argv[1], &n);
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	char(*names)[160] = calloc(n, sizeof *names);
	const char *base = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "%s:%u", base, cases[i].line);
		tests[i] = (struct CMUnitTest){.name = names[i],
		                               .test_func = run_line,
		                               .initial_state = &cases[i]};
	}
	int rc = _cmocka_run_group_tests(base, tests, n, NULL, NULL);
	cbar_limiter_free(lim);
	cbar_limiter_free(twin);
	cbar_rules_free(rules);
	cbar_numplan_free(np);
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < cases[i].nfields; k++)
			free(cases[i].field[k]);
	free(cases);
	free(tests);
	free(names);
	return rc ? 1 : 0;
}
