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

#define MAX_FIELDS 10

struct line {
	const char *f[MAX_FIELDS]; /* field starts */
	size_t n[MAX_FIELDS];      /* field lengths */
	unsigned col[MAX_FIELDS];  /* 1-based columns */
	unsigned nf;
	unsigned lineno;
};

struct reader {
	const char *p, *end;
	unsigned lineno;
};

/* Next non-empty, non-comment line split on tabs; false at the end. */
static bool next_line(struct reader *r, struct line *l)
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

static enum cbar_err bad(struct cbar_diag *d, const char *name, const struct line *l,
                         unsigned field, const char *what)
{
	if (d)
		d->file = name;
	unsigned col = field < l->nf && field < MAX_FIELDS ? l->col[field] : 1;
	return cbar_diag_set(d, CBAR_DATA, l->lineno, col, "%s", what);
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool parse_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	if (!all_digits(s, n) || n > 9)
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
		if (!parse_uint(s + i, j - i, 31, &v))
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

	while (next_line(&r, &l)) {
		if (l.nf != C_NFIELDS) {
			err = bad(d, name, &l, l.nf < C_NFIELDS ? l.nf - 1 : C_NFIELDS,
			          "expected 8 tab-separated fields: region cc main intl_prefix "
			          "national_prefix nsn_lengths nsn_first emergency");
			goto fail;
		}
		if (n >= UINT16_MAX) {
			err = bad(d, name, &l, 0, "too many countries");
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
			err = bad(d, name, &l, C_REGION, "region must be 2 letters or 3 digits");
			goto fail;
		}
		memcpy(c->id, l.f[C_REGION], l.n[C_REGION]);
		if (!parse_uint(l.f[C_CC], l.n[C_CC], 999, &v) || v == 0 || l.f[C_CC][0] == '0') {
			err = bad(d, name, &l, C_CC, "country calling code must be 1 to 3 digits");
			goto fail;
		}
		c->cc = (uint16_t)v;
		c->cc_len = (uint8_t)l.n[C_CC];
		memcpy(c->ccs, l.f[C_CC], l.n[C_CC]);
		if (!parse_uint(l.f[C_MAIN], l.n[C_MAIN], 1, &v)) {
			err = bad(d, name, &l, C_MAIN, "main must be 0 or 1");
			goto fail;
		}
		c->main = v;
		if ((err = pattern_field(&pb, &l, C_INTL, &c->intl_at, &c->intl_n, name, d)))
			goto fail;
		if (!is_dash(l.f[C_NAT], l.n[C_NAT])) {
			if (!all_digits(l.f[C_NAT], l.n[C_NAT]) || l.n[C_NAT] >= sizeof c->natpfx) {
				err = bad(d, name, &l, C_NAT, "national prefix must be digits or '-'");
				goto fail;
			}
			memcpy(c->natpfx, l.f[C_NAT], l.n[C_NAT]);
			c->natpfx_len = (uint8_t)l.n[C_NAT];
		}
		if (!parse_lengths(l.f[C_LENS], l.n[C_LENS], &c->lenmask) ||
		    (c->lenmask & ~0x3fffcu)) {
			err = bad(d, name, &l, C_LENS, "lengths must be a list like 7,8,11 (2 to 17)");
			goto fail;
		}
		c->minlen = c->lenmask ? (uint8_t)__builtin_ctz(c->lenmask) : 0;
		c->maxlen = c->lenmask ? (uint8_t)(31 - __builtin_clz(c->lenmask)) : 0;
		/* nsn_first: how a national number can start, a digit pattern
		 * ("00|[2-9]").  A field of digits alone keeps its first meaning,
		 * a list of possible first digits ("023456789"). */
		if (!is_dash(l.f[C_FIRST], l.n[C_FIRST]) && all_digits(l.f[C_FIRST], l.n[C_FIRST])) {
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
				err = bad(d, name, &l, C_FIRST,
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
	while (next_line(&r, &l)) {
		if (l.nf != 4) {
			err = bad(d, name, &l, l.nf > 4 ? 4 : l.nf - 1,
			          "expected 4 tab-separated fields: code name_zh name_en aliases");
			goto fail;
		}
		if (n == CBAR__MAX_REGIONS) {
			err = bad(d, name, &l, 0, "too many regions (at most 63)");
			goto fail;
		}
		if (l.n[0] < 4 || l.n[0] >= sizeof v[n].code || memcmp(l.f[0], "CN-", 3)) {
			err = bad(d, name, &l, 0, "region code must look like CN-ZJ");
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

	while (next_line(&r, &l)) {
		unsigned id;
		if (l.nf != 4) {
			err = bad(d, name, &l, l.nf > 4 ? 4 : l.nf - 1,
			          "expected 4 tab-separated fields: id region name_zh name_en");
			goto fail;
		}
		if (!parse_uint(l.f[0], l.n[0], UINT16_MAX, &id) || id != n) {
			err = bad(d, name, &l, 0, "city ids must count up from 1");
			goto fail;
		}
		uint8_t reg = cbar_numplan_region(np, l.f[1], l.n[1]);
		if (reg == CBAR_NONE) {
			err = bad(d, name, &l, 1, "unknown region code");
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

/* ---- prefix tables and the two-level segment index ---------------------- */

static int pfx_cmp_len(const void *a, const void *b)
{
	const struct cbar__pfx *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->digits, y->digits, x->len);
}

static uint32_t pfx_value(const struct cbar__pfx *p, uint32_t cur, bool carrier)
{
	return carrier ? (cur & ~(0xfu << 16)) | ((uint32_t)p->value << 16)
	               : (cur & ~0xffffu) | p->value;
}

/*
 * Build l1/l2 from both tables.  Entries are applied shortest first, each
 * writing only its own field (city or carrier), so a longer prefix
 * overrides a shorter one field by field: the longest listed prefix wins.
 */
static enum cbar_err build_index(struct cbar_numplan *np, struct cbar__pfx *seg, uint32_t nseg,
                                 struct cbar__pfx *car, uint32_t ncar)
{
	uint32_t *l1 = calloc(CBAR__SEG_L1, sizeof *l1);
	uint32_t *l2 = NULL, nblocks = 0, capblocks = 0;
	if (!l1)
		return CBAR_NOMEM;
	/* Either table may still be empty (NULL): qsort wants a real array. */
	if (nseg)
		qsort(seg, nseg, sizeof *seg, pfx_cmp_len);
	if (ncar)
		qsort(car, ncar, sizeof *car, pfx_cmp_len);
	uint32_t i = 0, j = 0;
	while (i < nseg || j < ncar) {
		bool carrier = i == nseg || (j < ncar && car[j].len <= seg[i].len);
		const struct cbar__pfx *p = carrier ? &car[j++] : &seg[i++];
		uint32_t v = 0;
		for (unsigned k = 0; k < p->len && k < 5; k++)
			v = v * 10 + (uint32_t)(p->digits[k] - '0');
		if (p->len <= 5) {
			uint32_t span = 1;
			for (unsigned k = p->len; k < 5; k++)
				span *= 10;
			for (uint32_t x = v * span; x < (v + 1) * span; x++) {
				if (l1[x] & CBAR__SEG_BLOCK) {
					uint32_t *blk = l2 + (l1[x] & ~CBAR__SEG_BLOCK) * 100;
					for (unsigned y = 0; y < 100; y++)
						blk[y] = pfx_value(p, blk[y], carrier);
				} else {
					l1[x] = pfx_value(p, l1[x], carrier);
				}
			}
			continue;
		}
		if (!(l1[v] & CBAR__SEG_BLOCK)) {
			if (nblocks == capblocks) {
				capblocks = capblocks ? capblocks * 2 : 1024;
				uint32_t *n2 = realloc(l2, (size_t)capblocks * 100 * sizeof *n2);
				if (!n2) {
					free(l1);
					free(l2);
					return CBAR_NOMEM;
				}
				l2 = n2;
			}
			for (unsigned y = 0; y < 100; y++)
				l2[nblocks * 100 + y] = l1[v];
			l1[v] = CBAR__SEG_BLOCK | nblocks++;
		}
		uint32_t *blk = l2 + (l1[v] & ~CBAR__SEG_BLOCK) * 100;
		unsigned lo = (unsigned)(p->digits[5] - '0') * 10, hi = lo + 10;
		if (p->len == 7) {
			lo += (unsigned)(p->digits[6] - '0');
			hi = lo + 1;
		}
		for (unsigned y = lo; y < hi; y++)
			blk[y] = pfx_value(p, blk[y], carrier);
	}
	free(np->l1);
	free(np->l2);
	np->l1 = l1;
	np->l2 = l2;
	np->nblocks = nblocks;
	return CBAR_OK;
}

/* Read a prefix table: "PREFIX<TAB>VALUE" where lookup() maps the value. */
static enum cbar_err load_prefixes(struct cbar_numplan *np, const char *text, size_t len,
                                   const char *name, struct cbar_diag *d, bool carrier,
                                   struct cbar__pfx **out, uint32_t *nout)
{
	struct reader r = {text, text + len, 0};
	struct line l;
	struct cbar__pfx *v = NULL;
	uint32_t n = 0, cap = 0;
	enum cbar_err err;

	while (next_line(&r, &l)) {
		if (l.nf != 2) {
			err = bad(d, name, &l, l.nf > 2 ? 2 : l.nf - 1,
			          carrier ? "expected 2 tab-separated fields: prefix carrier"
			                  : "expected 2 tab-separated fields: prefix city_id");
			goto fail;
		}
		if (!all_digits(l.f[0], l.n[0]) || l.n[0] > 7) {
			err = bad(d, name, &l, 0,
			          "prefix must be 1 to 7 digits of the national number");
			goto fail;
		}
		unsigned value;
		if (carrier) {
			value = cbar_carrier_lookup(l.f[1], l.n[1]);
			if (value == CBAR_CARRIER_NONE) {
				err = bad(d, name, &l, 1, "unknown carrier (cmcc, cucc, ctcc, cbn)");
				goto fail;
			}
		} else if (!parse_uint(l.f[1], l.n[1], UINT16_MAX, &value) || value == 0 ||
		           value >= np->ncities) {
			err = bad(d, name, &l, 1, "unknown city id (see the cities table)");
			goto fail;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			struct cbar__pfx *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				err = CBAR_NOMEM;
				goto fail;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		memcpy(v[n].digits, l.f[0], l.n[0]);
		v[n].len = (uint8_t)l.n[0];
		v[n].value = (uint16_t)value;
		n++;
	}
	*out = v;
	*nout = n;
	return CBAR_OK;
fail:
	free(v);
	return err;
}

enum cbar_err cbar_numplan_load_cn_segments(struct cbar_numplan *np, const char *text,
                                            size_t len, const char *name,
                                            struct cbar_diag *d)
{
	struct cbar__pfx *v;
	uint32_t n;
	enum cbar_err err = load_prefixes(np, text, len, name, d, false, &v, &n);
	if (err)
		return err;
	if ((err = build_index(np, v, n, np->car, np->ncar))) {
		free(v);
		return err;
	}
	free(np->seg);
	np->seg = v;
	np->nseg = n;
	return CBAR_OK;
}

enum cbar_err cbar_numplan_load_cn_carriers(struct cbar_numplan *np, const char *text,
                                            size_t len, const char *name,
                                            struct cbar_diag *d)
{
	struct cbar__pfx *v;
	uint32_t n;
	enum cbar_err err = load_prefixes(np, text, len, name, d, true, &v, &n);
	if (err)
		return err;
	if ((err = build_index(np, np->seg, np->nseg, v, n))) {
		free(v);
		return err;
	}
	free(np->car);
	np->car = v;
	np->ncar = n;
	return CBAR_OK;
}

static int ported_cmp(const void *a, const void *b)
{
	const struct cbar__ported *x = a, *y = b;
	return x->nsn < y->nsn ? -1 : x->nsn > y->nsn;
}

enum cbar_err cbar_numplan_load_cn_ported(struct cbar_numplan *np, const char *text,
                                          size_t len, const char *name,
                                          struct cbar_diag *d)
{
	struct reader r = {text, text + len, 0};
	struct line l;
	struct cbar__ported *v = NULL;
	uint32_t n = 0, cap = 0;
	enum cbar_err err;

	while (next_line(&r, &l)) {
		if (l.nf != 2) {
			err = bad(d, name, &l, l.nf > 2 ? 2 : l.nf - 1,
			          "expected 2 tab-separated fields: number carrier");
			goto fail;
		}
		const char *p = l.f[0];
		size_t pn = l.n[0];
		if (pn > 3 && p[0] == '+' && p[1] == '8' && p[2] == '6') {
			p += 3;
			pn -= 3;
		}
		if (!all_digits(p, pn) || pn < 7 || pn > 12) {
			err = bad(d, name, &l, 0,
			          "number must be a Chinese national number (7 to 12 digits) or +86...");
			goto fail;
		}
		enum cbar_carrier c = cbar_carrier_lookup(l.f[1], l.n[1]);
		if (c == CBAR_CARRIER_NONE) {
			err = bad(d, name, &l, 1, "unknown carrier (cmcc, cucc, ctcc, cbn)");
			goto fail;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			struct cbar__ported *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				err = CBAR_NOMEM;
				goto fail;
			}
			v = nv;
		}
		uint64_t x = 0;
		for (size_t i = 0; i < pn; i++)
			x = x * 10 + (uint64_t)(p[i] - '0');
		v[n].nsn = x;
		v[n].carrier = (uint8_t)c;
		n++;
	}
	if (n)
		qsort(v, n, sizeof *v, ported_cmp);
	free(np->ported);
	np->ported = v;
	np->nported = n;
	return CBAR_OK;
fail:
	free(v);
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
	if (parse_uint(s, len, 999, &cc) && len <= 3)
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
