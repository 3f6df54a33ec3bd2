/*
 * callbar serve: the snapshot that requests decide on.
 *
 * One immutable object per successful load of the rule file, published in
 * a struct cbar_snapshot_slot (slot.h) and read by request threads without
 * a lock.  Everything a request reports about "the rules it ran on" comes
 * from one snapshot, so the hash, the count and the time always belong to
 * the same version of the file.
 *
 * A snapshot holds the compiled rules (cbar_rules_compile(), the same
 * compiler as `callbar check`), the file's SHA-256 and line count, and when
 * it was loaded.
 */
#ifndef CALLBAR_DAEMON_SNAPSHOT_H
#define CALLBAR_DAEMON_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"
#include "callbar/number.h"
#include "callbar/rules.h"


struct daemon_snapshot {
	uint64_t version;   /* 1 for the first load, +1 for each later one */
	char *path;         /* the file as configured */
	char sha256[65];    /* of the file's bytes, lower-case hex */
	int64_t loaded_ms;  /* UTC milliseconds since 1970 */
	char loaded_at[32]; /* the same as ISO 8601: 2024-05-01T12:00:00.000Z */
	size_t rule_count;
	const struct cbar_numplan *np; /* the plan numbers are parsed with */
	uint16_t country;   /* the context of numbers (the subscriber's country) */
	struct cbar_rules *rules; /* compiled; decisions read only this */
	uint32_t *rule_label;     /* each rule's cbar_rule_label_intern() id (rule_counts.h) */
	uint32_t label_default, label_emergency;
	char *text;               /* the file's bytes */
	size_t len;
	size_t lines;
	/* The numbering plan np points to when this snapshot owns it: the
	 * operator's numbering files (numbering.*) are loaded with each
	 * reload, so a snapshot carries the plan its rules were compiled
	 * with and every front end parses numbers with it.  NULL: np is the
	 * daemon's (no numbering files configured). */
	struct cbar_numplan *own_np;
};

/*
 * Build a snapshot from the rule file at path.  version is the number the
 * new snapshot gets; np (which must outlive the snapshot) and country are
 * recorded for the request handlers.  On failure returns NULL and d names
 * the file, line and column of the first problem; nothing is published.
 */
struct daemon_snapshot *cbar_snapshot_build(const char *path, uint64_t version,
                                       const struct cbar_numplan *np, uint16_t country,
                                       struct cbar_diag *d);

/*
 * The same, with the operator's numbering files (numbering.segments,
 * carriers, ported; "" or NULL each for none) read again: when any is
 * given, the snapshot gets a plan of its own, loaded from them over the
 * built-in data, that its rules are compiled with and every front end
 * parses numbers with (own_np); else it uses np.  A file that fails to
 * load fails the build (NULL, d says so), as a rule file that fails does:
 * a reload keeps the snapshot in use.
 */
struct daemon_snapshot *cbar_snapshot_build_numbered(const char *path, uint64_t version,
                                                     const struct cbar_numplan *np,
                                                     const char *segments, const char *carriers,
                                                     const char *ported, uint16_t country,
                                                     struct cbar_diag *d);

/* Free a snapshot (the slot's release function; takes void * for it). */
void cbar_snapshot_free(void *snap);

#endif
