/*
 * callbar tests: the compact segment index (numplan_impl.h, c1/c2/cval)
 * answers what the full one (l1/l2) does for every seven-digit prefix of a
 * Chinese national number, on the built-in numbering data; and a number of
 * every allocated mobile block of data/cn-segments.tsv, in each form CDRs
 * write it, read the same by the parser's digits-only fast path as by its
 * general path, and to the full index's carrier and city.
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
#include "core/numplan_impl.h"

static struct cbar_numplan *np;
static const char *segments_path;

static uint32_t full_lookup(uint32_t v, unsigned v2)
{
	uint32_t x = np->l1[v];
	if (x & CBAR__SEG_BLOCK)
		x = np->l2[(x & ~CBAR__SEG_BLOCK) * 100 + v2];
	return x;
}

static uint32_t compact_lookup(uint32_t v, unsigned v2)
{
	uint16_t k = np->c1[v];
	if (k & CBAR__SEG_BLOCK16)
		k = np->c2[(k & ~CBAR__SEG_BLOCK16) * 100u + v2];
	assert_true(k < np->ncval);
	return np->cval[k];
}

/* Every one of the 10 million seven-digit prefixes. */
static void compact_same_as_full(void **state)
{
	(void)state;
	assert_non_null(np->c1); /* the built-in data fits the compact form */
	assert_non_null(np->l1);
	uint64_t differ = 0, blocks = 0;
	for (uint32_t v = 0; v < CBAR__SEG_L1; v++) {
		blocks += (np->l1[v] & CBAR__SEG_BLOCK) != 0;
		for (unsigned v2 = 0; v2 < 100; v2++)
			differ += full_lookup(v, v2) != compact_lookup(v, v2);
	}
	assert_int_equal(differ, 0);
	assert_int_equal(blocks, np->nblocks);
	print_message("compact index: %u values, %u blocks, %zu bytes (full: %zu)\n", np->ncval,
	              np->nblocks,
	              (CBAR__SEG_L1 + (size_t)np->nblocks * 100) * 2 + np->ncval * 4u,
	              (CBAR__SEG_L1 + (size_t)np->nblocks * 100) * 4);
}

static void parse(const char *s, struct cbar_number *n)
{
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	size_t at = 0;
	enum cbar_err err = cbar_number_parse(np, cn, s, strlen(s), n, &at);
	if (err)
		fail_msg("%s: %s at %zu", s, cbar_err_name(err), at);
}

/* Every 7-digit block under a prefix of the segment file (1 to 7 digits),
 * one number each, its last four digits varying with the block. */
static void walk(const char *pfx, size_t len, uint64_t *count)
{
	if (len == 7) {
		char plain[16], fast[32], general[40];
		unsigned tail = (unsigned)(*count * 7919u % 10000u);
		snprintf(plain, sizeof plain, "%.7s%04u", pfx, tail);
		/* Each form CDRs write, read by the parser's digits-only path
		 * and, behind a space, by the general one: the same number in
		 * every field. */
		static const char *const forms[] = {"", "+86", "0086", "86"};
		struct cbar_number a, b;
		for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
			snprintf(fast, sizeof fast, "%s%s", forms[f], plain);
			snprintf(general, sizeof general, " %s%s", forms[f], plain);
			parse(fast, &a);
			parse(general, &b);
			if (memcmp(&a, &b, sizeof a))
				fail_msg("'%s' and '%s' read differently", fast, general);
		}
		/* and with separators, a tel: URI */
		snprintf(general, sizeof general, "tel:+86-%.3s-%.4s-%.4s", plain, plain + 3,
		         plain + 7);
		parse(general, &b);
		parse(plain, &a);
		if (a.e164 != b.e164 || a.carrier != b.carrier || a.city != b.city ||
		    a.region != b.region || a.country != b.country)
			fail_msg("'%s' and '%s' read differently", plain, general);
		/* what the full index says */
		uint32_t v = 0;
		for (int k = 0; k < 5; k++)
			v = v * 10 + (uint32_t)(plain[k] - '0');
		uint32_t x = full_lookup(v, (unsigned)(plain[5] - '0') * 10 + (unsigned)(plain[6] - '0'));
		uint16_t city = (uint16_t)(x & 0xffffu);
		assert_int_equal(a.carrier, (x >> 16) & 0xfu);
		assert_int_equal(a.city, city < np->ncities ? city : 0);
		(*count)++;
		return;
	}
	char d[8];
	memcpy(d, pfx, len);
	for (char c = '0'; c <= '9'; c++) {
		d[len] = c;
		walk(d, len + 1, count);
	}
}

static void segment_blocks(void **state)
{
	(void)state;
	FILE *f = fopen(segments_path, "r");
	assert_non_null(f);
	char line[256];
	uint64_t count = 0, lines = 0;
	while (fgets(line, sizeof line, f)) {
		size_t n = strspn(line, "0123456789");
		if (n < 3 || n > 7 || line[0] != '1' || line[1] < '3')
			continue; /* mobile blocks: 1[3-9]..., 3 to 7 digits */
		walk(line, n, &count);
		lines++;
	}
	fclose(f);
	print_message("%llu segment lines, %llu mobile blocks read\n", (unsigned long long)lines,
	              (unsigned long long)count);
	assert_true(count > 100000); /* the whole plan, not a few lines */
}

int main(int argc, char **argv)
{
	struct cbar_diag d = {0};
	if (argc != 2) {
		fprintf(stderr, "usage: test_segments data/cn-segments.tsv\n");
		return 2;
	}
	segments_path = argv[1];
	if (cbar_numplan_embedded(&np, &d)) {
		fprintf(stderr, "numbering data: %s\n", d.msg);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compact_same_as_full),
		cmocka_unit_test(segment_blocks),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	cbar_numplan_free(np);
	return rc;
}
