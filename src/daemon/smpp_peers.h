/*
 * callbar serve: the SMPP peers file (smpp.peers, default var/smpp-peers):
 * who may bind to the firewall, with what password, from where, and what
 * their messages are.
 *
 * One line a peer, fields separated by spaces:
 *   SYSTEM_ID via=CLASS direction=in|out binds=N allow=CIDR[,CIDR...] hash=ARGON2ID
 * '#' starts a comment line.  SYSTEM_ID is 1 to 15 of A-Z a-z 0-9 . _ -;
 * allow= may be "any".  Only the password's Argon2id hash is kept
 * (crypto_pwhash_str): an SMPP password is at most 8 characters, too few
 * for a fast hash to protect it.  `callbar smpp-peer` writes the file
 * (0600); the daemon reads it at start and again on every reload
 * (SIGHUP, POST /v1/reload).
 *
 * A reload keeps each peer's slot (its index: the bind counts and the
 * delivery receipts of the SMPP loop are kept by index): a peer still in
 * the file keeps its slot, a new one takes a free slot, and a removed one
 * leaves a tombstone (gone) so that its index is not given to another peer
 * while its binds may still be open or its receipts on their way.  A peer
 * added again under the same system_id takes its old slot back.
 *
 * Verifying an Argon2id hash takes tens of milliseconds on the SMPP loop;
 * a bind that verified once is remembered by a keyed BLAKE2b of the
 * password (a key made at start, never written), so a peer that binds
 * again costs nothing, and only wrong passwords pay the slow hash.
 */
#ifndef CALLBAR_DAEMON_SMPP_PEERS_H
#define CALLBAR_DAEMON_SMPP_PEERS_H

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#include "callbar/error.h"
#include "net/addr.h"
#include "net/smpp_server.h"

#define SMPP_ALLOW_MAX 16

struct smpp_peer {
	char system_id[16];
	char via[SMPP_VIA_MAX];
	enum cbar_direction direction;
	unsigned binds;
	struct cbar__cidr allow[SMPP_ALLOW_MAX];
	unsigned nallow; /* 0: any address */
	char allow_text[256];
	char hash[crypto_pwhash_STRBYTES];
	bool gone; /* removed by a reload: new binds refused as unknown */
	/* the fast check of a password that verified once */
	bool have_fast;
	unsigned char fast[crypto_generichash_BYTES];
};

struct smpp_peers {
	struct smpp_peer *v;
	unsigned n; /* slots used, tombstones included */
	/* A reload changes the slots while the SMPP loop checks binds. */
	pthread_mutex_t lock;
	unsigned char key[crypto_generichash_KEYBYTES];
};

/* Read path into *p (empty when the file does not exist and missing_ok).
 * CBAR_OK, or an error with d naming the file and line. */
enum cbar_err cbar_smpp_peers_load(struct smpp_peers *p, const char *path, bool missing_ok,
                                   struct cbar_diag *d);
void cbar_smpp_peers_release(struct smpp_peers *p);

/*
 * A reload of the live peers p from path, in two steps so that a reload of
 * the rules and the peers together changes nothing when either fails:
 * prepare reads the file into *fresh and checks that the slots suffice
 * (CBAR_CONFIG when the peers in the file and the tombstones are more
 * than SMPP_PEERS_MAX: a restart clears the tombstones); commit then puts
 * it in place (never fails) and releases *fresh, giving how many peers were
 * added and removed.  Only one reload at a time (the daemon's reload_lock).
 */
enum cbar_err cbar_smpp_peers_prepare(struct smpp_peers *p, const char *path,
                                      struct smpp_peers *fresh, struct cbar_diag *d);
void cbar_smpp_peers_commit(struct smpp_peers *p, struct smpp_peers *fresh, unsigned *added,
                            unsigned *removed, unsigned *changed);

/* The bind check of struct smpp_hooks (ctx: struct smpp_peers). */
uint32_t cbar_smpp_peers_bind(void *ctx, const char *system_id, const char *password,
                              const struct sockaddr *src, struct smpp_peer_info *peer,
                              enum smpp_bind_fail *why);

/* `callbar smpp-peer add|list|remove` (entry in serve.h). */

#endif
