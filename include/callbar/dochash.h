/*
 * callbar: keyed hashes of identity document numbers.
 *
 * The registry keeps, for a verified unlock, not the document number but
 * BLAKE2b-256 keyed with the operator's secret 32-byte key over
 * "TYPE:CANONICAL" (callbar/idcheck.h gives both).  Without the key, the
 * hash cannot be tested against guesses (a resident number has only about
 * 36 bits of freedom, so an unkeyed hash would fall to a search).
 *
 * Key file: exactly 32 raw bytes, or 64 hex digits (and an optional
 * newline); it must not be readable or writable by group or others.  The
 * embedded default creates one on first use (mode 0600, from the system's
 * random source).  The key never leaves the process; cbar_key_id() names it
 * without revealing it, so a registry can refuse a second key.
 */
#ifndef CALLBAR_DOCHASH_H
#define CALLBAR_DOCHASH_H

#include <stdbool.h>

#include "callbar/error.h"

#define CBAR_KEY_BYTES 32

struct cbar_key {
	unsigned char k[CBAR_KEY_BYTES];
};

/* Load the key at path; when it does not exist and create is true, make a
 * new random one there first (the parent folder must exist).  CBAR_KEY with
 * d naming the file and the fault.  Wipe the key with cbar_key_release(). */
enum cbar_err cbar_key_load(struct cbar_key *key, const char *path, bool create,
                            struct cbar_diag *d);
void cbar_key_release(struct cbar_key *key);

/* 16 hex digits naming the key (a keyed hash of a constant), NUL-ended. */
void cbar_key_id(const struct cbar_key *key, char out[17]);

/* The hash of a canonical document number of a type (a key such as
 * "cn-resident"): 64 hex digits, NUL-ended. */
void cbar_doc_hash(const struct cbar_key *key, const char *doc_type, const char *canon,
                   char out[65]);

#endif
