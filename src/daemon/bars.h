/*
 * callbar serve: auto-bars in the registry (limits.h tells the whole
 * story): the thread that writes this node's new bars and reads every
 * node's back, and the /v1/bars routes' work.
 */
#ifndef CALLBAR_DAEMON_BARS_H
#define CALLBAR_DAEMON_BARS_H

#include <jansson.h>

#include "callbar/error.h"
#include "engine.h"
#include "limits.h"

struct daemon_bars;

/* Start following the registry's bars for dl (a daemon with a registry);
 * node names the node in the audit entries ("callbar@HOST"). */
enum cbar_err cbar_daemon_bars_start(struct daemon_bars **out, struct engine *e,
                                     struct daemon_limits *dl, const char *node);
void cbar_daemon_bars_stop(struct daemon_bars *b);

/* GET /v1/bars: {"bars":[{key, limit, rule, reason, count, since, until}...]}
 * of the active bars, in *out. */
enum cbar_err cbar_daemon_bars_list(struct engine *e, json_t **out, struct cbar_diag *d);
/* DELETE /v1/bars/{key}: lift key's bars in the registry (audited, by who)
 * and on this node at once; {"key":..,"lifted":N} in *out. */
enum cbar_err cbar_daemon_bars_lift(struct engine *e, struct daemon_limits *dl, const char *key,
                                    const char *who, json_t **out, struct cbar_diag *d);

#endif
