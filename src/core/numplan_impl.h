/*
 * callbar: the numbering plan's inside, shared by numplan.c (loading) and
 * number.c (parsing).  Not a public header.
 */
#ifndef CALLBAR_NUMPLAN_IMPL_H
#define CALLBAR_NUMPLAN_IMPL_H

#include <stdint.h>

#include "callbar/number.h"

/* One alternative of a digit pattern: a sequence of digit sets. */
#define CBAR__DPAT_MAX 12
struct cbar__dpat {
	uint8_t len;
	uint16_t set[CBAR__DPAT_MAX]; /* bit d: digit d allowed here */
};

struct cbar__country {
	char id[4]; /* "CN"; "001" for non-geographic codes */
	uint16_t cc;
	uint8_t cc_len;
	char ccs[4]; /* the calling code as digits: "86" */
	bool main;
	uint32_t lenmask; /* bit n: a national number of n digits is possible */
	uint8_t minlen, maxlen;
	char natpfx[8]; /* national (trunk) prefix, "" when none */
	uint8_t natpfx_len;
	uint32_t start_at, start_n; /* how a national number can start, in
	                               np->pats: one- and two-digit
	                               alternatives ("00|[2-9]") */
	uint32_t intl_at, intl_n;   /* alternatives in np->pats */
	uint32_t emerg_at, emerg_n; /* alternatives in np->pats */
	uint32_t emerg_lens;        /* bit n: some emergency number has n digits */
};

struct cbar__region {
	char code[8];
	char *zh, *en;
	char *aliases; /* comma-separated, lower case for ASCII */
};

struct cbar__city {
	uint8_t region;
	char *zh, *en;
};

/* One line of a prefix table (segments or carriers). */
struct cbar__pfx {
	char digits[8];
	uint8_t len;
	uint16_t value;
};

/* One ported number: its national number as an integer and its carrier. */
struct cbar__ported {
	uint64_t nsn;
	uint8_t carrier;
};

/*
 * The segment table answers "which city and original carrier" for a
 * Chinese national number in two loads: l1 is indexed by the first five
 * digits; an entry is either a value or, with CBAR__SEG_BLOCK set, the
 * index of a block of 100 values in l2 for the sixth and seventh digits.
 * A value packs city (bits 0-15) and carrier (bits 16-19).
 */
#define CBAR__SEG_L1    100000u
#define CBAR__SEG_BLOCK 0x80000000u
#define CBAR__SEG_BLOCK16 0x8000u

#define CBAR__MAX_REGIONS 64

struct cbar_numplan {
	struct cbar__country *countries; /* [0] unused: index 0 is CBAR_NONE */
	uint32_t ncountries;
	uint16_t cc_country[1000]; /* main country of each calling code */
	uint8_t cc_count[1000];    /* how many countries share it */
	uint32_t cc_lenmask[1000]; /* union of their national lengths */
	struct cbar__dpat *pats;
	uint32_t npats;

	struct cbar__region regions[CBAR__MAX_REGIONS]; /* [0] unused */
	uint32_t nregions;
	struct cbar__city *cities; /* [0] unused */
	uint32_t ncities;

	struct cbar__pfx *seg, *car; /* the tables as loaded */
	uint32_t nseg, ncar;
	uint32_t *l1, *l2; /* built from seg and car */
	uint32_t nblocks;
	/* The same index with 16-bit entries, for the lookup (a random one
	 * per Chinese number) to stay in the cache: half the bytes.  An entry
	 * of c1 or c2 is the index of its value in cval (the distinct
	 * values, a few hundred), or in c1, with CBAR__SEG_BLOCK16, the index
	 * of a block of 100 entries in c2.  NULL (l1, l2 are read) when the
	 * values or blocks do not fit in 15 bits or memory was short. */
	uint16_t *c1, *c2;
	uint32_t *cval;
	uint32_t ncval;
	uint16_t cn;                 /* country index of CN, or CBAR_NONE */
	struct cbar__ported *ported; /* sorted by nsn */
	uint32_t nported;
};

/* Whether the digit text d[0..n) starts with alternative p. */
static inline bool cbar__dpat_prefix(const struct cbar__dpat *p, const char *d, size_t n)
{
	if (p->len > n)
		return false;
	for (unsigned i = 0; i < p->len; i++)
		if (!(p->set[i] & (1u << (unsigned)(d[i] - '0'))))
			return false;
	return true;
}

/* ---- the table reader numplan.c and numplan_prefix.c share ---- */

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
bool cbar__next_line(struct reader *r, struct line *l);
/* A bad line: d names the file, the line and the field's column. */
enum cbar_err cbar__bad(struct cbar_diag *d, const char *name, const struct line *l, unsigned field,
                        const char *msg);
bool cbar__all_digits(const char *s, size_t n);
bool cbar__parse_uint(const char *s, size_t n, unsigned max, unsigned *out);

#endif
