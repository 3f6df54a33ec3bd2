/*
 * callbar: where the document hashing key is, found one way for the
 * command line and the daemon.
 *
 * In order: the path the caller names (--key), else $CALLBAR_KEY, else
 * callbar.key beside a SQLite registry's file, created on first use (a
 * single node's default).  A path that is named, by the option or the
 * environment, must hold a key: it is never created and never skipped, so
 * a $CALLBAR_KEY that points nowhere stops the command or the daemon with
 * the path in the message instead of hashing with another key or none.
 */
#ifndef CALLBAR_LOAD_KEYFILE_H
#define CALLBAR_LOAD_KEYFILE_H

#include "callbar/dochash.h"
#include "callbar/error.h"

/*
 * Load the key for the registry at url into *key.  named: the caller's
 * --key, or NULL.  Returns CBAR_OK (the key is the caller's, to release
 * with cbar_key_release()), CBAR_NOT_FOUND when no key applies (a shared
 * registry and no key named: documents cannot be hashed; d says so), or
 * the error of loading the named or default file (d names the path).
 */
enum cbar_err cbar_key_find(const char *named, const char *url, struct cbar_key *key,
                            struct cbar_diag *d);

#endif
