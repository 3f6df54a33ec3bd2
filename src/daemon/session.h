/*
 * callbar serve: the web console's sessions, and the limit on failed
 * sign-ins.  Internal to src/daemon.
 *
 * A session is made when someone signs in with an API token (`callbar
 * token create`): the browser gets a random session id in an HttpOnly
 * cookie and a random CSRF token in the answer's body, and never keeps the
 * API token.  The table is bounded (SESSION_MAX): a sign-in into a full
 * table pushes out the session used least recently.  A session ends when
 * its holder signs out, after SESSION_IDLE_S seconds unused, or
 * SESSION_LIFE_S seconds after it began, whichever comes first.
 *
 * The table keeps the API token itself, in this process's memory only, so
 * that every request made with the cookie is checked against the token
 * store again: a token revoked with `callbar token revoke` ends its
 * sessions at their next request.  Ids and CSRF tokens are compared in
 * constant time; the table keeps the ids' SHA-256, not the ids.
 *
 * Failed sign-ins are counted per client address over a window of
 * SIGNIN_WINDOW_S seconds; past SIGNIN_FAILS_MAX in a window, sign-ins
 * from that address are refused until the window ends (429).  The address
 * table is bounded too (SIGNIN_ADDRS): when it is full the oldest window
 * is reused.
 *
 * Every function is safe to call from the request threads at once (one
 * mutex; each call is a walk of at most SESSION_MAX entries).
 */
#ifndef CALLBAR_DAEMON_SESSION_H
#define CALLBAR_DAEMON_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token_store.h"

#define SESSION_MAX      1024
#define SESSION_IDLE_S   900   /* 15 minutes unused */
#define SESSION_LIFE_S   28800 /* 8 hours, a shop's working day */
#define SESSION_ID_LEN   43    /* 32 random bytes, base64url without padding */
#define SIGNIN_WINDOW_S  60
#define SIGNIN_FAILS_MAX 5
#define SIGNIN_ADDRS     256

struct session_entry {
	uint8_t id_hash[32]; /* SHA-256 of the id; all zero: a free entry */
	char csrf[SESSION_ID_LEN + 1];
	char token[TOKEN_TEXT_MAX];
	int64_t created, last; /* seconds, CLOCK_MONOTONIC */
};

struct signin_addr {
	uint64_t key;   /* a hash of the address; 0: free */
	int64_t window; /* when its window began */
	unsigned fails;
};

struct sessions {
	pthread_mutex_t lock;
	struct session_entry *tab; /* SESSION_MAX entries */
	struct signin_addr addrs[SIGNIN_ADDRS];
	unsigned idle_s, life_s;
};

/* A session's holder as a request sees it. */
struct session_view {
	char token[TOKEN_TEXT_MAX]; /* to verify against the token store again */
	char csrf[SESSION_ID_LEN + 1];
	int64_t expires_in; /* seconds until the session ends if left idle */
};

enum cbar_err cbar_sessions_init(struct sessions *s);
void cbar_sessions_release(struct sessions *s);

/* Begin a session for token (len bytes, already verified) at now
 * (monotonic seconds); id and csrf get SESSION_ID_LEN characters and a
 * NUL.  CBAR_NOMEM only when random bytes cannot be had. */
enum cbar_err cbar_session_begin(struct sessions *s, const char *token, size_t len, int64_t now,
                                 char id[SESSION_ID_LEN + 1], char csrf[SESSION_ID_LEN + 1]);

/* The live session of id (a cookie's value, len bytes) at now, touched
 * (its idle time starts again); false when there is none.  An expired
 * session found here is ended. */
bool cbar_session_find(struct sessions *s, const char *id, size_t len, int64_t now,
                       struct session_view *out);

/* End the session of id; false when there was none. */
bool cbar_session_end(struct sessions *s, const char *id, size_t len);

/* End every session of token (it no longer verifies). */
void cbar_session_end_token(struct sessions *s, const char *token);

/* Sessions alive at now. */
unsigned cbar_session_count(struct sessions *s, int64_t now);

/* Whether addr may try to sign in at now (false: too many failures in its
 * window; *retry_s says for how long); and counting one failure. */
bool cbar_signin_allowed(struct sessions *s, const char *addr, int64_t now, unsigned *retry_s);
void cbar_signin_failed(struct sessions *s, const char *addr, int64_t now);

/* Whether a and b (NUL-ended) are equal, in time independent of where
 * they differ. */
bool cbar_session_equal(const char *a, const char *b);

#endif
