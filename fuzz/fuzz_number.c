/*
 * callbar fuzz target: the number parser.  Any bytes, in the context of a
 * country chosen by the first byte; the parser must not crash, read out of
 * bounds or loop, and what it accepts must hold its own invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cbar_numplan *np;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np && cbar_numplan_embedded(&np, NULL))
		abort();
	static const char *ctx[] = {"CN", "HK", "US", "GB", "RU", "IT", "DE", "AR", "TW", "JP"};
	uint16_t country = cbar_numplan_country(np, ctx[size ? data[0] % 10 : 0], 2);
	const char *s = size ? (const char *)data + 1 : (const char *)data;
	size_t n = size ? size - 1 : 0;
	struct cbar_number num;
	size_t at = 0;
	enum cbar_err err = cbar_number_parse(np, country, s, n, &num, &at);
	if (err) {
		if (at > n)
			abort();
		return 0;
	}
	/* Invariants of an accepted number. */
	if (num.ndigits < 3 || num.ndigits > CBAR_E164_MAX || strlen(num.digits) != num.ndigits ||
	    num.cc_len < 1 || num.cc_len > 3 || num.digits[0] == '0')
		abort();
	uint64_t v = 0;
	for (unsigned i = 0; i < num.ndigits; i++) {
		if (num.digits[i] < '0' || num.digits[i] > '9')
			abort();
		v = v * 10 + (uint64_t)(num.digits[i] - '0');
	}
	if (v != num.e164)
		abort();
	/* Normalising the result again gives the same number. */
	char again[CBAR_E164_MAX + 2] = "+";
	memcpy(again + 1, num.digits, num.ndigits + 1);
	struct cbar_number num2;
	if (cbar_number_parse(np, country, again, strlen(again), &num2, NULL) ||
	    num2.e164 != num.e164 || num2.cc != num.cc)
		abort();
	return 0;
}
