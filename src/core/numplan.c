/*
 * callbar: loading a numbering plan from the text formats of
 * docs/numbering.md ("Data files").
 *
 * Each loader reads a whole file held in memory, builds its result beside
 * the plan and swaps it in only when every line was good, so a bad file
 * leaves the plan as it was.  These are line-oriented tab-separated tables
 * of our own; no library format fits them better than a split on tabs.
 */
#include <stdlib.h>
#include <string.h>

#include "callbar/number.h"
#include "numplan_impl.h"

/* Next non-empty, non-comment line split on tabs; false at the end. */
bool cbar__next_line(struct reader *r, struct line *l)
{
	while (r->p < r->end) {
		const char *s = r->p;
		const char *e = memchr(s, '\n', (size_t)(r->end - s));
		if (!e)
			e = r->end;
		r->p = e < r->end ? e + 1 : e;
		r->lineno++;
		if (e > s && e[-1] == '\r')
			e--;
		if (s == e || *s == '#')
			continue;
		l->nf = 0;
		l->lineno = r->lineno;
		const char *q = s;
		for (;;) {
			const char *t = memchr(q, '\t', (size_t)(e - q));
			if (!t)
				t = e;
			if (l->nf < MAX_FIELDS) {
				l->f[l->nf] = q;
				l->n[l->nf] = (size_t)(t - q);
				l->col[l->nf] = (unsigned)(q - s) + 1;
			}
			l->nf++;
			if (t == e)
				break;
			q = t + 1;
		}
		return true;
	}
	return false;
}

enum cbar_err cbar__bad(struct cbar_diag *d, const char *name, const struct line *l,
                         unsigned field, const char *what)
{
	if (d)
		d->file = name;
	unsigned col = field < l->nf && field < MAX_FIELDS ? l->col[field] : 1;
	return cbar_diag_set(d, CBAR_DATA, l->lineno, col, "%s", what);
}

bool cbar__all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool cbar__parse_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	if (!cbar__all_digits(s, n) || n > 9)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (v > max)
		return false;
	*out = v;
	return true;
}

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

static bool is_dash(const char *s, size_t n)
{
	return n == 1 && *s == '-';
}

/* ---- digit patterns: "00|1[12][0-9]00" ---------------------------------- */

struct patbuf {
	struct cbar__dpat *v;
	uint32_t n, cap;
};

static bool patbuf_push(struct patbuf *b, const struct cbar__dpat *p)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 256;
		struct cbar__dpat *v = realloc(b->v, cap * sizeof *v);
		if (!v)
			return false;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *p;
	return true;
}

/* Parse a pattern into b.  False on a malformed pattern, with *bad the
 * offset of the offending byte (n for a pattern cut short), or on a full
 * buffer with *oom set. */
static bool parse_pattern(const char *s, size_t n, struct patbuf *b, size_t *bad, bool *oom)
{
	struct cbar__dpat cur = {0};
	size_t i = 0;
	*oom = false;
	for (;;) {
		if (i == n || s[i] == '|') {
			if (cur.len == 0)
				break;
			if (!patbuf_push(b, &cur)) {
				*oom = true;
				return false;
			}
			memset(&cur, 0, sizeof cur);
			if (i++ == n)
				return true;
			continue;
		}
		if (cur.len == CBAR__DPAT_MAX)
			break;
		if (s[i] >= '0' && s[i] <= '9') {
			cur.set[cur.len++] = (uint16_t)(1u << (s[i] - '0'));
			i++;
			continue;
		}
		if (s[i] != '[')
			break;
		uint16_t set = 0;
		for (i++; i < n && s[i] != ']'; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			unsigned lo = (unsigned)(s[i] - '0'), hi = lo;
			if (i + 2 < n && s[i + 1] == '-') {
				if (s[i + 2] < s[i] || s[i + 2] > '9') {
					i += 2;
					goto bad;
				}
				hi = (unsigned)(s[i + 2] - '0');
				i += 2;
			}
			for (unsigned dg = lo; dg <= hi; dg++)
				set |= (uint16_t)(1u << dg);
		}
		if (i == n || set == 0)
			break;
		cur.set[cur.len++] = set;
		i++;
	}
bad:
	*bad = i;
	return false;
}

/* ---- countries.tsv ------------------------------------------------------ */

enum { C_REGION, C_CC, C_MAIN, C_INTL, C_NAT, C_LENS, C_FIRST, C_EMERG, C_NFIELDS };

static bool parse_lengths(const char *s, size_t n, uint32_t *mask)
{
	*mask = 0;
	if (is_dash(s, n))
		return true;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		unsigned v;
		if (!cbar__parse_uint(s + i, j - i, 31, &v))
			return false;
		*mask |= 1u << v;
		i = j + 1;
	}
	return *mask != 0;
}

static enum cbar_err pattern_field(struct patbuf *pb, const struct line *l, unsigned fld,
                                   uint32_t *at, uint32_t *count, const char *name,
                                   struct cbar_diag *d)
{
	*at = pb->n;
	*count = 0;
	if (is_dash(l->f[fld], l->n[fld]))
		return CBAR_OK;
	bool oom;
	size_t bad_at = 0;
	if (!parse_pattern(l->f[fld], l->n[fld], pb, &bad_at, &oom)) {
		if (oom)
			return CBAR_NOMEM;
		if (d)
			d->file = name;
		return cbar_diag_set(d, CBAR_DATA, l->lineno, l->col[fld] + (unsigned)bad_at,
		                     "bad digit pattern (digits, [0-9] classes, '|')");
	}
	*count = pb->n - *at;
	return CBAR_OK;
}

enum cbar_err cbar_numplan_load_countries(struct cbar_numplan *np, const char *text,
                                          size_t len, const char *name,
                                          struct cbar_diag *d)
{
	struct reader r = {text, text + len, 0};
	struct line l;
	struct cbar__country *cs = NULL;
	uint32_t n = 1, cap = 0;
	struct patbuf pb = {0};
	enum cbar_err err = CBAR_OK;

	while (cbar__next_line(&r, &l)) {
		if (l.nf != C_NFIELDS) {
			err = cbar__bad(d, name, &l, l.nf < C_NFIELDS ? l.nf - 1 : C_NFIELDS,
			          "expected 8 tab-separated fields: region cc main intl_prefix "
			          "national_prefix nsn_lengths nsn_first emergency");
			goto fail;
		}
		if (n >= UINT16_MAX) {
			err = cbar__bad(d, name, &l, 0, "too many countries");
			goto fail;
		}
		if (n == cap || cap == 0) {
			cap = cap ? cap * 2 : 512;
			struct cbar__country *v = realloc(cs, cap * sizeof *v);
			if (!v) {
				err = CBAR_NOMEM;
				goto fail;
			}
			cs = v;
		}
		struct cbar__country *c = &cs[n];
		memset(c, 0, sizeof *c);
		unsigned v;
		if (l.n[C_REGION] < 2 || l.n[C_REGION] > 3) {
			err = cbar__bad(d, name, &l, C_REGION, "region must be 2 letters or 3 digits");
			goto fail;
		}
		memcpy(c->id, l.f[C_REGION], l.n[C_REGION]);
		if (!cbar__parse_uint(l.f[C_CC], l.n[C_CC], 999, &v) || v == 0 || l.f[C_CC][0] == '0') {
			err = cbar__bad(d, name, &l, C_CC, "country calling code must be 1 to 3 digits");
			goto fail;
		}
		c->cc = (uint16_t)v;
		c->cc_len = (uint8_t)l.n[C_CC];
		memcpy(c->ccs, l.f[C_CC], l.n[C_CC]);
		if (!cbar__parse_uint(l.f[C_MAIN], l.n[C_MAIN], 1, &v)) {
			err = cbar__bad(d, name, &l, C_MAIN, "main must be 0 or 1");
			goto fail;
		}
		c->main = v;
		if ((err = pattern_field(&pb, &l, C_INTL, &c->intl_at, &c->intl_n, name, d)))
			goto fail;
		if (!is_dash(l.f[C_NAT], l.n[C_NAT])) {
			if (!cbar__all_digits(l.f[C_NAT], l.n[C_NAT]) || l.n[C_NAT] >= sizeof c->natpfx) {
				err = cbar__bad(d, name, &l, C_NAT, "national prefix must be digits or '-'");
				goto fail;
			}
			memcpy(c->natpfx, l.f[C_NAT], l.n[C_NAT]);
			c->natpfx_len = (uint8_t)l.n[C_NAT];
		}
		if (!parse_lengths(l.f[C_LENS], l.n[C_LENS], &c->lenmask) ||
		    (c->lenmask & ~0x3fffcu)) {
			err = cbar__bad(d, name, &l, C_LENS, "lengths must be a list like 7,8,11 (2 to 17)");
			goto fail;
		}
		c->minlen = c->lenmask ? (uint8_t)__builtin_ctz(c->lenmask) : 0;
		c->maxlen = c->lenmask ? (uint8_t)(31 - __builtin_clz(c->lenmask)) : 0;
		/* nsn_first: how a national number can start, a digit pattern
		 * ("00|[2-9]").  A field of digits alone keeps its first meaning,
		 * a list of possible first digits ("023456789"). */
		if (!is_dash(l.f[C_FIRST], l.n[C_FIRST]) && cbar__all_digits(l.f[C_FIRST], l.n[C_FIRST])) {
			c->start_at = pb.n;
			for (size_t i = 0; i < l.n[C_FIRST]; i++) {
				struct cbar__dpat one = {.len = 1};
				one.set[0] = (uint16_t)(1u << (l.f[C_FIRST][i] - '0'));
				if (!patbuf_push(&pb, &one)) {
					err = CBAR_NOMEM;
					goto fail;
				}
			}
			c->start_n = pb.n - c->start_at;
		} else if ((err = pattern_field(&pb, &l, C_FIRST, &c->start_at, &c->start_n, name,
		                                d))) {
			goto fail;
		}
		for (uint32_t i = 0; i < c->start_n; i++) {
			if (pb.v[c->start_at + i].len > 2) {
				err = cbar__bad(d, name, &l, C_FIRST,
				          "nsn_first alternatives must be one or two digits long");
				goto fail;
			}
		}
		if ((err = pattern_field(&pb, &l, C_EMERG, &c->emerg_at, &c->emerg_n, name, d)))
			goto fail;
		for (uint32_t k = 0; k < c->emerg_n; k++)
			c->emerg_lens |= 1u << pb.v[c->emerg_at + k].len;
		n++;
	}
	if (n == 1) {
		if (d)
			d->file = name;
		err = cbar_diag_set(d, CBAR_DATA, r.lineno, 1, "no countries");
		goto fail;
	}

	free(np->countries);
	free(np->pats);
	np->countries = cs;
	np->ncountries = n;
	np->pats = pb.v;
	np->npats = pb.n;
	memset(np->cc_country, 0, sizeof np->cc_country);
	memset(np->cc_count, 0, sizeof np->cc_count);
	memset(np->cc_lenmask, 0, sizeof np->cc_lenmask);
	np->cn = CBAR_NONE;
	for (uint32_t i = 1; i < n; i++) {
		struct cbar__country *c = &cs[i];
		if (np->cc_count[c->cc] < UINT8_MAX)
			np->cc_count[c->cc]++;
		np->cc_lenmask[c->cc] |= c->lenmask;
		if (c->main || !np->cc_country[c->cc])
			np->cc_country[c->cc] = (uint16_t)i;
		if (!strcmp(c->id, "CN"))
			np->cn = (uint16_t)i;
	}
	return CBAR_OK;
fail:
	free(cs);
	free(pb.v);
	return err;
}

/* ---- cn-regions.tsv and cn-cities.tsv ----------------------------------- */

static void free_regions(struct cbar__region *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		free(v[i].zh);
		free(v[i].en);
		free(v[i].aliases);
	}
}

enum cbar_err cbar_numplan_load_cn_regions(struct cbar_numplan *np, const char *text,
                                           size_t len, const char *name,
                                           struct cbar_diag *d)
{
	struct reader r = {text, text + len, 0};
	struct line l;
	struct cbar__region v[CBAR__MAX_REGIONS];
	uint32_t n = 1;
	enum cbar_err err = CBAR_OK;

	memset(v, 0, sizeof v);
	while (cbar__next_line(&r, &l)) {
		if (l.nf != 4) {
			err = cbar__bad(d, name, &l, l.nf > 4 ? 4 : l.nf - 1,
			          "expected 4 tab-separated fields: code name_zh name_en aliases");
			goto fail;
		}
		if (n == CBAR__MAX_REGIONS) {
			err = cbar__bad(d, name, &l, 0, "too many regions (at most 63)");
			goto fail;
		}
		if (l.n[0] < 4 || l.n[0] >= sizeof v[n].code || memcmp(l.f[0], "CN-", 3)) {
			err = cbar__bad(d, name, &l, 0, "region code must look like CN-ZJ");
			goto fail;
		}
		memcpy(v[n].code, l.f[0], l.n[0]);
		v[n].zh = dupn(l.f[1], l.n[1]);
		v[n].en = dupn(l.f[2], l.n[2]);
		v[n].aliases = dupn(l.f[3], l.n[3]);
		n++;
		if (!v[n - 1].zh || !v[n - 1].en || !v[n - 1].aliases) {
			err = CBAR_NOMEM;
			goto fail;
		}
	}
	free_regions(np->regions, np->nregions);
	memcpy(np->regions, v, sizeof v);
	np->nregions = n;
	return CBAR_OK;
fail:
	free_regions(v, n);
	return err;
}

static void free_cities(struct cbar__city *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		free(v[i].zh);
		free(v[i].en);
	}
	free(v);
}

enum cbar_err cbar_numplan_load_cn_cities(struct cbar_numplan *np, const char *text,
                                          size_t len, const char *name,
                                          struct cbar_diag *d)
{
	struct reader r = {text, text + len, 0};
	struct line l;
	struct cbar__city *v = NULL;
	uint32_t n = 1, cap = 0;
	enum cbar_err err = CBAR_OK;

	while (cbar__next_line(&r, &l)) {
		unsigned id;
		if (l.nf != 4) {
			err = cbar__bad(d, name, &l, l.nf > 4 ? 4 : l.nf - 1,
			          "expected 4 tab-separated fields: id region name_zh name_en");
			goto fail;
		}
		if (!cbar__parse_uint(l.f[0], l.n[0], UINT16_MAX, &id) || id != n) {
			err = cbar__bad(d, name, &l, 0, "city ids must count up from 1");
			goto fail;
		}
		uint8_t reg = cbar_numplan_region(np, l.f[1], l.n[1]);
		if (reg == CBAR_NONE) {
			err = cbar__bad(d, name, &l, 1, "unknown region code");
			goto fail;
		}
		if (n >= cap) {
			cap = cap ? cap * 2 : 512;
			struct cbar__city *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				err = CBAR_NOMEM;
				goto fail;
			}
			v = nv;
		}
		v[n].region = reg;
		v[n].zh = dupn(l.f[2], l.n[2]);
		v[n].en = dupn(l.f[3], l.n[3]);
		n++;
		if (!v[n - 1].zh || !v[n - 1].en) {
			err = CBAR_NOMEM;
			goto fail;
		}
	}
	free_cities(np->cities, np->ncities);
	np->cities = v;
	np->ncities = n;
	return CBAR_OK;
fail:
	free_cities(v, n);
	return err;
}

/* ---- lifecycle and lookups ---------------------------------------------- */

struct cbar_numplan *cbar_numplan_new(void)
{
	return calloc(1, sizeof(struct cbar_numplan));
}

void cbar_numplan_free(struct cbar_numplan *np)
{
	if (!np)
		return;
	free(np->countries);
	free(np->pats);
	free_regions(np->regions, np->nregions);
	free_cities(np->cities, np->ncities);
	free(np->seg);
	free(np->car);
	free(np->l1);
	free(np->l2);
	free(np->c1);
	free(np->c2);
	free(np->cval);
	free(np->ported);
	free(np);
}

static bool eq_ascii_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

uint16_t cbar_numplan_country(const struct cbar_numplan *np, const char *s, size_t len)
{
	unsigned cc;
	if (!np || !np->countries)
		return CBAR_NONE;
	if (len > 0 && s[0] == '+') {
		s++;
		len--;
	}
	if (cbar__parse_uint(s, len, 999, &cc) && len <= 3)
		return np->cc_country[cc];
	for (uint32_t i = 1; i < np->ncountries; i++)
		if (eq_ascii_nocase(np->countries[i].id, strlen(np->countries[i].id), s, len))
			return (uint16_t)i;
	return CBAR_NONE;
}

const char *cbar_numplan_country_id(const struct cbar_numplan *np, uint16_t country)
{
	if (!np || country == CBAR_NONE || country >= np->ncountries)
		return NULL;
	return np->countries[country].id;
}

uint8_t cbar_numplan_region(const struct cbar_numplan *np, const char *s, size_t len)
{
	for (uint32_t i = 1; i < np->nregions; i++) {
		const struct cbar__region *r = &np->regions[i];
		if (eq_ascii_nocase(r->code, strlen(r->code), s, len) ||
		    eq_ascii_nocase(r->code + 3, strlen(r->code) - 3, s, len) ||
		    eq_ascii_nocase(r->en, strlen(r->en), s, len) ||
		    (strlen(r->zh) == len && !memcmp(r->zh, s, len)))
			return (uint8_t)i;
		const char *a = r->aliases;
		while (*a) {
			const char *e = strchr(a, ',');
			size_t n = e ? (size_t)(e - a) : strlen(a);
			if (eq_ascii_nocase(a, n, s, len))
				return (uint8_t)i;
			a += n + (e != NULL);
		}
	}
	return CBAR_NONE;
}

const char *cbar_numplan_region_code(const struct cbar_numplan *np, uint8_t region)
{
	return region && region < np->nregions ? np->regions[region].code : NULL;
}

const char *cbar_numplan_region_name_zh(const struct cbar_numplan *np, uint8_t region)
{
	return region && region < np->nregions ? np->regions[region].zh : NULL;
}

const char *cbar_numplan_region_name_en(const struct cbar_numplan *np, uint8_t region)
{
	return region && region < np->nregions ? np->regions[region].en : NULL;
}

const char *cbar_numplan_city_name_zh(const struct cbar_numplan *np, uint16_t city)
{
	return city && city < np->ncities ? np->cities[city].zh : NULL;
}

const char *cbar_numplan_city_name_en(const struct cbar_numplan *np, uint16_t city)
{
	return city && city < np->ncities ? np->cities[city].en : NULL;
}
