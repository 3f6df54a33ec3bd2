/*
 * callbar serve: the SMPP front end (smpp_front.c), started by serve.c
 * when smpp.listen is set.
 */
#ifndef CALLBAR_DAEMON_SMPP_FRONT_H
#define CALLBAR_DAEMON_SMPP_FRONT_H

#include <stdbool.h>

#include "callbar/error.h"
#include "metrics.h"

struct daemon;

/* Read the peers file, start the listener and the upstream binds.  false
 * with a message on stderr. */
bool cbar_smpp_start(struct daemon *d);
/* The readiness check "smpp_upstream" (ctx: the daemon): CBAR_OK while a
 * bind to the home SMSC is up. */
enum cbar_err cbar_smpp_ready(void *ctx, struct cbar_diag *diag);
/* Unbind and stop (nothing started: nothing done). */
void cbar_smpp_stop(struct daemon *d);
/* The server's counters into the metric families below (for /metrics). */
void cbar_smpp_collect(struct daemon *d);

extern struct metric_family cbar_m_smpp_pdus, cbar_m_smpp_binds, cbar_m_smpp_messages,
    cbar_m_smpp_receipts, cbar_m_smpp_keywords, cbar_m_smpp_upstream, cbar_m_smpp_bound;

#endif
