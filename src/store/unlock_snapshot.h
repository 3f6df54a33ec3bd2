/*
 * callbar: a local snapshot of the unlock set, so that a node restarts by
 * reading one file and the registry's changes since, not the whole
 * registry.
 *
 * The file is the set's table as it is in memory (unlockset.h: buckets of
 * 64 bytes) between a header and a trailer, all in the host's byte order:
 *
 *   offset size
 *        0    8  magic "CBARSNAP"
 *        8    4  version (2: a record away from its home bucket is
 *                 marked in the home's meta word; 1 read both buckets)
 *       12    4  header size (256)
 *       16    8  0x0102030405060708, the writer's byte order
 *       24    8  seq: the registry change the set reflects, all before it
 *       32    8  records
 *       40    8  buckets
 *       48    8  bucket size (64)
 *       56   64  registry: the hash of the registry's audit entry 1 (hex)
 *      120   64  the hash of audit entry seq (hex): the history it is of
 *      184   16  the document key's id (hex), zeros without a key
 *      200    8  written at (unix seconds)
 *      208   48  zeros
 *      256    -  buckets x 64 bytes
 *        -    8  checksum of everything before it (below)
 *        -    8  magic "CBAREND\0"
 *
 * The checksum is a 64-bit hash of four lanes of 8-byte words (multiply,
 * rotate; several GB/s), enough to find damage, not forgery: the file is
 * the node's own, in its own directory.  Reading checks every field, the
 * size, the checksum, each record and, against the registry, that entry 1
 * and entry seq hash as recorded (same registry, same history) and that
 * the key is the node's; any failure is CBAR_SNAPSHOT with d saying which,
 * and the caller loads the registry in full.
 */
#ifndef CALLBAR_STORE_UNLOCK_SNAPSHOT_H
#define CALLBAR_STORE_UNLOCK_SNAPSHOT_H

#include "callbar/store.h"
#include "unlockset.h"

#define CBAR_SNAPSHOT_VERSION 2

/* What a snapshot says it is of. */
struct cbar_unlock_snapshot_id {
	int64_t seq;
	char registry[CBAR_STORE_HASH_HEX]; /* audit entry 1's hash; "" for none */
	char at_hash[CBAR_STORE_HASH_HEX];  /* audit entry seq's hash; "" for none */
	char key_id[17];                    /* "" for none */
};

/* The identity of registry s at seq with document key key_id (NULL or "":
 * none): two indexed reads. */
enum cbar_err cbar_unlock_snapshot_id_of(struct cbar_store *s, int64_t seq, const char *key_id,
                                         struct cbar_unlock_snapshot_id *id, struct cbar_diag *d);

/* Write set as path's snapshot: a file beside it, synced, then renamed over
 * path, so a crash leaves the old snapshot or the new one. */
enum cbar_err cbar_unlock_snapshot_write(const char *path, const struct cbar_unlockset *set,
                                         const struct cbar_unlock_snapshot_id *id,
                                         struct cbar_diag *d);

/* Read path's snapshot and check it as a file: on success *out is the
 * caller's and *id what it says it is of.  CBAR_SNAPSHOT (d says why) for
 * a file that is not one, damaged or cut short; CBAR_IO when it cannot be
 * read; CBAR_NOMEM. */
enum cbar_err cbar_unlock_snapshot_read(const char *path, struct cbar_unlock_snapshot_id *id,
                                        struct cbar_unlockset **out, struct cbar_diag *d);

/* Whether a snapshot of id may stand for registry s with key key_id: the
 * same registry, the same history up to id->seq, the same key.
 * CBAR_SNAPSHOT with d saying which not. */
enum cbar_err cbar_unlock_snapshot_check(struct cbar_store *s, const char *key_id,
                                         const struct cbar_unlock_snapshot_id *id,
                                         struct cbar_diag *d);

/* The file's checksum over n bytes (n a multiple of 32: the header and the
 * buckets), for the fuzz target to make inputs that pass it.  Internal. */
uint64_t cbar__snapshot_checksum(const void *p, size_t n);

#endif
