/* callbar serve: decisions per minute and reload history (series.h). */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "callbar/civil.h"
#include "rule_counts.h"
#include "series.h"

#define NVERDICTS 3
#define OTHER     SERIES_RULES /* the shared series of the labels past SERIES_RULES */
#define CLAIMED   INT64_MIN    /* a slot being cleared */

struct minute {
	_Atomic int64_t at; /* unix minute this slot counts; CLAIMED while cleared */
	_Atomic uint64_t verdict[NVERDICTS];
	_Atomic uint64_t front[SERIES_FRONTS];
	_Atomic uint64_t rule[SERIES_RULES + 1];
};

static struct minute ring[SERIES_MINUTES];
/* The labels with a series of their own: label id + 1, 0 while free; a slot
 * once taken keeps its label. */
static _Atomic uint32_t rule_label[SERIES_RULES];

struct reload_entry {
	int64_t at;
	char trigger[16];
	bool ok;
	uint64_t version;
	char sha256[65];
	char error[400];
};
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reload_entry reloads[SERIES_RELOADS];
static unsigned nreloads; /* ever kept; the ring holds the last SERIES_RELOADS */

/* The slot of minute m, cleared first when it still counts an older one.
 * One thread claims the slot and clears it; the others wait for the few
 * stores that takes rather than count into a slot about to be cleared. */
static struct minute *slot_of(int64_t m)
{
	struct minute *s = &ring[m % SERIES_MINUTES];
	for (;;) {
		int64_t at = atomic_load_explicit(&s->at, memory_order_acquire);
		if (at == m)
			return s;
		if (at > m && at != CLAIMED)
			return NULL; /* a time from before the slot's minute: not kept */
		if (at != CLAIMED &&
		    atomic_compare_exchange_strong_explicit(
		        &s->at, &at, CLAIMED, memory_order_acq_rel, memory_order_relaxed)) {
			for (size_t i = 0; i < NVERDICTS; i++)
				atomic_store_explicit(&s->verdict[i], 0, memory_order_relaxed);
			for (size_t i = 0; i < SERIES_FRONTS; i++)
				atomic_store_explicit(&s->front[i], 0, memory_order_relaxed);
			for (size_t i = 0; i <= SERIES_RULES; i++)
				atomic_store_explicit(&s->rule[i], 0, memory_order_relaxed);
			atomic_store_explicit(&s->at, m, memory_order_release);
			return s;
		}
		sched_yield();
	}
}

/* The series index of a label: its own slot (taken on first use), or OTHER. */
static unsigned rule_index(uint32_t label)
{
	uint32_t want = label + 1;
	for (unsigned i = 0; i < SERIES_RULES; i++) {
		uint32_t have = atomic_load_explicit(&rule_label[i], memory_order_acquire);
		if (have == want)
			return i;
		if (!have) {
			uint32_t zero = 0;
			if (atomic_compare_exchange_strong(&rule_label[i], &zero, want) ||
			    zero == want)
				return i;
		}
	}
	return OTHER;
}

void cbar_series_count(int64_t now, unsigned verdict, unsigned front, uint32_t label)
{
	if (now < 0 || verdict >= NVERDICTS || front >= SERIES_FRONTS)
		return;
	struct minute *s = slot_of(now / 60);
	if (!s)
		return;
	atomic_fetch_add_explicit(&s->verdict[verdict], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->front[front], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->rule[rule_index(label)], 1, memory_order_relaxed);
}

void cbar_series_reload(int64_t now, const char *trigger, bool ok, uint64_t version,
                        const char *sha256, const char *error)
{
	pthread_mutex_lock(&reload_lock);
	struct reload_entry *e = &reloads[nreloads++ % SERIES_RELOADS];
	*e = (struct reload_entry){.at = now, .ok = ok, .version = version};
	snprintf(e->trigger, sizeof e->trigger, "%s", trigger ? trigger : "");
	snprintf(e->sha256, sizeof e->sha256, "%s", sha256 ? sha256 : "");
	snprintf(e->error, sizeof e->error, "%s", error ? error : "");
	pthread_mutex_unlock(&reload_lock);
}

/* One series of the window as a JSON array: the count of minute start+i,
 * 0 for a minute no slot holds. */
static json_t *column(int64_t start, unsigned n, size_t off)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < n; i++) {
		int64_t m = start + i;
		const struct minute *s = &ring[m % SERIES_MINUTES];
		uint64_t v = 0;
		if (atomic_load_explicit(&s->at, memory_order_acquire) == m)
			v = atomic_load_explicit((const _Atomic uint64_t *)((const char *)s + off),
			                         memory_order_relaxed);
		json_array_append_new(a, json_integer((json_int_t)v));
	}
	return a;
}

static json_t *reloads_json(void)
{
	json_t *a = json_array();
	pthread_mutex_lock(&reload_lock);
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
	pthread_mutex_unlock(&reload_lock);
	return a;
}

json_t *cbar_series_json(int64_t now, unsigned minutes, const char *(*front_name)(unsigned))
{
	static const char *const verdicts[NVERDICTS] = {"allow", "block", "error"};
	if (minutes < 1 || minutes > SERIES_MINUTES)
		minutes = 60;
	int64_t start = now / 60 - minutes + 1;
	json_t *v = json_object(), *f = json_object(), *r = json_object();
	for (size_t i = 0; i < NVERDICTS; i++)
		json_object_set_new(
		    v, verdicts[i],
		    column(start, minutes,
		           offsetof(struct minute, verdict) + i * sizeof(uint64_t)));
	for (unsigned i = 0; i < SERIES_FRONTS; i++) {
		const char *name = front_name(i);
		if (name && strcmp(name, "?"))
			json_object_set_new(
			    f, name,
			    column(start, minutes,
			           offsetof(struct minute, front) + i * sizeof(uint64_t)));
	}
	for (unsigned i = 0; i <= SERIES_RULES; i++) {
		uint32_t id = i < SERIES_RULES ? atomic_load(&rule_label[i]) : 0;
		const char *name = i == OTHER ? "other" : id ? cbar_rule_label_name(id - 1) : NULL;
		if (name)
			json_object_set_new(
			    r, name,
			    column(start, minutes,
			           offsetof(struct minute, rule) + i * sizeof(uint64_t)));
	}
	return json_pack("{s:i,s:I,s:i,s:o,s:o,s:o,s:o}", "step", 60, "start",
	                 (json_int_t)(start * 60), "minutes", (int)minutes, "verdict", v, "front",
	                 f, "rule", r, "reloads", reloads_json());
}

void cbar_series_reset(void)
{
	for (size_t i = 0; i < SERIES_MINUTES; i++)
		atomic_store(&ring[i].at, 0);
	for (size_t i = 0; i < SERIES_RULES; i++)
		atomic_store(&rule_label[i], 0);
	pthread_mutex_lock(&reload_lock);
	nreloads = 0;
	pthread_mutex_unlock(&reload_lock);
}
