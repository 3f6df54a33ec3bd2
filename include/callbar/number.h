/*
 * callbar: telephone numbers.
 *
 * Conventions for this header:
 * - A numbering plan (struct cbar_numplan) holds what callbar knows about
 *   numbers: every country calling code with its international and national
 *   prefixes, possible lengths and emergency numbers, and for China the
 *   number prefixes that name a home region, a city and an original carrier.
 *   It is built once from text (the data files under data/, or an
 *   operator's own tables in the same formats, see docs/numbering.md), then
 *   never changes: any number of threads may read it at once.
 * - Parsing a number allocates nothing and touches no global state; it
 *   writes a struct cbar_number the caller owns.
 * - Input is (pointer, length): no NUL is needed and an embedded NUL is an
 *   ordinary bad character.
 * - Ownership: cbar_numplan_new() returns a plan the caller frees with
 *   cbar_numplan_free(); a load function that fails leaves the plan as it
 *   was before the call.
 */
#ifndef CALLBAR_NUMBER_H
#define CALLBAR_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"

/* E.164 allows at most 15 digits, country code included. */
#define CBAR_E164_MAX 15

/* Original carriers of Chinese mobile numbers (before number portability). */
#define CBAR_CARRIER_MAP(X)                                                      \
	X(NONE, "", "", "")                                                      \
	X(CMCC, "cmcc", "中国移动", "China Mobile")                              \
	X(CUCC, "cucc", "中国联通", "China Unicom")                              \
	X(CTCC, "ctcc", "中国电信", "China Telecom")                             \
	X(CBN, "cbn", "中国广电", "China Broadnet")

enum cbar_carrier {
#define CBAR__CARRIER_ENUM(name, key, zh, en) CBAR_CARRIER_##name,
	CBAR_CARRIER_MAP(CBAR__CARRIER_ENUM)
#undef CBAR__CARRIER_ENUM
	CBAR_CARRIER_COUNT
};

/* "cmcc" for CBAR_CARRIER_CMCC; NULL for NONE or out of range. */
const char *cbar_carrier_key(enum cbar_carrier c);
const char *cbar_carrier_name_zh(enum cbar_carrier c);
const char *cbar_carrier_name_en(enum cbar_carrier c);
/* The carrier a key or alias names ("cmcc", "china-mobile", "移动"), or
 * CBAR_CARRIER_NONE when none does. */
enum cbar_carrier cbar_carrier_lookup(const char *s, size_t len);

enum cbar_number_flag {
	CBAR_NUM_EMERGENCY = 1u << 0, /* an emergency number of its country */
	CBAR_NUM_SHORT = 1u << 1,     /* shorter than any subscriber number */
	CBAR_NUM_WRITTEN_INTL = 1u << 2, /* written with + or an intl prefix */
	CBAR_NUM_PORTED = 1u << 3,    /* carrier from the ported-number list */
};

/* No country, region or city: the data does not say (never a guess). */
#define CBAR_NONE 0

/*
 * A parsed number: 16-bit indexes into the plan that parsed it, so a
 * number is only meaningful together with its plan.
 */
struct cbar_number {
	uint64_t e164;              /* the digits as an integer: 8613805710000 */
	char digits[CBAR_E164_MAX + 1]; /* the same digits as text, NUL-ended */
	uint16_t cc;                /* country calling code: 86 */
	uint8_t ndigits;            /* digits in e164, 3..15 */
	uint8_t cc_len;             /* digits of the country code, 1..3 */
	uint8_t flags;              /* enum cbar_number_flag */
	uint8_t carrier;            /* enum cbar_carrier; NONE when unknown */
	uint8_t region;             /* CN region index, CBAR_NONE when unknown */
	uint16_t city;              /* CN city index, CBAR_NONE when unknown */
	uint16_t country;           /* country index, CBAR_NONE when the code
	                               is shared (+1, +7, +44...) */
};

/* The national significant number: the digits after the country code. */
static inline const char *cbar_number_national(const struct cbar_number *n)
{
	return n->digits + n->cc_len;
}

struct cbar_numplan;

/* A new, empty plan, or NULL when memory is short. */
struct cbar_numplan *cbar_numplan_new(void);
void cbar_numplan_free(struct cbar_numplan *np);

/*
 * Load one data file (the formats of docs/numbering.md) from text.  name is
 * used in diagnostics only.  Countries must be loaded before anything can
 * be parsed; CN regions before cities; cities before segments.  Loading
 * segments or carriers again replaces the earlier table (an operator's full
 * table replaces the embedded partial one).  On failure d names the line and
 * column and the plan is unchanged.
 */
enum cbar_err cbar_numplan_load_countries(struct cbar_numplan *np, const char *text,
                                          size_t len, const char *name,
                                          struct cbar_diag *d);
enum cbar_err cbar_numplan_load_cn_regions(struct cbar_numplan *np, const char *text,
                                           size_t len, const char *name,
                                           struct cbar_diag *d);
enum cbar_err cbar_numplan_load_cn_cities(struct cbar_numplan *np, const char *text,
                                          size_t len, const char *name,
                                          struct cbar_diag *d);
enum cbar_err cbar_numplan_load_cn_segments(struct cbar_numplan *np, const char *text,
                                            size_t len, const char *name,
                                            struct cbar_diag *d);
enum cbar_err cbar_numplan_load_cn_carriers(struct cbar_numplan *np, const char *text,
                                            size_t len, const char *name,
                                            struct cbar_diag *d);

/*
 * Ported numbers: "NUMBER<TAB>CARRIER" per line, NUMBER a full Chinese
 * national number (11 digits for mobiles) or +86 E.164, CARRIER as in the
 * carrier table.  The carrier of a listed number is its current one and
 * overrides the prefix table; loading again replaces the list.  Lookups
 * are a binary search, only when a list is loaded.
 */
enum cbar_err cbar_numplan_load_cn_ported(struct cbar_numplan *np, const char *text,
                                          size_t len, const char *name,
                                          struct cbar_diag *d);

/* The country index of an ISO 3166-1 code ("CN") or of a calling code
 * written as digits ("86", its main country), or CBAR_NONE. */
uint16_t cbar_numplan_country(const struct cbar_numplan *np, const char *s, size_t len);
/* "CN" for a country index, NULL for CBAR_NONE or out of range. */
const char *cbar_numplan_country_id(const struct cbar_numplan *np, uint16_t country);

/* The CN region index of an ISO 3166-2:CN code or alias ("CN-ZJ", "zj",
 * "zhejiang", "浙江"), or CBAR_NONE. */
uint8_t cbar_numplan_region(const struct cbar_numplan *np, const char *s, size_t len);
/* Code and names of a region index; NULL for CBAR_NONE or out of range. */
const char *cbar_numplan_region_code(const struct cbar_numplan *np, uint8_t region);
const char *cbar_numplan_region_name_zh(const struct cbar_numplan *np, uint8_t region);
const char *cbar_numplan_region_name_en(const struct cbar_numplan *np, uint8_t region);
/* Names of a city index; NULL for CBAR_NONE or out of range. */
const char *cbar_numplan_city_name_zh(const struct cbar_numplan *np, uint16_t city);
const char *cbar_numplan_city_name_en(const struct cbar_numplan *np, uint16_t city);

/*
 * Normalise a written number to E.164 and classify it, in the context of a
 * country (the subscriber's: a country index from cbar_numplan_country()).
 *
 * Accepted (docs/numbering.md lists every form with examples):
 *   +852 9123 4567, 00852-9123-4567 (the context's international prefix),
 *   (0571) 8888 8888 (national prefix), 13805710000 (national number),
 *   8613805710000 (country code without +, when only that reading has a
 *   possible length), tel:+852-9123-4567, tel:91234567;phone-context=+852,
 *   sip:+85291234567@gw.example;user=phone and sips: alike, <...> around a
 *   URI; visual separators space - . ( ) / anywhere; full-width digits.
 *
 * On success returns CBAR_OK and fills *out.  On failure returns a CBAR_NUM_*
 * code, *out is unspecified, and *errat (if not NULL) is the byte offset
 * in s where the problem was found.
 */
enum cbar_err cbar_number_parse(const struct cbar_numplan *np, uint16_t country,
                                const char *s, size_t len, struct cbar_number *out,
                                size_t *errat);

#endif
