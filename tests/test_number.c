/*
 * callbar tests: number normalisation, driven by number/cases.txt.
 *
 * Each case: COUNTRY | INPUT | EXPECTATIONS, where expectations are
 * key=value pairs: e164, cc, national, country, region, carrier, city,
 * emergency (yes/no), short (yes/no) for a number that parses; error (the
 * code name, e.g. NUM_CHAR) and at (byte offset) for one that does not.
 * "-" as a value means "none" (no region, no carrier...).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/data.h"
#include "callbar/number.h"
#include "casefile.h"

static struct cbar_numplan *np;

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

static void check_str(const struct tcase *c, const char *key, const char *want,
                      const char *got)
{
	if (!strcmp(want, "-") && !got)
		return;
	if (!got || strcmp(want, got))
		FAILF(c, "%s: want %s, got %s\n", key, want, got ? got : "(none)");
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	char buf[128], tmp[32];
	if (c->nfields != 3)
		FAILF(c, "want 3 fields: COUNTRY | INPUT | EXPECTATIONS\n");
	uint16_t ctx = cbar_numplan_country(np, c->field[0], c->len[0]);
	const char *exp = c->field[2];
	struct cbar_number n;
	size_t at = 0;
	enum cbar_err err = cbar_number_parse(np, ctx, c->field[1], c->len[1], &n, &at);

	if (case_expect(exp, "error", buf, sizeof buf)) {
		if (!err)
			FAILF(c, "want error %s, got +%s\n", buf, n.digits);
		if (strcmp(buf, cbar_err_name(err)))
			FAILF(c, "want error %s, got %s\n", buf, cbar_err_name(err));
		if (case_expect(exp, "at", buf, sizeof buf) && (size_t)atoi(buf) != at)
			FAILF(c, "want error at byte %s, got %zu\n", buf, at);
		return;
	}
	if (err)
		FAILF(c, "want a number, got error %s at %zu\n", cbar_err_name(err), at);
	if (case_expect(exp, "e164", buf, sizeof buf)) {
		snprintf(tmp, sizeof tmp, "+%s", n.digits);
		check_str(c, "e164", buf, tmp);
		uint64_t v = strtoull(buf + 1, NULL, 10);
		if (v != n.e164)
			FAILF(c, "e164 integer: want %llu, got %llu\n", (unsigned long long)v,
			      (unsigned long long)n.e164);
	}
	if (case_expect(exp, "cc", buf, sizeof buf)) {
		snprintf(tmp, sizeof tmp, "%u", n.cc);
		check_str(c, "cc", buf, tmp);
	}
	if (case_expect(exp, "national", buf, sizeof buf))
		check_str(c, "national", buf, cbar_number_national(&n));
	if (case_expect(exp, "country", buf, sizeof buf))
		check_str(c, "country", buf, cbar_numplan_country_id(np, n.country));
	if (case_expect(exp, "region", buf, sizeof buf))
		check_str(c, "region", buf, cbar_numplan_region_code(np, n.region));
	if (case_expect(exp, "region_zh", buf, sizeof buf))
		check_str(c, "region_zh", buf, cbar_numplan_region_name_zh(np, n.region));
	if (case_expect(exp, "carrier", buf, sizeof buf))
		check_str(c, "carrier", buf, cbar_carrier_key(n.carrier));
	if (case_expect(exp, "city", buf, sizeof buf))
		check_str(c, "city", buf, cbar_numplan_city_name_en(np, n.city));
	if (case_expect(exp, "emergency", buf, sizeof buf))
		check_str(c, "emergency", buf, n.flags & CBAR_NUM_EMERGENCY ? "yes" : "no");
	if (case_expect(exp, "short", buf, sizeof buf))
		check_str(c, "short", buf, n.flags & CBAR_NUM_SHORT ? "yes" : "no");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_number CASES\n");
		return 2;
	}
	struct cbar_diag d = {0};
	if (cbar_numplan_embedded(&np, &d)) {
		fprintf(stderr, "embedded data: %s:%u:%u: %s\n", d.file, d.line, d.column, d.msg);
		return 2;
	}
	size_t n;
	struct tcase *cases = casefile_read(argv[1], &n);
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	char (*names)[160] = calloc(n, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "%s:%u %s", "cases.txt", cases[i].line,
		         cases[i].nfields > 1 ? cases[i].field[1] : "");
		tests[i].name = names[i];
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	int failed = _cmocka_run_group_tests("number", tests, n, NULL, NULL);
	cbar_numplan_free(np);
	return failed ? 1 : 0;
}
