/*
 * callbar serve: decisions per minute over the last day, for the console's
 * dashboard, and the history of rule reloads.  Internal to src/daemon.
 *
 * Prometheus stays the long-term store; these rings answer "what happened
 * in the last hours" from the daemon alone, with no scrape in between.
 * Memory is fixed: SERIES_MINUTES minutes, each with a count per verdict,
 * per front end and per rule label; the first SERIES_RULES labels counted
 * get a series of their own, later ones share "other".  Counting takes no
 * lock (relaxed atomic adds into the minute's slot); the first decision of
 * a new minute clears the slot it reuses (the one of 24 hours before).
 *
 * The reload history keeps the last SERIES_RELOADS reloads, under a mutex
 * (a reload is rare).
 */
#ifndef CALLBAR_DAEMON_SERIES_H
#define CALLBAR_DAEMON_SERIES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SERIES_MINUTES 1440 /* 24 hours */
#define SERIES_RULES   32
#define SERIES_FRONTS  4 /* as rule_counts.h: front ends counted */
#define SERIES_RELOADS 32

/* Count one decision at unix second now: verdict enum cbar_decision, front
 * enum daemon_front, label a rule_counts.h label id. */
void cbar_series_count(int64_t now, unsigned verdict, unsigned front, uint32_t label);

/* Keep one reload: trigger ("start", "sighup", "http"), and either the
 * snapshot's version and hash (ok) or where the file failed. */
void cbar_series_reload(int64_t now, const char *trigger, bool ok, uint64_t version,
                        const char *sha256, const char *error);

/* The last minutes (1..SERIES_MINUTES) up to now as JSON:
 *   {"step":60,"start":UNIX,"minutes":N,
 *    "verdict":{"allow":[N...],"block":[...],"error":[...]},
 *    "front":{"http":[...],...}, "rule":{"label":[...],...},
 *    "reloads":[{"at","trigger","ok","version","sha256","error"}...]}
 * front_name names a front end's index.  NULL when memory is short. */
json_t *cbar_series_json(int64_t now, unsigned minutes, const char *(*front_name)(unsigned));

/* Forget everything (tests; a daemon's start). */
void cbar_series_reset(void);

#endif
