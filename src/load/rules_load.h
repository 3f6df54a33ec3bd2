/* callbar: what the rule commands share: loading a rule file (with its list
 * files) and an unlock file, reading times and events, printing verdicts. */
#ifndef CALLBAR_RULES_LOAD_H
#define CALLBAR_RULES_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "callbar/rules.h"
#include "store/unlockset.h"


/* The loader of list files named in a rule file (struct cbar_rules_loader,
 * ctx unused): read relative to the rule file. */
enum cbar_err cbar_rules_load_list(void *ctx, const char *rule_file, const char *path,
                              size_t pathlen, char **text, size_t *len, struct cbar_diag *d);

/*
 * Read and compile the rule file at path: the one reading of rule files,
 * for the commands and the daemon alike (one size limit, NUL bytes refused
 * with their place, list files read beside it), so a file `lint` accepts
 * is one a reload accepts.  *text gets the file's bytes (NUL-ended; the
 * caller frees them, also on a compile error; NULL when it could not be
 * read) and *len their count.  CBAR_OK with *out compiled, else the error
 * with d giving path, line and column (0 when not about a place).
 */
enum cbar_err cbar_rules_read(const struct cbar_numplan *np, const char *path, char **text,
                              size_t *len, struct cbar_rules **out, struct cbar_diag *d);

/* Compile the rule file at path; NULL after printing file:line:column, the
 * line and a caret to stderr. */
struct cbar_rules *cbar_rules_load(const struct cbar_numplan *np, const char *path);

/* Print a compile error the way cbar_rules_load() does (text is the file). */
void cbar_rules_print_diag(FILE *f, const char *text, size_t len, const struct cbar_diag *d);

/* The unlock set of a file's text (len bytes, no NUL needed), as
 * cbar_unlocks_load() reads it; NULL with d naming the bad line (line 0 when
 * memory is short). */
struct cbar_unlockset *cbar_unlocks_parse(const struct cbar_numplan *np, uint16_t country,
                                     const char *text, size_t len, const char *name,
                                     struct cbar_diag *d);

/* The same, the text read in parts on up to threads threads (a big file:
 * a part is at least 256 KiB) and the records added in file order: the
 * same set, and the same first bad line, as one thread. */
#define CBAR_UNLOCK_THREADS_MAX 16
struct cbar_unlockset *cbar_unlocks_parse_threads(const struct cbar_numplan *np, uint16_t country,
                                                  const char *text, size_t len, const char *name,
                                                  unsigned threads, struct cbar_diag *d);
/* The same with parts of at least part_min bytes (the fuzz target reads
 * small texts in parts of a few bytes). */
struct cbar_unlockset *cbar__unlocks_parse_parts(const struct cbar_numplan *np, uint16_t country,
                                                 const char *text, size_t len, const char *name,
                                                 unsigned threads, size_t part_min,
                                                 struct cbar_diag *d);

/* The unlock set of a file, read on up to threads threads (1: this one);
 * NULL after printing the bad line. */
struct cbar_unlockset *cbar_unlocks_load(const struct cbar_numplan *np, uint16_t country,
                                         const char *path, unsigned threads);

/* The unlock set of the registry at url (sqlite:PATH, postgres://...): its
 * active records, expired ones included (the decision compares expiry with
 * the event's time); NULL after printing what went wrong. */
struct cbar_unlockset *cbar_unlocks_from_registry(const char *url);

#endif
