/*
 * callbar: civil time (civil.h).
 *
 * The date arithmetic is Howard Hinnant's (chrono-Compatible Low-Level Date
 * Algorithms): a year is shifted to start in March, so February's leap day
 * is the last day of the shifted year, and days are counted in 400-year
 * eras of 146,097 days.  Every division is by a constant, which the
 * compiler turns into a multiplication; nothing loops over years or months.
 *
 * The parser reads the fixed-width fields by position once the length
 * allows them, so the common case is a straight run of byte checks; only a
 * failure takes the slower road of finding the first bad byte for *f.
 */
#include <string.h>

#include "callbar/civil.h"

int64_t cbar_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	uint64_t yoe = (uint64_t)(y - era * 400);                        /* 0..399 */
	uint64_t doy = (153u * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* 0..146096 */
	return era * 146097 + (int64_t)doe - 719468;
}

void cbar_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	uint64_t doe = (uint64_t)(z - era * 146097);                          /* 0..146096 */
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
	uint64_t mp = (5 * doy + 2) / 153;                                    /* 0..11 */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The years 1970..9999 only: unsigned, no era sign to handle. */
static int64_t days_from_ymd(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	unsigned era = y / 400, yoe = y - era * 400;
	unsigned doy = (153u * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

/* A digit's value, or something above 9 for any other byte. */
static inline unsigned dig(char c)
{
	return (unsigned)(unsigned char)c - '0';
}

static enum cbar_err bad(struct cbar_civil_fail *f, size_t at, bool range, const char *why)
{
	if (f) {
		f->at = at;
		f->why = why;
		f->range = range;
	}
	return CBAR_BAD_TIME;
}

/*
 * Where s[0..len) first departs from the shape pat ('9' a digit, any other
 * byte itself), and what was wanted there.  Only run on failure, on a
 * string that does depart from it (a short one included).
 */
static enum cbar_err bad_shape(struct cbar_civil_fail *f, const char *s, size_t len, size_t base,
                               const char *pat)
{
	size_t i = 0;
	while (pat[i] && i < len && (pat[i] == '9' ? dig(s[i]) <= 9 : s[i] == pat[i]))
		i++;
	return bad(f, base + i, false,
	           pat[i] == '9'   ? "expected a digit"
	           : pat[i] == '-' ? "expected '-'"
	           : pat[i] == ':' ? "expected ':'"
	                           : "malformed time");
}

/* @SECONDS or bare SECONDS: s the digits, base their offset in the input. */
static enum cbar_err epoch(const char *s, size_t len, size_t base, int64_t *t,
                           struct cbar_civil_fail *f)
{
	if (len == 0)
		return bad(f, base, false, "expected epoch seconds");
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned x = dig(s[i]);
		if (x > 9)
			return bad(f, base + i, false, "expected a digit");
		if (i < 13) /* more digits are out of range anyway: no overflow */
			v = v * 10 + x;
	}
	if (len > 12 || v > (uint64_t)CBAR_CIVIL_MAX)
		return bad(f, base, true, "epoch seconds beyond 9999-12-31T23:59:59Z");
	*t = (int64_t)v;
	return CBAR_OK;
}

/* An offset at s[0..len), the whole of it; base is its place in the input. */
static enum cbar_err offset(const char *s, size_t len, size_t base, int32_t *off,
                            struct cbar_civil_fail *f)
{
	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return CBAR_OK;
	}
	if (!len || (s[0] != '+' && s[0] != '-'))
		return bad(f, base, false, "expected a time zone: Z, +HH:MM, +HHMM or +HH");
	unsigned h, m = 0;
	if (len < 3 || dig(s[1]) > 9 || dig(s[2]) > 9)
		return bad_shape(f, s + 1, len - 1, base + 1, "99");
	h = dig(s[1]) * 10 + dig(s[2]);
	size_t p = 3;
	if (len > 3) {
		p += s[3] == ':';
		if (len != p + 2 || dig(s[p]) > 9 || dig(s[p + 1]) > 9) {
			if (len > p + 2 && dig(s[p]) <= 9 && dig(s[p + 1]) <= 9)
				return bad(f, base + p + 2, false,
				           "unexpected text after the offset");
			return bad_shape(f, s + p, len - p, base + p, "99");
		}
		m = dig(s[p]) * 10 + dig(s[p + 1]);
		if (m > 59)
			return bad(f, base + p, true, "offset minutes out of range (00 to 59)");
	}
	if (h * 3600 + m * 60 > CBAR_CIVIL_OFFSET_MAX)
		return bad(f, base + 1, true, "offset beyond 18:00");
	*off = (int32_t)(h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return CBAR_OK;
}

enum cbar_err cbar_civil_offset_parse(const char *s, size_t len, int32_t *off,
                                      struct cbar_civil_fail *f)
{
	return offset(s, len, 0, off, f);
}

static const uint8_t mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

enum cbar_err cbar_civil_parse(const char *s, size_t len, unsigned flags, int32_t dflt_off,
                               int64_t *t, struct cbar_civil_fail *f)
{
	if (dflt_off < -CBAR_CIVIL_OFFSET_MAX || dflt_off > CBAR_CIVIL_OFFSET_MAX)
		return CBAR_INVAL;
	if (len && s[0] == '@') {
		if (!(flags & CBAR_CIVIL_EPOCH))
			return bad(f, 0, false,
			           "@SECONDS is not accepted here: want an ISO 8601 time");
		return epoch(s + 1, len - 1, 1, t, f);
	}
	/* YYYY-MM-DD, by position. */
	if (len < 10 || dig(s[0]) > 9 || dig(s[1]) > 9 || dig(s[2]) > 9 || dig(s[3]) > 9 ||
	    s[4] != '-' || dig(s[5]) > 9 || dig(s[6]) > 9 || s[7] != '-' || dig(s[8]) > 9 ||
	    dig(s[9]) > 9) {
		if (flags & CBAR_CIVIL_DIGITS) {
			size_t i = 0;
			while (i < len && dig(s[i]) <= 9)
				i++;
			if (i == len && len)
				return epoch(s, len, 0, t, f);
		}
		return bad_shape(f, s, len, 0, "9999-99-99");
	}
	unsigned y = dig(s[0]) * 1000 + dig(s[1]) * 100 + dig(s[2]) * 10 + dig(s[3]);
	unsigned mo = dig(s[5]) * 10 + dig(s[6]);
	unsigned d = dig(s[8]) * 10 + dig(s[9]);
	if (y < 1970)
		return bad(f, 0, true, "year before 1970");
	if (mo < 1 || mo > 12)
		return bad(f, 5, true, "month out of range (01 to 12)");
	if (d < 1 || d > mdays[mo])
		return bad(f, 8, true, "day out of range for its month");
	if (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400)))
		return bad(f, 8, true, "February 29 of a year that is not a leap year");
	int64_t days = days_from_ymd(y, mo, d);
	if (len == 10) {
		if (!(flags & CBAR_CIVIL_DATE))
			return bad(f, 10, false, "expected 'T' and a time of day after the date");
		*t = days * 86400 - dflt_off;
		return CBAR_OK;
	}
	if (!(s[10] == 'T' || s[10] == 't' || (s[10] == ' ' && (flags & CBAR_CIVIL_SPACE))))
		return bad(f, 10, false, "expected 'T' between the date and the time");
	/* HH:MM */
	if (len < 16 || dig(s[11]) > 9 || dig(s[12]) > 9 || s[13] != ':' || dig(s[14]) > 9 ||
	    dig(s[15]) > 9)
		return bad_shape(f, s + 11, len - 11, 11, "99:99");
	unsigned h = dig(s[11]) * 10 + dig(s[12]), mi = dig(s[14]) * 10 + dig(s[15]), sec = 0;
	if (h > 23)
		return bad(f, 11, true, "hour out of range (00 to 23)");
	if (mi > 59)
		return bad(f, 14, true, "minute out of range (00 to 59)");
	size_t p = 16;
	if (p < len && s[p] == ':') {
		if (len < p + 3 || dig(s[p + 1]) > 9 || dig(s[p + 2]) > 9)
			return bad_shape(f, s + p + 1, len - p - 1, p + 1, "99");
		sec = dig(s[p + 1]) * 10 + dig(s[p + 2]);
		if (sec > 60)
			return bad(f, p + 1, true, "second out of range (00 to 60)");
		p += 3;
		if (p < len && (s[p] == '.' || s[p] == ',')) {
			size_t q = ++p;
			while (p < len && dig(s[p]) <= 9)
				p++;
			if (p == q)
				return bad(f, p, false, "expected the digits of a fraction");
			if (p - q > 9)
				return bad(f, q + 9, false, "a fraction has at most 9 digits");
		}
	}
	int64_t tod = (int64_t)(h * 3600 + mi * 60 + sec);
	if (p == len) {
		if (!(flags & CBAR_CIVIL_LOCAL))
			return bad(f, p, false,
			           "expected a time zone: Z or an offset such as +08:00");
		*t = days * 86400 + tod - dflt_off;
		return CBAR_OK;
	}
	int32_t off;
	enum cbar_err err = offset(s + p, len - p, p, &off, f);
	if (err)
		return err;
	if (!(flags & CBAR_CIVIL_ZONED))
		return bad(f, p, false, "a time zone is not accepted here");
	*t = days * 86400 + tod - off;
	return CBAR_OK;
}

static void put2(char *b, unsigned v)
{
	b[0] = (char)('0' + v / 10);
	b[1] = (char)('0' + v % 10);
}

size_t cbar_civil_format(int64_t t, int32_t off, char *buf, size_t cap)
{
	/* Far outside any year 0..9999: refuse before the arithmetic. */
	const int64_t lim = INT64_C(1) << 40;
	if (cap < CBAR_CIVIL_FORMAT_MAX || off < -CBAR_CIVIL_OFFSET_MAX ||
	    off > CBAR_CIVIL_OFFSET_MAX || off % 60 || t < -lim || t > lim) {
		if (cap)
			buf[0] = 0;
		return 0;
	}
	int64_t lt = t + off;
	int64_t days = lt / 86400, sod = lt % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	cbar_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		buf[0] = 0;
		return 0;
	}
	put2(buf, (unsigned)(y / 100));
	put2(buf + 2, (unsigned)(y % 100));
	buf[4] = '-';
	put2(buf + 5, m);
	buf[7] = '-';
	put2(buf + 8, d);
	buf[10] = 'T';
	put2(buf + 11, (unsigned)(sod / 3600));
	buf[13] = ':';
	put2(buf + 14, (unsigned)(sod / 60 % 60));
	buf[16] = ':';
	put2(buf + 17, (unsigned)(sod % 60));
	if (!off) {
		buf[19] = 'Z';
		buf[20] = 0;
		return 20;
	}
	unsigned a = (unsigned)(off < 0 ? -off : off) / 60;
	buf[19] = off < 0 ? '-' : '+';
	put2(buf + 20, a / 60);
	buf[22] = ':';
	put2(buf + 23, a % 60);
	buf[25] = 0;
	return 25;
}
