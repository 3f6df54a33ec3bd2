/*
 * callbar: the inside of a compiled rule snapshot, shared by the parser
 * (rules_parse.c), the table builder (rules_build.c), the decision path
 * (rules_decide.c) and lint/explain.
 *
 * The fast path (cbar_decide) reads four things:
 *  - one digit trie of every prefix any zone, list or rule uses; the
 *    deepest node on the peer's digits that carries a vector id names a
 *    deduplicated bitmap of the rules whose peer condition holds there
 *    (an unknown peer, NULL in the event, has a bitmap of its own:
 *    unknown_vec, the rules without a peer condition and the `unknown` ones);
 *  - bitmaps of rules per service x direction, per carrier, per region;
 *  - the AND of the four; its first set bit is the first candidate, whose
 *    remaining conditions (dates, ingress, unless) are checked one by one.
 * The slow path (cbar_explain, lint) reads the per-rule fields and the
 * compiled zone of each set.
 */
#ifndef CALLBAR_RULES_IMPL_H
#define CALLBAR_RULES_IMPL_H

#include <stdint.h>
#include <stdlib.h>

#include "callbar/rules.h"
#include "callbar/zone.h"

#define CBAR__NOVEC UINT32_MAX
#define CBAR__REGION_WORDS 4 /* region indexes are uint8_t: 256 bits */

enum cbar__set_kind { CBAR__SET_ZONE, CBAR__SET_LIST, CBAR__SET_PREFIX };

/* A named zone, a list, or the anonymous set of a `+prefix` peer. */
struct cbar__set {
	char *name; /* NULL for an anonymous prefix */
	enum cbar__set_kind kind;
	unsigned line;
	struct cbar_zone z; /* compiled: explain and lint use it */
};

enum cbar__unless { CBAR__UNLESS_NONE = 0, CBAR__UNLESS_UNLOCKED, CBAR__UNLESS_VERIFIED };
enum cbar__peer_kw { CBAR__PEER_NONE = 0, CBAR__PEER_TO, CBAR__PEER_FROM };

struct cbar__rule {
	unsigned line;
	uint8_t block;     /* 1 block, 0 pass */
	uint8_t scope;     /* CBAR_SCOPE_* bits the rule covers */
	uint8_t peer_kw;   /* enum cbar__peer_kw */
	uint8_t neg;       /* peer condition negated */
	int32_t set;       /* index into sets, -1: any peer (or unknown) */
	bool unknown;      /* `from unknown`: only an unknown peer (set is -1) */
	uint32_t carriers; /* bit per enum cbar_carrier, 0: any */
	bool any_region;
	uint64_t regions[CBAR__REGION_WORDS];
	int64_t since, until; /* [since, until) in UTC seconds */
	int64_t ramp_end;     /* 0: none; else the rule reaches a share of the
	                         subscribers growing from 0 at since to all
	                         at ramp_end (staged rollout) */
	char *ingress;        /* NULL: any */
	size_t ingress_len;
	uint8_t roaming;      /* enum cbar_roaming the event must have; 0: any */
	uint8_t unless; /* enum cbar__unless */
	bool dflt;      /* unconditional: the file's default */
	char *reason;
	int32_t announce; /* index into ann, -1: none */
	bool alnum;       /* `from alphanumeric`: only an alphanumeric sender (set is -1) */
	bool notify;      /* `notify`: the barred subscriber is sent the announcement */
	/* `from invalid` / `from self` (peer conditions without a set, checked
	 * after the bitmaps); `limit` statements: lim is the limit's index + 1
	 * (0: an ordinary rule), its definition in rs->limits. */
	bool invalid, self;
	uint32_t lim;
};

struct cbar__emerg {
	char digits[CBAR_E164_MAX + 1];
	uint8_t len;
};

struct cbar__node {
	uint32_t child[10];
	uint32_t vec; /* CBAR__NOVEC, or the rule bitmap valid from here down */
};

/* A peer's walk down the trie after its first CBAR__JUMP_DIGITS digits:
 * the node it stands on (0: it stopped sooner) and the deepest bitmap met
 * on the way.  A table of every such start spares the decision as many
 * dependent loads, the first ones of every walk. */
/* Rule bitmaps are ANDed this many words at a time (decide_from()). */
#define CBAR__WORDS_STEP 4

#define CBAR__JUMP_DIGITS 3
#define CBAR__JUMP_SIZE   1000
struct cbar__jump {
	uint32_t node;
	uint32_t vec;
};

struct cbar_rules {
	const struct cbar_numplan *np;
	char *file;
	int32_t tz;

	struct cbar__set *sets;
	size_t nsets;
	struct cbar__rule *rules;
	size_t nrules;
	struct cbar_announcement *ann;
	size_t nann;
	struct cbar__emerg *emerg;
	size_t nemerg;
	bool any_unless; /* some rule has 'unless': worth prefetching records */

	size_t words;      /* 64-bit words per rule bitmap, a multiple of CBAR__WORDS_STEP */
	uint64_t *svcdir;  /* 4 bitmaps, by CBAR_SCOPE_BIT index */
	uint64_t *carrier; /* CBAR_CARRIER_COUNT bitmaps */
	uint64_t *region;  /* nregion bitmaps (index 0: unknown) */
	size_t nregion;
	struct cbar__node *trie;
	size_t ntrie;
	/* The trie walked over every CBAR__JUMP_DIGITS-digit start at once
	 * (build_jump()): where a peer's walk stands after those digits. */
	struct cbar__jump *jump;
	uint64_t *vecbits; /* nvec bitmaps */
	size_t nvec;
	uint32_t unknown_vec; /* the bitmap of an unknown peer (a vec id) */
	uint32_t alnum_vec;   /* the bitmap of an alphanumeric sender (a vec id) */

	struct cbar_limit_info *limits; /* `limit` statements, in file order */
	size_t nlimits;
};

/*
 * rules_parse.c: read the text into rs (sets, rules, announcements,
 * emergency numbers, time zone; rs->np set by the caller).  fname names the
 * file for list files.  On failure fills d and returns the error; rs then
 * holds what was read, for cbar_rules_free().  *lines: the last line read.
 */
enum cbar_err cbar__rules_parse(struct cbar_rules *rs, const char *text, size_t len,
                                const char *fname, const struct cbar_rules_loader *loader,
                                struct cbar_diag *d, unsigned *lines);

/* A zone's value for numbers no term covers. */
static inline bool cbar__zone_default(const struct cbar_zone *z)
{
	if (z->dflt_set)
		return z->dflt;
	for (size_t i = 0; i < z->nterms; i++)
		if (z->terms[i].in)
			return false;
	return true;
}

/* Room for element n of the array *p of *cap elements: doubles it when full. */
static inline enum cbar_err cbar__grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return CBAR_OK;
	size_t nc = *cap ? *cap * 2 : 16;
	void *np = realloc(*p, nc * size);
	if (!np)
		return CBAR_NOMEM;
	*p = np;
	*cap = nc;
	return CBAR_OK;
}

/* Whether rule r's peer condition holds for the peer (slow path); peer
 * NULL: unknown, which only rules without a peer condition and `unknown`
 * ones match. */
bool cbar__rule_peer(const struct cbar_rules *rs, const struct cbar__rule *r,
                     const struct cbar_number *peer);
bool cbar__is_emergency(const struct cbar_rules *rs, const struct cbar_event *ev);

#endif
