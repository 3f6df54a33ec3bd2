/*
 * callbar serve: structured logs, one JSON object per line.
 *
 * Every line has "ts" (UTC, ISO 8601 with milliseconds), "level" and "msg",
 * then the fields the caller packs with a jansson format ("{s:s,s:I}").
 * Lines go to one stream (stderr by default) in a single write each, so
 * threads never interleave within a line.
 *
 * What never goes into a log: an identity document number, a token, and a
 * peer number unless decision_log is on (the caller checks cbar_log_decisions()
 * and writes with cbar_log_decision_members(), which may go to day files kept for a
 * retention period instead).
 * Subscriber numbers appear only in the lines of registry changes.
 */
#ifndef CALLBAR_DAEMON_LOG_H
#define CALLBAR_DAEMON_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "callbar/error.h"

enum log_level { LOG_LV_DEBUG = 0, LOG_LV_INFO = 1, LOG_LV_WARN = 2, LOG_LV_ERROR = 3 };

/* Lines below level are dropped; f is where lines go (NULL: stderr). */
void cbar_log_setup(unsigned level, bool decisions, FILE *f);

bool cbar_log_enabled(enum log_level lv);
bool cbar_log_decisions(void);

/* One line; fmt is a json_pack() object format for the extra fields, or
 * NULL for none. */
void cbar_log_line(enum log_level lv, const char *msg, const char *fmt, ...);

/* A decision's line ("msg":"decision"; the caller checks
 * cbar_log_decisions()), its members already written as JSON (the inside of
 * an object, no braces): the decision path writes them once, never a JSON
 * value built and printed again.  To the day files of
 * cbar_log_decision_file() when it named them, else the main stream. */
void cbar_log_decision_members(const char *members, size_t len);

/*
 * Decision lines to files of their own: PATH.YYYY-MM-DD, one a UTC day,
 * the next opened at midnight; day files older than keep_days (today
 * counts as one) are removed at start and at each new day.  path NULL or
 * "": back to the main stream.  group: the group that may read the files
 * (0640), or ""/NULL (0600).  CBAR_IO when today's file cannot be opened.
 */
enum cbar_err cbar_log_decision_file(const char *path, unsigned keep_days, const char *group,
                                struct cbar_diag *d);

#endif
