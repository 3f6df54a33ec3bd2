/*
 * callbar serve: the inside of the engine, shared by engine.c (the unlock
 * view and following the registry) and registry_ops.c (the registry
 * routes' work).  Internal to src/daemon.
 */
#ifndef CALLBAR_DAEMON_ENGINE_IMPL_H
#define CALLBAR_DAEMON_ENGINE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "callbar/dochash.h"
#include "callbar/store.h"
#include "engine.h"
#include "load/keywords.h"
#include "slot.h"
#include "store/unlockview.h"

/* How often the follower asks the registry for changes. */
#define FOLLOW_MS 250
/* How often the follower writes the audit chain's head to the log. */
#define HEAD_LOG_S 3600
/* Past this many changed subscribers the delta is folded into the base. */
#define DELTA_MAX 65536

/* The unlock snapshot is written again at most this often (seconds). */
#define SNAPSHOT_EVERY_S 600

/* The base set, shared by the views built on it until a merge replaces it. */
struct base_ref {
	struct cbar_unlockset *set;
	atomic_int refs;
	int64_t seq; /* the registry change the set reflects */
};

/* One published view: what decisions read. */
struct unlock_snap {
	struct base_ref *base;
	struct cbar_unlockset *delta;
	struct cbar_unlockview view;
};

struct engine {
	char *url;
	char *read_url;             /* a standby for the full load at start, or NULL */
	pthread_mutex_t lock;     /* the store connection */
	struct cbar_store *store; /* NULL while the registry is unreachable */
	struct cbar_key key;
	bool have_key;
	struct cbar_snapshot_slot unlocks; /* struct unlock_snap */
	pthread_mutex_t follow;            /* one follow_once() at a time: the follower
	                                      thread, or a route that just wrote */
	int64_t head;                      /* the change sequence followed so far
	                                      (under follow) */
	atomic_uint_least64_t unaudited;   /* rows left out, counted once each */
	_Atomic int64_t broken_at;         /* the audit entry following stopped at,
	                                      0: none (under follow) */
	atomic_bool store_ok;
	atomic_size_t records;
	_Atomic int64_t seq; /* head, for the metrics: read without follow */
	atomic_bool stop;
	struct kw_table keywords; /* for POST /v1/keyword */
	struct cbar_snapshot_slot *rules; /* the daemon's rules, for keyword answers; or NULL */
	bool have_keywords;
	pthread_t follower;
	bool follower_on;
	char *snapshot;           /* the unlock snapshot file; NULL: none */
	int64_t snapshot_seq;     /* the base seq last written; -1: none (follower) */
	int64_t snapshot_at;      /* when (unix seconds) */
};

/* Open the store if it is closed; under e->lock. */
bool cbar__engine_store_up(struct engine *e);
/* The store failed: close it so the next call reconnects; under e->lock. */
void cbar__engine_store_down(struct engine *e);
/* One round of following now (a route that just wrote calls it, so its
 * change governs decisions at once). */
void cbar__engine_follow_once(struct engine *e);
/* A registry route runs between these two: one at a time on the one
 * connection, opened again if it was lost (false: unreachable, d says so). */
bool cbar__engine_store_begin(struct engine *e, struct cbar_diag *d);
enum cbar_err cbar__engine_store_end(struct engine *e, enum cbar_err err);
/* Now, UTC seconds. */
int64_t cbar__engine_now(void);

#endif
