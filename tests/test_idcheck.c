/*
 * callbar tests: identity document numbers, driven by idcheck/cases.txt.
 *
 * Each case: TYPE | INPUT | TODAY | EXPECTATIONS.  TYPE is a document key
 * (cn-resident...) or anything else for an unknown type; TODAY is YYYYMMDD.
 * Expectations: canon=X for a number that passes; error=CODE (ID_CHECK...)
 * and at=N (the 1-based position reported) for one that does not.  Every
 * case also checks that the diagnostic does not repeat the number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/idcheck.h"
#include "casefile.h"

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

/* Does the message hold 6 or more characters of the input in a row? */
static int leaks(const char *msg, const char *in, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		char w[7];
		memcpy(w, in + i, 6);
		w[6] = 0;
		if (strstr(msg, w))
			return 1;
	}
	return 0;
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	char buf[128], canon[CBAR_DOC_MAX + 1];
	if (c->nfields != 4)
		FAILF(c, "want 4 fields: TYPE | INPUT | TODAY | EXPECTATIONS\n");
	enum cbar_doc_type t = cbar_doc_lookup(c->field[0], c->len[0]);
	uint32_t today = (uint32_t)strtoul(c->field[2], NULL, 10);
	struct cbar_diag d = {0};
	enum cbar_err err = cbar_idcheck(t, c->field[1], c->len[1], today, canon, &d);
	const char *exp = c->field[3];
	if (err && leaks(d.msg, c->field[1], c->len[1]))
		FAILF(c, "the message repeats the number: %s\n", d.msg);
	if (case_expect(exp, "error", buf, sizeof buf)) {
		if (!err)
			FAILF(c, "want error %s, got %s\n", buf, canon);
		if (strcmp(buf, cbar_err_name(err)))
			FAILF(c, "want error %s, got %s (%s)\n", buf, cbar_err_name(err), d.msg);
		if (case_expect(exp, "at", buf, sizeof buf) && (unsigned)atoi(buf) != d.column)
			FAILF(c, "want error at %s, got %u (%s)\n", buf, d.column, d.msg);
		return;
	}
	if (err)
		FAILF(c, "want a valid number, got %s: %s\n", cbar_err_name(err), d.msg);
	if (case_expect(exp, "canon", buf, sizeof buf) && strcmp(buf, canon))
		FAILF(c, "canon: want %s, got %s\n", buf, canon);
}

static void keys(void **state)
{
	(void)state;
	for (int t = CBAR_DOC_NONE + 1; t < CBAR_DOC_COUNT; t++) {
		const char *k = cbar_doc_key((enum cbar_doc_type)t);
		assert_non_null(k);
		assert_int_equal(cbar_doc_lookup(k, strlen(k)), t);
		assert_non_null(cbar_doc_name_zh((enum cbar_doc_type)t));
		assert_non_null(cbar_doc_name_en((enum cbar_doc_type)t));
	}
	assert_null(cbar_doc_key(CBAR_DOC_NONE));
	assert_null(cbar_doc_key(CBAR_DOC_COUNT));
	assert_int_equal(cbar_doc_lookup("cn", 2), CBAR_DOC_NONE);
	/* The check character of the standard's own example. */
	assert_int_equal(cbar_idcheck_gb11643("11010519491231002"), 'X');
	assert_int_equal(cbar_idcheck_gb11643("1101051949123100A"), 0);
}

/* Global, so the cases stay reachable to the leak checker until exit. */
static struct tcase *cases;

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_idcheck CASES\n");
		return 2;
	}
	size_t n;
	cases = casefile_read(argv[1], &n);
	struct CMUnitTest *tests = calloc(n + 1, sizeof *tests);
	char (*names)[64] = calloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "%s:%u", cases[i].file, cases[i].line);
		tests[i] = (struct CMUnitTest){names[i], run_case, NULL, NULL, &cases[i]};
	}
	tests[n] = (struct CMUnitTest){"keys", keys, NULL, NULL, NULL};
	int failed = _cmocka_run_group_tests("idcheck", tests, n + 1, NULL, NULL);
	free(tests);
	free(names);
	return failed ? 1 : 0;
}
