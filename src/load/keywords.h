/*
 * callbar: keyword text messages ("1219" to 10086) that unlock or relock a
 * subscriber's line at level self.  Shared by `callbar keyword` and the
 * daemon's POST /v1/keyword.
 *
 * The table (etc/callbar/keywords.conf):
 *   service NUMBER...          the numbers keywords are sent to
 *   KEYWORD ACTION SCOPE       ACTION unlock or relock; SCOPE as --scope
 * '#' starts a comment.  Keywords match whole, ignoring case and the
 * spaces around them.
 */
#ifndef CALLBAR_CLI_KEYWORDS_H
#define CALLBAR_CLI_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/store.h"

#define KW_MAX 32
#define KW_DEFAULT_FILE "etc/callbar/keywords.conf"

struct kw {
	char word[KW_MAX];
	bool unlock;
	unsigned scope;
};

struct kw_table {
	struct kw kw[64];
	unsigned n;
	char service[16][16];
	unsigned nservice;
};

/* The table of file, or KW_DEFAULT_FILE when file is NULL and it exists,
 * else the built-in one.  On failure false with d naming file:line. */
bool cbar_kw_table_load(struct kw_table *t, const char *file, struct cbar_diag *d);
/* The table of file, or the built-in one when file is NULL: the daemon's
 * (keywords.file), which never looks in the working folder. */
bool cbar_kw_table_load_given(struct kw_table *t, const char *file, struct cbar_diag *d);
/* The table of a file's text (len bytes, no NUL needed), as cbar_kw_table_load()
 * reads it; d gets the line but not the file name. */
bool cbar_kw_table_parse(struct kw_table *t, const char *text, size_t len, struct cbar_diag *d);

/* Whether to is one of the table's service numbers. */
bool cbar_kw_is_service(const struct kw_table *t, const char *to);

/* The keyword text names, or NULL. */
const struct kw *cbar_kw_find(const struct kw_table *t, const char *text);

/* The answer to an unknown keyword: the valid ones, in Chinese and English. */
void cbar_kw_unknown_answer(const struct kw_table *t, char *msg, size_t cap);

/*
 * Apply keyword k of subscriber sub on the store: result gets
 * "unlocked", "already-unlocked", "relocked" or "already-locked", msg the
 * answer to send back.  why names the message in the audit log.
 */
enum cbar_err cbar_kw_apply(struct cbar_store *st, const struct kw *k, uint64_t sub,
                       const char *why, int64_t now, const char **result, char *msg,
                       size_t cap, struct cbar_diag *d);

#endif
