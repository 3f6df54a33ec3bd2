/*
 * callbar: civil time, as people and switches write it, and the UTC
 * instants callbar decides on.  One module for every front end: the HTTP
 * decide body, the CLI's --at, CDR times in batch, rule dates.
 *
 * Conventions for this header:
 * - An instant is int64_t seconds since 1970-01-01T00:00:00Z, without leap
 *   seconds (POSIX time).  An offset is int32_t seconds east of UTC
 *   (+08:00 is 28800).  The calendar is the proleptic Gregorian one.
 * - Pure: no clock, no time zone database, no libc time function.  An
 *   offset is always given (the rule file's `timezone`), never looked up.
 * - Input is (pointer, length): no NUL is needed, an embedded NUL is an
 *   ordinary bad character, and nothing past len is read.
 * - Nothing allocates; every function may be called from any thread.
 * - Fast enough for one call per CDR record: the parser reads each byte
 *   once and does a fixed amount of arithmetic (no loops over years or
 *   months, no tables beyond the twelve month lengths).
 */
#ifndef CALLBAR_CIVIL_H
#define CALLBAR_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"

/* The instants the parser's years reach: 1970-01-01T00:00:00Z and
 * 9999-12-31T23:59:59Z.  Written with an offset, a time may lie up to
 * 18 hours outside (1970-01-01T00:00+08:00 is -28800). */
#define CBAR_CIVIL_MIN INT64_C(0)
#define CBAR_CIVIL_MAX INT64_C(253402300799)
/* Offsets accepted in a time: up to 18:00 either way (ISO 8601 and
 * RFC 3339 allow no more; the ones in use run from -12:00 to +14:00). */
#define CBAR_CIVIL_OFFSET_MAX (18 * 3600)

/*
 * Days from 1970-01-01 to the date y-m-d (H. Hinnant's days_from_civil),
 * negative before it; m 1..12, d 1..31 (not checked against the month:
 * 2023-02-31 is 2023-03-03).  Any year an int64_t day count holds.
 */
int64_t cbar_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse: the date of day `days` (0 is 1970-01-01). */
void cbar_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/*
 * Which forms cbar_civil_parse() accepts.  The grammar (ISO 8601's
 * extended format, as RFC 3339 profiles it, with a few liberties):
 *
 *   date-time = date sep time [zone]
 *   date      = YYYY "-" MM "-" DD          years 1970 to 9999
 *   sep       = "T" / "t"                   (" " too with CBAR_CIVIL_SPACE)
 *   time      = HH ":" MM [":" SS ["." / "," 1*9 digits]]
 *   zone      = "Z" / "z" / ("+" / "-") HH [[":"] MM]   at most 18:00
 *
 * - A date that does not exist is refused: 2023-02-29, 2100-02-29,
 *   04-31.  Hours run 00 to 23 (24:00 is refused), minutes 00 to 59.
 * - Second 60 (a leap second) is accepted and counted as the next second:
 *   23:59:60Z is 00:00:00Z of the next day, as POSIX time has no leap
 *   seconds.
 * - A fraction of a second is checked and dropped: the instant is the
 *   second the time falls in.
 * - A date-time without a zone is in the caller's default offset.
 */
enum cbar_civil_flag {
	CBAR_CIVIL_ZONED = 1u << 0,  /* date-time with Z or an offset */
	CBAR_CIVIL_LOCAL = 1u << 1,  /* date-time without a zone: the default offset */
	CBAR_CIVIL_DATE = 1u << 2,   /* YYYY-MM-DD alone: its midnight, default offset */
	CBAR_CIVIL_EPOCH = 1u << 3,  /* "@SECONDS": 0 to CBAR_CIVIL_MAX, 1 to 12 digits */
	CBAR_CIVIL_DIGITS = 1u << 4, /* bare SECONDS (a CDR export's epoch column):
	                                as @SECONDS, without the '@' */
	CBAR_CIVIL_SPACE = 1u << 5,  /* " " between date and time, as well as "T" */
};

/* What each front end accepts.  HTTP: an instant must say its zone.  The
 * CLI's --at: everything a person types.  CDR files: zoned or local times,
 * with a space or a T, or epoch seconds. */
#define CBAR_CIVIL_HTTP (CBAR_CIVIL_ZONED)
#define CBAR_CIVIL_CLI                                                                             \
	(CBAR_CIVIL_ZONED | CBAR_CIVIL_LOCAL | CBAR_CIVIL_DATE | CBAR_CIVIL_EPOCH |                \
	 CBAR_CIVIL_SPACE)
#define CBAR_CIVIL_CDR                                                                             \
	(CBAR_CIVIL_ZONED | CBAR_CIVIL_LOCAL | CBAR_CIVIL_EPOCH | CBAR_CIVIL_DIGITS |              \
	 CBAR_CIVIL_SPACE)
/* Rule dates (`since`, `until`, `ramp`): a date, or a date-time. */
#define CBAR_CIVIL_RULES (CBAR_CIVIL_ZONED | CBAR_CIVIL_LOCAL | CBAR_CIVIL_DATE)

/* Why a parse failed: where, and a fragment of a sentence saying what was
 * wanted there.  why is a static string. */
struct cbar_civil_fail {
	size_t at;       /* byte offset in the input */
	const char *why; /* "month out of range (01 to 12)" */
	bool range;      /* the shape was right, a value is out of range: no
	                    such date or time, or beyond the bounds */
};

/*
 * Parse an instant in one of the forms flags allow.  dflt_off is the offset
 * of a date alone or a date-time without a zone (the rule file's
 * `timezone`); within +-CBAR_CIVIL_OFFSET_MAX, else CBAR_INVAL.
 *
 * On success returns CBAR_OK and sets *t.  On failure returns
 * CBAR_BAD_TIME, leaves *t alone, and fills *f (when not NULL).  The
 * whole of s must be the instant: blanks around it are the caller's.
 *
 *   cbar_civil_parse(s, n, CBAR_CIVIL_HTTP, 0, &t, &f)       JSON "time"
 *   cbar_civil_parse(s, n, CBAR_CIVIL_CLI, tz, &t, &f)       --at
 *   cbar_civil_parse(s, n, CBAR_CIVIL_CDR, tz, &t, NULL)     a CDR's time
 * with tz = cbar_rules_tz_offset(rules).
 */
enum cbar_err cbar_civil_parse(const char *s, size_t len, unsigned flags, int32_t dflt_off,
                               int64_t *t, struct cbar_civil_fail *f);

/*
 * Parse a whole string as an offset: "Z", "z", +HH, +HHMM, +HH:MM or the
 * same with '-', at most 18:00.  Sets *off (seconds east of UTC).
 * Returns CBAR_OK or CBAR_BAD_TIME (and fills *f when not NULL).
 */
enum cbar_err cbar_civil_offset_parse(const char *s, size_t len, int32_t *off,
                                      struct cbar_civil_fail *f);

/* Room for the longest formatted instant and its NUL:
 * "9999-12-31T23:59:59+18:00". */
#define CBAR_CIVIL_FORMAT_MAX 26

/*
 * Write instant t as seen at offset off, ISO 8601 / RFC 3339:
 * "2022-05-08T09:30:00+08:00", or "...Z" when off is 0; always seconds,
 * never a fraction.  buf gets a NUL-ended string; returns its length, or 0
 * (buf[0] = 0 when cap allows) when cap is below CBAR_CIVIL_FORMAT_MAX,
 * off is not whole minutes within 18:00, or the local date falls outside
 * the years 0000 to 9999.  cbar_civil_parse() of the result with
 * CBAR_CIVIL_ZONED gives t back for every t from CBAR_CIVIL_MIN to
 * CBAR_CIVIL_MAX (tests/test_civil.c checks).
 */
size_t cbar_civil_format(int64_t t, int32_t off, char *buf, size_t cap);

#endif
