/*
 * callbar: the in-memory set of unlock records the decision path reads.
 *
 * Open addressing keyed by the subscriber's number as a 64-bit integer, in
 * buckets of one cache line holding five records of 12 bytes (the number,
 * at most 50 bits, packed with scope, level and active in 8 bytes; the
 * expiry in 4).  A set sized for its count (cbar_unlockset_new() with the
 * count, or cbar_unlockset_fit() after adding) runs at a load factor of
 * 0.85: 15.1 bytes a record, and most lookups read one cache line.  A
 * subscriber may have several records (say one per scope); they sit in the
 * same probe run.  Lookups allocate nothing; the set is read-only once
 * built and may then be shared by threads.
 *
 * Until the registry (DESIGN.md section 4) exists the records come from a
 * text file, one record a line: NUMBER SCOPE LEVEL, e.g.
 *   +8613800571234 voice,sms verified
 * SCOPE is voice, sms, all, or voice-in, voice-out, sms-in, sms-out, joined
 * by commas; LEVEL is self or verified; then optionally expires=SECONDS (a
 * UTC instant: the record holds before it) and revoked; '#' starts a
 * comment.
 *
 * Ownership: cbar_unlockset_new() returns a set the caller frees with
 * cbar_unlockset_free().  A load that fails may have added some of the
 * records before the bad line: discard the set.
 */
#ifndef CALLBAR_STORE_UNLOCKSET_H
#define CALLBAR_STORE_UNLOCKSET_H

#include <stddef.h>

#include "callbar/error.h"
#include "callbar/number.h"
#include "callbar/rules.h"

struct cbar_unlockset;

/* An empty set sized for about expect records; NULL when memory is short. */
struct cbar_unlockset *cbar_unlockset_new(size_t expect);
void cbar_unlockset_free(struct cbar_unlockset *s);
size_t cbar_unlockset_count(const struct cbar_unlockset *s);
/* The memory the set holds, table and header. */
size_t cbar_unlockset_bytes(const struct cbar_unlockset *s);
/* Shrink the table to the fitted load factor after a load that grew it
 * (adding doubles it when full); CBAR_NOMEM leaves the set as it was. */
enum cbar_err cbar_unlockset_fit(struct cbar_unlockset *s);

/* Add a record; one with the same number, scope and level is replaced.
 * CBAR_INVAL for the number 0 or one past 50 bits (no E.164 number is). */
enum cbar_err cbar_unlockset_add(struct cbar_unlockset *s, const struct cbar_unlock *u);

/* Add n records as n calls of cbar_unlockset_add() in order would (the
 * same set), faster: the table's lines of the records a little further on
 * are prefetched while these are added.  On an error, *done (if not NULL)
 * is the index of the record that failed, the ones before it added. */
enum cbar_err cbar_unlockset_add_many(struct cbar_unlockset *s, const struct cbar_unlock *u,
                                      size_t n, size_t *done);

/* A copy of s with room for more records: the table copied as it is when
 * it has the room (a memory copy, not a rebuild), else a fitted one.  NULL
 * when memory is short. */
struct cbar_unlockset *cbar_unlockset_clone(const struct cbar_unlockset *s, size_t more);

/* Remove every record of subscriber; returns how many. */
size_t cbar_unlockset_remove(struct cbar_unlockset *s, uint64_t subscriber);

/*
 * Add the records of a text (the format above).  Numbers are read in the
 * context of country (a cbar_numplan_country() index).  On a bad line
 * returns CBAR_UNLOCK_SYNTAX with line and column in d.
 */
enum cbar_err cbar_unlockset_load(struct cbar_unlockset *s, const struct cbar_numplan *np,
                                  uint16_t country, const char *text, size_t len, const char *name,
                                  struct cbar_diag *d);

/*
 * The same text read without a set: its records handed to sink in file
 * order, in runs of at most CBAR_UNLOCK_RUN with the line of each; a sink
 * that fails stops the reading and its error is returned (d as the sink
 * set it).  *lines (if not NULL) is the count of lines read, on success.
 * A loader that reads parts of one file on several threads
 * (src/load/rules_load.c) keeps each part's records this way and adds them
 * in order afterwards.
 */
#define CBAR_UNLOCK_RUN 256
typedef enum cbar_err (*cbar_unlock_sink)(void *arg, const struct cbar_unlock *u,
                                          const unsigned *line, size_t n, struct cbar_diag *d);
enum cbar_err cbar_unlockset_parse(const struct cbar_numplan *np, uint16_t country,
                                   const char *text, size_t len, const char *name,
                                   cbar_unlock_sink sink, void *arg, unsigned *lines,
                                   struct cbar_diag *d);

/* Call fn for every record (any order); stop early when fn returns non-zero,
 * which is then returned. */
int cbar_unlockset_foreach(const struct cbar_unlockset *s,
                           int (*fn)(void *arg, const struct cbar_unlock *u), void *arg);

/* The lookup of struct cbar_unlock_lookup, with ctx the set. */
enum cbar_err cbar_unlockset_find(void *ctx, uint64_t subscriber, struct cbar_unlock *out,
                                  size_t cap, size_t *n);
void cbar_unlockset_prefetch(void *ctx, uint64_t subscriber);

static inline struct cbar_unlock_lookup cbar_unlockset_lookup(struct cbar_unlockset *s)
{
	struct cbar_unlock_lookup lk = {
		.find = cbar_unlockset_find, .ctx = s, .prefetch = cbar_unlockset_prefetch};
	return lk;
}

/*
 * For the snapshot file (unlock_snapshot.h), internal: the table as bytes
 * (nbuckets buckets of 64 bytes, the host's byte order); a buffer to read
 * such an image into (free() it unless adopted); and a set made of an image
 * read back, which takes the buffer on success.  The adoption checks every
 * key and the count n, CBAR_INVAL when they do not hold.
 */
const void *cbar__unlockset_image(const struct cbar_unlockset *s, size_t *bytes, size_t *nbuckets);
void *cbar__unlockset_image_alloc(size_t nbuckets);
enum cbar_err cbar__unlockset_adopt(void *image, size_t nbuckets, size_t n,
                                    struct cbar_unlockset **out);

#endif
