/*
 * callbar: the process's descriptor limit (RLIMIT_NOFILE), raised at start
 * and shared out between the servers.
 *
 * A daemon holding thousands of sockets needs more than the soft limit most
 * systems start a process with (1024, kept that low for select()'s sake);
 * the hard limit is what the operator allows, so the daemon takes all of it.
 * What it cannot take must not run out under load: the registry, the logs
 * and a reload open files, so the servers stop accepting a margin before
 * the limit (cbar__fdlimit_budget) instead of failing those.
 */
#ifndef CALLBAR_NET_FDLIMIT_H
#define CALLBAR_NET_FDLIMIT_H

#include <stdint.h>

#include "callbar/error.h"

/* Descriptors kept free for the registry, logs, rule and PEM files and
 * reloads when a server's connection cap is computed. */
#define CBAR_FD_RESERVE 256u

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the
 * hard limit is unlimited).  *soft is the soft limit in force afterwards:
 * the old one when raising failed, which is not an error the daemon stops
 * for (it says so with d and returns CBAR_IO; *soft is still set).
 */
enum cbar_err cbar__fdlimit_raise(uint64_t *soft, struct cbar_diag *d);

/* The soft limit in force now. */
uint64_t cbar__fdlimit_soft(void);

/*
 * Connections a server may hold when soft descriptors exist and reserve
 * must stay free: soft - reserve, at least floor (a tiny limit still
 * serves a few), at most UINT32_MAX.
 */
unsigned cbar__fdlimit_budget(uint64_t soft, unsigned reserve, unsigned floor);

#endif
