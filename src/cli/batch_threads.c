/*
 * callbar batch --threads N: one reader, N workers, the writer in order.
 *
 * The reader (a thread of its own) reads the input a block at a time into
 * chunks of whole lines, cut where the one-thread loop (cmd_batch.c, run())
 * cuts its lines, so that the lines, and with them the output, are the
 * same: a chunk ends after its last '\n', and the line begun there goes to
 * the front of the next chunk; but when MAX_RECORD bytes or more of that
 * line are in the block, they end the chunk as its line (too long, one bad
 * record) and the rest of it, up to its '\n', is skipped, as one thread
 * does.  A plain file is mapped (cmd_batch.c): its chunks are cut by the
 * same rule from the mapped bytes, with no copy and no block of their own.
 *
 * Workers take the chunks in input order and decide their lines, each with
 * its own struct batch: the chunk's output buffer, its line count, its
 * first MAX_REPORTS bad lines (relative line numbers and messages), and a
 * tally of the worker's own.  The writer (the calling thread) takes the
 * chunks back in input order, reports their bad lines with absolute line
 * numbers, writes their output and keeps the progress line.  The tallies
 * are added up when the workers are done.
 *
 * Memory is constant: there are 2N chunks, a ring; the reader waits for
 * the writer to free the oldest before it fills it again.  A chunk's output
 * buffer grows to at most OUT_CAP blocks; a chunk whose output would pass
 * that (very short bad lines, say) waits until it is the next to be written
 * and writes what it has itself.
 *
 * One mutex guards the ring's counters and flags; each chunk takes it a few
 * times on its way (filled, taken, decided, written), no record ever does.
 * A failure (out of memory, a write) sets stop and wakes everyone; threads
 * leave at their next wait, and the reader after its read in progress.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/* Limits: a chunk's records are kept between reading and writing
 * (batch_limits.c), 520 bytes each; chunks this big keep them in a
 * core's cache (about 6,000 records). */
#define LIMITS_BLOCK (512u << 10)
#define OUT_FIRST 2 /* a chunk's output buffer to start with, in blocks */
#define OUT_CAP   4 /* and at most */

struct bad {
	uint64_t line; /* in the chunk, from 1 */
	char msg[REPORT_TEXT];
};

struct chunk {
	struct pipeline *p;
	uint64_t seq; /* its place in the input, from 0 */
	char *buf;    /* its block, which it reads into (not when the input is mapped) */
	const char *in; /* whole lines (in buf or the mapped file); the last may lack its '\n' */
	size_t n;
	char *out; /* what its records write */
	size_t on, ocap;
	uint64_t lines; /* in it */
	uint64_t end;   /* input bytes up to its end (progress) */
	size_t nbad;    /* bad records; the first MAX_REPORTS in bad[] */
	struct bad bad[MAX_REPORTS];
	bool done;   /* decided; under p->mu */
	bool failed; /* its output is lost (out of memory, a write failed) */
};

struct worker {
	struct pipeline *p;
	struct batch b;
	pthread_t id;
};

struct pipeline {
	FILE *in, *out;
	const char *file;          /* a plain input file mapped, else NULL (read in blocks) */
	size_t file_at, file_size; /* where reading starts in it, its size */
	size_t block;
	bool jsonl;
	struct cbar_cdr_map map; /* a CSV header's layout, set by the reader before
	                      the first chunk is handed out */
	struct chunk *ring;
	size_t nring;
	pthread_mutex_t mu;
	pthread_cond_t filled;  /* for workers: a chunk to take, or the end */
	pthread_cond_t decided; /* for the writer: a chunk decided */
	pthread_cond_t freed;   /* for the reader: a chunk written */
	pthread_cond_t turn;    /* for a worker with a full buffer: nwritten moved */
	pthread_cond_t counted; /* limits: for a worker waiting its chunk's turn */
	bool limits;            /* the rules have limits: decided in turn (batch_limits.c) */
	/* Under mu: */
	uint64_t nread, ntaken, nwritten; /* chunks filled, taken, written */
	bool eof;                         /* the reader is done: nread chunks in all */
	bool stop;                        /* something failed: everyone leaves */
	uint64_t ncounted, lines_counted; /* limits: chunks decided in turn, their lines */
	const char *what;                 /* the first failure: what failed (NULL: memory)... */
	int err;                          /* ...and its errno */
};

/* Stop everything because what failed with err (what NULL: out of
 * memory).  The first failure is the one said. */
static void fail(struct pipeline *p, const char *what, int err)
{
	pthread_mutex_lock(&p->mu);
	if (!p->stop) {
		p->stop = true;
		p->what = what;
		p->err = err;
	}
	pthread_cond_broadcast(&p->filled);
	pthread_cond_broadcast(&p->decided);
	pthread_cond_broadcast(&p->freed);
	pthread_cond_broadcast(&p->turn);
	pthread_cond_broadcast(&p->counted);
	pthread_mutex_unlock(&p->mu);
}

static bool write_out(struct pipeline *p, const char *s, size_t n)
{
	if (!n || fwrite(s, 1, n, p->out) == n)
		return true;
	fail(p, "output", errno ? errno : EIO);
	return false;
}

static void *reader(void *arg)
{
	struct pipeline *p = arg;
	const struct chunk *prev = NULL;
	size_t carry = 0; /* bytes at the end of prev that begin the next chunk */
	uint64_t bytes = 0;
	bool eof = false, skip = false; /* skip: the rest of a too long line */
	size_t pos = p->file_at;        /* mapped: where the next chunk begins */
	if (p->file && pos >= p->file_size)
		eof = true;
	for (uint64_t seq = 0; !eof; seq++) {
		struct chunk *ck = &p->ring[seq % p->nring];
		pthread_mutex_lock(&p->mu);
		while (seq - p->nwritten >= p->nring && !p->stop)
			pthread_cond_wait(&p->freed, &p->mu);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		size_t cut;
		if (p->file) {
			/* Mapped: the chunk is the file's bytes where they lie,
			 * cut by the same rule. */
			size_t have = p->file_size - pos < p->block ? p->file_size - pos : p->block;
			ck->in = p->file + pos;
			cut = have;
			if (pos + have < p->file_size) {
				const char *nl = memrchr(ck->in, '\n', have);
				cut = nl ? (size_t)(nl - ck->in) + 1 : 0;
				if (have - cut >= MAX_RECORD)
					cut = have, skip = true;
			}
			pos += cut;
			bytes = pos;
			if (skip) { /* the rest of the too long line */
				const char *nl = memchr(p->file + pos, '\n', p->file_size - pos);
				pos = nl ? (size_t)(nl - p->file) + 1 : p->file_size;
				skip = false;
			}
			eof = pos >= p->file_size;
		} else {
			/* prev cannot be filled again before this one is: only
			 * this thread fills, and a worker reads no further than
			 * prev->n. */
			if (carry)
				memcpy(ck->buf, prev->in + prev->n, carry);
			size_t have = carry;
			for (;;) {
				size_t got = fread(ck->buf + have, 1, p->block - have, p->in);
				bytes += got;
				have += got;
				/* As run(): a short read is the end, an error too. */
				eof = got == 0 || feof(p->in) || ferror(p->in);
				if (!skip) /* (skip: carry is 0, the block is all new) */
					break;
				const char *nl = memchr(ck->buf, '\n', have);
				size_t drop = nl ? (size_t)(nl - ck->buf) + 1 : have;
				memmove(ck->buf, ck->buf + drop, have - drop);
				have -= drop;
				skip = !nl;
				if (eof)
					break;
			}
			if (!have)
				break;
			ck->in = ck->buf;
			cut = have;
			if (!eof) { /* have == p->block > MAX_RECORD: cut > 0 */
				const char *nl = memrchr(ck->in, '\n', have);
				cut = nl ? (size_t)(nl - ck->in) + 1 : 0;
				if (have - cut >= MAX_RECORD) {
					cut = have;
					skip = true;
				}
			}
			/* As run(): a bad stream's last piece is dropped. */
			if (eof && ferror(p->in)) {
				const char *nl = memrchr(ck->in, '\n', have);
				cut = nl ? (size_t)(nl - ck->in) + 1 : 0;
			}
			carry = have - cut;
		}
		if (seq == 0 && !p->jsonl) { /* the header's layout, for every worker */
			const char *nl = memchr(ck->in, '\n', cut);
			size_t hl = nl ? (size_t)(nl - ck->in) : cut;
			if (hl && ck->in[hl - 1] == '\r')
				hl--;
			if (!cbar_cdr_header(ck->in, hl, &p->map))
				p->map.custom = false;
		}
		ck->seq = seq;
		ck->n = cut;
		ck->end = bytes - carry; /* (mapped: carry is 0) */
		ck->on = 0;
		ck->lines = 0;
		ck->nbad = 0;
		ck->failed = false;
		prev = ck;
		pthread_mutex_lock(&p->mu);
		p->nread = seq + 1;
		pthread_cond_signal(&p->filled);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	p->eof = true;
	pthread_cond_broadcast(&p->filled);
	pthread_cond_signal(&p->decided);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Limits: a chunk's turn to be decided (batch_limits.c). */
struct turn {
	struct pipeline *p;
	uint64_t seq;
};

static bool turn_wait(void *ctx, uint64_t *base)
{
	struct turn *t = ctx;
	struct pipeline *p = t->p;
	pthread_mutex_lock(&p->mu);
	while (p->ncounted != t->seq && !p->stop)
		pthread_cond_wait(&p->counted, &p->mu);
	bool ok = !p->stop;
	*base = p->lines_counted;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

static void turn_done(void *ctx, uint64_t lines)
{
	struct turn *t = ctx;
	struct pipeline *p = t->p;
	pthread_mutex_lock(&p->mu);
	p->ncounted++;
	p->lines_counted += lines;
	pthread_cond_broadcast(&p->counted);
	pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct pipeline *p = w->p;
	struct batch *b = &w->b;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->ntaken == p->nread && !p->eof && !p->stop)
			pthread_cond_wait(&p->filled, &p->mu);
		if (p->stop || p->ntaken == p->nread) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		struct chunk *ck = &p->ring[p->ntaken++ % p->nring];
		pthread_mutex_unlock(&p->mu);

		b->ck = ck;
		b->map = p->map.custom ? &p->map : NULL; /* written before chunk 0 was */
		b->obuf = ck->out;
		b->ocap = ck->ocap;
		b->on = 0;
		b->line = 0;
		b->first = ck->seq == 0;
		if (p->limits) {
			struct turn t = {p, ck->seq};
			const struct batch_turn bt = {turn_wait, turn_done, &t};
			if (!cbar_batch_lstage_lines(b, ck->in, ck->n, &bt)) {
				fail(p, NULL, ENOMEM); /* (after a stop: not said again) */
				return NULL;
			}
		} else {
			cbar_batch_lines(b, ck->in, ck->n);
		}
		ck->out = b->obuf;
		ck->ocap = b->ocap;
		ck->on = b->on;
		ck->lines = b->line;

		pthread_mutex_lock(&p->mu);
		ck->done = true;
		pthread_cond_signal(&p->decided);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Wait until every chunk before ck is written; false when stopped. */
static bool wait_turn(struct chunk *ck)
{
	struct pipeline *p = ck->p;
	pthread_mutex_lock(&p->mu);
	while (p->nwritten != ck->seq && !p->stop)
		pthread_cond_wait(&p->turn, &p->mu);
	bool ok = !p->stop;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

/*
 * put() when the buffer is full: grow it up to OUT_CAP blocks; past that,
 * write the buffer and then s once every chunk before this one is written.
 * The writer writes this chunk's rest only when it is decided, so the
 * bytes keep their order.  After a failure the chunk's output is dropped.
 */
static void chunk_spill(struct batch *b, const char *s, size_t n)
{
	struct chunk *ck = b->ck;
	struct pipeline *p = ck->p;
	size_t cap = OUT_CAP * p->block;
	if (ck->failed)
		return;
	if (b->on + n <= cap) {
		size_t want = b->ocap;
		while (want < b->on + n)
			want *= 2;
		want = want < cap ? want : cap;
		char *nb = realloc(b->obuf, want);
		if (!nb) {
			ck->failed = true;
			fail(p, NULL, ENOMEM);
			return;
		}
		b->obuf = nb;
		b->ocap = want;
	} else {
		if (!wait_turn(ck) || !write_out(p, b->obuf, b->on)) {
			ck->failed = true;
			return;
		}
		b->on = 0;
		if (n > b->ocap) {
			ck->failed = !write_out(p, s, n);
			return;
		}
	}
	memcpy(b->obuf + b->on, s, n);
	b->on += n;
}

static void chunk_report(struct batch *b, const char *msg)
{
	struct chunk *ck = b->ck;
	if (ck->nbad < MAX_REPORTS) {
		struct bad *r = &ck->bad[ck->nbad];
		r->line = b->line;
		snprintf(r->msg, sizeof r->msg, "%s", msg);
	}
	ck->nbad++;
}

/* How a worker's records (batch_decide.c) reach their chunk. */
static const struct batch_chunk_ops chunk_ops = {.spill = chunk_spill, .report = chunk_report};

/* The writer's part of a chunk: reports, output, progress.  b->line and
 * b->reports count the lines and reports before it. */
static void write_chunk(struct pipeline *p, struct batch *b, const struct chunk *ck)
{
	for (size_t i = 0; i < ck->nbad && i < MAX_REPORTS; i++)
		if (b->reports + i < MAX_REPORTS)
			cbar_batch_say_bad(b->progress, b->line + ck->bad[i].line, ck->bad[i].msg);
	b->reports += ck->nbad;
	uint64_t before = b->line;
	b->line += ck->lines;
	if (ck->failed || !write_out(p, ck->out, ck->on))
		return;
	if (b->progress && before >> 20 != b->line >> 20)
		cbar_batch_say_progress(b->line, ck->end, b->total);
}

static void write_all(struct pipeline *p, struct batch *b)
{
	for (;;) {
		pthread_mutex_lock(&p->mu);
		struct chunk *ck = &p->ring[p->nwritten % p->nring];
		bool ready;
		for (;;) {
			ready = !p->stop && p->nwritten < p->nread && ck->done;
			if (ready || p->stop || (p->eof && p->nwritten == p->nread))
				break;
			pthread_cond_wait(&p->decided, &p->mu);
		}
		pthread_mutex_unlock(&p->mu);
		if (!ready)
			return;
		write_chunk(p, b, ck);
		pthread_mutex_lock(&p->mu);
		ck->done = false;
		p->nwritten++;
		pthread_cond_signal(&p->freed);
		pthread_cond_broadcast(&p->turn);
		pthread_mutex_unlock(&p->mu);
	}
}

bool cbar_batch_threads(struct batch *b, FILE *in, const char *file, size_t file_at,
                        size_t file_size, unsigned threads)
{
	struct pipeline p = {
	    .in = in,
	    .file = file,
	    .file_at = file_at,
	    .file_size = file_size,
	    .out = b->out,
	    .block = cbar_rules_limits(b->now.rules) && b->block > LIMITS_BLOCK ? LIMITS_BLOCK
	                                                                        : b->block,
	    .jsonl = b->jsonl,
	    .nring = 2 * (size_t)threads,
	    .mu = PTHREAD_MUTEX_INITIALIZER,
	    .filled = PTHREAD_COND_INITIALIZER,
	    .decided = PTHREAD_COND_INITIALIZER,
	    .freed = PTHREAD_COND_INITIALIZER,
	    .turn = PTHREAD_COND_INITIALIZER,
	    .counted = PTHREAD_COND_INITIALIZER,
	    .limits = cbar_rules_limits(b->now.rules) != 0,
	};
	size_t nr = cbar_rules_count(b->now.rules);
	size_t old_nr = b->old.rules ? cbar_rules_count(b->old.rules) : 0;
	struct worker *w = calloc(threads, sizeof *w);
	pthread_t rd;
	unsigned started = 0;
	bool reading = false;
	int e;
	p.ring = calloc(p.nring, sizeof *p.ring);
	if (!w || !p.ring)
		goto nomem;
	for (size_t i = 0; i < p.nring; i++) {
		struct chunk *ck = &p.ring[i];
		ck->p = &p;
		ck->ocap = OUT_FIRST * p.block;
		if ((!p.file && !(ck->buf = malloc(p.block))) || !(ck->out = malloc(ck->ocap)))
			goto nomem;
	}
	for (unsigned i = 0; i < threads; i++) {
		w[i].p = &p;
		w[i].b = *b;
		w[i].b.out = NULL;
		w[i].b.obuf = NULL;
		w[i].b.progress = false;
		w[i].b.ck_ops = &chunk_ops;
		if (!cbar_tally_init(&w[i].b.t, nr, old_nr) ||
		    (p.limits && !(w[i].b.ls = cbar_batch_lstage_new(b))))
			goto nomem;
	}
	if ((e = pthread_create(&rd, NULL, reader, &p))) {
		fail(&p, "threads", e);
		goto join;
	}
	reading = true;
	for (; started < threads; started++)
		if ((e = pthread_create(&w[started].id, NULL, worker, &w[started]))) {
			fail(&p, "threads", e);
			break;
		}
	write_all(&p, b);
	goto join;
nomem:
	p.stop = true; /* no thread started yet */
join:
	if (reading)
		pthread_join(rd, NULL);
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].id, NULL);
	if (p.stop && p.what)
		fprintf(stderr, "callbar batch: %s: %s\n", p.what, strerror(p.err));
	else if (p.stop)
		fputs("callbar batch: out of memory\n", stderr);
	for (unsigned i = 0; w && i < threads; i++) {
		if (!p.stop)
			cbar_tally_add(&b->t, &w[i].b.t, nr, old_nr);
		cbar_tally_release(&w[i].b.t);
		cbar_batch_lstage_free(w[i].b.ls);
	}
	for (size_t i = 0; p.ring && i < p.nring; i++) {
		free(p.ring[i].buf);
		free(p.ring[i].out);
	}
	free(p.ring);
	free(w);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.filled);
	pthread_cond_destroy(&p.decided);
	pthread_cond_destroy(&p.freed);
	pthread_cond_destroy(&p.turn);
	pthread_cond_destroy(&p.counted);
	return !p.stop;
}
