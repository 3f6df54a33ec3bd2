/*
 * callbar fuzz target: unlock files (--unlocked FILE), read by
 * cbar_unlocks_parse() as cbar_unlocks_load() reads them, in the context of +86.
 * Any bytes; a failure must name a line and column of the text with a
 * message; a set that loads must hold records within bounds, each found
 * again by its subscriber, and the set written back in the file's format
 * must load to the same records.  The text read in parts on threads
 * (cbar__unlocks_parse_parts, with parts of a few bytes) must give the same
 * set, or the same first error at the same line and column.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/scope.h"
#include "load/rules_load.h"
#include "store/unlockset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cbar_numplan *np;
static uint16_t cn;

struct walk {
	const struct cbar_unlockset *other; /* where each record must be found */
	FILE *out;                          /* or where it is written */
	size_t n;
};

static int each(void *arg, const struct cbar_unlock *u)
{
	struct walk *w = arg;
	w->n++;
	if (!u->subscriber || !u->scope || (u->scope & ~CBAR_SCOPE_ALL) ||
	    (u->level != CBAR_UNLOCK_SELF && u->level != CBAR_UNLOCK_VERIFIED) || u->active > 1)
		abort();
	if (w->out) {
		char sc[CBAR_SCOPE_TEXT_MAX];
		fprintf(w->out, "+%" PRIu64 " %s %s", u->subscriber,
		        cbar_scope_str(u->scope, sc, sizeof sc), cbar_level_name(u->level));
		if (u->expires)
			fprintf(w->out, " expires=%" PRIu32, u->expires);
		fputs(u->active ? "\n" : " revoked\n", w->out);
		return 0;
	}
	struct cbar_unlock got[64];
	size_t n = 0;
	if (cbar_unlockset_find((void *)w->other, u->subscriber, got, 64, &n) || n > 64)
		abort();
	for (size_t i = 0; i < n; i++)
		if (got[i].subscriber == u->subscriber && got[i].scope == u->scope &&
		    got[i].level == u->level && got[i].expires == u->expires &&
		    got[i].active == u->active)
			return 0;
	/* A subscriber with more records than fit in got is not checked. */
	if (n < 64)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np) {
		if (cbar_numplan_embedded(&np, NULL))
			abort();
		cn = cbar_numplan_country(np, "CN", 2);
	}
	static const char name[] = "fuzz.unlocks";
	const char *text = (const char *)data;
	struct cbar_diag d = {0};
	struct cbar_unlockset *s = cbar_unlocks_parse(np, cn, text, size, name, &d);
	struct cbar_diag dp = {0};
	struct cbar_unlockset *sp = cbar__unlocks_parse_parts(np, cn, text, size, name, 3, 1, &dp);
	if (!s != !sp || (!s && (d.line != dp.line || d.column != dp.column ||
	                         strcmp(d.msg, dp.msg))))
		abort(); /* the threads read another set, or another first error */
	if (sp) {
		size_t ba, bb, na, nb;
		const void *ia = cbar__unlockset_image(s, &ba, &na);
		const void *ib = cbar__unlockset_image(sp, &bb, &nb);
		if (cbar_unlockset_count(s) != cbar_unlockset_count(sp) || ba != bb || na != nb ||
		    memcmp(ia, ib, ba))
			abort();
		cbar_unlockset_free(sp);
	}
	if (!s) {
		if (d.line == 0 && !strcmp(d.msg, "out of memory"))
			return 0;
		unsigned lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		if (!memchr(d.msg, 0, sizeof d.msg) || !d.msg[0] || d.line < 1 || d.line > lines ||
		    d.column < 1 || d.file != name)
			abort();
		return 0;
	}
	struct walk w = {.other = s};
	if (cbar_unlockset_foreach(s, each, &w) || w.n != cbar_unlockset_count(s))
		abort();
	char *t1 = NULL;
	size_t n1 = 0;
	w = (struct walk){.out = open_memstream(&t1, &n1)};
	if (!w.out)
		abort();
	cbar_unlockset_foreach(s, each, &w);
	fclose(w.out);
	struct cbar_unlockset *s2 = cbar_unlocks_parse(np, cn, t1, n1, name, &d);
	if (!s2 || cbar_unlockset_count(s2) != cbar_unlockset_count(s))
		abort(); /* what the set writes does not load back */
	w = (struct walk){.other = s2};
	cbar_unlockset_foreach(s, each, &w);
	free(t1);
	cbar_unlockset_free(s);
	cbar_unlockset_free(s2);
	return 0;
}
