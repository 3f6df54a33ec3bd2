/*
 * callbar: the effective status of a line, what a shop or a call centre is
 * asked all day: "what is barred on my line, since when, and how do I get
 * it back?".
 *
 * It is not a second reading of the rules: each service and direction is
 * decided by cbar_decide() on the same snapshot as every call, for an
 * event now with a number abroad, three times: with the unlock records on
 * file, without any, and with a self registration of that scope added.
 * The differences say what the record on file does and what would restore
 * the service.  `callbar status --rules` and GET /v1/subscribers/{number}
 * both build their answer from this (src/load/status.h writes it).
 *
 * Pure, like the rest of the core: the time and the unlock lookup are
 * given.  Pointers in an entry point into the rules and live as long as
 * they do.
 */
#ifndef CALLBAR_STATUS_H
#define CALLBAR_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "callbar/rules.h"

/* Calls in, calls out, texts in, texts out: in this order. */
#define CBAR_STATUS_ENTRIES 4

/* What would lift a bar: a registration by text or app (self), one with
 * an identity document checked in person (verified), or no unlock at all
 * (the rule has no `unless`). */
enum cbar_restore_by { CBAR_RESTORE_NONE = 0, CBAR_RESTORE_SELF = 1, CBAR_RESTORE_VERIFIED = 2 };

struct cbar_status_entry {
	enum cbar_service service;
	enum cbar_direction direction;
	enum cbar_decision decision; /* now, with the records on file */
	enum cbar_err err;           /* why, when decision is CBAR_ERROR */
	/* The rule that bars, or that the record on file lifts; rule -1 and
	 * the rest NULL or 0 when no rule bars the service either way. */
	int rule;
	const char *file;
	unsigned line;
	const char *reason;
	const struct cbar_announcement *announcement;
	int64_t since;                   /* the rule's `since` (UTC seconds); 0: none */
	bool unlock_restores;            /* barred without the records, allowed with them */
	enum cbar_restore_by restore_by; /* when barred: the least unlock that lifts it */
};

/*
 * The four entries for subscriber sub talking to peer (a number abroad the
 * caller parsed) at time now, with the unlock records of lk (NULL: none).
 * Never fails: an entry that cannot be decided says CBAR_ERROR and why.
 */
void cbar_status_effective(const struct cbar_rules *r, const struct cbar_number *sub,
                           const struct cbar_number *peer, const struct cbar_unlock_lookup *lk,
                           int64_t now, struct cbar_status_entry out[CBAR_STATUS_ENTRIES]);

/* "self", "verified" or NULL (none). */
const char *cbar_restore_by_name(enum cbar_restore_by b);

/* t as the day it falls on at offset tz (seconds east of UTC): YYYY-MM-DD
 * into buf (11 bytes at least); "" for 0 or a year outside 0000 to 9999. */
const char *cbar_status_day(int64_t t, int32_t tz, char *buf, size_t cap);

#endif
