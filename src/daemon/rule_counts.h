/*
 * callbar serve: decisions counted by rule on threads that must not share a
 * lock (the SIP workers).
 *
 * Every front end counts here (decision.c), each thread into a block of its own (plain loads and stores, read
 * by the scrape with relaxed atomics); nothing is shared on the way but
 * the label table, read without a lock.  A count is kept by label (a
 * rule's reason, "default", "emergency"), front end, service, direction and verdict,
 * the labels of callbar_decisions_total.  Labels are interned when a
 * snapshot is built (snapshot.c), under a mutex, into a table that only
 * grows: a count never needs the snapshot it was made on, which a reload
 * may have freed.  Internal to src/daemon.
 */
#ifndef CALLBAR_DAEMON_RULE_COUNTS_H
#define CALLBAR_DAEMON_RULE_COUNTS_H

#include <stdint.h>

#define RULE_LABELS_MAX 65536 /* past this, every new label counts as "other" */

/* The id of label (copied when new); thread-safe, takes a mutex. */
uint32_t cbar_rule_label_intern(const char *label);

/* Count one decision of the calling thread: label from cbar_rule_label_intern(),
 * front enum daemon_front (0..3), service 0 voice / 1 sms, direction 0 in /
 * 1 out, verdict enum cbar_decision (0 allow, 1 block, 2 error).  No lock. */
void cbar_rule_count(uint32_t label, unsigned front, unsigned service, unsigned direction,
                unsigned verdict);

/* Every nonzero count, summed over the threads, with its label. */
void cbar_rule_counts_each(void (*fn)(void *arg, const char *label, unsigned front,
                                 unsigned service, unsigned direction, unsigned verdict,
                                 uint64_t n),
                      void *arg);

/* Free every block and label, once no thread counts any more (stop). */
void cbar_rule_counts_release(void);

#endif
