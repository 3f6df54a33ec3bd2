/*
 * callbar: zones, named sets of E.164 numbers given by prefixes.
 *
 * A zone is a list of terms, each an E.164 prefix ("+852") that is either in
 * the zone or, negated ("!+86"), out of it, and a default for numbers no
 * term covers.  The longest term that is a prefix of a number decides; a
 * number no term covers gets the default, which is "in" exactly when the
 * zone has no positive term ("!+86" alone is everything but +86).
 *
 * Zones combine: the union of two zones and the complement of a zone are
 * zones again, computed exactly on the terms (docs/numbering.md, "Zones").
 *
 * Building allocates; cbar_zone_compile() turns the terms into a digit trie
 * and cbar_zone_has() then walks at most one node per digit of the number,
 * allocating nothing.  A compiled zone is immutable and may be shared by
 * threads.
 *
 * Lifecycle: cbar_zone_init() an embedded struct, cbar_zone_release() frees
 * what it holds (the struct itself is the caller's).  A failed call leaves
 * the zone as it was.
 */
#ifndef CALLBAR_ZONE_H
#define CALLBAR_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/number.h"

struct cbar_zone_term {
	char digits[CBAR_E164_MAX + 1]; /* the prefix without '+', NUL-ended */
	uint8_t len;
	bool in;
};

struct cbar_zone_node {
	uint32_t child[10]; /* 0: no child (node 0 is the root, never a child) */
	int8_t value;       /* -1: no term ends here; 0 out; 1 in */
};

struct cbar_zone {
	struct cbar_zone_term *terms; /* sorted by digits, no duplicates */
	size_t nterms, capterms;
	bool dflt;                    /* membership of a number no term covers */
	bool dflt_set;                /* default fixed by complement/union */
	struct cbar_zone_node *nodes; /* after compile: the trie */
	size_t nnodes;
};

void cbar_zone_init(struct cbar_zone *z);
void cbar_zone_release(struct cbar_zone *z);

/*
 * Add a term written as "+852" or "!+86" (spaces not allowed).  A later term
 * with the same prefix replaces the earlier one.  CBAR_ZONE_PREFIX for a
 * malformed term.
 */
enum cbar_err cbar_zone_add(struct cbar_zone *z, const char *term, size_t len);

/* z = z ∪ other (other unchanged). */
enum cbar_err cbar_zone_union(struct cbar_zone *z, const struct cbar_zone *other);

/* z = complement of z. */
enum cbar_err cbar_zone_invert(struct cbar_zone *z);

/* Build the trie; call after the last change and before cbar_zone_has(). */
enum cbar_err cbar_zone_compile(struct cbar_zone *z);

/* Whether the E.164 digits (no '+') are in the compiled zone. */
bool cbar_zone_has_digits(const struct cbar_zone *z, const char *digits, size_t n);

static inline bool cbar_zone_has(const struct cbar_zone *z, const struct cbar_number *n)
{
	return cbar_zone_has_digits(z, n->digits, n->ndigits);
}

#endif
