/*
 * callbar: keyword text messages ("1219" to 10086) that unlock or relock a
 * subscriber's line at level self.  Shared by `callbar keyword` and the
 * daemon's POST /v1/keyword (cbar_engine_keyword(), the one keyword path).
 *
 * The table (etc/callbar/keywords.conf):
 *   service NUMBER... [carrier CARRIER]   numbers keywords are sent to, and
 *                                         the carrier whose subscribers they
 *                                         serve (none: any carrier's)
 *   KEYWORD ACTION SCOPE                  ACTION unlock or relock; SCOPE as --scope
 *   reply WHAT TEXT                       the text sent back (below)
 * '#' starts a comment.  Keywords match whole, ignoring case and the
 * spaces around them.
 *
 * Replies are the operator's words: a `reply` line of the table, else the
 * built-in one, never an internal scope name.  WHAT is one of
 * KW_REPLY_MAP's names; TEXT (the rest of the line) may hold {what_zh} and
 * {what_en} (what the keyword opens or closes: "International texts"),
 * {how_zh} and {how_en} (the announcement of the rule that still bars a
 * service after a registration: where to go instead), {keywords} (the
 * valid keywords), {to} (the number texted) and {own} (the service
 * numbers that serve the subscriber's carrier).
 */
#ifndef CALLBAR_CLI_KEYWORDS_H
#define CALLBAR_CLI_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/status.h"
#include "callbar/store.h"

#define KW_MAX          32
#define KW_DEFAULT_FILE "etc/callbar/keywords.conf"

struct kw {
	char word[KW_MAX];
	bool unlock;
	unsigned scope;
};

/* What a reply answers: the table's `reply` names. */
#define KW_REPLY_MAP(X)                                                                            \
	X(UNLOCKED, "unlocked")                                                                    \
	X(ALREADY_UNLOCKED, "already-unlocked")                                                    \
	X(RELOCKED, "relocked")                                                                    \
	X(ALREADY_LOCKED, "already-locked")                                                        \
	X(NOT_RESTORED, "not-restored")                                                            \
	X(UNKNOWN, "unknown")                                                                      \
	X(WRONG_CARRIER, "wrong-carrier")
enum kw_reply {
#define KW__REPLY(name, key) KW_REPLY_##name,
	KW_REPLY_MAP(KW__REPLY)
#undef KW__REPLY
	    KW_REPLY_COUNT
};
#define KW_REPLY_MAX 600 /* bytes of one reply text */

struct kw_table {
	struct kw kw[64];
	unsigned n;
	char service[16][16];
	unsigned nservice;
	uint8_t service_carrier[16]; /* enum cbar_carrier; NONE: any carrier's */
	char reply[KW_REPLY_COUNT][KW_REPLY_MAX];
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

/* The answer to an unknown keyword: the valid ones (reply "unknown"). */
void cbar_kw_unknown_answer(const struct kw_table *t, char *msg, size_t cap);

/*
 * Whether a subscriber of carrier sub (enum cbar_carrier, from the
 * numbering data: the ported list, the operator's table, the public data)
 * may text the service number to: true when to serves any carrier or sub's,
 * or when sub's carrier is not known.  false: answer with
 * cbar_kw_wrong_carrier().
 */
bool cbar_kw_carrier_ok(const struct kw_table *t, const char *to, unsigned sub);
void cbar_kw_wrong_carrier(const struct kw_table *t, const char *to, unsigned sub, char *msg,
                           size_t cap);

/*
 * Apply keyword k of subscriber sub on the store: *what gets UNLOCKED,
 * ALREADY_UNLOCKED (nothing changed), RELOCKED or ALREADY_LOCKED (nothing
 * changed).  why names the message in the audit log.
 */
enum cbar_err cbar_kw_apply(struct cbar_store *st, const struct kw *k, uint64_t sub,
                            const char *why, int64_t now, enum kw_reply *what, struct cbar_diag *d);

/* "unlocked", "already-unlocked", ...: the result an answer names. */
const char *cbar_kw_result(enum kw_reply what);

/*
 * The text to send back after cbar_kw_apply() gave what.  eff (NULL: not
 * known) is the line's effective status after the change
 * (callbar/status.h): when an unlock keyword leaves a service of its scope
 * barred (a rule that wants an identity document, say), the reply says the
 * registration does not restore it and gives that rule's announcement, and
 * *restored (when not NULL) is false; else true.
 */
void cbar_kw_reply(const struct kw_table *t, const struct kw *k, enum kw_reply what,
                   const struct cbar_status_entry *eff, bool *restored, char *msg, size_t cap);

#endif
