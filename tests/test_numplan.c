/*
 * callbar tests: loading numbering data.  Bad tables are refused with the
 * line and column, and leave the plan as it was; the longest listed prefix
 * wins; an operator's table replaces the embedded one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/data.h"
#include "callbar/number.h"

#define S(x) x, strlen(x)

static struct cbar_numplan *load(void)
{
	struct cbar_numplan *np = NULL;
	struct cbar_diag d = {0};
	assert_int_equal(cbar_numplan_embedded(&np, &d), CBAR_OK);
	return np;
}

static void parse(const struct cbar_numplan *np, const char *s, struct cbar_number *n)
{
	uint16_t cn = cbar_numplan_country(np, S("CN"));
	assert_int_equal(cbar_number_parse(np, cn, S(s), n, NULL), CBAR_OK);
}

static void test_bad_countries(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned line, column;
	} bad[] = {
		{"CN\t86\t1\t00\t0\t11\t110\n", 1, 17},              /* 7 fields */
		{"CN\t86x\t1\t00\t0\t11\t1\t110\t\n", 1, 24},       /* 9 fields */
		{"# c\nCN\t8a\t1\t00\t0\t11\t1\t110\n", 2, 4},       /* cc */
		{"CN\t86\t2\t00\t0\t11\t1\t110\n", 1, 7},            /* main */
		{"CN\t86\t1\t0[0\t0\t11\t1\t110\n", 1, 12},          /* pattern */
		{"CN\t86\t1\t00\t0x\t11\t1\t110\n", 1, 12},          /* natpfx */
		{"CN\t86\t1\t00\t0\t1,40\t1\t110\n", 1, 14},         /* lengths */
		{"CN\t86\t1\t00\t0\t11\t1\t1|\n", 1, 21},            /* empty alt */
		{"", 0, 1},                                          /* empty file */
	};
	struct cbar_numplan *np = load();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cbar_diag d = {0};
		enum cbar_err err = cbar_numplan_load_countries(np, S(bad[i].text), "t.tsv", &d);
		if (err != CBAR_DATA || (bad[i].line && (d.line != bad[i].line ||
		                                         d.column != bad[i].column))) {
			print_error("case %zu: err %d at %u:%u (%s)\n", i, err, d.line, d.column,
			            d.msg);
			fail();
		}
		assert_string_equal(d.file, "t.tsv");
		assert_true(d.msg[0] != 0);
	}
	/* The plan still parses as before. */
	struct cbar_number n;
	parse(np, "+85291234567", &n);
	assert_int_equal(n.cc, 852);
	cbar_numplan_free(np);
}

static void test_operator_segments(void **state)
{
	(void)state;
	struct cbar_numplan *np = load();
	struct cbar_number n;
	struct cbar_diag d = {0};

	/* Longest prefix wins: 138 is city 1, 1380571 is city 2; the
	 * carrier table still answers for both. */
	const char *seg = "# operator table\n138\t1\n1380571\t2\n1880\t3\n";
	assert_int_equal(cbar_numplan_load_cn_segments(np, S(seg), "op.tsv", &d), CBAR_OK);
	parse(np, "13805710000", &n);
	assert_int_equal(n.city, 2);
	assert_int_equal(n.carrier, CBAR_CARRIER_CMCC);
	parse(np, "13805720000", &n);
	assert_int_equal(n.city, 1);
	parse(np, "18801234567", &n);
	assert_int_equal(n.city, 3);
	/* Not listed: no region, never a guess. */
	parse(np, "13905710000", &n);
	assert_int_equal(n.city, CBAR_NONE);
	assert_int_equal(n.region, CBAR_NONE);

	/* Bad lines are refused with their place, and the table stays. */
	const char *bads[] = {"138\n", "13a\t1\n", "13800000\t1\n", "138\t0\n", "138\t99999\n"};
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		memset(&d, 0, sizeof d);
		assert_int_equal(cbar_numplan_load_cn_segments(np, S(bads[i]), "op.tsv", &d),
		                 CBAR_DATA);
		assert_int_equal(d.line, 1);
	}
	parse(np, "13805710000", &n);
	assert_int_equal(n.city, 2);

	const char *car = "13\tcucc\n1380\tctcc\n";
	assert_int_equal(cbar_numplan_load_cn_carriers(np, S(car), "c.tsv", &d), CBAR_OK);
	parse(np, "13805710000", &n);
	assert_int_equal(n.carrier, CBAR_CARRIER_CTCC);
	assert_int_equal(n.city, 2);
	parse(np, "13905710000", &n);
	assert_int_equal(n.carrier, CBAR_CARRIER_CUCC);
	memset(&d, 0, sizeof d);
	assert_int_equal(cbar_numplan_load_cn_carriers(np, S("13\tacme\n"), "c.tsv", &d),
	                 CBAR_DATA);
	assert_int_equal(d.column, 4);
	cbar_numplan_free(np);
}

static void test_ported(void **state)
{
	(void)state;
	struct cbar_numplan *np = load();
	struct cbar_number n;
	struct cbar_diag d = {0};
	const char *list = "# ported\n13805710000\tcucc\n+8618608510000\tcmcc\n";
	assert_int_equal(cbar_numplan_load_cn_ported(np, S(list), "p.tsv", &d), CBAR_OK);
	parse(np, "13805710000", &n);
	assert_int_equal(n.carrier, CBAR_CARRIER_CUCC);
	assert_true(n.flags & CBAR_NUM_PORTED);
	assert_string_equal(cbar_numplan_region_code(np, n.region), "CN-ZJ");
	parse(np, "+86 186 0851 0000", &n);
	assert_int_equal(n.carrier, CBAR_CARRIER_CMCC);
	/* Neighbours keep the prefix table's original carrier. */
	parse(np, "13805710001", &n);
	assert_int_equal(n.carrier, CBAR_CARRIER_CMCC);
	assert_false(n.flags & CBAR_NUM_PORTED);
	const char *bads[] = {"1380571\n", "138057a0000\tcucc\n", "138\tcucc\n",
	                      "13805710000\tacme\n"};
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		memset(&d, 0, sizeof d);
		assert_int_equal(cbar_numplan_load_cn_ported(np, S(bads[i]), "p.tsv", &d), CBAR_DATA);
		assert_int_equal(d.line, 1);
	}
	parse(np, "13805710000", &n);
	assert_int_equal(n.carrier, CBAR_CARRIER_CUCC);
	cbar_numplan_free(np);
}

static void test_lookups(void **state)
{
	(void)state;
	struct cbar_numplan *np = load();
	uint8_t zj = cbar_numplan_region(np, S("CN-ZJ"));
	assert_int_not_equal(zj, CBAR_NONE);
	assert_int_equal(cbar_numplan_region(np, S("zj")), zj);
	assert_int_equal(cbar_numplan_region(np, S("Zhejiang")), zj);
	assert_int_equal(cbar_numplan_region(np, S("浙江")), zj);
	assert_int_equal(cbar_numplan_region(np, S("浙江省")), zj);
	assert_int_equal(cbar_numplan_region(np, S("CN-XX")), CBAR_NONE);
	assert_string_equal(cbar_numplan_region_code(np, cbar_numplan_region(np, S("henan"))),
	                    "CN-HA");
	assert_string_equal(cbar_numplan_region_name_zh(np, zj), "浙江省");
	assert_int_equal(cbar_numplan_country(np, S("86")), cbar_numplan_country(np, S("cn")));
	assert_int_equal(cbar_numplan_country(np, S("+852")), cbar_numplan_country(np, S("HK")));
	assert_int_equal(cbar_numplan_country(np, S("XX")), CBAR_NONE);
	assert_int_equal(cbar_numplan_country(np, S("999")), CBAR_NONE);
	assert_int_equal(cbar_carrier_lookup(S("China Mobile")), CBAR_CARRIER_CMCC);
	assert_int_equal(cbar_carrier_lookup(S("联通")), CBAR_CARRIER_CUCC);
	assert_int_equal(cbar_carrier_lookup(S("acme")), CBAR_CARRIER_NONE);
	assert_null(cbar_carrier_key(CBAR_CARRIER_NONE));
	assert_int_equal(cbar_number_parse(np, CBAR_NONE, S("110"), &(struct cbar_number){0},
	                                   NULL),
	                 CBAR_NUM_COUNTRY);
	cbar_numplan_free(np);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_countries),
		cmocka_unit_test(test_operator_segments),
		cmocka_unit_test(test_ported),
		cmocka_unit_test(test_lookups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
