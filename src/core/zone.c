/*
 * callbar: zones as longest-prefix sets of E.164 numbers (see zone.h).
 *
 * Union and complement work on the term lists.  For a number, membership
 * in a zone is the value of the longest term that prefixes it.  Over the
 * combined terms of A and B, the longest combined term p that prefixes a
 * number also fixes A's and B's longest terms (any longer one would be a
 * longer combined term), so giving p the value A(p) or B(p) makes the
 * union exact; flipping every value and the default makes the complement.
 */
#include <stdlib.h>
#include <string.h>

#include "callbar/zone.h"

void cbar_zone_init(struct cbar_zone *z)
{
	memset(z, 0, sizeof *z);
}

void cbar_zone_release(struct cbar_zone *z)
{
	free(z->terms);
	free(z->nodes);
	cbar_zone_init(z);
}

static bool zone_default(const struct cbar_zone *z)
{
	if (z->dflt_set)
		return z->dflt;
	for (size_t i = 0; i < z->nterms; i++)
		if (z->terms[i].in)
			return false;
	return true;
}

/* The value of the longest term of z that prefixes digits[0..n). */
static bool lpm(const struct cbar_zone *z, const char *digits, size_t n)
{
	bool v = zone_default(z);
	size_t best = 0;
	for (size_t i = 0; i < z->nterms; i++) {
		const struct cbar_zone_term *t = &z->terms[i];
		if (t->len <= n && t->len >= best && !memcmp(t->digits, digits, t->len)) {
			best = t->len;
			v = t->in;
		}
	}
	return v;
}

static int term_cmp(const struct cbar_zone_term *a, const char *d, size_t n)
{
	size_t m = a->len < n ? a->len : n;
	int c = memcmp(a->digits, d, m);
	if (c)
		return c;
	return a->len < n ? -1 : a->len > n;
}

/* Insert or replace, keeping terms sorted. */
static enum cbar_err put(struct cbar_zone *z, const char *d, size_t n, bool in)
{
	size_t lo = 0, hi = z->nterms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = term_cmp(&z->terms[mid], d, n);
		if (c == 0) {
			z->terms[mid].in = in;
			return CBAR_OK;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (z->nterms == z->capterms) {
		size_t cap = z->capterms ? z->capterms * 2 : 8;
		if (cap > (1u << 24))
			return CBAR_ZONE_FULL;
		struct cbar_zone_term *t = realloc(z->terms, cap * sizeof *t);
		if (!t)
			return CBAR_NOMEM;
		z->terms = t;
		z->capterms = cap;
	}
	memmove(&z->terms[lo + 1], &z->terms[lo], (z->nterms - lo) * sizeof *z->terms);
	memset(&z->terms[lo], 0, sizeof z->terms[lo]);
	memcpy(z->terms[lo].digits, d, n);
	z->terms[lo].len = (uint8_t)n;
	z->terms[lo].in = in;
	z->nterms++;
	return CBAR_OK;
}

enum cbar_err cbar_zone_add(struct cbar_zone *z, const char *term, size_t len)
{
	bool in = true;
	if (len && term[0] == '!') {
		in = false;
		term++;
		len--;
	}
	if (len < 2 || len > CBAR_E164_MAX + 1 || term[0] != '+' || term[1] == '0')
		return CBAR_ZONE_PREFIX;
	for (size_t i = 1; i < len; i++)
		if (term[i] < '0' || term[i] > '9')
			return CBAR_ZONE_PREFIX;
	return put(z, term + 1, len - 1, in);
}

enum cbar_err cbar_zone_union(struct cbar_zone *z, const struct cbar_zone *other)
{
	struct cbar_zone r;
	enum cbar_err err = CBAR_OK;
	cbar_zone_init(&r);
	for (size_t i = 0; i < z->nterms && !err; i++) {
		const struct cbar_zone_term *t = &z->terms[i];
		err = put(&r, t->digits, t->len, t->in || lpm(other, t->digits, t->len));
	}
	for (size_t i = 0; i < other->nterms && !err; i++) {
		const struct cbar_zone_term *t = &other->terms[i];
		err = put(&r, t->digits, t->len, t->in || lpm(z, t->digits, t->len));
	}
	if (err) {
		cbar_zone_release(&r);
		return err;
	}
	r.dflt = zone_default(z) || zone_default(other);
	r.dflt_set = true;
	cbar_zone_release(z);
	*z = r;
	return CBAR_OK;
}

enum cbar_err cbar_zone_invert(struct cbar_zone *z)
{
	bool d = zone_default(z);
	for (size_t i = 0; i < z->nterms; i++)
		z->terms[i].in = !z->terms[i].in;
	z->dflt = !d;
	z->dflt_set = true;
	free(z->nodes);
	z->nodes = NULL;
	z->nnodes = 0;
	return CBAR_OK;
}

enum cbar_err cbar_zone_compile(struct cbar_zone *z)
{
	/* At most one node per digit of every term, plus the root. */
	size_t cap = 1;
	for (size_t i = 0; i < z->nterms; i++)
		cap += z->terms[i].len;
	struct cbar_zone_node *nodes = calloc(cap, sizeof *nodes);
	if (!nodes)
		return CBAR_NOMEM;
	size_t nn = 1;
	nodes[0].value = (int8_t)zone_default(z);
	for (size_t i = 0; i < z->nterms; i++) {
		const struct cbar_zone_term *t = &z->terms[i];
		uint32_t cur = 0;
		for (unsigned k = 0; k < t->len; k++) {
			unsigned dgt = (unsigned)(t->digits[k] - '0');
			if (!nodes[cur].child[dgt]) {
				nodes[nn].value = -1;
				nodes[cur].child[dgt] = (uint32_t)nn++;
			}
			cur = nodes[cur].child[dgt];
		}
		nodes[cur].value = (int8_t)t->in;
	}
	free(z->nodes);
	z->nodes = nodes;
	z->nnodes = nn;
	return CBAR_OK;
}

bool cbar_zone_has_digits(const struct cbar_zone *z, const char *digits, size_t n)
{
	const struct cbar_zone_node *nodes = z->nodes;
	if (!nodes)
		return false;
	bool v = nodes[0].value == 1;
	uint32_t cur = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned dgt = (unsigned)(digits[k] - '0');
		if (dgt > 9 || !(cur = nodes[cur].child[dgt]))
			break;
		if (nodes[cur].value >= 0)
			v = nodes[cur].value == 1;
	}
	return v;
}
