/*
 * callbar serve: decisions per minute over the last day, for the console's
 * dashboard, and the history of rule reloads.  Internal to src/daemon.
 *
 * Prometheus stays the long-term store; these rings answer "what happened
 * in the last hours" from the daemon alone, with no scrape in between.
 *
 * Nothing is added to the decision path: every front end already counts
 * its decisions by rule label, front end and verdict, per thread and
 * without a lock (rule_counts.h).  A sample sums those counts and adds what
 * is new since the previous sample to the minute it is taken in; the
 * daemon samples every SERIES_TICK_S seconds on a thread of its own
 * (cbar_series_start()), and before the series are read, so a minute's
 * count is off by at most the decisions of the last SERIES_TICK_S seconds
 * before it ended.
 *
 * Memory is fixed: SERIES_MINUTES minutes, each with a count per verdict,
 * per front end and per rule label; the first SERIES_RULES labels counted
 * get a series of their own, later ones share "other".  One mutex guards
 * the rings and the reload history (the last SERIES_RELOADS reloads).
 */
#ifndef CALLBAR_DAEMON_SERIES_H
#define CALLBAR_DAEMON_SERIES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbar/error.h"

#define SERIES_MINUTES 1440 /* 24 hours */
#define SERIES_RULES   32
#define SERIES_FRONTS  4 /* as rule_counts.h: front ends counted */
#define SERIES_RELOADS 32
#define SERIES_TICK_S  5

/* Add the decisions counted since the last sample to the minute of now
 * (unix seconds). */
void cbar_series_sample(int64_t now);

/* The thread that samples every SERIES_TICK_S seconds; stop it before the
 * counting threads' blocks are freed (cbar_rule_counts_release()). */
enum cbar_err cbar_series_start(void);
void cbar_series_stop(void);

/* Keep one reload: trigger ("start", "sighup", "http"), and either the
 * snapshot's version and hash (ok) or where the file failed. */
void cbar_series_reload(int64_t now, const char *trigger, bool ok, uint64_t version,
                        const char *sha256, const char *error);

/* Sample at now, then the last minutes (1..SERIES_MINUTES) up to now as
 * JSON:
 *   {"step":60,"start":UNIX,"minutes":N,
 *    "verdict":{"allow":[N...],"block":[...],"error":[...]},
 *    "front":{"http":[...],...}, "rule":{"label":[...],...},
 *    "reloads":[{"at","trigger","ok","version","sha256","error"}...]}
 * front_name names a front end's index (NULL: none).  NULL when memory is
 * short. */
json_t *cbar_series_json(int64_t now, unsigned minutes, const char *(*front_name)(unsigned));

/* Forget everything, counts seen so far included (tests). */
void cbar_series_reset(void);

#endif
