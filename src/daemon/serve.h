/*
 * callbar serve and callbar token: the daemon's public entries, for the
 * command line.  Everything else under src/daemon is the daemon's own.
 */
#ifndef CALLBAR_DAEMON_SERVE_H
#define CALLBAR_DAEMON_SERVE_H

/* Run the daemon with the arguments of `callbar serve` (argv[0] is
 * "serve"); returns the exit status: 0 after a clean stop, 2 when it could
 * not start. */
int cbar_serve_main(int argc, char **argv);

/* `callbar token create|list|revoke` (argv[0] is "token"): the daemon's
 * API tokens in a token file or the registry; returns the exit status, 0
 * or 2. */
int cbar_token_main(int argc, char **argv);

/* `callbar smpp-peer add|list|remove` (argv[0] is "smpp-peer"): the SMPP
 * peers file; returns the exit status, 0 or 2. */
int cbar_smpp_peer_main(int argc, char **argv);

#endif
