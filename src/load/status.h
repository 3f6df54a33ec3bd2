/*
 * callbar: a line's status as `callbar status --json` and GET
 * /v1/subscribers/{number} answer it, written by one function so that the
 * command and the daemon give the same bytes:
 *
 *   {"subscriber":"+86...","unlocked":bool,"active":RECORD|null,
 *    "history":[RECORD...],
 *    "effective":[{"service":"voice|sms","direction":"in|out",
 *      "verdict":"allow|block|error","rule":"FILE:LINE"|null,"reason":...,
 *      "since":"YYYY-MM-DD"|null,"unlock_restores":bool,"restore":TEXT|null,
 *      "restore_by":"self|verified"|null,"announcement_name":NAME|null,
 *      "announcement":{"zh":...,"en":...}|null}, ...4 entries]}
 *
 * RECORD is an unlock record as the registry commands write it
 * (cbar_status_record_json()).  Times are in the rule file's zone; the
 * effective entries come from the core (callbar/status.h).  The records
 * are read from the store first and the entries decided after, so that a
 * daemon holds its rules snapshot only while it decides and writes.
 */
#ifndef CALLBAR_LOAD_STATUS_H
#define CALLBAR_LOAD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/status.h"
#include "callbar/store.h"
#include "proto/buf.h"

/* The number abroad the effective status is decided with. */
#define CBAR_STATUS_PEER "+85291234567"

/* What the registry holds for one subscriber.  Owns hist (release with
 * cbar_status_records_release()). */
struct cbar_status_records {
	uint64_t subscriber;
	bool unlocked; /* an active record exists: active holds it */
	struct cbar_store_record active;
	struct cbar_store_record *hist; /* oldest first */
	size_t n, cap;
};

/* An empty set for sub (a node without a registry has nothing more). */
void cbar_status_records_init(struct cbar_status_records *r, uint64_t sub);
/* Read sub's active record and history from st into r (initialised here);
 * on failure the store's code, d says why, and r holds nothing. */
enum cbar_err cbar_status_records_read(struct cbar_store *st, uint64_t sub,
                                       struct cbar_status_records *r, struct cbar_diag *d);
void cbar_status_records_release(struct cbar_status_records *r);

/* The unlock records of r (its active ones) as a lookup for
 * cbar_decide(): what the registry holds for this subscriber, without
 * loading anyone else's.  r must outlive the lookup. */
struct cbar_unlock_lookup cbar_status_records_lookup(const struct cbar_status_records *r);

/*
 * The effective entries of sub now, with the unlock records of lk (NULL:
 * none), decided on rules against CBAR_STATUS_PEER read with np and
 * country cn.  false (CBAR_NOMEM aside, only when the numbering plan cannot
 * read the subscriber or the peer) with nothing written.
 */
bool cbar_status_decide(const struct cbar_rules *rules, const struct cbar_numplan *np, uint16_t cn,
                        uint64_t sub, const struct cbar_unlock_lookup *lk, int64_t now,
                        struct cbar_status_entry out[CBAR_STATUS_ENTRIES]);

/* One record as an object (no newline), times at offset tz. */
bool cbar_status_record_json(struct cbar_buf *b, const struct cbar_store_record *rec, int32_t tz);

/* The whole answer above into b (no newline); eff NULL leaves out
 * "effective".  false when b failed. */
bool cbar_status_json(struct cbar_buf *b, const struct cbar_status_records *r,
                      const struct cbar_status_entry *eff, int32_t tz);

/* "file:line" of an entry's rule, with the file's name without its folder
 * (as verdicts name it), into buf; "" when it has none. */
const char *cbar_status_rule_name(const struct cbar_status_entry *e, char *buf, size_t cap);

/* The text of an announcement in language lang, else NULL. */
const char *cbar_status_text(const struct cbar_announcement *a, const char *lang);

#endif
