/*
 * callbar: the registry's logic, shared between its files (internal).
 *
 * The logic is written once for every back end and split by job:
 *   store.c          open, free, key binding, back-end dispatch, the names
 *                    of scopes, levels and channels, the record's columns
 *                    and canonical text, helpers every file uses
 *   store_schema.c   migrations
 *   store_records.c  unlock, relock, reads, the decision path's snapshot
 *                    and changes, import
 *   store_audit.c    the hash chain: append, head, listing, verification
 *   store_tokens.c   the daemon's API tokens
 * The back ends (sqlite.c, postgres.c) see only store_be.h.
 */
#ifndef CALLBAR_STORE_IMPL_H
#define CALLBAR_STORE_IMPL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store_be.h"

/* Run one statement through the back end; fn (may be NULL) sees each row. */
static inline enum cbar_err cbar__q(struct cbar_store *s, const char *sql, int n,
                                    const char *const *p, cbar__row_fn fn, void *arg,
                                    struct cbar_diag *d)
{
	return s->be->exec(s, sql, n, p, fn, arg, d);
}

/* Row callbacks: the first column as an integer (int64_t *arg) or as text
 * (char arg[CBAR_STORE_HASH_HEX] or more); both stop after one row. */
int cbar__row_int(void *arg, int n, const char *const *c);
int cbar__row_text(void *arg, int n, const char *const *c);

/* Parameters as text: buf must be an array (sizeof is taken). */
#define I64(buf, v) (snprintf(buf, sizeof buf, "%" PRId64, (int64_t)(v)), buf)
#define U64(buf, v) (snprintf(buf, sizeof buf, "%" PRIu64, (uint64_t)(v)), buf)

/* Copy src (NULL: "") into dst, cut to cap - 1 bytes. */
void cbar__copy(char *dst, size_t cap, const char *src);

/* Percent-escape s outside A-Za-z0-9._:@/+-, into out at n; returns the
 * length the whole text needs (out is cut at cap and always ended). */
size_t cbar__esc(char *out, size_t cap, size_t n, const char *s);

/* An unlock record's columns, in the order cbar__rec_from_row reads them. */
#define REC_COLS                                                                 \
	"id, subscriber, scope, level, status, created, expires, channel, agent, "   \
	"doc_type, doc_hash, revoked_at, revoked_by, revoked_why, seq"
#define REC_NCOLS 15
void cbar__rec_from_row(struct cbar_store_record *r, const char *const *c);

/* An audit entry's columns, in the order cbar__audit_from_row reads them. */
#define AUDIT_COLS "seq, at, who, what, subscriber, record, before, after, prev_hash, hash"
#define AUDIT_NCOLS 10
void cbar__audit_from_row(struct cbar_store_audit *a, const char *const *c);

/* The hash of an audit entry over its prev_hash and canonical text
 * (docs/registry.md). */
void cbar__audit_hash(const struct cbar_store_audit *a, char out[CBAR_STORE_HASH_HEX]);

/* The prev_hash of the first entry: 64 zeros. */
extern const char cbar__genesis[CBAR_STORE_HASH_HEX];

/* The chain's head: the last entry's seq and hash (0 and the genesis when
 * there is none). */
struct cbar__head {
	int64_t seq;
	char hash[CBAR_STORE_HASH_HEX];
};
enum cbar_err cbar__head_get(struct cbar_store *s, struct cbar__head *h, struct cbar_diag *d);

/* Inside a write transaction: append the entry for change h->seq + 1 and
 * advance h (and meta's head_seq).  before and after are texts ("" for
 * none); cbar__audit_append makes them from records (NULL for none). */
enum cbar_err cbar__audit_append_text(struct cbar_store *s, struct cbar__head *h, int64_t at,
                                      const char *who, const char *what, uint64_t subscriber,
                                      int64_t record, const char *before, const char *after,
                                      struct cbar_diag *d);
enum cbar_err cbar__audit_append(struct cbar_store *s, struct cbar__head *h, int64_t at,
                                 const char *who, const char *what, uint64_t subscriber,
                                 int64_t record, const struct cbar_store_record *before,
                                 const struct cbar_store_record *after, struct cbar_diag *d);

/* The audit text of a key binding: "key_id=ID". */
#define KEY_BIND_WHAT "key-bind"
void cbar__key_text(const char *key_id, char *buf, size_t cap);

/* An auto-bar row (store_bar_rows.c): its columns in the order
 * cbar__bar_from_row reads them, and its audit text. */
struct cbar_store_bar;
#define BAR_COLS "id, bar_key, limit_id, rule, reason, count, created, until, lifted_at, lifted_by"
void cbar__bar_from_row(struct cbar_store_bar *b, const char *const *c);
void cbar__bar_text(const struct cbar_store_bar *b, char *buf, size_t cap);

/* The `auto-bar` and `bar-lift` entries of the chain, gathered while
 * verifying it, to check the bar table against (store_bars.c). */
struct cbar__bar_entry {
	int64_t seq, at;
	bool lift; /* bar-lift, else auto-bar */
	bool used; /* matched by a row */
	char *who, *text;
};
struct cbar__bar_log {
	struct cbar__bar_entry *e;
	size_t n, cap;
};
/* Add a's entry when it is one of them: false when out of memory. */
bool cbar__bar_log_add(struct cbar__bar_log *l, const struct cbar_store_audit *a);
void cbar__bar_log_free(struct cbar__bar_log *l);
/* Inside a read transaction: every bar row against l.  CBAR_OK with *bad
 * 0, or with *bad the bar at fault and d saying how; else the back end's
 * error. */
enum cbar_err cbar__bars_verify(struct cbar_store *s, struct cbar__bar_log *l, int64_t *bad,
                                struct cbar_diag *d);

/* End a write transaction: on success tell listeners (PostgreSQL NOTIFY)
 * of seq and commit; on failure (or err) roll back.  Returns the result. */
enum cbar_err cbar__finish(struct cbar_store *s, enum cbar_err err, int64_t seq,
                           struct cbar_diag *d);

/* Create or migrate the schema (store_schema.c); called by open. */
enum cbar_err cbar__migrate(struct cbar_store *s, struct cbar_diag *d);

#endif
