/* callbar serve: decisions per minute and reload history (series.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/civil.h"
#include "rule_counts.h"
#include "series.h"

#define NVERDICTS 3
#define OTHER     SERIES_RULES /* the shared series of the labels past SERIES_RULES */

struct minute {
	int64_t at; /* the unix minute this slot counts; 0: none */
	uint64_t verdict[NVERDICTS];
	uint64_t front[SERIES_FRONTS];
	uint64_t rule[SERIES_RULES + 1];
};

struct reload_entry {
	int64_t at;
	char trigger[16];
	bool ok;
	uint64_t version;
	char sha256[65];
	char error[400];
};

/* Totals of every count at the last sample, by what the rings show. */
struct totals {
	uint64_t verdict[NVERDICTS];
	uint64_t front[SERIES_FRONTS];
	uint64_t rule[SERIES_RULES + 1];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct minute ring[SERIES_MINUTES];
static char *rule_name[SERIES_RULES]; /* a label's series, taken on first sight */
static struct totals last;
static struct reload_entry reloads[SERIES_RELOADS];
static unsigned nreloads; /* ever kept; the ring holds the last SERIES_RELOADS */

/* The slot of minute m, cleared when it still holds an older minute; NULL
 * for a minute older than the one the slot holds. */
static struct minute *slot_of(int64_t m)
{
	struct minute *s = &ring[m % SERIES_MINUTES];
	if (s->at > m)
		return NULL;
	if (s->at != m)
		*s = (struct minute){.at = m};
	return s;
}

/* The series of a label (under lock): its own, a free one, or OTHER. */
static unsigned rule_index(const char *label)
{
	for (unsigned i = 0; i < SERIES_RULES; i++) {
		if (!rule_name[i]) {
			if (!(rule_name[i] = strdup(label)))
				return OTHER;
			return i;
		}
		if (!strcmp(rule_name[i], label))
			return i;
	}
	return OTHER;
}

static void sum_one(void *arg, const char *label, unsigned front, unsigned service,
                    unsigned direction, unsigned verdict, uint64_t n)
{
	struct totals *t = arg;
	(void)service, (void)direction;
	if (verdict < NVERDICTS)
		t->verdict[verdict] += n;
	if (front < SERIES_FRONTS)
		t->front[front] += n;
	t->rule[rule_index(label)] += n;
}

/* Under lock.  Counts only grow (rule_counts.h); a total below the last
 * one (the counts were released and begun again) starts from it. */
static void sample(int64_t now)
{
	struct totals t = {0};
	cbar_rule_counts_each(sum_one, &t);
	struct minute *s = now >= 0 ? slot_of(now / 60) : NULL;
#define FOLD(f, n)                                                                                 \
	for (size_t i = 0; i < (n); i++) {                                                         \
		uint64_t d = t.f[i] >= last.f[i] ? t.f[i] - last.f[i] : t.f[i];                    \
		if (s)                                                                             \
			s->f[i] += d;                                                              \
	}
	FOLD(verdict, NVERDICTS)
	FOLD(front, SERIES_FRONTS)
	FOLD(rule, SERIES_RULES + 1)
#undef FOLD
	last = t;
}

void cbar_series_sample(int64_t now)
{
	pthread_mutex_lock(&lock);
	sample(now);
	pthread_mutex_unlock(&lock);
}

/* ---- the sampling thread ---------------------------------------------- */

static pthread_t sampler;
static bool running, stopping;
static pthread_cond_t wake;

static int64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void *sampler_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		sample(now_s());
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SERIES_TICK_S;
		pthread_cond_timedwait(&wake, &lock, &until);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

enum cbar_err cbar_series_start(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);
	stopping = false;
	if (pthread_create(&sampler, NULL, sampler_main, NULL)) {
		pthread_cond_destroy(&wake);
		return CBAR_NOMEM;
	}
	running = true;
	return CBAR_OK;
}

void cbar_series_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(sampler, NULL);
	pthread_cond_destroy(&wake);
	running = false;
}

/* ---- reloads and the JSON --------------------------------------------- */

void cbar_series_reload(int64_t now, const char *trigger, bool ok, uint64_t version,
                        const char *sha256, const char *error)
{
	pthread_mutex_lock(&lock);
	struct reload_entry *e = &reloads[nreloads++ % SERIES_RELOADS];
	*e = (struct reload_entry){.at = now, .ok = ok, .version = version};
	snprintf(e->trigger, sizeof e->trigger, "%s", trigger ? trigger : "");
	snprintf(e->sha256, sizeof e->sha256, "%s", sha256 ? sha256 : "");
	snprintf(e->error, sizeof e->error, "%s", error ? error : "");
	pthread_mutex_unlock(&lock);
}

/* One series of the window: the count of minute start+i, 0 for a minute no
 * slot holds.  pick chooses the count in a slot.  Under lock. */
static json_t *column(int64_t start, unsigned n, uint64_t (*pick)(const struct minute *, size_t),
                      size_t which)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < n; i++) {
		const struct minute *s = &ring[(start + i) % SERIES_MINUTES];
		uint64_t v = s->at == start + i ? pick(s, which) : 0;
		json_array_append_new(a, json_integer((json_int_t)v));
	}
	return a;
}

static uint64_t pick_verdict(const struct minute *s, size_t i)
{
	return s->verdict[i];
}
static uint64_t pick_front(const struct minute *s, size_t i)
{
	return s->front[i];
}
static uint64_t pick_rule(const struct minute *s, size_t i)
{
	return s->rule[i];
}

static json_t *reloads_json(void)
{
	json_t *a = json_array();
	unsigned n = nreloads < SERIES_RELOADS ? nreloads : SERIES_RELOADS;
	for (unsigned k = 0; a && k < n; k++) { /* newest first */
		const struct reload_entry *e = &reloads[(nreloads - 1 - k) % SERIES_RELOADS];
		char at[40];
		cbar_civil_format(e->at, 0, at, sizeof at);
		json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:I,s:s,s:s?}", "at", at,
		                                   "trigger", e->trigger, "ok", e->ok, "version",
		                                   (json_int_t)e->version, "sha256", e->sha256,
		                                   "error", e->ok ? NULL : e->error));
	}
	return a;
}

json_t *cbar_series_json(int64_t now, unsigned minutes, const char *(*front_name)(unsigned))
{
	static const char *const verdicts[NVERDICTS] = {"allow", "block", "error"};
	if (minutes < 1 || minutes > SERIES_MINUTES)
		minutes = 60;
	int64_t start = now / 60 - minutes + 1;
	json_t *v = json_object(), *f = json_object(), *r = json_object();
	pthread_mutex_lock(&lock);
	sample(now);
	for (size_t i = 0; i < NVERDICTS; i++)
		json_object_set_new(v, verdicts[i], column(start, minutes, pick_verdict, i));
	for (unsigned i = 0; i < SERIES_FRONTS; i++) {
		const char *name = front_name(i);
		if (name && strcmp(name, "?"))
			json_object_set_new(f, name, column(start, minutes, pick_front, i));
	}
	for (unsigned i = 0; i <= SERIES_RULES; i++) {
		const char *name = i == OTHER ? "other" : rule_name[i];
		if (name)
			json_object_set_new(r, name, column(start, minutes, pick_rule, i));
	}
	json_t *rl = reloads_json();
	pthread_mutex_unlock(&lock);
	return json_pack("{s:i,s:I,s:i,s:o,s:o,s:o,s:o}", "step", 60, "start",
	                 (json_int_t)(start * 60), "minutes", (int)minutes, "verdict", v, "front",
	                 f, "rule", r, "reloads", rl);
}

void cbar_series_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(ring, 0, sizeof ring);
	for (size_t i = 0; i < SERIES_RULES; i++) {
		free(rule_name[i]);
		rule_name[i] = NULL;
	}
	memset(&last, 0, sizeof last);
	/* What was counted before is not new at the next sample. */
	cbar_rule_counts_each(sum_one, &last);
	nreloads = 0;
	pthread_mutex_unlock(&lock);
}
