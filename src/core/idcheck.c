/*
 * callbar: identity document numbers (see include/callbar/idcheck.h and
 * docs/registry.md for the formats and their sources).
 *
 * Messages name rules and positions only: the number is secret even when
 * it is wrong.
 */
#include <stdbool.h>
#include <string.h>

#include "callbar/idcheck.h"

static const struct {
	const char *key, *zh, *en;
} docs[CBAR_DOC_COUNT] = {
#define CBAR__DOC_ROW(name, k, z, e) [CBAR_DOC_##name] = {k, z, e},
	CBAR_DOC_MAP(CBAR__DOC_ROW)
#undef CBAR__DOC_ROW
};

const char *cbar_doc_key(enum cbar_doc_type t)
{
	return t > CBAR_DOC_NONE && t < CBAR_DOC_COUNT ? docs[t].key : NULL;
}

const char *cbar_doc_name_zh(enum cbar_doc_type t)
{
	return t > CBAR_DOC_NONE && t < CBAR_DOC_COUNT ? docs[t].zh : NULL;
}

const char *cbar_doc_name_en(enum cbar_doc_type t)
{
	return t > CBAR_DOC_NONE && t < CBAR_DOC_COUNT ? docs[t].en : NULL;
}

enum cbar_doc_type cbar_doc_lookup(const char *s, size_t len)
{
	for (int t = CBAR_DOC_NONE + 1; t < CBAR_DOC_COUNT; t++)
		if (strlen(docs[t].key) == len && !memcmp(docs[t].key, s, len))
			return (enum cbar_doc_type)t;
	return CBAR_DOC_NONE;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* GB/T 2260 province-level codes (first two digits of an administrative
 * division code): 11-15 north, 21-23 north-east, 31-37 east, 41-46
 * centre-south, 50-54 south-west, 61-65 north-west, 71 Taiwan, 81 Hong
 * Kong, 82 Macao.  83 is not a GB/T 2260 province: it is the code the
 * Taiwan residents' residence permit (港澳台居民居住证, 2018) uses, as 81 and
 * 82 are for Hong Kong and Macao residents.  91 is not one either: a 9 opens
 * the foreigner's permanent residence card, a type of its own here. */
static bool province_ok(int p)
{
	return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
	       (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) ||
	       p == 71 || p == 81 || p == 82 || p == 83;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

char cbar_idcheck_gb11643(const char *d)
{
	/* ISO 7064 MOD 11-2: weight of position i (from the left, 17 digits)
	 * is 2^(17-i) mod 11. */
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		if (!is_digit(d[i]))
			return 0;
		sum += (d[i] - '0') * w[i];
	}
	return "10X98765432"[sum % 11];
}

/*
 * The 18-character GB 11643-1999 layout: 6-digit address code (the first
 * two checked against prov, a callback so the foreigner's card can check
 * its own), 8-digit birth date at positions 7-14, 3-digit sequence, check
 * character.
 */
static enum cbar_err check_18(const char *c, uint32_t today, bool foreign, struct cbar_diag *d)
{
	for (int i = 0; i < 17; i++)
		if (!is_digit(c[i]))
			return cbar_diag_set(d, CBAR_ID_CHAR, 0, (unsigned)i + 1,
			                     "character %d must be a digit", i + 1);
	if (!is_digit(c[17]) && c[17] != 'X')
		return cbar_diag_set(d, CBAR_ID_CHAR, 0, 18,
		                     "character 18 must be a digit or X (the check character)");
	if (foreign) {
		/* 9, then the issuing province's code, then a nationality code. */
		if (c[0] != '9')
			return cbar_diag_set(d, CBAR_ID_FORMAT, 0, 1,
			                     "a permanent residence card number starts with 9");
		if (!province_ok(num(c + 1, 2)))
			return cbar_diag_set(d, CBAR_ID_REGION, 0, 2,
			                     "characters 2-3 are not a GB/T 2260 province code");
	} else if (!province_ok(num(c, 2))) {
		return cbar_diag_set(d, CBAR_ID_REGION, 0, 1,
		                     "characters 1-2 are not a GB/T 2260 province code");
	}
	static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y = num(c + 6, 4), m = num(c + 10, 2), dd = num(c + 12, 2);
	/* 1900: nobody alive was born earlier, and it keeps out 0000-style
	 * placeholders. */
	if (y < 1900 || m < 1 || m > 12 || dd < 1 ||
	    dd > mdays[m] + (m == 2 && leap(y) ? 1 : 0))
		return cbar_diag_set(d, CBAR_ID_DATE, 0, 7,
		                     "characters 7-14 are not a real date (YYYYMMDD, from 1900)");
	if ((uint32_t)(y * 10000 + m * 100 + dd) > today)
		return cbar_diag_set(d, CBAR_ID_FUTURE, 0, 7,
		                     "characters 7-14: the birth date is after today");
	if (cbar_idcheck_gb11643(c) != c[17])
		return cbar_diag_set(d, CBAR_ID_CHECK, 0, 18,
		                     "character 18 is not the GB 11643-1999 check character of "
		                     "the first 17");
	return CBAR_OK;
}

/* A pattern of fixed-length formats: each character class letter is
 * D digit, L letter other than I and O, A digit or such a letter, or a
 * literal upper-case letter in quotes ('E').  Returns the position (1-based)
 * of the first mismatch, 0 when it matches. */
static size_t match(const char *pat, const char *c, size_t n)
{
	size_t i = 0;
	for (const char *p = pat; *p; p++, i++) {
		if (i >= n)
			return i + 1;
		char ch = c[i];
		bool ok;
		switch (*p) {
		case 'D':
			ok = is_digit(ch);
			break;
		case 'L':
			ok = is_upper(ch) && ch != 'I' && ch != 'O';
			break;
		case 'A':
			ok = is_digit(ch) || (is_upper(ch) && ch != 'I' && ch != 'O');
			break;
		case '\'':
			ok = ch == p[1];
			p += 2;
			break;
		default:
			ok = false;
		}
		if (!ok)
			return i + 1;
	}
	return i == n ? 0 : i + 1;
}

/* Fixed-format documents: every pattern a type accepts. */
static const char *const formats[CBAR_DOC_COUNT][5] = {
	/* Ordinary passports: E + 8 digits (e-passport from 2012), E + letter
	 * + 7 digits (after E99999999 ran out), G + 8 digits (older); service,
	 * diplomatic and public affairs passports: SE/DE/PE + 7 digits. */
	[CBAR_DOC_CN_PASSPORT] = {"'E'DDDDDDDD", "'E'LDDDDDDD", "'G'DDDDDDDD", "'S''E'DDDDDDD",
	                          "'D''E'DDDDDDD"},
	/* Card permit for HK and Macao (2014): C + a digit or letter + 7 digits. */
	[CBAR_DOC_HKMO_PERMIT] = {"'C'ADDDDDDD"},
	/* Card permit for Taiwan (2016): L + 8 digits. */
	[CBAR_DOC_TW_PERMIT] = {"'L'DDDDDDDD"},
	/* Home return permit: H (Hong Kong) or M (Macao) + 8 digits, the card
	 * form adding a 2-digit issue count. */
	[CBAR_DOC_HKMO_HOME] = {"'H'DDDDDDDD", "'M'DDDDDDDD", "'H'DDDDDDDDDD", "'M'DDDDDDDDDD"},
	/* Taiwan compatriot permit, card form (2015): 8 digits for life. */
	[CBAR_DOC_TW_COMPATRIOT] = {"DDDDDDDD"},
};

enum cbar_err cbar_idcheck(enum cbar_doc_type t, const char *s, size_t len, uint32_t today,
                           char canon[CBAR_DOC_MAX + 1], struct cbar_diag *d)
{
	if (t <= CBAR_DOC_NONE || t >= CBAR_DOC_COUNT)
		return cbar_diag_set(d, CBAR_ID_TYPE, 0, 0, "unknown document type");
	size_t b = 0, e = len;
	while (b < e && s[b] == ' ')
		b++;
	while (e > b && s[e - 1] == ' ')
		e--;
	size_t n = e - b;
	if (n == 0 || n > CBAR_DOC_MAX)
		return cbar_diag_set(d, CBAR_ID_LENGTH, 0, 0,
		                     "%zu characters: no document of this type is that long", n);
	for (size_t i = 0; i < n; i++) {
		char ch = s[b + i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (!is_digit(ch) && !is_upper(ch))
			return cbar_diag_set(d, CBAR_ID_CHAR, 0, (unsigned)(b + i + 1),
			                     "character %zu is not a letter or digit", b + i + 1);
		canon[i] = ch;
	}
	canon[n] = 0;

	switch (t) {
	case CBAR_DOC_CN_RESIDENT:
	case CBAR_DOC_CN_FOREIGN_PR:
		if (n != 18)
			return cbar_diag_set(d, CBAR_ID_LENGTH, 0, 0,
			                     "%zu characters, want 18 (the 15-digit first-generation "
			                     "number is no longer valid)",
			                     n);
		return check_18(canon, today, t == CBAR_DOC_CN_FOREIGN_PR, d);
	case CBAR_DOC_PASSPORT:
		/* ICAO 9303: the machine-readable zone has 9 characters for the
		 * number, a longer one spills into the optional data field; at
		 * least 5 keeps out truncated numbers. */
		if (n < 5 || n > 12)
			return cbar_diag_set(d, CBAR_ID_LENGTH, 0, 0,
			                     "%zu characters, want 5 to 12 letters and digits", n);
		return CBAR_OK;
	default:
		break;
	}
	size_t worst = 0;
	for (int i = 0; i < 5 && formats[t][i]; i++) {
		size_t at = match(formats[t][i], canon, n);
		if (!at)
			return CBAR_OK;
		if (at > worst)
			worst = at;
	}
	return cbar_diag_set(d, CBAR_ID_FORMAT, 0, (unsigned)worst,
	                     "does not match the %s format (docs/registry.md), from character %zu",
	                     docs[t].key, worst);
}
