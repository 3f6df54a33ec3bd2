/*
 * callbar tests: civil time (include/callbar/civil.h) against glibc.
 *
 * - Every day from 1970-01-01 to 9999-12-31: cbar_civil_from_days() and
 *   cbar_days_from_civil() agree with gmtime_r() and with each other.
 * - A million random civil times over the whole accepted range, written in
 *   every form the grammar has (Z, z, +HH:MM, +HHMM, +HH, no zone, a date
 *   alone, a space, a fraction, second 60) with days 1 to 31 of any month:
 *   cbar_civil_parse() accepts exactly the dates glibc's timegm() leaves
 *   as written, and gives timegm()'s instant minus the offset.
 * - A million random instants formatted at random offsets: the text is
 *   strftime()'s, and parsing it gives the instant back.
 * - The bounds, the flags of each front end, where a failure is reported,
 *   and every prefix of a valid time (read from an exact-size copy, so a
 *   read past the end trips the address sanitizer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "callbar/civil.h"

#define RANDOM_CASES 1000000

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Uniform in [lo, hi]. */
static int64_t between(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1));
}

/* Parse from an exact-size heap copy: a read past len is an ASan error. */
static enum cbar_err parse(const char *s, size_t n, unsigned flags, int32_t dflt, int64_t *t,
                           struct cbar_civil_fail *f)
{
	char *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, s, n);
	enum cbar_err e = cbar_civil_parse(copy, n, flags, dflt, t, f);
	free(copy);
	return e;
}

static enum cbar_err parse_str(const char *s, unsigned flags, int32_t dflt, int64_t *t)
{
	return parse(s, strlen(s), flags, dflt, t, NULL);
}

static void test_days(void **state)
{
	(void)state;
	int64_t last = cbar_days_from_civil(9999, 12, 31);
	assert_int_equal(last * 86400 + 86399, CBAR_CIVIL_MAX);
	assert_int_equal(cbar_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(cbar_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(cbar_days_from_civil(2000, 3, 1), 11017);
	for (int64_t day = -800; day <= last; day++) {
		time_t tt = (time_t)(day * 86400);
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		int64_t y;
		unsigned m, d;
		cbar_civil_from_days(day, &y, &m, &d);
		if (y != tm.tm_year + 1900 || m != (unsigned)tm.tm_mon + 1 ||
		    d != (unsigned)tm.tm_mday)
			fail_msg("day %lld: %lld-%u-%u, glibc %d-%d-%d", (long long)day,
			         (long long)y, m, d, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		if (cbar_days_from_civil(y, m, d) != day)
			fail_msg("day %lld does not come back", (long long)day);
	}
	/* Far years too, both signs (the era arithmetic). */
	for (int64_t y = -100000; y <= 100000; y += 397) {
		int64_t yy;
		unsigned m, d;
		int64_t day = cbar_days_from_civil(y, 2, 28);
		cbar_civil_from_days(day + 1, &yy, &m, &d);
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		assert_int_equal(yy, y);
		assert_int_equal(m, leap ? 2 : 3);
		assert_int_equal(d, leap ? 29 : 1);
	}
}

/* The offset as one of its written forms; *off gets its value. */
static void write_offset(char *b, size_t cap, int32_t off, unsigned form)
{
	unsigned a = (unsigned)(off < 0 ? -off : off) / 60;
	char sign = off < 0 ? '-' : '+';
	if (form == 0 && a % 60 == 0)
		snprintf(b, cap, "%c%02u", sign, a / 60);
	else if (form == 1)
		snprintf(b, cap, "%c%02u%02u", sign, a / 60, a % 60);
	else
		snprintf(b, cap, "%c%02u:%02u", sign, a / 60, a % 60);
}

static void test_random_vs_timegm(void **state)
{
	(void)state;
	unsigned ok = 0, refused = 0, leapdays = 0;
	for (unsigned i = 0; i < RANDOM_CASES; i++) {
		int y = (int)between(1970, 9999), mo = (int)between(1, 12);
		int d = (int)between(1, 31);
		if (next() % 8 == 0) { /* many February 29ths, leap year or not */
			mo = 2;
			d = 29;
		}
		int h = (int)between(0, 23), mi = (int)between(0, 59), se = (int)between(0, 59);
		if (next() % 64 == 0)
			se = 60;
		int32_t off = (int32_t)between(-18 * 60, 18 * 60) * 60;
		int32_t dflt = (int32_t)between(-18 * 60, 18 * 60) * 60;
		unsigned form = (unsigned)(next() % 10);
		char buf[80], zone[16] = "";
		unsigned flags = CBAR_CIVIL_ZONED;
		bool has_time = true, has_sec = true;
		int32_t want_off = off;
		switch (form) {
		case 0: /* Z / z */
			snprintf(zone, sizeof zone, "%s", next() % 2 ? "Z" : "z");
			want_off = 0;
			break;
		case 1:
		case 2:
		case 3: /* +HH, +HHMM, +HH:MM */
			if (form == 1)
				off -= off % 3600;
			want_off = off;
			write_offset(zone, sizeof zone, off, form - 1);
			break;
		case 4: /* no zone: the default offset */
			flags = CBAR_CIVIL_LOCAL;
			want_off = dflt;
			break;
		case 5: /* a date alone: midnight, the default offset */
			flags = CBAR_CIVIL_DATE;
			want_off = dflt;
			has_time = false;
			h = mi = se = 0;
			break;
		case 6: /* HH:MM and an offset */
			has_sec = false;
			se = 0;
			write_offset(zone, sizeof zone, off, 2);
			break;
		default: /* seconds with a fraction, any separator */
			write_offset(zone, sizeof zone, off, 2);
			break;
		}
		char sep = 'T';
		if (form == 7)
			sep = 't';
		if (form == 8) {
			sep = ' ';
			flags |= CBAR_CIVIL_SPACE;
		}
		int n = snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
		if (has_time)
			n += snprintf(buf + n, sizeof buf - (size_t)n, "%c%02d:%02d", sep, h, mi);
		if (has_time && has_sec)
			n += snprintf(buf + n, sizeof buf - (size_t)n, ":%02d", se);
		if (form == 9)
			n += snprintf(buf + n, sizeof buf - (size_t)n, "%c%0*u",
			              next() % 2 ? '.' : ',', (int)between(1, 9),
			              (unsigned)(next() % 1000000000u) % 1000000000u);
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s", zone);

		/* The oracle: timegm, and a date is real when it comes back as written. */
		struct tm tm = {.tm_year = y - 1900,
		                .tm_mon = mo - 1,
		                .tm_mday = d,
		                .tm_hour = h,
		                .tm_min = mi,
		                .tm_sec = se};
		time_t g = timegm(&tm);
		struct tm back;
		time_t midnight = g - h * 3600 - mi * 60 - se;
		gmtime_r(&midnight, &back);
		bool real = back.tm_mday == d && back.tm_mon == mo - 1 && back.tm_year == y - 1900;

		int64_t t = -1;
		struct cbar_civil_fail f = {0};
		enum cbar_err e = parse(buf, (size_t)n, flags, dflt, &t, &f);
		if (real) {
			if (e != CBAR_OK)
				fail_msg("%s: refused at %zu (%s)", buf, f.at, f.why);
			if (t != (int64_t)g - want_off)
				fail_msg("%s: %lld, timegm gives %lld", buf, (long long)t,
				         (long long)g - want_off);
			ok++;
			leapdays += mo == 2 && d == 29;
		} else {
			if (e != CBAR_BAD_TIME || !f.range || f.at != 8)
				fail_msg("%s: not a date, but %s at %zu", buf, cbar_err_name(e),
				         f.at);
			refused++;
		}
		/* A form the flags do not allow is refused. */
		unsigned other = form == 4 || form == 5 ? CBAR_CIVIL_ZONED : CBAR_CIVIL_LOCAL;
		if (real && parse(buf, (size_t)n, other | (flags & CBAR_CIVIL_SPACE), dflt, &t,
		                  NULL) != CBAR_BAD_TIME)
			fail_msg("%s: accepted without its flag", buf);
	}
	print_message("random: %u accepted (%u leap days), %u refused\n", ok, leapdays, refused);
	assert_true(refused > RANDOM_CASES / 20 && leapdays > 1000);
}

static void test_format_round_trip(void **state)
{
	(void)state;
	char buf[CBAR_CIVIL_FORMAT_MAX], want[64];
	for (unsigned i = 0; i < RANDOM_CASES; i++) {
		int64_t t = between(CBAR_CIVIL_MIN, CBAR_CIVIL_MAX);
		if (i < 4)
			t = i % 2 ? CBAR_CIVIL_MAX : CBAR_CIVIL_MIN;
		int32_t off = i % 4 == 0 ? 0 : (int32_t)between(-18 * 60, 18 * 60) * 60;
		size_t n = cbar_civil_format(t, off, buf, sizeof buf);
		time_t lt = (time_t)(t + off);
		struct tm tm;
		gmtime_r(&lt, &tm);
		size_t k = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
		unsigned a = (unsigned)(off < 0 ? -off : off) / 60;
		if (off)
			snprintf(want + k, sizeof want - k, "%c%02u:%02u", off < 0 ? '-' : '+',
			         a / 60, a % 60);
		else
			snprintf(want + k, sizeof want - k, "Z");
		if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
			assert_int_equal(n, 0);
			continue;
		}
		if (n != strlen(want) || strcmp(buf, want))
			fail_msg("%lld at %d: %s, strftime %s", (long long)t, off, buf, want);
		int64_t back = -1;
		if (tm.tm_year + 1900 < 1970) /* the parser's years start at 1970 */
			continue;
		if (parse(buf, n, CBAR_CIVIL_ZONED, 0, &back, NULL) || back != t)
			fail_msg("%s parses as %lld, not %lld", buf, (long long)back, (long long)t);
	}
	/* What it refuses. */
	assert_int_equal(cbar_civil_format(0, 0, buf, sizeof buf - 1), 0);
	assert_int_equal(cbar_civil_format(0, 30, buf, sizeof buf), 0);
	assert_int_equal(cbar_civil_format(0, 18 * 3600 + 60, buf, sizeof buf), 0);
	assert_int_equal(cbar_civil_format(INT64_MAX, 0, buf, sizeof buf), 0);
	assert_int_equal(cbar_civil_format(CBAR_CIVIL_MAX + 1, 0, buf, sizeof buf), 0);
	assert_int_equal(cbar_civil_format(-62167219200 - 1, 0, buf, sizeof buf), 0);
	assert_int_equal(cbar_civil_format(-62167219200, 0, buf, sizeof buf), 20);
	assert_string_equal(buf, "0000-01-01T00:00:00Z");
	assert_int_equal(cbar_civil_format(CBAR_CIVIL_MAX, 18 * 3600, buf, sizeof buf), 0);
	assert_int_equal(cbar_civil_format(CBAR_CIVIL_MAX, -18 * 3600, buf, sizeof buf), 25);
	assert_string_equal(buf, "9999-12-31T05:59:59-18:00");
	assert_int_equal(cbar_civil_format(1651973400, 8 * 3600, buf, sizeof buf), 25);
	assert_string_equal(buf, "2022-05-08T09:30:00+08:00");
}

/* A table of inputs: flags, default offset, text, and the instant or where
 * it fails (at, and whether the failure is a range one). */
static const struct {
	unsigned flags;
	int32_t dflt;
	const char *s;
	enum cbar_err err;
	int64_t t; /* when CBAR_OK */
	long at;   /* when not: -1 not checked */
	bool range;
} cases[] = {
    /* the bounds */
    {CBAR_CIVIL_HTTP, 0, "1970-01-01T00:00:00Z", CBAR_OK, 0, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "9999-12-31T23:59:59Z", CBAR_OK, CBAR_CIVIL_MAX, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "1969-12-31T23:59:59Z", CBAR_BAD_TIME, 0, 0, 1},
    {CBAR_CIVIL_HTTP, 0, "0000-01-01T00:00:00Z", CBAR_BAD_TIME, 0, 0, 1},
    {CBAR_CIVIL_HTTP, 0, "10000-01-01T00:00:00Z", CBAR_BAD_TIME, 0, 4, 0},
    {CBAR_CIVIL_HTTP, 0, "1970-01-01T00:00:00+08:00", CBAR_OK, -28800, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "9999-12-31T23:59:59-18:00", CBAR_OK, CBAR_CIVIL_MAX + 64800, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "9999-12-31T23:59:60Z", CBAR_OK, CBAR_CIVIL_MAX + 1, 0, 0},
    {CBAR_CIVIL_CLI, 0, "@0", CBAR_OK, 0, 0, 0},
    {CBAR_CIVIL_CLI, 0, "@253402300799", CBAR_OK, CBAR_CIVIL_MAX, 0, 0},
    {CBAR_CIVIL_CLI, 0, "@253402300800", CBAR_BAD_TIME, 0, 1, 1},
    {CBAR_CIVIL_CLI, 0, "@0000000000001", CBAR_BAD_TIME, 0, 1, 1},
    {CBAR_CIVIL_CLI, 0, "@-1", CBAR_BAD_TIME, 0, 1, 0},
    {CBAR_CIVIL_CLI, 0, "@", CBAR_BAD_TIME, 0, 1, 0},
    {CBAR_CIVIL_CLI, 0, "@12x", CBAR_BAD_TIME, 0, 3, 0},
    /* leap days */
    {CBAR_CIVIL_HTTP, 0, "2024-02-29T12:00:00Z", CBAR_OK, 1709208000, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2000-02-29T00:00:00Z", CBAR_OK, 951782400, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-02-29T12:00:00Z", CBAR_BAD_TIME, 0, 8, 1},
    {CBAR_CIVIL_HTTP, 0, "2100-02-29T12:00:00Z", CBAR_BAD_TIME, 0, 8, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-04-31T12:00:00Z", CBAR_BAD_TIME, 0, 8, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-13-01T12:00:00Z", CBAR_BAD_TIME, 0, 5, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-00-01T12:00:00Z", CBAR_BAD_TIME, 0, 5, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-01-00T12:00:00Z", CBAR_BAD_TIME, 0, 8, 1},
    /* times of day */
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T24:00:00Z", CBAR_BAD_TIME, 0, 11, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T23:60:00Z", CBAR_BAD_TIME, 0, 14, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T23:59:61Z", CBAR_BAD_TIME, 0, 17, 1},
    {CBAR_CIVIL_HTTP, 0, "2022-12-31T23:59:60Z", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00Z", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00.123456789Z", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00,5Z", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00.1234567890Z", CBAR_BAD_TIME, 0, 29, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00.Z", CBAR_BAD_TIME, 0, 20, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00.5Z", CBAR_BAD_TIME, 0, 16, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01t00:00:00z", CBAR_OK, 1672531200, 0, 0},
    /* offsets */
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T08:00:00+08:00", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T08:00:00+0800", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T08:00:00+08", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2022-12-31T14:30:00-09:30", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00-00:00", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+18:00", CBAR_OK, 1672531200 - 64800, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+18:01", CBAR_BAD_TIME, 0, 20, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+19", CBAR_BAD_TIME, 0, 20, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+08:60", CBAR_BAD_TIME, 0, 23, 1},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+8", CBAR_BAD_TIME, 0, 21, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+08:", CBAR_BAD_TIME, 0, 23, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+080", CBAR_BAD_TIME, 0, 23, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00+08:00x", CBAR_BAD_TIME, 0, 25, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00Zx", CBAR_BAD_TIME, 0, 19, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00 Z", CBAR_BAD_TIME, 0, 19, 0},
    /* which forms each front end takes */
    {CBAR_CIVIL_HTTP, 0, "2023-01-01T00:00:00", CBAR_BAD_TIME, 0, 19, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01", CBAR_BAD_TIME, 0, 10, 0},
    {CBAR_CIVIL_HTTP, 0, "@1672531200", CBAR_BAD_TIME, 0, 0, 0},
    {CBAR_CIVIL_HTTP, 0, "1672531200", CBAR_BAD_TIME, 0, 4, 0},
    {CBAR_CIVIL_HTTP, 0, "2023-01-01 00:00:00Z", CBAR_BAD_TIME, 0, 10, 0},
    {CBAR_CIVIL_CLI, 28800, "2023-01-01T08:00:00", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_CLI, 28800, "2023-01-01 08:00", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_CLI, 28800, "2023-01-02", CBAR_OK, 1672588800, 0, 0},
    {CBAR_CIVIL_CLI, 28800, "2023-01-01T08:00:00Z", CBAR_OK, 1672560000, 0, 0},
    {CBAR_CIVIL_CLI, 0, "1672531200", CBAR_BAD_TIME, 0, 4, 0},
    {CBAR_CIVIL_CDR, 0, "1672531200", CBAR_OK, 1672531200, 0, 0},
    {CBAR_CIVIL_CDR, 0, "0", CBAR_OK, 0, 0, 0},
    {CBAR_CIVIL_CDR, 0, "", CBAR_BAD_TIME, 0, 0, 0},
    {CBAR_CIVIL_CDR, -3600, "2023-01-01 00:00:00", CBAR_OK, 1672534800, 0, 0},
    {CBAR_CIVIL_CDR, 0, "2023-01-01", CBAR_BAD_TIME, 0, 10, 0},
    {CBAR_CIVIL_LOCAL, 0, "2023-01-01T00:00:00+08:00", CBAR_BAD_TIME, 0, 19, 0},
    /* shapes */
    {CBAR_CIVIL_CLI, 0, "", CBAR_BAD_TIME, 0, 0, 0},
    {CBAR_CIVIL_CLI, 0, "2023", CBAR_BAD_TIME, 0, 4, 0},
    {CBAR_CIVIL_CLI, 0, "2023-1-01", CBAR_BAD_TIME, 0, 6, 0},
    {CBAR_CIVIL_CLI, 0, "23-01-01", CBAR_BAD_TIME, 0, 2, 0},
    {CBAR_CIVIL_CLI, 0, "2023/01/01", CBAR_BAD_TIME, 0, 4, 0},
    {CBAR_CIVIL_CLI, 0, "2023-01-01T", CBAR_BAD_TIME, 0, 11, 0},
    {CBAR_CIVIL_CLI, 0, "2023-01-01T1", CBAR_BAD_TIME, 0, 12, 0},
    {CBAR_CIVIL_CLI, 0, "2023-01-01T12:3", CBAR_BAD_TIME, 0, 15, 0},
    {CBAR_CIVIL_CLI, 0, "2023-01-01T12:30:", CBAR_BAD_TIME, 0, 17, 0},
    {CBAR_CIVIL_CLI, 0, "2023-01-01T12:30:5", CBAR_BAD_TIME, 0, 18, 0},
    {CBAR_CIVIL_CLI, 0, "2023-01-01X12:30", CBAR_BAD_TIME, 0, 10, 0},
    {CBAR_CIVIL_CLI, 0,
     "\xef\xbc\x92"
     "023-01-01",
     CBAR_BAD_TIME, 0, 0, 0},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].s;
		size_t n = strlen(s);
		int64_t t = -7;
		struct cbar_civil_fail f = {0, NULL, false};
		enum cbar_err e = parse(s, n, cases[i].flags, cases[i].dflt, &t, &f);
		if (e != cases[i].err)
			fail_msg("%s: %s, want %s (at %zu: %s)", s, cbar_err_name(e),
			         cbar_err_name(cases[i].err), f.at, f.why ? f.why : "-");
		if (!e && t != cases[i].t)
			fail_msg("%s: %lld, want %lld", s, (long long)t, (long long)cases[i].t);
		if (e && t != -7)
			fail_msg("%s: failed, but wrote *t", s);
		if (e && (f.at != (size_t)cases[i].at || f.range != cases[i].range || !f.why))
			fail_msg("%s: failed at %zu (%s, %s), want %ld (%s)", s, f.at, f.why,
			         f.range ? "range" : "shape", cases[i].at,
			         cases[i].range ? "range" : "shape");
	}
	/* An embedded NUL is a bad byte, not an end. */
	int64_t t;
	struct cbar_civil_fail f;
	assert_int_equal(parse("2023-01-01T12:30:00\0Z", 21, CBAR_CIVIL_CLI, 0, &t, &f),
	                 CBAR_BAD_TIME);
	assert_int_equal(f.at, 19);
	/* A default offset beyond 18:00 is the caller's mistake. */
	assert_int_equal(parse_str("2023-01-01", CBAR_CIVIL_CLI, 18 * 3600 + 60, &t), CBAR_INVAL);
	/* The offset alone. */
	int32_t off;
	assert_int_equal(cbar_civil_offset_parse("+05:30", 6, &off, NULL), CBAR_OK);
	assert_int_equal(off, 19800);
	assert_int_equal(cbar_civil_offset_parse("-0930", 5, &off, NULL), CBAR_OK);
	assert_int_equal(off, -34200);
	assert_int_equal(cbar_civil_offset_parse("Z", 1, &off, NULL), CBAR_OK);
	assert_int_equal(off, 0);
	assert_int_equal(cbar_civil_offset_parse("+8", 2, &off, &f), CBAR_BAD_TIME);
	assert_int_equal(f.at, 2);
	assert_int_equal(cbar_civil_offset_parse("08:00", 5, &off, &f), CBAR_BAD_TIME);
	assert_int_equal(f.at, 0);
}

/* Every prefix of a valid time parses or fails cleanly, and more flags
 * never change an instant fewer flags gave. */
static void test_prefixes(void **state)
{
	(void)state;
	static const char *full[] = {"2024-02-29T23:59:60.123456789+18:00",
	                             "2023-01-01 08:00:00-0930", "@253402300799", "1672531200"};
	for (size_t k = 0; k < sizeof full / sizeof full[0]; k++)
		for (size_t n = 0; n <= strlen(full[k]); n++)
			for (unsigned fl = 0; fl < 64; fl++) {
				int64_t a = -1, b = -1;
				struct cbar_civil_fail f = {0};
				enum cbar_err e = parse(full[k], n, fl, 3600, &a, &f);
				if (e == CBAR_BAD_TIME && (f.at > n || !f.why))
					fail_msg("%.*s: failure at %zu", (int)n, full[k], f.at);
				if (!e && (parse(full[k], n, 63, 3600, &b, NULL) || a != b))
					fail_msg("%.*s: more flags, another instant", (int)n,
					         full[k]);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_days),
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_random_vs_timegm),
	    cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
