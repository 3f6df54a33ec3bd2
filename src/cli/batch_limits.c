/*
 * callbar batch --threads N with a rule file that has limits (batch.h).
 *
 * Limits count the records in input order, and a record's verdict may
 * depend on every record of its key before it, so the decisions must be
 * made one after the other, in input order, with one counting state.
 * Reading a record (cutting its fields, parsing its numbers and its time)
 * is most of the work and depends on nothing but the record, and writing
 * it depends on nothing but its verdict.  So a worker does its chunk in
 * three steps:
 *
 * 1. read: every line of the chunk is read as one thread reads it
 *    (cbar_batch_lines()), but the records read are kept (the stash)
 *    instead of decided; a "record too long" report is kept in its place
 *    among them, so the reports come out in the same order;
 * 2. decide: in the chunk's turn (every chunk before it decided), its
 *    records are decided by cbar_decide_many() with the one limiter, and
 *    the bars they set are noted in the first thread's list with their
 *    absolute line numbers, in input order (only the deciding stage
 *    touches that list until the threads are done);
 * 3. write: the records are written and counted with their verdicts
 *    (cbar_batch_write_decided()), as one thread writes them.
 *
 * Workers read and write side by side; only step 2 is serial.  The
 * verdicts are those of one thread: the same records, decided in the same
 * order by the same limiter (cbar_decide_many() decides as one call per
 * event would, tests/test_decide_many.c).
 *
 * The stash is in segments of SEG records, kept from chunk to chunk, so a
 * record never moves once read (its event points into itself) and memory
 * is that of the biggest chunk's records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

#define SEG 4096

struct batch_lstage {
	struct batch *sum; /* the first thread's batch: the bars */
	struct pending **seg;
	struct cbar_verdict **vseg;
	size_t nseg, n;                    /* segments allocated, records in the stash */
	struct batch_chunk_ops ops;        /* the chunk's, with defer and report ours */
	const struct batch_chunk_ops *own; /* the chunk's */
	bool nomem;
};

struct batch_lstage *cbar_batch_lstage_new(struct batch *sum)
{
	struct batch_lstage *ls = calloc(1, sizeof *ls);
	if (ls)
		ls->sum = sum;
	return ls;
}

void cbar_batch_lstage_free(struct batch_lstage *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->nseg; i++) {
		free(ls->seg[i]);
		free(ls->vseg[i]);
	}
	free(ls->seg);
	free(ls->vseg);
	free(ls);
}

static struct pending *at(const struct batch_lstage *ls, size_t i)
{
	return &ls->seg[i / SEG][i % SEG];
}

/* The next place in the stash; NULL when memory is short. */
static struct pending *next(struct batch_lstage *ls)
{
	if (ls->n == ls->nseg * SEG) {
		struct pending **s = realloc(ls->seg, (ls->nseg + 1) * sizeof *s);
		if (s)
			ls->seg = s;
		struct cbar_verdict **v = realloc(ls->vseg, (ls->nseg + 1) * sizeof *v);
		if (v)
			ls->vseg = v;
		if (!s || !v)
			return NULL;
		ls->seg[ls->nseg] = malloc(SEG * sizeof **s);
		ls->vseg[ls->nseg] = malloc(SEG * sizeof **v);
		if (!ls->seg[ls->nseg] || !ls->vseg[ls->nseg]) {
			free(ls->seg[ls->nseg]);
			free(ls->vseg[ls->nseg]);
			return NULL;
		}
		ls->nseg++;
	}
	return at(ls, ls->n++);
}

/* Step 1's drain: keep the records read.  A record's event points into the
 * record (its numbers), and its message may be its own: both follow it.
 * Only what the record uses is copied (a pending is 520 bytes, mostly
 * messages that only a bad record has): the stash is written once and
 * read twice, and its traffic was a tenth of the run (perf). */
static void stash(struct batch *b)
{
	struct batch_lstage *ls = b->ls;
	for (size_t i = 0; i < b->npend; i++) {
		const struct pending *p = &b->pend[i];
		struct pending *d = next(ls);
		if (!d) {
			ls->nomem = true;
			break;
		}
		d->s = p->s;
		d->len = p->len;
		d->line = p->line;
		d->bad = p->bad;
		if (p->bad == p->msg) {
			memcpy(d->msg, p->msg, sizeof d->msg);
			d->bad = d->msg;
		}
		if (p->bad)
			continue; /* its event is not read */
		d->in = p->in;
		if (p->in.sub_err)
			d->sub_e = p->sub_e;
		if (d->in.ev.subscriber)
			d->in.ev.subscriber = &d->in.sub;
		if (d->in.ev.peer)
			d->in.ev.peer = &d->in.peer;
	}
	b->npend = 0;
}

/* Step 1's report: the only one is a line too long (cbar_batch_lines());
 * kept in its place. */
static void stash_report(struct batch *b, const char *msg)
{
	struct batch_lstage *ls = b->ls;
	struct pending *d = next(ls);
	if (!d) {
		ls->nomem = true;
		return;
	}
	d->s = NULL;
	d->len = 0;
	d->line = b->line;
	snprintf(d->msg, sizeof d->msg, "%s", msg);
	d->bad = d->msg;
}

/* Step 2: decide the stash in order, DECIDE_BATCH at a time as one thread
 * does (the grouping changes no verdict), and note the bars.  (Fetching
 * the counting state a batch or two ahead, cbar_limiter_prefetch() on the
 * next batch's keys, was tried: it cost this step a third more CPU time,
 * the prefetches waiting for memory in place of the counting.) */
static void decide(struct batch *b, uint64_t base)
{
	struct batch_lstage *ls = b->ls;
	const struct cbar_event *ev[DECIDE_BATCH];
	size_t ix[DECIDE_BATCH];
	struct cbar_verdict v[DECIDE_BATCH];
	size_t ne = 0;
	for (size_t i = 0; i <= ls->n; i++) {
		if (i < ls->n) {
			struct pending *p = at(ls, i);
			if (p->bad)
				continue;
			ev[ne] = &p->in.ev;
			ix[ne++] = i;
			if (ne < DECIDE_BATCH)
				continue;
		}
		cbar_batch_decide(b, ev, ne, v);
		for (size_t k = 0; k < ne; k++) {
			/* The bar goes to the summary here, with its absolute line
			 * and in input order; not again when the record is written. */
			if (v[k].limit_new_bar) {
				cbar_batch_note_bar(ls->sum, &v[k], base + at(ls, ix[k])->line);
				v[k].limit_new_bar = false;
			}
			ls->vseg[ix[k] / SEG][ix[k] % SEG] = v[k];
		}
		ne = 0;
	}
}

/* Step 3: write the stash, runs of records (DECIDE_BATCH at most, within
 * a segment) and the reports between them. */
static void write_all(struct batch *b)
{
	struct batch_lstage *ls = b->ls;
	struct cbar_verdict v[DECIDE_BATCH];
	for (size_t i = 0; i < ls->n;) {
		struct pending *p = at(ls, i);
		if (!p->s) { /* a line too long: its report */
			uint64_t line = b->line;
			b->line = p->line;
			ls->own->report(b, p->msg);
			b->line = line;
			i++;
			continue;
		}
		size_t k = 0, nv = 0, end = (i / SEG + 1) * SEG;
		while (k < DECIDE_BATCH && i + k < ls->n && i + k < end && at(ls, i + k)->s) {
			if (!at(ls, i + k)->bad)
				v[nv++] = ls->vseg[(i + k) / SEG][(i + k) % SEG];
			k++;
		}
		cbar_batch_write_decided(b, p, k, v);
		i += k;
	}
}

bool cbar_batch_lstage_lines(struct batch *b, const char *s, size_t n,
                             const struct batch_turn *turn)
{
	struct batch_lstage *ls = b->ls;
	ls->n = 0;
	ls->nomem = false;
	ls->own = b->ck_ops;
	ls->ops = *b->ck_ops;
	ls->ops.defer = stash;
	ls->ops.report = stash_report;
	b->ck_ops = &ls->ops;
	cbar_batch_lines(b, s, n);
	b->ck_ops = ls->own;
	uint64_t base;
	if (!turn->wait(turn->ctx, &base))
		return false;
	if (!ls->nomem)
		decide(b, base);
	turn->done(turn->ctx, b->line);
	if (ls->nomem)
		return false;
	write_all(b);
	return true;
}
