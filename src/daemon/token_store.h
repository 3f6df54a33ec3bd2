/*
 * callbar: API tokens and the roles they carry.
 *
 * A token is 32 random bytes (libsodium randombytes_buf), written as
 * "cbt_" and 43 base64url characters.  It is shown once, when created; a
 * store keeps only its SHA-256, with the holder's name and role.
 *
 * The people's roles are ordered: agent < supervisor < admin; a route
 * names the least role it needs.  agent: unlock after an identity check,
 * read status; supervisor: also relock and read the audit log; admin: also
 * reload.  gateway stands apart, for the SMS centre: it may post keywords
 * and nothing else, and no other role may post them (cbar_role_allows()).
 *
 * The store is an interface (struct token_store with an ops table) so that
 * the tokens may later live in the registry; token_file.c is the backend
 * for now: a text file, one token a line.
 *
 * verify() must take the same time whether or not a token matches and
 * whichever entry it matches (constant-time compares over every entry), and
 * its answer says only "valid, with this role" or CBAR_UNAUTHENTICATED: never whether
 * a name exists.  It is called from request threads at once.
 *
 * Ownership: the store owns its ctx; token_store_release() frees it.
 */
#ifndef CALLBAR_DAEMON_TOKEN_STORE_H
#define CALLBAR_DAEMON_TOKEN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callbar/error.h"

/* Stores keep a role by its name, never by its number. */
enum role { ROLE_NONE = 0, ROLE_AGENT = 1, ROLE_SUPERVISOR = 2, ROLE_ADMIN = 3, ROLE_GATEWAY = 4 };

/* "agent" for ROLE_AGENT; "none" for ROLE_NONE. */
const char *cbar_role_name(enum role r);
/* The role a name names, or ROLE_NONE. */
enum role cbar_role_parse(const char *s);
/* Whether a token of role have may call what needs need (not ROLE_NONE):
 * a people's role at or above need, or gateway for gateway only. */
bool cbar_role_allows(enum role have, enum role need);

#define TOKEN_NAME_MAX 64
#define TOKEN_TEXT_MAX 64 /* "cbt_" + 43 characters, with room */
#define TOKEN_PREFIX "cbt_"

struct token_info {
	char name[TOKEN_NAME_MAX + 1];
	enum role role;
	int64_t created; /* UTC seconds */
};

struct token_store_ops {
	enum cbar_err (*verify)(void *ctx, const char *token, size_t len, struct token_info *who);
	enum cbar_err (*create)(void *ctx, const char *name, enum role role,
	                        char token[TOKEN_TEXT_MAX], struct cbar_diag *d);
	enum cbar_err (*list)(void *ctx, void (*each)(void *arg, const struct token_info *t),
	                      void *arg, struct cbar_diag *d);
	enum cbar_err (*revoke)(void *ctx, const char *name, struct cbar_diag *d);
	/* CBAR_OK when the store's tokens are in use; else d says why no token
	 * is accepted (a file that is malformed or not to be trusted).  NULL:
	 * always ready.  The daemon asks it at start (and refuses to start)
	 * and in /readyz. */
	enum cbar_err (*ready)(void *ctx, struct cbar_diag *d);
	void (*release)(void *ctx);
};

struct token_store {
	const struct token_store_ops *ops;
	void *ctx;
};

/* A name is 1 to 64 of [A-Za-z0-9._@-]. */
bool cbar_token_name_ok(const char *name);

/*
 * The file backend.  A missing file is an empty store (create() makes it,
 * mode 0600).  The daemon sees changes made by 'callbar token' without a
 * restart: verify() notices that the file changed and reads it again.  A
 * file that does not parse, or is writable by others or owned by another
 * user than root or this process's, is refused by every call; in the
 * daemon no token is accepted until it is good (ready() says why).
 */
enum cbar_err cbar_token_file_open(struct token_store *ts, const char *path, struct cbar_diag *d);

/* The tokens of the unlock registry at url (sqlite:PATH, postgresql://...),
 * shared by every node of it; a token created or revoked anywhere is known
 * within a second (token_registry.c).  CBAR_UNAVAILABLE when it cannot be
 * reached.  who names whoever creates and revokes through it, in the
 * registry's audit log ("cli:alice"). */
enum cbar_err cbar_token_registry_open(struct token_store *ts, const char *url, const char *who,
                                  struct cbar_diag *d);

static inline enum cbar_err token_store_ready(const struct token_store *ts, struct cbar_diag *d)
{
	return ts->ops && ts->ops->ready ? ts->ops->ready(ts->ctx, d) : CBAR_OK;
}

static inline void token_store_release(struct token_store *ts)
{
	if (ts->ops)
		ts->ops->release(ts->ctx);
	ts->ops = NULL;
	ts->ctx = NULL;
}

#endif
