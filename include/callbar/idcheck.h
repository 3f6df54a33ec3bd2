/*
 * callbar: identity document numbers.
 *
 * Conventions for this header:
 * - Checking is pure: no clock (the caller passes "today"), no I/O, no
 *   allocation, no global state.  Input is (pointer, length): no NUL is
 *   needed and an embedded NUL is an ordinary bad character.
 * - A checked number comes back in canonical form (ASCII spaces around it
 *   dropped, letters upper-cased: a Chinese resident number ends in 'X',
 *   never 'x'); the keyed hash of the registry is taken over that form, so
 *   "11010519491231002x" and "11010519491231002X" are one identity.
 * - Diagnostics name the rule and the 1-based character position that broke
 *   it, never the characters themselves: a rejected number is as secret as an
 *   accepted one and must not reach a log through an error message.
 * - docs/registry.md lists every format with its source.
 */
#ifndef CALLBAR_IDCHECK_H
#define CALLBAR_IDCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"

/* The longest canonical document number of any type. */
#define CBAR_DOC_MAX 18

/*
 * Document types: enum name, key (command line, CSV, database), Chinese and
 * English names.  Keys are stored in registries: never change one.
 */
#define CBAR_DOC_MAP(X)                                                          \
	X(CN_RESIDENT, "cn-resident", "居民身份证 / 港澳台居民居住证",              \
	  "PRC resident identity card (GB 11643-1999); HK, Macao and Taiwan "    \
	  "residents' residence permits share its format (codes 81, 82, 83)")     \
	X(CN_FOREIGN_PR, "cn-foreign-pr", "外国人永久居留身份证",                   \
	  "foreigner's permanent residence ID card, 2023 format (18 characters, " \
	  "first digit 9)")                                                      \
	X(CN_PASSPORT, "cn-passport", "中华人民共和国护照", "PRC passport")         \
	X(HKMO_PERMIT, "hkmo-permit", "往来港澳通行证",                             \
	  "mainland residents' permit for travel to Hong Kong and Macao")       \
	X(TW_PERMIT, "tw-permit", "大陆居民往来台湾通行证",                         \
	  "mainland residents' permit for travel to Taiwan")                    \
	X(HKMO_HOME, "hkmo-home", "港澳居民来往内地通行证",                         \
	  "Hong Kong and Macao residents' home return permit")                  \
	X(TW_COMPATRIOT, "tw-compatriot", "台湾居民来往大陆通行证",                 \
	  "Taiwan residents' mainland travel permit")                           \
	X(PASSPORT, "passport", "外国护照",                                          \
	  "foreign passport (ICAO 9303 document number)")

enum cbar_doc_type {
	CBAR_DOC_NONE = 0,
#define CBAR__DOC_ENUM(name, key, zh, en) CBAR_DOC_##name,
	CBAR_DOC_MAP(CBAR__DOC_ENUM)
#undef CBAR__DOC_ENUM
	CBAR_DOC_COUNT
};

/* "cn-resident" for CBAR_DOC_CN_RESIDENT; NULL for NONE or out of range. */
const char *cbar_doc_key(enum cbar_doc_type t);
const char *cbar_doc_name_zh(enum cbar_doc_type t);
const char *cbar_doc_name_en(enum cbar_doc_type t);
/* The type a key names, or CBAR_DOC_NONE. */
enum cbar_doc_type cbar_doc_lookup(const char *s, size_t len);

/*
 * Check the document number s[0..len) of type t.  today is the date the
 * check is made, as YYYYMMDD (20240611): a birth date after it is refused.
 *
 * On success returns CBAR_OK and writes the canonical form, NUL-ended, to
 * canon (CBAR_DOC_MAX + 1 bytes).  On failure returns a CBAR_ID_* code,
 * canon is unspecified, and d (if not NULL) gets the 1-based position in
 * column and a message that names the rule, never the characters.
 */
enum cbar_err cbar_idcheck(enum cbar_doc_type t, const char *s, size_t len, uint32_t today,
                           char canon[CBAR_DOC_MAX + 1], struct cbar_diag *d);

/* The GB 11643-1999 check character (ISO 7064 MOD 11-2) of 17 digits:
 * '0'..'9' or 'X'; 0 when the input is not 17 digits. */
char cbar_idcheck_gb11643(const char *digits17);

#endif
