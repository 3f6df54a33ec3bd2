/*
 * callbar serve: the parsed token list both token stores publish (the file,
 * token_file.c; the registry, token_registry.c), and what they share.
 * Internal to src/daemon.
 */
#ifndef CALLBAR_DAEMON_TOKEN_LIST_H
#define CALLBAR_DAEMON_TOKEN_LIST_H

#include <sodium.h>
#include <sys/stat.h>

#include "token_store.h"

struct tok_entry {
	struct token_info info;
	unsigned char hash[crypto_hash_sha256_BYTES];
};

struct tok_list {
	struct tok_entry *e;
	size_t n;
	struct stat st; /* the file this list was read from (file store) */
	/* Why the list is empty on purpose: the file was malformed, unreadable
	 * or not to be trusted ("" when the list is what the file says). */
	char bad[256];
};

/* Parse a token file's text (len bytes, no NUL needed; the text is not
 * changed) into a new list; NULL with d naming the bad line. */
struct tok_list *cbar_tok_list_parse(const char *text, size_t len, struct cbar_diag *d);

/* Free a list (a slot's release function). */
void cbar_tok_list_free(void *l);

/* The entry whose hash is the token's, compared in constant time over the
 * whole list; CBAR_UNAUTHENTICATED when none (l may be NULL). */
enum cbar_err cbar_tok_list_find(const struct tok_list *l, const char *token, size_t len,
                            struct token_info *who);

/* A new random token ("cbt_" and 43 base64url characters) and the hex of
 * its SHA-256, the only thing a store keeps. */
void cbar_token_generate(char token[TOKEN_TEXT_MAX], char hex[2 * crypto_hash_sha256_BYTES + 1]);

#endif
