/*
 * callbar: the unlock registry.
 *
 * Conventions for this header:
 * - A registry (struct cbar_store) is one connection to one back end,
 *   named by a URL: "sqlite:PATH" (the embedded default, one file) or
 *   "postgres://..." / "postgresql://..." (a libpq connection URI, several
 *   decision nodes sharing one database).  The back ends sit behind one
 *   interface (src/store/store_be.h) and behave alike: the same test suite
 *   runs against both.
 * - A connection is used by one thread at a time.
 * - Every change is one transaction that is durable before the call
 *   returns CBAR_OK (SQLite: WAL with synchronous=FULL; PostgreSQL:
 *   synchronous_commit on).  A call that fails has changed nothing.
 * - Every change takes the next number of one registry-wide change
 *   sequence (seq, from 1) and appends one entry to the hash-chained audit
 *   log (docs/registry.md gives the canonical entry and the chain).  A
 *   record's id is the seq of the change that created it.
 * - Nothing is ever deleted: a relock marks a record revoked, with who,
 *   why and when.
 * - Identity document numbers never reach the registry: callers check them
 *   (callbar/idcheck.h) and pass the keyed hash (callbar/dochash.h).
 * - Errors: a CBAR_STORE_* (or CBAR_KEY_MISMATCH, CBAR_AUDIT_BROKEN) code,
 *   with a message in the struct cbar_diag the caller passes.
 * - Ownership: cbar_store_open() gives a store the caller frees with
 *   cbar_store_free(); records are plain structs the caller owns.
 */
#ifndef CALLBAR_STORE_H
#define CALLBAR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"

/* Scope bits: service x direction. */
enum {
	CBAR_STORE_VOICE_IN = 1,
	CBAR_STORE_VOICE_OUT = 2,
	CBAR_STORE_SMS_IN = 4,
	CBAR_STORE_SMS_OUT = 8,
	CBAR_STORE_SCOPE_ALL = 15,
};

/* Levels, ordered: verified is more than self. */
enum cbar_store_level {
	CBAR_STORE_SELF = 1,     /* keyword, app: the subscriber's own word */
	CBAR_STORE_VERIFIED = 2, /* identity document checked in person */
};

enum cbar_store_status { CBAR_STORE_ACTIVE = 1, CBAR_STORE_REVOKED = 2 };

#define CBAR_STORE_CHANNEL_MAP(X)                                                \
	X(SHOP, "shop")                                                          \
	X(KEYWORD, "keyword")                                                    \
	X(API, "api")                                                            \
	X(IMPORT, "import")                                                      \
	X(APP, "app")                                                            \
	X(HOTLINE, "hotline")

enum cbar_store_channel {
	CBAR_STORE_CHANNEL_NONE = 0,
#define CBAR__CHAN_ENUM(name, key) CBAR_STORE_CHANNEL_##name,
	CBAR_STORE_CHANNEL_MAP(CBAR__CHAN_ENUM)
#undef CBAR__CHAN_ENUM
	CBAR_STORE_CHANNEL_COUNT
};

#define CBAR_STORE_NAME_MAX 64  /* agent, who: bytes with the NUL */
#define CBAR_STORE_WHY_MAX 160  /* a relock's reason */
#define CBAR_STORE_HASH_HEX 65  /* 64 hex digits and the NUL */

/* One unlock record, as stored. */
struct cbar_store_record {
	int64_t id;          /* the seq that created it */
	uint64_t subscriber; /* E.164 digits as an integer: 8613805710000 */
	unsigned scope;      /* CBAR_STORE_VOICE_IN | ... */
	enum cbar_store_level level;
	enum cbar_store_status status;
	int64_t created;     /* unix seconds */
	int64_t expires;     /* unix seconds; 0: never */
	enum cbar_store_channel channel;
	char agent[CBAR_STORE_NAME_MAX];   /* who verified; "" for none */
	char doc_type[24];                 /* idcheck key; "" for none */
	char doc_hash[CBAR_STORE_HASH_HEX]; /* keyed hash, hex; "" for none */
	int64_t revoked_at;                /* 0 while active */
	char revoked_by[CBAR_STORE_NAME_MAX];
	char revoked_why[CBAR_STORE_WHY_MAX];
	int64_t seq; /* the seq of its last change */
};

/* Scope text: "voice,sms" (both directions of each), "voice-in", "sms-out",
 * "in", "out", "all", comma-separated.  0 when s is not a scope. */
unsigned cbar_store_scope_parse(const char *s);
/* "voice-in,voice-out,sms-in" (or "none") into buf; returns buf. */
char *cbar_store_scope_str(unsigned scope, char *buf, size_t cap);
const char *cbar_store_level_key(enum cbar_store_level l);      /* "self" */
enum cbar_store_level cbar_store_level_parse(const char *s);     /* 0: none */
const char *cbar_store_channel_key(enum cbar_store_channel c);  /* "shop" */
enum cbar_store_channel cbar_store_channel_parse(const char *s); /* 0: none */
const char *cbar_store_status_key(enum cbar_store_status s);    /* "active" */

struct cbar_store;

struct cbar_store_opts {
	unsigned busy_ms;    /* SQLite: wait this long for a lock; 0: 5000 */
	unsigned max_per_id; /* active unlocks per identity hash; 0: 5 */
};

/*
 * Open (and create or migrate) the registry at url.  On failure *out is
 * NULL and d says what went wrong: CBAR_STORE_URL, CBAR_STORE_OPEN,
 * CBAR_STORE_DOWN (server unreachable), CBAR_STORE_CORRUPT,
 * CBAR_STORE_SCHEMA (written by a newer callbar), CBAR_STORE_BUSY.
 */
enum cbar_err cbar_store_open(struct cbar_store **out, const char *url,
                              const struct cbar_store_opts *o, struct cbar_diag *d);
void cbar_store_free(struct cbar_store *s);
/* "sqlite" or "postgres". */
const char *cbar_store_backend(const struct cbar_store *s);

/*
 * Bind the key identifier (callbar/dochash.h) the caller hashes documents
 * with.  The first key bound to a registry is recorded in it, as a change
 * like the others (the next seq, an audit entry "key-bind" by "callbar"
 * with the text "key_id=ID", subscriber and record 0), so that
 * cbar_store_audit_verify() finds a key id changed behind callbar's back;
 * binding another fails with CBAR_KEY_MISMATCH, so hashes made with two
 * keys never mix.  Binding the recorded key again writes nothing.
 * Unlocks with a document need a bound key.
 */
enum cbar_err cbar_store_bind_key(struct cbar_store *s, const char *key_id,
                                  struct cbar_diag *d);

struct cbar_store_unlock_req {
	uint64_t subscriber;
	unsigned scope;
	enum cbar_store_level level;
	int64_t expires; /* 0: never */
	enum cbar_store_channel channel;
	const char *agent;    /* NULL or "" for none (keyword, api) */
	const char *doc_type; /* NULL for none; required for verified */
	const char *doc_hash; /* hex, from cbar_doc_hash() */
	int64_t now;          /* unix seconds */
};

/*
 * Unlock.  A subscriber has at most one active record: an unlock while one
 * is active supersedes it (the old one revoked, "superseded by #N") with
 * the union of both scopes, the higher level (and the document that goes
 * with it) and the later expiry.  When that changes nothing, nothing is
 * written and *changed is false.  Refused with CBAR_STORE_LIMIT when the
 * document already has max_per_id active unlocks on other subscribers.
 * *out gets the active record after the call.
 */
enum cbar_err cbar_store_unlock(struct cbar_store *s, const struct cbar_store_unlock_req *r,
                                struct cbar_store_record *out, bool *changed,
                                struct cbar_diag *d);

/*
 * Relock scope (CBAR_STORE_SCOPE_ALL for everything) of a subscriber: the
 * active record is revoked by who, for why; what remains of its scope
 * continues in a new record.  CBAR_STORE_NOTFOUND when nothing is active
 * or nothing of scope is unlocked.  *out (may be NULL) gets the new active
 * record, id 0 when none remains.
 */
enum cbar_err cbar_store_relock(struct cbar_store *s, uint64_t subscriber, unsigned scope,
                                const char *who, const char *why, int64_t now,
                                struct cbar_store_record *out, struct cbar_diag *d);

/* The active record of a subscriber: CBAR_STORE_NOTFOUND when none. */
enum cbar_err cbar_store_get_active(struct cbar_store *s, uint64_t subscriber,
                                    struct cbar_store_record *out, struct cbar_diag *d);

/*
 * Which of n subscribers have an active unlock: ids[i] gets the id of the
 * active record of subscribers[i], 0 when it has none (subscriber 0 never
 * has one).  The registry is asked once for every run of 256 subscribers
 * (one IN list), not once a subscriber: against PostgreSQL a question is a
 * round trip, and a CRM file's pre-check (callbar import --map) asks it of
 * every row.  Outside an import the runs are read in one read transaction,
 * so every answer is of the same moment; inside one
 * (cbar_store_import_begin) they see the records imported so far.  On
 * failure ids[] is left partly written.
 */
enum cbar_err cbar_store_active_many(struct cbar_store *s, const uint64_t *subscribers, size_t n,
                                     int64_t *ids, struct cbar_diag *d);

/* Return nonzero from a callback to stop the walk (the call still
 * returns CBAR_OK). */
typedef int (*cbar_store_record_fn)(void *arg, const struct cbar_store_record *r);

/* Every record of a subscriber, oldest first. */
enum cbar_err cbar_store_history(struct cbar_store *s, uint64_t subscriber,
                                 cbar_store_record_fn fn, void *arg, struct cbar_diag *d);
/* Every record, by id (export). */
enum cbar_err cbar_store_foreach(struct cbar_store *s, cbar_store_record_fn fn, void *arg,
                                 struct cbar_diag *d);

/*
 * What the decision path needs of every active record, in one consistent
 * snapshot: the subscriber, scope bits, level, expiry (0: never) and
 * record id.  *head gets the seq the snapshot is at: follow changes from
 * there with cbar_store_changes().  Expired records are included (the
 * decision path compares expires with the event's time).
 */
typedef int (*cbar_store_active_fn)(void *arg, uint64_t e164, unsigned scope,
                                    enum cbar_store_level level, int64_t expires, int64_t id);
enum cbar_err cbar_store_foreach_active(struct cbar_store *s, cbar_store_active_fn fn,
                                        void *arg, int64_t *head, struct cbar_diag *d);

/*
 * What cbar_store_changes() did not pass on: registry rows changed behind
 * callbar's back (an INSERT or UPDATE by hand, with sqlite3 or psql), which
 * the decision path must never act on.  The caller logs it, counts it and
 * alerts (the daemon: docs/daemon.md).
 * - rows: record rows after since whose change no valid audit entry
 *   vouches for: no entry has the row's seq, or that entry is not about
 *   this record, or its after text is not the row.  Each such row is
 *   counted once per connection while the caller follows forward (a row
 *   whose seq lies beyond the chain, which every later call sees again, is
 *   remembered; past 64 of them they may be counted again).
 * - id, seq: the first such row this call (0 when rows is 0).
 * - broken_at: 0, or the first entry after since that does not follow the
 *   chain (a gap, a prev_hash that differs, a hash that does not match its
 *   content).  Following stops before it: *head stays below it and the
 *   rows of later entries are held back (not counted in rows) until the
 *   chain is repaired; it is reported again by every call until then.
 */
struct cbar_store_unaudited {
	int64_t rows;
	int64_t id, seq;
	int64_t broken_at;
};

/*
 * Changes since seq: every record whose last change is after since, in
 * seq order, in its state now (an active record to add or replace, a
 * revoked one to drop by id).  *head gets the seq to pass next time.
 * PostgreSQL also sends NOTIFY callbar_changes, payload the new seq, on
 * every change: listen, then call this to catch up.
 *
 * Only changes the audit chain vouches for are passed on: the entries
 * after since must follow the chain from entry since (each hash checked;
 * the first call on a connection trusts entry since as stored, as
 * cbar_store_audit_verify() checks it), and a record is passed on only
 * when the entry with its seq is about it and says exactly its state.  A
 * row that fails is left out and said in *u (may be NULL), which is
 * zeroed first; the call still returns CBAR_OK.  The cost is one read of
 * the new entries and a BLAKE2b of each, next to the records' read.
 */
enum cbar_err cbar_store_changes(struct cbar_store *s, int64_t since, cbar_store_record_fn fn,
                                 void *arg, int64_t *head, struct cbar_store_unaudited *u,
                                 struct cbar_diag *d);

/*
 * The audit chain's head as stored: the last entry's seq and hash (0 and
 * 64 zeros for an empty registry), for the daemon to publish in its logs
 * and metrics so that a rewrite of the whole chain shows outside the
 * database.  One indexed read; it does not verify the chain
 * (cbar_store_audit_verify() does).  hash may be NULL.
 */
enum cbar_err cbar_store_chain_head(struct cbar_store *s, int64_t *seq,
                                    char hash[CBAR_STORE_HASH_HEX], struct cbar_diag *d);

/*
 * The hash of the audit entry seq as stored ("" when there is none): one
 * indexed read.  The unlock snapshot (src/store/unlock_snapshot.h) names
 * its registry by entry 1 and its place in the history by entry seq.
 */
enum cbar_err cbar_store_entry_hash(struct cbar_store *s, int64_t seq,
                                    char hash[CBAR_STORE_HASH_HEX], struct cbar_diag *d);

/*
 * Wait at most timeout_ms for a change made through another connection:
 * PostgreSQL wakes on NOTIFY callbar_changes at once (this connection
 * LISTENs from the first call, so keep it for waiting only); SQLite has no
 * such signal and waits the whole timeout.  Then ask cbar_store_changes().
 * CBAR_STORE_DOWN when the connection is lost.
 */
enum cbar_err cbar_store_wait_change(struct cbar_store *s, unsigned timeout_ms,
                                     struct cbar_diag *d);

/*
 * The daemon's API tokens, kept in the registry so that every node sharing
 * it knows them (callbar token --registry).  Only a token's SHA-256 (hex)
 * is stored.  Adding a name that exists is CBAR_TOKEN_NAME; revoking one
 * that does not, CBAR_STORE_NOTFOUND.  A revoked token is deleted.  Both
 * are changes like the others: the next seq and an audit entry
 * ("token-add", "token-revoke"; subscriber and record 0; the text
 * "token=NAME role=ROLE sha256=FIRST16HEX"), made by who.
 */
struct cbar_store_token {
	char name[65];
	char role[16];  /* agent, supervisor, admin */
	char hash[65];  /* SHA-256 of the token, hex */
	int64_t created; /* unix seconds */
};
enum cbar_err cbar_store_token_add(struct cbar_store *s, const struct cbar_store_token *t,
                                   const char *who, struct cbar_diag *d);
/* Every token, by name; fn returns nonzero to stop. */
enum cbar_err cbar_store_token_list(struct cbar_store *s,
                                    int (*fn)(void *arg, const struct cbar_store_token *t),
                                    void *arg, struct cbar_diag *d);
enum cbar_err cbar_store_token_revoke(struct cbar_store *s, const char *name, const char *who,
                                      int64_t now, struct cbar_diag *d);

/*
 * Auto-bars: keys a `limit` statement barred (docs/limits.md), shared by
 * every node of the registry.  A bar is a change like the others: the next
 * seq (its id) and an audit entry "auto-bar" by who (the node) naming the
 * limit; lifting one is an entry "bar-lift" by who.  Subscriber and record
 * of the entries are 0; the text is "key=KEY limit=ID rule=FILE:LINE
 * reason=R count=N until=UNTIL".  Nothing is deleted: a lifted bar keeps
 * lifted_at and lifted_by.
 */
struct cbar_store_bar {
	int64_t id;        /* the seq of the change that set it */
	char key[24];      /* "+447911123456", or "+447911*" for a prefix */
	char limit[17];    /* the limit's id (its definition's hash), 16 hex */
	char rule[128];    /* the limit's "file:line" where it was set */
	char reason[65];   /* "" for none */
	uint32_t count;
	int64_t created;   /* unix seconds: the event that went over */
	int64_t until;     /* the bar holds before this */
	int64_t lifted_at; /* 0: not lifted */
	char lifted_by[CBAR_STORE_NAME_MAX + 1];
};
/* Record a bar (b->id is set); a bar of the same limit and key that is
 * active at b->created is left alone and its id given (*added false). */
enum cbar_err cbar_store_bar_add(struct cbar_store *s, struct cbar_store_bar *b, const char *who,
                                 bool *added, struct cbar_diag *d);
/* Bars not lifted whose until is after now (now 0: every bar, lifted or
 * not, newest first, at most limit), or, with since > 0, the bars lifted
 * at or after since (for nodes to drop them).  Active bars are passed on
 * only when the audit entry with their id is the `auto-bar` entry of
 * exactly that bar: a row written or changed by hand is never honoured. */
enum cbar_err cbar_store_bars(struct cbar_store *s, int64_t now, int64_t since, unsigned limit,
                              int (*fn)(void *arg, const struct cbar_store_bar *b), void *arg,
                              struct cbar_diag *d);
/* Lift the active bars of key (every limit's, or limit's when not NULL):
 * *n how many; CBAR_STORE_NOTFOUND when none is active at now. */
enum cbar_err cbar_store_bar_lift(struct cbar_store *s, const char *key, const char *limit,
                                  const char *who, int64_t now, unsigned *n, struct cbar_diag *d);

/* One audit entry (docs/registry.md: the canonical form). */
struct cbar_store_audit {
	int64_t seq, at;
	char who[CBAR_STORE_NAME_MAX + 16];
	char what[16]; /* unlock, relock, supersede, split, import, token-add, token-revoke,
	                  key-bind */
	uint64_t subscriber;
	int64_t record;
	char before[640], after[640]; /* key=value text; "" for none */
	char prev_hash[CBAR_STORE_HASH_HEX], hash[CBAR_STORE_HASH_HEX];
};
typedef int (*cbar_store_audit_fn)(void *arg, const struct cbar_store_audit *a);

/* Audit entries at or after since (unix seconds), in seq order. */
enum cbar_err cbar_store_audit(struct cbar_store *s, int64_t since, cbar_store_audit_fn fn,
                               void *arg, struct cbar_diag *d);

/*
 * Walk the chain from seq 1: each entry's prev_hash must be the hash of the
 * one before, its hash must be that of its own canonical form, seqs must
 * run 1, 2, 3... up to the head recorded with the last change, and every
 * record must be in the state its last audit entry says; every token as
 * its last entry says; and the registry's key id (meta) as its key-bind
 * entry says (none without one); and every bar row as its auto-bar and
 * bar-lift entries say, every auto-bar entry with its row.  CBAR_OK with *n entries and *head_hash
 * (65 bytes), or CBAR_AUDIT_BROKEN with *bad the first entry at fault (or
 * the record id, as d says) and d saying how.  CBAR_NOMEM, or the back
 * end's error, when it could not finish (*bad 0).
 */
enum cbar_err cbar_store_audit_verify(struct cbar_store *s, int64_t *n, int64_t *bad,
                                      char *head_hash, struct cbar_diag *d);

/*
 * Import records as exported from another registry (their status, times,
 * agent, document hash and revocation kept; new ids), inside
 * cbar_store_import_begin/_end, one transaction: _end with commit false
 * (or a failure) leaves the registry as it was.  cbar_store_import_many()
 * takes n records in order; a subscriber with an active unlock in the
 * registry or earlier among them is refused, and *failed is then the
 * index of the record that failed.
 */
enum cbar_err cbar_store_import_begin(struct cbar_store *s, struct cbar_diag *d);
enum cbar_err cbar_store_import_many(struct cbar_store *s, const struct cbar_store_record *r,
                                     size_t n, const char *who, int64_t now, size_t *failed,
                                     struct cbar_diag *d);
enum cbar_err cbar_store_import_end(struct cbar_store *s, bool commit, struct cbar_diag *d);

/* The canonical key=value text of a record (audit before/after). */
void cbar_store_record_text(const struct cbar_store_record *r, char *buf, size_t cap);

#endif
