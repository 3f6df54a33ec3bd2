/* callbar serve: the counting state of limits on this node (limits.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "limits.h"
#include "metrics.h"

struct daemon_limits {
	pthread_mutex_t mu;
	struct cbar_limiter_config cfg;
	struct cbar_limiter *lim;       /* for rules; NULL: nothing counted */
	const struct cbar_rules *rules; /* the rules lim counts for */
	struct cbar_limit_counter counter;
	struct daemon_shared_bar *shared; /* the registry's, sorted by (limit_id, key) */
	size_t nshared;
	struct daemon_new_bar *queue; /* BARS_QUEUE_MAX, a ring */
	size_t qhead, qlen;
	/* The last BARS_QUEUE_MAX bars set here, for the metrics page: it
	 * counts these and the registry's, never walks the tables (a scrape
	 * must not hold the lock decisions take for as long as a walk of
	 * max_keys places would). */
	struct daemon_shared_bar *recent;
	size_t nrecent, rhead;
	uint64_t lost;
	char (*labels)[72]; /* each limit's metric label */
};

static int cmp_shared(const void *a, const void *b)
{
	const struct daemon_shared_bar *x = a, *y = b;
	if (x->limit_id != y->limit_id)
		return x->limit_id < y->limit_id ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* The shared bar of (limit_id, key), or NULL; under mu. */
static const struct daemon_shared_bar *shared_find(const struct daemon_limits *dl,
                                                   uint64_t limit_id, uint64_t key)
{
	struct daemon_shared_bar k = {.limit_id = limit_id, .key = key};
	return dl->nshared ? bsearch(&k, dl->shared, dl->nshared, sizeof k, cmp_shared) : NULL;
}

static void queue_bar(struct daemon_limits *dl, const struct cbar_limit_info *l,
                      const struct cbar_limit_query *q, const struct cbar_limit_answer *a)
{
	if (dl->qlen == BARS_QUEUE_MAX) {
		dl->lost++;
		return;
	}
	struct daemon_new_bar *b = &dl->queue[(dl->qhead + dl->qlen++) % BARS_QUEUE_MAX];
	const char *file = cbar_rules_file(dl->rules), *base = strrchr(file, '/');
	memset(b, 0, sizeof *b);
	b->limit_id = l->id;
	cbar_limit_key_text(l, q->key, b->key, sizeof b->key);
	snprintf(b->rule, sizeof b->rule, "%s:%u", base ? base + 1 : file, l->line);
	snprintf(b->reason, sizeof b->reason, "%s", l->reason ? l->reason : "");
	b->count = a->count;
	b->at = q->time;
	b->until = a->bar_until;
	dl->recent[dl->rhead] = (struct daemon_shared_bar){.limit_id = l->id, .key = q->key,
	                                                   .until = a->bar_until};
	dl->rhead = (dl->rhead + 1) % BARS_QUEUE_MAX;
	if (dl->nrecent < BARS_QUEUE_MAX)
		dl->nrecent++;
}

/* The limits' metric families live here, beside what counts them;
 * daemon_metrics.c lists them on the page. */
#define LOCK .lock = PTHREAD_MUTEX_INITIALIZER
struct metric_family cbar_m_limit_hits = {
    .name = "callbar_limit_hits_total",
    .help = "Events a limit statement barred on this node (result=\"barred\"), and keys that "
            "went over on this node (result=\"over\"), by limit (its reason, else its line).",
    .type = METRIC_COUNTER,
    .labels = {"limit", "result"},
    LOCK};
struct metric_family cbar_m_limit_bars = {
    .name = "callbar_limit_bars",
    .help = "Keys barred now by each limit: this node's and the registry's auto-bars.",
    .type = METRIC_GAUGE,
    .labels = {"limit"},
    LOCK};

static enum cbar_err hit(void *ctx, const struct cbar_rules *rules, const struct cbar_limit_query *q,
                         struct cbar_limit_answer *a)
{
	struct daemon_limits *dl = ctx;
	enum cbar_err err = CBAR_OK;
	const char *label = NULL;
	bool over = false;
	memset(a, 0, sizeof *a);
	pthread_mutex_lock(&dl->mu);
	/* A decision on rules being replaced: not counted (limits.h). */
	if (rules != dl->rules || !dl->lim) {
		pthread_mutex_unlock(&dl->mu);
		return CBAR_OK;
	}
	const struct cbar_limit_info *l = cbar_rules_limit(rules, q->limit);
	const struct daemon_shared_bar *sb = l ? shared_find(dl, l->id, q->key) : NULL;
	if (sb && q->time < sb->until) {
		a->barred = true;
		a->bar_until = sb->until;
		a->count = l->threshold + 1;
	} else if (!(err = cbar_limiter_hit(dl->lim, q, a)) && a->new_bar && l) {
		queue_bar(dl, l, q, a);
		over = true;
	}
	if (a->barred && dl->labels)
		label = dl->labels[q->limit];
	pthread_mutex_unlock(&dl->mu);
	/* Counted outside the lock: the metrics are lock-free. */
	if (label) {
		cbar_metric_count(&cbar_m_limit_hits, (const char *const[]){label, "barred"}, 1);
		if (over)
			cbar_metric_count(&cbar_m_limit_hits, (const char *const[]){label, "over"}, 1);
	}
	return err;
}

enum cbar_err cbar_daemon_limits_new(struct daemon_limits **out, size_t max_keys,
                                     uint32_t tolerance)
{
	struct daemon_limits *dl = calloc(1, sizeof *dl);
	*out = NULL;
	if (!dl || !(dl->queue = calloc(BARS_QUEUE_MAX, sizeof *dl->queue)) ||
	    !(dl->recent = calloc(BARS_QUEUE_MAX, sizeof *dl->recent))) {
		if (dl)
			free(dl->queue);
		free(dl);
		return CBAR_NOMEM;
	}
	pthread_mutex_init(&dl->mu, NULL);
	dl->cfg.max_keys = max_keys;
	dl->cfg.tolerance = tolerance;
	dl->counter = (struct cbar_limit_counter){.hit = hit, .ctx = dl};
	*out = dl;
	return CBAR_OK;
}

void cbar_daemon_limits_free(struct daemon_limits *dl)
{
	if (!dl)
		return;
	cbar_limiter_free(dl->lim);
	free(dl->shared);
	free(dl->queue);
	free(dl->recent);
	free(dl->labels);
	pthread_mutex_destroy(&dl->mu);
	free(dl);
}

enum cbar_err cbar_daemon_limits_use(struct daemon_limits *dl, const struct cbar_rules *rules)
{
	size_t n = cbar_rules_limits(rules);
	char(*labels)[72] = n ? calloc(n, sizeof *labels) : NULL;
	if (n && !labels)
		return CBAR_NOMEM;
	for (size_t k = 0; k < n; k++) {
		const struct cbar_limit_info *l = cbar_rules_limit(rules, k);
		if (l->reason)
			snprintf(labels[k], sizeof labels[k], "%s", l->reason);
		else
			snprintf(labels[k], sizeof labels[k], "line %u", l->line);
	}
	pthread_mutex_lock(&dl->mu);
	struct cbar_limiter *nl = NULL;
	enum cbar_err err = cbar_limiter_new(rules, &dl->cfg, dl->lim, &nl);
	/* On failure nothing is counted until a reload succeeds: the old
	 * rules are about to go, and nothing may point at them. */
	cbar_limiter_free(dl->lim);
	dl->lim = err ? NULL : nl;
	dl->rules = err ? NULL : rules;
	free(dl->labels);
	dl->labels = err ? NULL : labels;
	if (!err)
		labels = NULL;
	pthread_mutex_unlock(&dl->mu);
	free(labels);
	return err;
}

const struct cbar_limit_counter *cbar_daemon_limits_counter(struct daemon_limits *dl)
{
	return dl ? &dl->counter : NULL;
}

size_t cbar_daemon_limits_take(struct daemon_limits *dl, struct daemon_new_bar *out, size_t cap)
{
	size_t n = 0;
	pthread_mutex_lock(&dl->mu);
	while (n < cap && dl->qlen) {
		out[n++] = dl->queue[dl->qhead];
		dl->qhead = (dl->qhead + 1) % BARS_QUEUE_MAX;
		dl->qlen--;
	}
	pthread_mutex_unlock(&dl->mu);
	return n;
}

void cbar_daemon_limits_shared(struct daemon_limits *dl, struct daemon_shared_bar *bars, size_t n)
{
	if (n)
		qsort(bars, n, sizeof *bars, cmp_shared);
	pthread_mutex_lock(&dl->mu);
	struct daemon_shared_bar *old = dl->shared;
	dl->shared = bars;
	dl->nshared = n;
	pthread_mutex_unlock(&dl->mu);
	free(old);
}

bool cbar_daemon_limit_key(const char *s, uint64_t *key)
{
	uint64_t v = 0;
	size_t i = 0;
	if (s[i++] != '+')
		return false;
	for (; s[i] >= '0' && s[i] <= '9' && i <= 16; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (i < 2 || i > 16 || (s[i] && !(s[i] == '*' && !s[i + 1])) || !v)
		return false;
	*key = v;
	return true;
}

unsigned cbar_daemon_limits_lift(struct daemon_limits *dl, uint64_t limit_id, const char *key)
{
	uint64_t k;
	unsigned n = 0;
	if (!cbar_daemon_limit_key(key, &k))
		return 0;
	bool prefix = key[strlen(key) - 1] == '*';
	pthread_mutex_lock(&dl->mu);
	for (size_t i = 0; dl->lim && i < cbar_rules_limits(dl->rules); i++) {
		const struct cbar_limit_info *l = cbar_rules_limit(dl->rules, i);
		if ((limit_id && l->id != limit_id) || (l->per == CBAR_PER_PEER_PREFIX) != prefix)
			continue;
		n += cbar_limiter_lift(dl->lim, i, k);
	}
	for (size_t i = 0; i < dl->nshared; i++)
		if (dl->shared[i].key == k && (!limit_id || dl->shared[i].limit_id == limit_id))
			dl->shared[i].until = 0; /* until the next read of the registry */
	for (size_t i = 0; i < dl->nrecent; i++)
		if (dl->recent[i].key == k && (!limit_id || dl->recent[i].limit_id == limit_id))
			dl->recent[i].until = 0;
	pthread_mutex_unlock(&dl->mu);
	return n;
}

void cbar_daemon_limits_each(struct daemon_limits *dl, int64_t now,
                             void (*fn)(void *ctx, const char *label, size_t active), void *ctx)
{
	pthread_mutex_lock(&dl->mu);
	size_t n = dl->lim ? cbar_rules_limits(dl->rules) : 0;
	size_t *active = n ? calloc(n, sizeof *active) : NULL;
	if (active) {
		/* the registry's, then this node's recent ones it does not hold yet */
		for (size_t i = 0; i < dl->nshared + dl->nrecent; i++) {
			const struct daemon_shared_bar *b =
				i < dl->nshared ? &dl->shared[i] : &dl->recent[i - dl->nshared];
			if (now >= b->until ||
			    (i >= dl->nshared && shared_find(dl, b->limit_id, b->key)))
				continue;
			for (size_t k = 0; k < n; k++)
				if (cbar_rules_limit(dl->rules, k)->id == b->limit_id) {
					active[k]++;
					break;
				}
		}
		for (size_t k = 0; k < n; k++)
			fn(ctx, dl->labels[k], active[k]);
	}
	pthread_mutex_unlock(&dl->mu);
	free(active);
}

uint64_t cbar_daemon_limits_lost(struct daemon_limits *dl)
{
	pthread_mutex_lock(&dl->mu);
	uint64_t n = dl->lost;
	pthread_mutex_unlock(&dl->mu);
	return n;
}
