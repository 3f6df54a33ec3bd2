/*
 * callbar: the numbering plan's prefix tables (cn-segments.tsv,
 * cn-carriers.tsv, the ported-number list) and the two-level segment
 * index a lookup reads; the line reader is numplan.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "callbar/number.h"
#include "numplan_impl.h"

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

static void compact_free(struct cbar_numplan *np)
{
	free(np->c1);
	free(np->c2);
	free(np->cval);
	np->c1 = np->c2 = NULL;
	np->cval = NULL;
	np->ncval = 0;
}

/*
 * c1/c2 from l1/l2 (numplan_impl.h): each value replaced by its index in
 * the table of distinct values.  A value is city (16 bits) and carrier (4),
 * so a 2^20 map finds a value's index while building.  Left NULL, and the
 * lookup reads l1/l2, when something does not fit or memory is short: the
 * compact form only makes the lookup faster.
 */
static void compact_index(struct cbar_numplan *np)
{
	compact_free(np);
	if (np->nblocks >= CBAR__SEG_BLOCK16)
		return;
	uint16_t *map = calloc(1u << 20, sizeof *map); /* value -> index + 1 */
	uint16_t *c1 = malloc(CBAR__SEG_L1 * sizeof *c1);
	uint16_t *c2 = malloc(((size_t)np->nblocks * 100 + 1) * sizeof *c2);
	uint32_t *cval = malloc(CBAR__SEG_BLOCK16 * sizeof *cval), ncval = 0;
	if (!map || !c1 || !c2 || !cval)
		goto fail;
	for (uint32_t i = 0; i < CBAR__SEG_L1 + np->nblocks * 100; i++) {
		bool first = i < CBAR__SEG_L1;
		uint32_t x = first ? np->l1[i] : np->l2[i - CBAR__SEG_L1];
		if (first && (x & CBAR__SEG_BLOCK)) {
			c1[i] = (uint16_t)(CBAR__SEG_BLOCK16 | (x & ~CBAR__SEG_BLOCK));
			continue;
		}
		if (x >> 20)
			goto fail; /* not city and carrier: the packing changed */
		if (!map[x]) {
			if (ncval == CBAR__SEG_BLOCK16 - 1)
				goto fail;
			cval[ncval++] = x;
			map[x] = (uint16_t)ncval;
		}
		uint16_t k = (uint16_t)(map[x] - 1);
		if (first)
			c1[i] = k;
		else
			c2[i - CBAR__SEG_L1] = k;
	}
	free(map);
	np->c1 = c1;
	np->c2 = c2;
	np->cval = cval;
	np->ncval = ncval;
	return;
fail:
	free(map);
	free(c1);
	free(c2);
	free(cval);
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
	compact_index(np);
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

	while (cbar__next_line(&r, &l)) {
		if (l.nf != 2) {
			err =
			    cbar__bad(d, name, &l, l.nf > 2 ? 2 : l.nf - 1,
			              carrier ? "expected 2 tab-separated fields: prefix carrier"
			                      : "expected 2 tab-separated fields: prefix city_id");
			goto fail;
		}
		if (!cbar__all_digits(l.f[0], l.n[0]) || l.n[0] > 7) {
			err = cbar__bad(d, name, &l, 0,
			                "prefix must be 1 to 7 digits of the national number");
			goto fail;
		}
		unsigned value;
		if (carrier) {
			value = cbar_carrier_lookup(l.f[1], l.n[1]);
			if (value == CBAR_CARRIER_NONE) {
				err = cbar__bad(d, name, &l, 1,
				                "unknown carrier (cmcc, cucc, ctcc, cbn)");
				goto fail;
			}
		} else if (!cbar__parse_uint(l.f[1], l.n[1], UINT16_MAX, &value) || value == 0 ||
		           value >= np->ncities) {
			err = cbar__bad(d, name, &l, 1, "unknown city id (see the cities table)");
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

enum cbar_err cbar_numplan_load_cn_segments(struct cbar_numplan *np, const char *text, size_t len,
                                            const char *name, struct cbar_diag *d)
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

enum cbar_err cbar_numplan_load_cn_carriers(struct cbar_numplan *np, const char *text, size_t len,
                                            const char *name, struct cbar_diag *d)
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

enum cbar_err cbar_numplan_load_cn_ported(struct cbar_numplan *np, const char *text, size_t len,
                                          const char *name, struct cbar_diag *d)
{
	struct reader r = {text, text + len, 0};
	struct line l;
	struct cbar__ported *v = NULL;
	uint32_t n = 0, cap = 0;
	enum cbar_err err;

	while (cbar__next_line(&r, &l)) {
		if (l.nf != 2) {
			err = cbar__bad(d, name, &l, l.nf > 2 ? 2 : l.nf - 1,
			                "expected 2 tab-separated fields: number carrier");
			goto fail;
		}
		const char *p = l.f[0];
		size_t pn = l.n[0];
		if (pn > 3 && p[0] == '+' && p[1] == '8' && p[2] == '6') {
			p += 3;
			pn -= 3;
		}
		if (!cbar__all_digits(p, pn) || pn < 7 || pn > 12) {
			err = cbar__bad(
			    d, name, &l, 0,
			    "number must be a Chinese national number (7 to 12 digits) or +86...");
			goto fail;
		}
		enum cbar_carrier c = cbar_carrier_lookup(l.f[1], l.n[1]);
		if (c == CBAR_CARRIER_NONE) {
			err = cbar__bad(d, name, &l, 1, "unknown carrier (cmcc, cucc, ctcc, cbn)");
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
