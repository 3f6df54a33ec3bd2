/*
 * callbar: the decision tables of a snapshot (rules_impl.h), built from
 * the per-rule structs rules_parse.c read; and cbar_rules_compile(), which
 * runs the two.
 *
 * The peer bitmaps are made by one depth-first walk of the combined digit
 * trie that keeps the current rule bitmap and flips only the bits of the
 * rules whose set changes value at a node; a Zobrist hash of the bitmap
 * finds its twin among the bitmaps already made, so a node that changes
 * nothing costs nothing and identical bitmaps are stored once.  Compile
 * time is then about (terms x rules using them) + (distinct bitmaps x
 * rules / 64), which keeps 100,000 rules over a few dozen zones well under
 * half a second.  Its weak spot is thousands of rules each with its own
 * `+prefix` peer: that makes thousands of distinct bitmaps, so a cap turns
 * it into a compile error that says to use a list instead.
 */
#include <stdlib.h>
#include <string.h>

#include "rules_impl.h"

/* Bitmaps for the peer trie may take at most this much memory. */
#define MAX_VEC_BYTES (256u << 20)

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

struct term_end {
	uint32_t set, next;
	bool in;
};

struct build {
	struct cbar_rules *rs;
	uint32_t *te_head; /* per node */
	struct term_end *te;
	size_t nte, capte, captrie;
	bool *val;          /* per set: value at the current node */
	uint32_t *by_set;   /* CSR: rules of each set */
	uint32_t *by_set_at;
	uint64_t *cur, hash;
	uint32_t *undo; /* sets changed on the path from the root */
	size_t nundo;
	uint32_t *htab; /* vec ids + 1, open addressing */
	uint64_t *hkeys;
	size_t hcap, capvec;
	enum cbar_err err;
};

static void flip_set(struct build *b, uint32_t s)
{
	for (uint32_t i = b->by_set_at[s]; i < b->by_set_at[s + 1]; i++) {
		uint32_t r = b->by_set[i];
		b->cur[r / 64] ^= 1ull << (r % 64);
		b->hash ^= mix64(r);
	}
}

static enum cbar_err intern(struct build *b, uint32_t *id)
{
	struct cbar_rules *rs = b->rs;
	size_t w = rs->words;
	if (rs->nvec * 2 + 2 > b->hcap) {
		size_t nc = b->hcap ? b->hcap * 2 : 64;
		uint32_t *nt = calloc(nc, sizeof *nt);
		uint64_t *nk = calloc(nc, sizeof *nk);
		if (!nt || !nk) {
			free(nt);
			free(nk);
			return CBAR_NOMEM;
		}
		for (size_t i = 0; i < b->hcap; i++)
			if (b->htab[i]) {
				size_t j = b->hkeys[i] & (nc - 1);
				while (nt[j])
					j = (j + 1) & (nc - 1);
				nt[j] = b->htab[i];
				nk[j] = b->hkeys[i];
			}
		free(b->htab);
		free(b->hkeys);
		b->htab = nt;
		b->hkeys = nk;
		b->hcap = nc;
	}
	size_t j = b->hash & (b->hcap - 1);
	for (; b->htab[j]; j = (j + 1) & (b->hcap - 1))
		if (b->hkeys[j] == b->hash &&
		    !memcmp(rs->vecbits + (size_t)(b->htab[j] - 1) * w, b->cur, w * 8)) {
			*id = b->htab[j] - 1;
			return CBAR_OK;
		}
	if ((rs->nvec + 1) * w * 8 > MAX_VEC_BYTES)
		return CBAR_RULES_TOO_BIG;
	if (rs->nvec == b->capvec) {
		size_t nc = b->capvec ? b->capvec * 2 : 16;
		uint64_t *nv = realloc(rs->vecbits, nc * w * 8);
		if (!nv)
			return CBAR_NOMEM;
		rs->vecbits = nv;
		b->capvec = nc;
	}
	memcpy(rs->vecbits + rs->nvec * w, b->cur, w * 8);
	b->htab[j] = (uint32_t)rs->nvec + 1;
	b->hkeys[j] = b->hash;
	*id = (uint32_t)rs->nvec++;
	return CBAR_OK;
}

/* Depth first over the combined trie, keeping cur = the rule bitmap of
 * the numbers under the node. */
static void walk(struct build *b, uint32_t node, bool root)
{
	size_t mark = b->nundo;
	for (uint32_t e = b->te_head[node]; e != UINT32_MAX; e = b->te[e].next) {
		uint32_t s = b->te[e].set;
		if (b->val[s] == b->te[e].in)
			continue;
		b->val[s] = b->te[e].in;
		flip_set(b, s);
		b->undo[b->nundo++] = s;
	}
	if (root || b->nundo > mark) {
		enum cbar_err err = intern(b, &b->rs->trie[node].vec);
		if (err && !b->err)
			b->err = err;
	}
	for (unsigned d = 0; d < 10 && !b->err; d++)
		if (b->rs->trie[node].child[d])
			walk(b, b->rs->trie[node].child[d], false);
	while (b->nundo > mark) {
		uint32_t s = b->undo[--b->nundo];
		b->val[s] = !b->val[s];
		flip_set(b, s);
	}
}

static enum cbar_err add_node(struct build *b, uint32_t *id)
{
	struct cbar_rules *rs = b->rs;
	if (rs->ntrie == b->captrie) {
		size_t nc = b->captrie ? b->captrie * 2 : 64;
		struct cbar__node *nn = realloc(rs->trie, nc * sizeof *nn);
		uint32_t *nh = realloc(b->te_head, nc * sizeof *nh);
		if (nn)
			rs->trie = nn;
		if (nh)
			b->te_head = nh;
		if (!nn || !nh)
			return CBAR_NOMEM;
		b->captrie = nc;
	}
	memset(&rs->trie[rs->ntrie], 0, sizeof rs->trie[0]);
	rs->trie[rs->ntrie].vec = CBAR__NOVEC;
	b->te_head[rs->ntrie] = UINT32_MAX;
	*id = (uint32_t)rs->ntrie++;
	return CBAR_OK;
}

static enum cbar_err build_peer(struct cbar_rules *rs)
{
	struct build b = {.rs = rs};
	enum cbar_err err = CBAR_NOMEM;
	size_t ns = rs->nsets;
	b.val = calloc(ns + 1, sizeof *b.val);
	b.by_set_at = calloc(ns + 2, sizeof *b.by_set_at);
	b.by_set = malloc((rs->nrules + 1) * sizeof *b.by_set);
	b.cur = calloc(rs->words, 8);
	uint32_t root;
	if (!b.val || !b.by_set_at || !b.by_set || !b.cur || add_node(&b, &root))
		goto out;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].set >= 0)
			b.by_set_at[rs->rules[i].set + 1]++;
	for (size_t s = 0; s < ns; s++)
		b.by_set_at[s + 1] += b.by_set_at[s];
	b.by_set_at[ns + 1] = b.by_set_at[ns];
	{
		uint32_t *fill = calloc(ns + 1, sizeof *fill);
		if (!fill)
			goto out;
		for (size_t i = 0; i < rs->nrules; i++) {
			int32_t s = rs->rules[i].set;
			if (s >= 0)
				b.by_set[b.by_set_at[s] + fill[s]++] = (uint32_t)i;
		}
		free(fill);
	}
	/* Values at the root are the sets' defaults; rules with no peer
	 * condition hold everywhere. */
	for (size_t s = 0; s < ns; s++)
		b.val[s] = cbar__zone_default(&rs->sets[s].z);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cbar__rule *r = &rs->rules[i];
		if (!r->unknown && !r->alnum && (r->set < 0 || (b.val[r->set] ^ r->neg))) {
			b.cur[i / 64] |= 1ull << (i % 64);
			b.hash ^= mix64(i);
		}
	}
	/* The trie of every term of every set some rule uses. */
	for (size_t s = 0; s < ns; s++) {
		if (b.by_set_at[s] == b.by_set_at[s + 1])
			continue;
		const struct cbar_zone *z = &rs->sets[s].z;
		for (size_t i = 0; i < z->nterms; i++) {
			uint32_t cur = 0;
			for (unsigned k = 0; k < z->terms[i].len; k++) {
				unsigned d = (unsigned)(z->terms[i].digits[k] - '0');
				if (!rs->trie[cur].child[d]) {
					uint32_t id;
					if ((err = add_node(&b, &id)))
						goto out;
					rs->trie[cur].child[d] = id;
				}
				cur = rs->trie[cur].child[d];
			}
			if ((err = cbar__grow((void **)&b.te, &b.capte, b.nte, sizeof *b.te)))
				goto out;
			b.te[b.nte] = (struct term_end){(uint32_t)s, b.te_head[cur], z->terms[i].in};
			b.te_head[cur] = (uint32_t)b.nte++;
		}
	}
	/* Each term end changes at most one set once on a path. */
	if (!(b.undo = malloc((b.nte + 1) * sizeof *b.undo))) {
		err = CBAR_NOMEM;
		goto out;
	}
	walk(&b, 0, true);
	if ((err = b.err))
		goto out;
	/* An unknown peer: the rules with no peer condition, and the `unknown`
	 * ones; interned with the others, so lint's walk over every bitmap
	 * sees this case too. */
	memset(b.cur, 0, rs->words * 8);
	b.hash = 0;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].set < 0 && !rs->rules[i].alnum) {
			b.cur[i / 64] |= 1ull << (i % 64);
			b.hash ^= mix64(i);
		}
	err = intern(&b, &rs->unknown_vec);
	if (err)
		goto out;
	/* An alphanumeric sender: the rules with no peer condition and the
	 * `alphanumeric` ones (not `unknown`: a name is not a withheld number). */
	memset(b.cur, 0, rs->words * 8);
	b.hash = 0;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].set < 0 && !rs->rules[i].unknown) {
			b.cur[i / 64] |= 1ull << (i % 64);
			b.hash ^= mix64(i);
		}
	err = intern(&b, &rs->alnum_vec);
out:
	free(b.val);
	free(b.by_set_at);
	free(b.by_set);
	free(b.cur);
	free(b.te);
	free(b.te_head);
	free(b.undo);
	free(b.htab);
	free(b.hkeys);
	return err;
}

/* The walk of every CBAR__JUMP_DIGITS-digit start, as decide_from() walks:
 * from the root, down while the digit has a child, keeping the deepest
 * bitmap. */
static enum cbar_err build_jump(struct cbar_rules *rs)
{
	rs->jump = malloc(CBAR__JUMP_SIZE * sizeof *rs->jump);
	if (!rs->jump)
		return CBAR_NOMEM;
	for (unsigned x = 0; x < CBAR__JUMP_SIZE; x++) {
		uint32_t node = 0, vec = rs->trie[0].vec;
		for (unsigned k = 0, div = CBAR__JUMP_SIZE / 10; k < CBAR__JUMP_DIGITS;
		     k++, div /= 10) {
			if (!(node = rs->trie[node].child[x / div % 10]))
				break;
			if (rs->trie[node].vec != CBAR__NOVEC)
				vec = rs->trie[node].vec;
		}
		rs->jump[x] = (struct cbar__jump){node, vec};
	}
	return CBAR_OK;
}

static enum cbar_err build_tables(struct cbar_rules *rs)
{
	/* A whole number of the steps decide_from() ANDs the bitmaps in; the
	 * words past the last rule stay zero. */
	size_t w = rs->words =
	    (rs->nrules + 64 * CBAR__WORDS_STEP - 1) / (64 * CBAR__WORDS_STEP) * CBAR__WORDS_STEP;
	rs->nregion = 1;
	while (rs->nregion < 256 && cbar_numplan_region_code(rs->np, (uint8_t)rs->nregion))
		rs->nregion++;
	rs->svcdir = calloc(4 * w, 8);
	rs->carrier = calloc(CBAR_CARRIER_COUNT * w, 8);
	rs->region = calloc(rs->nregion * w, 8);
	if (!rs->svcdir || !rs->carrier || !rs->region)
		return CBAR_NOMEM;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cbar__rule *r = &rs->rules[i];
		uint64_t bit = 1ull << (i % 64);
		rs->any_unless |= r->unless != CBAR__UNLESS_NONE;
		for (unsigned k = 0; k < 4; k++)
			if (r->scope >> k & 1)
				rs->svcdir[k * w + i / 64] |= bit;
		for (unsigned c = 0; c < CBAR_CARRIER_COUNT; c++)
			if (!r->carriers || (r->carriers >> c & 1))
				rs->carrier[c * w + i / 64] |= bit;
		for (size_t g = 0; g < rs->nregion; g++)
			if (r->any_region || (r->regions[g / 64] >> (g % 64) & 1))
				rs->region[g * w + i / 64] |= bit;
	}
	enum cbar_err err = build_peer(rs);
	return err ? err : build_jump(rs);
}

enum cbar_err cbar_rules_compile(const struct cbar_numplan *np, const char *text, size_t len,
                                 const char *filename, const struct cbar_rules_loader *loader,
                                 struct cbar_diag *d, struct cbar_rules **out)
{
	struct cbar_diag dummy;
	if (!d)
		d = &dummy;
	memset(d, 0, sizeof *d);
	d->file = filename;
	*out = NULL;
	if (!np || (!text && len))
		return CBAR_INVAL;
	struct cbar_rules *rs = calloc(1, sizeof *rs);
	if (!rs)
		return CBAR_NOMEM;
	rs->np = np;
	rs->file = strdup(filename ? filename : "-");
	unsigned lines = 0;
	enum cbar_err err = CBAR_NOMEM;
	if (rs->file)
		err = cbar__rules_parse(rs, text, len, rs->file, loader, d, &lines);
	if (!err) {
		err = build_tables(rs);
		if (err == CBAR_RULES_TOO_BIG)
			cbar_diag_set(d, err, 0, 0,
			              "too many distinct peer conditions for one snapshot: gather "
			              "+prefix peers into a list");
		if (err == CBAR_NOMEM)
			cbar_diag_set(d, err, lines, 0, "out of memory");
	}
	if (err) {
		if (err == CBAR_NOMEM && !rs->file)
			cbar_diag_set(d, err, 0, 0, "out of memory");
		cbar_rules_free(rs);
		return err;
	}
	*out = rs;
	return CBAR_OK;
}

void cbar_rules_free(struct cbar_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nsets; i++) {
		free(rs->sets[i].name);
		cbar_zone_release(&rs->sets[i].z);
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		free(rs->rules[i].ingress);
		free(rs->rules[i].reason);
	}
	for (size_t i = 0; i < rs->nann; i++) {
		for (size_t k = 0; k < rs->ann[i].ntexts; k++) {
			free((char *)rs->ann[i].texts[k].lang);
			free((char *)rs->ann[i].texts[k].text);
		}
		free((struct cbar_text *)rs->ann[i].texts);
		free((char *)rs->ann[i].name);
	}
	free(rs->ann);
	free(rs->limits);
	free(rs->sets);
	free(rs->rules);
	free(rs->emerg);
	free(rs->svcdir);
	free(rs->carrier);
	free(rs->region);
	free(rs->trie);
	free(rs->jump);
	free(rs->vecbits);
	free(rs->file);
	free(rs);
}
