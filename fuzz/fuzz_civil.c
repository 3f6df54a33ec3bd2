/*
 * callbar fuzz target: civil time (include/callbar/civil.h).  The first
 * byte picks the flags (its low six bits) and the second the default
 * offset; the rest is the text.  The parser must not read past the text,
 * a failure must point inside it (or at its end) with a reason, an instant
 * must lie within 18 hours (and a leap second) of the accepted years, more
 * flags must never change an instant, and the formatter must give every
 * instant back through the parser at any offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/civil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned flags = data[0] & 63u;
	/* -18:00 to +18:00 in steps of 15 minutes, or a few odd seconds */
	int32_t dflt = data[1] < 145 ? ((int32_t)data[1] - 72) * 900 : (data[1] - 145) * 7;
	const char *s = (const char *)data + 2;
	size_t n = size - 2;
	int64_t t = 0, t2 = 0;
	struct cbar_civil_fail f = {0};
	enum cbar_err e = cbar_civil_parse(s, n, flags, dflt, &t, &f);
	if (e == CBAR_BAD_TIME) {
		if (f.at > n || !f.why)
			abort();
		return 0;
	}
	if (e != CBAR_OK)
		abort();
	const int64_t slack = CBAR_CIVIL_OFFSET_MAX;
	if (t < CBAR_CIVIL_MIN - slack || t > CBAR_CIVIL_MAX + slack + 1)
		abort();
	if (cbar_civil_parse(s, n, 63, dflt, &t2, NULL) || t2 != t)
		abort();
	/* Formatted at the default offset (rounded to minutes) and at UTC, the
	 * instant comes back; the leap second may have carried it one past. */
	char buf[CBAR_CIVIL_FORMAT_MAX];
	int32_t offs[2] = {0, dflt - dflt % 60};
	for (int i = 0; i < 2; i++) {
		size_t k = cbar_civil_format(t, offs[i], buf, sizeof buf);
		if (!k) {
			/* Only a local year outside 0000..9999 may refuse. */
			if (t >= 0 && t <= CBAR_CIVIL_MAX && offs[i] == 0)
				abort();
			continue;
		}
		if (k != strlen(buf))
			abort();
		int year = (buf[0] - '0') * 1000 + (buf[1] - '0') * 100 + (buf[2] - '0') * 10 +
		           (buf[3] - '0');
		if (year < 1970)
			continue; /* the parser's years do not reach it */
		if (cbar_civil_parse(buf, k, CBAR_CIVIL_ZONED, 0, &t2, NULL) || t2 != t)
			abort();
	}
	return 0;
}
