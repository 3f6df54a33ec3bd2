/* callbar serve: auto-bars shared through the registry (bars.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bars.h"
#include "callbar/civil.h"
#include "callbar/store.h"
#include "engine_impl.h"
#include "log.h"

struct daemon_bars {
	struct engine *e;
	struct daemon_limits *dl;
	char node[CBAR_STORE_NAME_MAX + 1];
	pthread_t id;
	atomic_bool stop;
	int64_t lifted_since; /* lifts read up to here (unix seconds) */
};

struct collect {
	struct daemon_shared_bar *v;
	size_t n, cap;
	bool failed;
};

static int on_active(void *arg, const struct cbar_store_bar *b)
{
	struct collect *c = arg;
	uint64_t id, key;
	char *end;
	id = strtoull(b->limit, &end, 16);
	if (*end || !cbar_daemon_limit_key(b->key, &key))
		return 0;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct daemon_shared_bar *nv = realloc(c->v, nc * sizeof *nv);
		if (!nv) {
			c->failed = true;
			return 1;
		}
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n++] = (struct daemon_shared_bar){.limit_id = id, .key = key, .until = b->until};
	return 0;
}

static int on_lifted(void *arg, const struct cbar_store_bar *b)
{
	struct daemon_bars *x = arg;
	cbar_daemon_limits_lift(x->dl, strtoull(b->limit, NULL, 16), b->key);
	return 0;
}

/* One round: write the queued bars, read the active ones and the lifts. */
static void round_once(struct daemon_bars *x)
{
	struct daemon_new_bar q[64];
	struct cbar_diag d = {0};
	size_t n;
	while ((n = cbar_daemon_limits_take(x->dl, q, 64))) {
		if (!cbar__engine_store_begin(x->e, &d))
			return; /* the registry is away: these bars stay this node's */
		enum cbar_err err = CBAR_OK;
		for (size_t i = 0; i < n && !err; i++) {
			struct cbar_store_bar b = {.count = q[i].count, .created = q[i].at,
			                           .until = q[i].until};
			bool added;
			snprintf(b.key, sizeof b.key, "%s", q[i].key);
			snprintf(b.limit, sizeof b.limit, "%016llx", (unsigned long long)q[i].limit_id);
			snprintf(b.rule, sizeof b.rule, "%s", q[i].rule);
			snprintf(b.reason, sizeof b.reason, "%s", q[i].reason);
			err = cbar_store_bar_add(x->e->store, &b, x->node, &added, &d);
			if (!err && added)
				cbar_log_line(LOG_LV_WARN, "auto-bar", "{s:s,s:s,s:s,s:i,s:I}", "key", b.key,
				              "rule", b.rule, "reason", b.reason, "count", (int)b.count,
				              "until", (json_int_t)b.until);
		}
		cbar__engine_store_end(x->e, err);
		if (err) {
			cbar_log_line(LOG_LV_WARN, "auto-bar not written to the registry", "{s:s}",
			              "error", d.msg);
			return;
		}
	}
	int64_t now = cbar__engine_now();
	struct collect c = {0};
	if (!cbar__engine_store_begin(x->e, &d))
		return;
	enum cbar_err err = cbar_store_bars(x->e->store, now, 0, 0, on_active, &c, &d);
	if (!err && x->lifted_since)
		err = cbar_store_bars(x->e->store, now, x->lifted_since, 0, on_lifted, x, &d);
	cbar__engine_store_end(x->e, err);
	if (err || c.failed) {
		free(c.v);
		return;
	}
	/* Lifts are read again from a second back: a lift in the same second
	 * as the last read is not missed (lifting twice is harmless). */
	x->lifted_since = now - 1;
	cbar_daemon_limits_shared(x->dl, c.v, c.n);
}

static void *follow(void *arg)
{
	struct daemon_bars *x = arg;
	x->lifted_since = cbar__engine_now();
	while (!atomic_load(&x->stop)) {
		round_once(x);
		struct timespec ts = {0, BARS_FOLLOW_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	round_once(x); /* the last bars of this node, before it goes */
	return NULL;
}

enum cbar_err cbar_daemon_bars_start(struct daemon_bars **out, struct engine *e,
                                     struct daemon_limits *dl, const char *node)
{
	struct daemon_bars *x = calloc(1, sizeof *x);
	*out = NULL;
	if (!x)
		return CBAR_NOMEM;
	x->e = e;
	x->dl = dl;
	snprintf(x->node, sizeof x->node, "%s", node);
	if (pthread_create(&x->id, NULL, follow, x)) {
		free(x);
		return CBAR_NOMEM;
	}
	*out = x;
	return CBAR_OK;
}

void cbar_daemon_bars_stop(struct daemon_bars *x)
{
	if (!x)
		return;
	atomic_store(&x->stop, true);
	pthread_join(x->id, NULL);
	free(x);
}

static json_t *bar_json(const struct cbar_store_bar *b)
{
	char since[CBAR_CIVIL_FORMAT_MAX + 8], until[CBAR_CIVIL_FORMAT_MAX + 8];
	cbar_civil_format(b->created, 0, since, sizeof since);
	cbar_civil_format(b->until, 0, until, sizeof until);
	return json_pack("{s:I,s:s,s:s,s:s,s:s?,s:i,s:s,s:s}", "id", (json_int_t)b->id, "key",
	                 b->key, "limit", b->limit, "rule", b->rule, "reason",
	                 b->reason[0] ? b->reason : NULL, "count", (int)b->count, "since", since,
	                 "until", until);
}

static int on_list(void *arg, const struct cbar_store_bar *b)
{
	json_t *j = bar_json(b);
	return !j || json_array_append_new(arg, j);
}

enum cbar_err cbar_daemon_bars_list(struct engine *e, json_t **out, struct cbar_diag *d)
{
	json_t *a = json_array();
	if (!a)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	if (!cbar__engine_store_begin(e, d)) {
		json_decref(a);
		return CBAR_UNAVAILABLE;
	}
	enum cbar_err err = cbar_store_bars(e->store, cbar__engine_now(), 0, 0, on_list, a, d);
	cbar__engine_store_end(e, err);
	if (err) {
		json_decref(a);
		return err;
	}
	*out = json_pack("{s:o}", "bars", a);
	return *out ? CBAR_OK : cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
}

enum cbar_err cbar_daemon_bars_lift(struct engine *e, struct daemon_limits *dl, const char *key,
                                    const char *who, json_t **out, struct cbar_diag *d)
{
	uint64_t k;
	unsigned n = 0;
	if (!cbar_daemon_limit_key(key, &k))
		return cbar_diag_set(d, CBAR_BAD_VALUE, 0, 0,
		                     "a bar's key is +DIGITS, or +DIGITS* for a range");
	if (!cbar__engine_store_begin(e, d))
		return CBAR_UNAVAILABLE;
	enum cbar_err err =
		cbar_store_bar_lift(e->store, key, NULL, who && who[0] ? who : "callbar",
		                    cbar__engine_now(), &n, d);
	cbar__engine_store_end(e, err);
	if (err)
		return err;
	if (dl)
		cbar_daemon_limits_lift(dl, 0, key);
	*out = json_pack("{s:s,s:i}", "key", key, "lifted", (int)n);
	return *out ? CBAR_OK : cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
}
