/*
 * callbar: normalising a written telephone number to E.164.
 *
 * Hand-written rather than libphonenumber: this runs on the decision path
 * (every call, every CDR line), must not allocate or take locks, and only
 * needs the country code and national number, not formatting or validation
 * by number type.  libphonenumber is the oracle of the differential test
 * (tests/diff/), which measures where and why the two differ.
 *
 * The work is two passes over the input, neither of which allocates:
 *   1. peel the wrapping (spaces, <...>, tel:/sip:/sips:, URI parameters),
 *      then collect the digits, dropping visual separators;
 *   2. decide how the digits were written (international with '+' or the
 *      context's international prefix, national with or without the trunk
 *      prefix), split the country code off, and classify.
 * docs/numbering.md lists every accepted form and every rejection.
 */
#include <string.h>

#include "callbar/number.h"
#include "numplan_impl.h"

/* Digits collected before the country code is known: an international
 * prefix of up to 7 digits plus 15, with room to report "too long". */
#define MAX_RAW 24

enum kind { PLAIN, TEL, SIP };

static bool starts_nocase(const char *p, const char *e, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(e - p) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lit[i])
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct digits {
	char d[MAX_RAW];
	unsigned n;
	bool plus;
};

/*
 * Collect the digits of [p, e) into out.  uri: percent escapes are decoded
 * first (a SIP user part may write '+' as %2B).  Returns CBAR_OK or an error
 * with *at set to the offending byte.
 */
static enum cbar_err collect(const char *p, const char *e, bool uri, struct digits *out,
                             const char **at)
{
	out->n = 0;
	out->plus = false;
	while (p < e) {
		const char *here = p;
		unsigned char c = (unsigned char)*p++;
		if (c == '%' && uri) {
			int hi = e - p >= 2 ? hexval(p[0]) : -1;
			int lo = hi >= 0 ? hexval(p[1]) : -1;
			if (lo < 0) {
				*at = here;
				return CBAR_NUM_URI;
			}
			c = (unsigned char)(hi * 16 + lo);
			p += 2;
		} else if (c == 0xEF && e - p >= 2 && (unsigned char)p[0] == 0xBC) {
			/* Full-width forms, common in Chinese text: U+FF10..U+FF19
			 * digits, U+FF0B plus, U+FF08/U+FF09 parentheses, U+FF0D
			 * hyphen-minus. */
			unsigned char t = (unsigned char)p[1];
			if (t >= 0x90 && t <= 0x99)
				c = (unsigned char)('0' + (t - 0x90));
			else if (t == 0x8B)
				c = '+';
			else if (t == 0x88 || t == 0x89 || t == 0x8D)
				c = ' ';
			else {
				*at = here;
				return CBAR_NUM_CHAR;
			}
			p += 2;
		}
		if (c >= '0' && c <= '9') {
			if (out->n == MAX_RAW) {
				*at = here;
				return CBAR_NUM_TOO_LONG;
			}
			out->d[out->n++] = (char)c;
		} else if (c == '+') {
			if (out->n || out->plus) {
				*at = here;
				return CBAR_NUM_PLUS;
			}
			out->plus = true;
		} else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' ||
		           c == '/' || c == '\t') {
			continue;
		} else {
			*at = here;
			return CBAR_NUM_CHAR;
		}
	}
	return CBAR_OK;
}

/* Whether d starts with the n bytes of p: inline, as these are one to
 * three digits and a library call costs more than the compare. */
static inline bool has_prefix(const char *d, const char *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (d[i] != p[i])
			return false;
	return true;
}

static bool len_ok(uint32_t mask, unsigned n)
{
	return n < 32 && (mask >> n) & 1u;
}

/* Whether a national number of country c can start with d: its first two
 * digits, so that Tokyo's 03 (a trunk prefix, then 3) is told from the 00
 * that Japan's own 00777 numbers start with. */
static bool can_start(const struct cbar_numplan *np, const struct cbar__country *c,
                      const char *d, unsigned n)
{
	if (!c->start_n)
		return true; /* the data does not say */
	for (uint32_t i = 0; i < c->start_n; i++)
		if (cbar__dpat_prefix(&np->pats[c->start_at + i], d, n))
			return true;
	return false;
}

/* Whether the digits start with c's trunk prefix, no national number starts
 * the way they do, and one can start the way the rest does (so normalising
 * the result again changes nothing). */
static bool trunk_first(const struct cbar_numplan *np, const struct cbar__country *c,
                        const char *d, unsigned n)
{
	return c->natpfx_len && n > c->natpfx_len && has_prefix(d, c->natpfx, c->natpfx_len) &&
	       !can_start(np, c, d, n) &&
	       can_start(np, c, d + c->natpfx_len, n - c->natpfx_len);
}

/* Whether to drop a national prefix in front of a national number: when it
 * cannot start a national number (libphonenumber's test, on the first two
 * digits) and the rest would not lose another one when read again after
 * its country code, or when only the shorter reading has a possible
 * length. */
static bool strip_natpfx(const struct cbar_numplan *np, const struct cbar__country *c,
                         const char *d, unsigned n)
{
	if (!c->natpfx_len || n <= c->natpfx_len || !has_prefix(d, c->natpfx, c->natpfx_len))
		return false;
	if (!can_start(np, c, d, n))
		return !trunk_first(np, c, d + c->natpfx_len, n - c->natpfx_len);
	return !len_ok(c->lenmask, n) && len_ok(c->lenmask, n - c->natpfx_len);
}

/*
 * "+44 (0)20 ...", "+86 0571 ..." and "+81 (0)3 ...": a trunk prefix written
 * after the country code is dropped as trunk_first() says.
 */
static void drop_trunk_after_cc(const struct cbar_numplan *np, const struct cbar__country *c,
                                const char **d, unsigned *n)
{
	if (trunk_first(np, c, *d, *n)) {
		*d += c->natpfx_len;
		*n -= c->natpfx_len;
	}
}

/* The longest international prefix of country c that d starts with.  When
 * the digits also read as a national number after the trunk prefix, one
 * followed by 0 is not taken: no country code starts with 0, so Israel's
 * 01800 123 456 is the trunk prefix and the national 1-800 number, not the
 * carrier prefix 018 (libphonenumber reads it the same way), while CN's
 * 000 852 9123 stays an error. */
static unsigned intl_prefix(const struct cbar_numplan *np, const struct cbar__country *c,
                            const char *d, unsigned n)
{
	bool national = c->natpfx_len && n > c->natpfx_len &&
	                has_prefix(d, c->natpfx, c->natpfx_len) &&
	                can_start(np, c, d + c->natpfx_len, n - c->natpfx_len);
	unsigned best = 0;
	for (uint32_t i = 0; i < c->intl_n; i++) {
		const struct cbar__dpat *p = &np->pats[c->intl_at + i];
		if (p->len > best && p->len < n && !(national && d[p->len] == '0') &&
		    cbar__dpat_prefix(p, d, n))
			best = p->len;
	}
	return best;
}

static bool is_emergency(const struct cbar_numplan *np, const struct cbar__country *c,
                         const char *nsn, unsigned n)
{
	if (n >= 32 || !((c->emerg_lens >> n) & 1u))
		return false;
	for (uint32_t i = 0; i < c->emerg_n; i++) {
		const struct cbar__dpat *p = &np->pats[c->emerg_at + i];
		if (p->len == n && cbar__dpat_prefix(p, nsn, n))
			return true;
	}
	return false;
}

/* The calling code d starts with (1 to 3 digits), or 0. */
static unsigned split_cc(const struct cbar_numplan *np, const char *d, unsigned n,
                         unsigned *cc_len)
{
	unsigned v = 0;
	if (n == 0 || d[0] == '0')
		return 0;
	for (unsigned k = 0; k < 3 && k < n; k++) {
		v = v * 10 + (unsigned)(d[k] - '0');
		if (np->cc_count[v]) {
			*cc_len = k + 1;
			return v;
		}
	}
	return 0;
}

/* The value of eight ASCII digits, three multiplications instead of eight
 * (pairs, then fours, then the eight: the bytes are loaded little-end
 * first, so the first digit is the low byte). */
static inline uint64_t eight_digits(const char *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	x -= 0x3030303030303030ull;
	x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ffull;
	x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffffull;
	return (x * 10000 + (x >> 32)) & 0xffffffffull;
}

static void classify_cn(const struct cbar_numplan *np, struct cbar_number *out,
                        const char *nsn, unsigned n)
{
	if (!np->l1 || n < 7)
		return;
	uint32_t v = 0;
	for (unsigned k = 0; k < 5; k++)
		v = v * 10 + (uint32_t)(nsn[k] - '0');
	unsigned v2 = (unsigned)(nsn[5] - '0') * 10 + (unsigned)(nsn[6] - '0');
	uint32_t x;
	if (np->c1) {
		/* The compact index: on random subscribers this lookup misses
		 * the cache more than anything else a record reads, and in
		 * half the bytes it stays in the cache twice as well. */
		uint16_t k = np->c1[v];
		if (k & CBAR__SEG_BLOCK16)
			k = np->c2[(k & ~CBAR__SEG_BLOCK16) * 100u + v2];
		x = np->cval[k];
	} else {
		x = np->l1[v];
		if (x & CBAR__SEG_BLOCK)
			x = np->l2[(x & ~CBAR__SEG_BLOCK) * 100 + v2];
	}
	if (np->nported) {
		uint64_t key = 0;
		for (unsigned k = 0; k < n; k++)
			key = key * 10 + (uint64_t)(nsn[k] - '0');
		uint32_t lo = 0, hi = np->nported;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (np->ported[mid].nsn < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < np->nported && np->ported[lo].nsn == key) {
			x = (x & ~(0xfu << 16)) | ((uint32_t)np->ported[lo].carrier << 16);
			out->flags |= CBAR_NUM_PORTED;
		}
	}
	uint16_t city = (uint16_t)(x & 0xffffu);
	out->carrier = (uint8_t)((x >> 16) & 0xfu);
	if (city && city < np->ncities) {
		out->city = city;
		out->region = np->cities[city].region;
	}
}

/*
 * The second pass: digits d[0..n), written with '+' or not, in the context
 * of country ctx.  Decides how they were written, splits the country code
 * off, checks lengths and classifies into *out.
 */
static enum cbar_err finish(const struct cbar_numplan *np, const struct cbar__country *ctx,
                            const char *d, unsigned n, bool plus, struct cbar_number *out)
{
	unsigned cc, cc_len = 0;
	const struct cbar__country *c = ctx;
	const char *ccd; /* the calling code's digits */
	bool intl = plus;
	uint8_t flags = 0;

	if (!intl) {
		unsigned ip = intl_prefix(np, ctx, d, n);
		if (ip) {
			d += ip;
			n -= ip;
			intl = true;
		}
	}
	if (intl) {
		flags |= CBAR_NUM_WRITTEN_INTL;
		cc = split_cc(np, d, n, &cc_len);
		if (!cc)
			return n < 1 ? CBAR_NUM_TOO_SHORT : CBAR_NUM_CC;
		if (cc != ctx->cc)
			c = &np->countries[np->cc_country[cc]];
		ccd = d;
		d += cc_len;
		n -= cc_len;
		drop_trunk_after_cc(np, c, &d, &n);
	} else {
		cc = ctx->cc;
		cc_len = ctx->cc_len;
		ccd = ctx->ccs;
		if (strip_natpfx(np, ctx, d, n)) {
			d += ctx->natpfx_len;
			n -= ctx->natpfx_len;
		} else if (n > cc_len && has_prefix(d, ctx->ccs, cc_len) && !len_ok(ctx->lenmask, n) &&
		           len_ok(ctx->lenmask, n - cc_len)) {
			/* "8613805710000": the country code without '+', as many
			 * CDRs write it; taken only when the whole is not a
			 * possible national number and the rest is. */
			d += cc_len;
			n -= cc_len;
			flags |= CBAR_NUM_WRITTEN_INTL;
			drop_trunk_after_cc(np, ctx, &d, &n);
		}
	}

	if (n < 2)
		return CBAR_NUM_TOO_SHORT;
	uint32_t lens = np->cc_lenmask[cc];
	unsigned maxlen = lens ? 31u - (unsigned)__builtin_clz(lens) : CBAR_E164_MAX;
	if (n > maxlen || cc_len + n > CBAR_E164_MAX)
		return CBAR_NUM_TOO_LONG;

	memset(out, 0, sizeof *out);
	memcpy(out->digits, ccd, cc_len);
	memcpy(out->digits + cc_len, d, n);
	out->digits[cc_len + n] = 0;
	uint64_t v = cc;
	unsigned i = 0;
	for (; i + 8 <= n; i += 8)
		v = v * 100000000u + eight_digits(d + i);
	for (; i < n; i++)
		v = v * 10 + (uint64_t)(d[i] - '0');
	out->e164 = v;
	out->cc = (uint16_t)cc;
	out->cc_len = (uint8_t)cc_len;
	out->ndigits = (uint8_t)(cc_len + n);
	if (lens && n < (unsigned)__builtin_ctz(lens))
		flags |= CBAR_NUM_SHORT;
	if (is_emergency(np, c, d, n))
		flags |= CBAR_NUM_EMERGENCY;
	out->flags = flags;
	out->country = np->cc_count[cc] == 1 ? np->cc_country[cc] : CBAR_NONE;
	if (np->cn && cc == np->countries[np->cn].cc)
		classify_cn(np, out, d, n);
	return CBAR_OK;
}

enum cbar_err cbar_number_parse(const struct cbar_numplan *np, uint16_t country,
                                const char *s, size_t len, struct cbar_number *out,
                                size_t *errat)
{
	const char *p = s, *e = s + len, *at = s;
	const char *ctx_p = NULL, *ctx_e = NULL;
	enum kind kind = PLAIN;
	enum cbar_err err;
	struct digits dg, cx;

	if (!np || country == CBAR_NONE || country >= np->ncountries) {
		err = CBAR_NUM_COUNTRY;
		goto fail;
	}
	const struct cbar__country *ctx = &np->countries[country];

	/* Fast path for what switches and CDRs write most: digits, with or
	 * without a leading '+', and nothing else.  The same result as the
	 * general path below, without its per-character classification. */
	{
		const char *q = s;
		size_t m = len;
		bool plus = m && *q == '+';
		q += plus;
		m -= plus;
		size_t i = 0;
		for (; i + 8 <= m && i + 8 <= MAX_RAW; i += 8) { /* eight at a time */
			uint64_t x;
			memcpy(&x, q + i, 8);
			/* all of 0x30..0x39: high nibbles 3, and still 3 after +6
			 * (no byte carries into the next once the first holds) */
			if ((x & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull ||
			    ((x + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull)
				break;
		}
		while (i < m && i <= MAX_RAW && (unsigned char)(q[i] - '0') < 10)
			i++;
		if (i == m && m > 0 && m <= MAX_RAW) {
			err = finish(np, ctx, q, (unsigned)m, plus, out);
			if (err == CBAR_OK)
				return CBAR_OK;
			goto fail;
		}
	}

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (p < e && *p == '<') {
		if (e[-1] != '>') {
			at = e - 1;
			err = CBAR_NUM_URI;
			goto fail;
		}
		p++;
		e--;
	}
	if (starts_nocase(p, e, "tel:")) {
		kind = TEL;
		p += 4;
	} else if (starts_nocase(p, e, "sip:") || starts_nocase(p, e, "sips:")) {
		kind = SIP;
		p += p[3] == ':' ? 4 : 5;
		const char *atsign = memchr(p, '@', (size_t)(e - p));
		if (!atsign) {
			at = p;
			err = CBAR_NUM_URI_USER;
			goto fail;
		}
		e = atsign;
	}
	if (kind != PLAIN) {
		/* The number ends at the first parameter; of the parameters only
		 * phone-context matters (RFC 3966 section 5.1.5). */
		const char *semi = memchr(p, ';', (size_t)(e - p));
		if (semi) {
			const char *q = semi;
			while (q < e) {
				const char *name = q + 1;
				const char *end = memchr(name, ';', (size_t)(e - name));
				if (!end)
					end = e;
				if (starts_nocase(name, end, "phone-context=")) {
					ctx_p = name + 14;
					ctx_e = end;
				}
				q = end;
			}
			e = semi;
		}
	}

	err = collect(p, e, kind != PLAIN, &dg, &at);
	if (err) {
		if (err == CBAR_NUM_CHAR && kind == SIP)
			err = CBAR_NUM_URI_USER;
		goto fail;
	}
	if (dg.n == 0) {
		at = p;
		err = CBAR_NUM_EMPTY;
		goto fail;
	}

	/* A local tel: number with a global phone-context is read as the
	 * context's digits followed by its own; a domain name as context says
	 * nothing about the country and is ignored. */
	if (ctx_p && !dg.plus && ctx_p < ctx_e && *ctx_p == '+') {
		err = collect(ctx_p, ctx_e, true, &cx, &at);
		if (err || cx.n == 0 || cx.n + dg.n > MAX_RAW) {
			at = ctx_p;
			err = err == CBAR_NUM_TOO_LONG || cx.n + dg.n > MAX_RAW ? CBAR_NUM_TOO_LONG
			                                                       : CBAR_NUM_CONTEXT;
			goto fail;
		}
		memmove(dg.d + cx.n, dg.d, dg.n);
		memcpy(dg.d, cx.d, cx.n);
		dg.n += cx.n;
		dg.plus = true;
	}

	err = finish(np, ctx, dg.d, dg.n, dg.plus, out);
	if (err == CBAR_OK)
		return CBAR_OK;
	at = p;

fail:
	if (errat)
		*errat = (size_t)(at - s);
	return err;
}
