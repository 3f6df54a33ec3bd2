/*
 * callbar batch: what the command (cmd_batch.c), the records
 * (batch_decide.c) and the threads (batch_threads.c) share.  The
 * dependencies run one way: cmd_batch.c uses both others, batch_threads.c
 * uses batch_decide.c, and batch_decide.c calls neither (a worker's chunk
 * is reached through the struct batch_chunk_ops its thread sets).
 *
 * One thread deciding records is a struct batch: a copy of what every
 * record reads (the rule texts, the numbering plan, the unlock lookup: all
 * read-only while records are decided), its own output buffer and its own
 * tally.  With one thread it writes straight to the output file and reports
 * bad records as it meets them; with several, each worker decides chunks of
 * whole lines (struct chunk, batch_threads.c) and the in-order writer turns
 * a chunk's relative line numbers into absolute ones and adds the tallies
 * up at the end.  Nothing a record touches is shared between threads.
 */
#ifndef CALLBAR_CLI_BATCH_H
#define CALLBAR_CLI_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "callbar/rules.h"
#include "proto/cdr.h"
#include "proto/event.h"

#define IN_BLOCK    (4u << 20) /* input read this much at a time; a chunk is one block */
#define OUT_BLOCK   (1u << 20) /* one thread: output written this much at a time */
#define MAX_RECORD  65536
#define MAX_REPORTS 20  /* bad records reported on stderr */
#define REPORT_TEXT 200 /* the longest report, with its NUL */
#define MAX_THREADS 256

/* The text written for each rule of a file; read-only once made. */
struct ruleset {
	const struct cbar_rules *rules;
	char **rule_txt; /* "file:line" of each rule */
	char **tail;     /* ",verdict,file:line,reason\n" of each rule; [nrules]: emergency */
	size_t *tail_len;
};

/* What one thread counts.  The arrays have a slot per rule and one more,
 * [nrules], for emergency numbers. */
struct tally {
	uint64_t count[3]; /* by verdict */
	uint64_t *per_rule;
	uint64_t *old_per_rule; /* --compare: by the old file's rule */
	uint64_t changes[3][3]; /* --compare: [old][new] verdicts */
	uint64_t *changed_by;   /* --compare: changed records by the new deciding rule */
	struct report_tally *rep; /* --report: made on first use (batch_report.h) */
};

struct batch;
struct chunk; /* batch_threads.c */

/* CSV records are read into events this many at a time and decided
 * together (cbar_decide_many()), then written in order. */
#define DECIDE_BATCH 32

/* A CSV record read and waiting for its decision: the line it came from
 * (which must stay put until the batch is drained), its line number, and
 * its event or why it is bad. */
struct pending {
	const char *s;
	size_t len;
	uint64_t line;
	const char *bad; /* NULL, or why (static text, or msg) */
	char msg[160];
	struct cbar_event_in in;
	struct cbar_event_error sub_e;
};

/* A worker's chunk, for its records: put()'s slow path when obuf is full,
 * and a bad record's report (batch_threads.c sets them). */
struct batch_chunk_ops {
	void (*spill)(struct batch *b, const char *s, size_t n);
	void (*report)(struct batch *b, const char *msg);
	/* Limits on threads (batch_limits.c): when set, cbar_batch_drain()
	 * hands the records read to it instead of deciding them. */
	void (*defer)(struct batch *b);
};

struct batch {
	/* Read by every record, the same in every thread. */
	const struct cbar_numplan *np;
	struct ruleset now, old; /* old.rules NULL: no --compare */
	bool changed_only, jsonl;
	const struct cbar_unlock_lookup *lk;
	uint16_t cn;
	int32_t tz;
	size_t block; /* IN_BLOCK, or CALLBAR_BATCH_CHUNK for tests */
	bool report;  /* --report FILE: count what its plots show */

	/* This thread's. */
	struct tally t;
	char *obuf;
	size_t on, ocap;
	FILE *out;        /* one thread: where obuf is flushed */
	struct chunk *ck; /* several: the chunk being decided, else NULL */
	const struct batch_chunk_ops *ck_ops; /* several: what reaches ck */
	uint64_t line;    /* lines so far: in the file, or in the chunk */
	uint64_t reports;
	bool first; /* the next line is the file's first */
	const struct cbar_cdr_map *map; /* NULL: the fixed columns */
	struct cbar_cdr_map own_map;    /* one thread: the header read */
	bool progress;
	uint64_t bytes, total; /* read so far, the file's size (0: unknown) */
	struct pending pend[DECIDE_BATCH]; /* CSV records read, not yet decided */
	size_t npend;
	bool single; /* decide each record alone (cbar_decide), for tests:
	                CALLBAR_BATCH_SINGLE=1 */

	/* Limits (docs/limits.md): the old file's lookup with its own counting
	 * state (NULL: lk), and the bars the new file's limits set, kept for
	 * the summary.  Limits count in input order: on threads, each worker
	 * has a stage (batch_limits.c) that reads its chunk's records, decides
	 * them in its chunk's turn and writes them; the bars go to the first
	 * thread's struct batch, in input order. */
	const struct cbar_unlock_lookup *old_lk;
	struct batch_bar *bars;
	size_t nbars, capbars;
	struct batch_lstage *ls; /* several threads and limits: this worker's stage */
};

/* A key a limit barred: its limit, key, and the bar's end. */
struct batch_bar {
	const struct cbar_limit_info *limit;
	uint64_t key;
	uint64_t line; /* the record that went over */
	uint32_t count;
	int64_t until;
};
#define MAX_BARS_KEPT 100000 /* bars listed in the summary; more are counted */

/* batch_decide.c */

/* The texts of rs->rules (read from path): false when memory is short;
 * cbar_batch_ruleset_free() in any case. */
bool cbar_batch_ruleset_init(struct ruleset *rs, const struct cbar_rules *rules, const char *path);
void cbar_batch_ruleset_free(struct ruleset *rs);

/* Decide one line of the input, without its '\n': whether it was a
 * record (not the header, not empty, not too long). */
bool cbar_batch_line(struct batch *b, const char *s, size_t len);

/* Decide every line of [s, s + n): lines end at '\n', and a last piece
 * without one is a line too (a cut over-long line, or the file's end).
 * Every record is decided and written when it returns.  b->bytes counts
 * the bytes gone through (the progress line's, with b->progress). */
void cbar_batch_lines(struct batch *b, const char *s, size_t n);

/* Decide and write the CSV records cbar_batch_line() has read and left
 * waiting (up to DECIDE_BATCH): due before their lines' bytes move or go,
 * and at the end. */
void cbar_batch_drain(struct batch *b);

/* A tally for rule files of nr and old_nr rules (old_nr 0: no --compare):
 * false when memory is short (then cbar_tally_release() is still due). */
bool cbar_tally_init(struct tally *t, size_t nr, size_t old_nr);
void cbar_tally_add(struct tally *to, const struct tally *from, size_t nr, size_t old_nr);
void cbar_tally_release(struct tally *t);

/* Write out what one thread's obuf holds, to b->out. */
void cbar_batch_flush(struct batch *b);

/* The report of a bad record and the progress line, on stderr. */
void cbar_batch_say_bad(bool progress, uint64_t line, const char *msg);
void cbar_batch_say_progress(uint64_t line, uint64_t bytes, uint64_t total);

/* Decide n events read from records by the new rules: together
 * (cbar_decide_many()), or one by one with CALLBAR_BATCH_SINGLE (b->single);
 * v[i] is ev[i]'s verdict. */
void cbar_batch_decide(struct batch *b, const struct cbar_event *const *ev, size_t n,
                       struct cbar_verdict *v);

/* Note the bar v set at the record of line, for the summary. */
void cbar_batch_note_bar(struct batch *b, const struct cbar_verdict *v, uint64_t line);

/* Write the records p[0..k) read and decided (v: the verdicts of those
 * without p->bad, in order), as cbar_batch_drain() does after deciding. */
void cbar_batch_write_decided(struct batch *b, struct pending *p, size_t k,
                              const struct cbar_verdict *v);

/* batch_limits.c: limits on threads.  A worker's stage reads its chunk's
 * records into events (in parallel with the other workers), decides them
 * in the chunk's turn (turn(): after every chunk before it, with the one
 * counting state), then writes them (in parallel again).  The verdicts
 * and the bars are the same as one thread's. */
struct batch_turn {
	/* Wait for the chunk's turn: false when stopped; *base: the lines of
	 * the chunks before it. */
	bool (*wait)(void *ctx, uint64_t *base);
	void (*done)(void *ctx, uint64_t lines); /* its turn is over; its lines */
	void *ctx;
};
struct batch_lstage *cbar_batch_lstage_new(struct batch *sum);
void cbar_batch_lstage_free(struct batch_lstage *ls);
/* Decide the chunk [s, s + n) as cbar_batch_lines() does; false after a
 * failure (out of memory: said by the caller, or stopped). */
bool cbar_batch_lstage_lines(struct batch *b, const char *s, size_t n,
                             const struct batch_turn *turn);

/* batch_threads.c */

/*
 * Decide the input in chunks on threads workers (2..MAX_THREADS) and write
 * the output in input order to b->out, the same bytes and the same reports
 * as one thread would; b->t gets the sum of the tallies.  false after saying
 * on stderr what went wrong (out of memory, a write failed): the output is
 * then cut short.  file (file_size bytes, the records from file_at on): the
 * input mapped, whose chunks are its bytes where they lie; NULL: in is
 * read into the chunks.
 */
bool cbar_batch_threads(struct batch *b, FILE *in, const char *file, size_t file_at,
                        size_t file_size, unsigned threads);

/* batch_io.c */

/*
 * Compressed input: when *in starts with gzip's or zstd's magic byte, start
 * a thread decompressing it and replace *in by the plain stream (name is
 * for messages); a bad stream ends that stream's reads with an error.
 * Likewise an output whose name ends in .gz or .zst: *out becomes the
 * plain stream a thread compresses into the file.  false after
 * saying why on stderr (nothing started then).
 */
bool cbar_batch_io_input(FILE **in, const char *name);
bool cbar_batch_io_output(FILE **out, const char *name);
/* Close the plain streams, wait for the threads and put the files back in
 * *in and *out; false when a compressed stream was bad or a write failed
 * (said on stderr, a bad input with the records decided before it). */
bool cbar_batch_io_finish(FILE **in, FILE **out, FILE *in_file, FILE *out_file,
                          uint64_t records);

#endif
