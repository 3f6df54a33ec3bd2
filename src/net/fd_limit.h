/* callbar: the process's descriptor limit. */
#ifndef CALLBAR_NET_FD_LIMIT_H
#define CALLBAR_NET_FD_LIMIT_H

/*
 * Raise RLIMIT_NOFILE's soft limit to the hard limit, once at start before
 * any server starts (the SIP server sizes its TCP connection cap from it:
 * the soft limit less SIP_FD_RESERVE).  Debian's default soft limit, 1024,
 * is the select() era's; the hard limit (524288 or more under systemd) is
 * what the administrator allows.  Returns the soft limit now in force (the
 * old one when it could not be raised).  A process that raises it must not
 * use select() on descriptors past FD_SETSIZE.
 */
unsigned long cbar__fd_limit_raise(void);

#endif
