/*
 * callbar batch --report FILE.html: one self-contained HTML file with plots
 * of what the rules did to the records (docs/console.md, "Pictures from
 * batch").
 *
 * While records are decided each thread counts into a struct report_tally
 * of its own (made on first use, added up with the rest of the tally at the
 * end): decided records by verdict per hour (the rule file's zone), by
 * rule among the blocks, by the subscriber's region and carrier; with
 * --compare, the distinct subscribers with a record that the old file
 * allowed and the new one blocks.  Memory is bounded: at most
 * REPORT_HOURS_MAX distinct hours (later ones are counted apart, as
 * "outside") and REPORT_SUBS_MAX distinct newly barred subscribers (past
 * that the count says "at least").
 *
 * The file carries its numbers as JSON (<script type="application/json"
 * id="cbar-data">) and the code that draws them: it needs no network and
 * no other file.  The counts by verdict and by rule are the summary's own
 * (the same tally), which tests/console/report_test.py checks.
 */
#ifndef CALLBAR_CLI_BATCH_REPORT_H
#define CALLBAR_CLI_BATCH_REPORT_H

#include <stdbool.h>

#include "callbar/rules.h"

#define REPORT_HOURS_MAX (1u << 20)
#define REPORT_SUBS_MAX  (1u << 22)

struct report_tally;
struct batch;

/* Count one decided record (ov: the old file's verdict with --compare,
 * else NULL); *rt is made on first use.  Out of memory: the report says
 * its counts are incomplete. */
void cbar_report_count(struct report_tally **rt, const struct cbar_event *ev, int32_t tz,
                       const struct cbar_verdict *v, const struct cbar_verdict *ov);

/* Add from's counts to *to (made when NULL); from stays the caller's. */
void cbar_report_add(struct report_tally **to, const struct report_tally *from);

void cbar_report_free(struct report_tally *rt);

/* Write the report of b (its summed tally) to path; false after saying
 * why on stderr. */
bool cbar_report_write(const char *path, const struct batch *b, const char *rules_path,
                       const char *old_path);

#endif
