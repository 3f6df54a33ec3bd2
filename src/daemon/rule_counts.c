/* callbar serve: per-thread decision counts by rule label (rule_counts.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rule_counts.h"

#define CHUNK 64                           /* labels a chunk */
#define NCHUNKS (RULE_LABELS_MAX / CHUNK)  /* chunks a block */
#define FRONTS 4                           /* front ends counted (decision.h) */
#define SLOTS (FRONTS * 12)                /* x 2 services x 2 directions x 3 verdicts */

/* The label table: ids handed out under lock, names read without one
 * (a name is published before the count that makes it visible). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *names[RULE_LABELS_MAX];
static _Atomic uint32_t nnames;
/* name -> id + 1 (0: empty), open addressing, half full at most: a rule
 * file of 100,000 rules interns its labels in linear time */
#define INDEX_SLOTS (2 * RULE_LABELS_MAX)
static uint32_t index_of[INDEX_SLOTS];

static uint32_t hash_of(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* A thread's counts: chunks of CHUNK labels, made by their thread when
 * first counted into and published for the scrape. */
struct block {
	_Atomic(_Atomic uint64_t *) chunk[NCHUNKS];
	struct block *next;
};
static struct block *blocks; /* every thread's, under lock */
static _Thread_local struct block *mine;

uint32_t cbar_rule_label_intern(const char *label)
{
	pthread_mutex_lock(&lock);
	uint32_t n = atomic_load_explicit(&nnames, memory_order_relaxed), id;
	size_t slot = hash_of(label) % INDEX_SLOTS;
	while (index_of[slot] && strcmp(names[index_of[slot] - 1], label))
		slot = (slot + 1) % INDEX_SLOTS;
	if (index_of[slot]) {
		id = index_of[slot] - 1;
	} else {
		char *copy = n < RULE_LABELS_MAX - 1 ? strdup(label) : NULL;
		if (!copy) { /* full, or no memory: the last id is "other" */
			id = RULE_LABELS_MAX - 1;
			if (!names[id] && (names[id] = strdup("other")) && n <= id)
				atomic_store_explicit(&nnames, id + 1, memory_order_release);
		} else {
			id = n;
			names[id] = copy;
			index_of[slot] = id + 1;
			atomic_store_explicit(&nnames, n + 1, memory_order_release);
		}
	}
	pthread_mutex_unlock(&lock);
	return id;
}

void cbar_rule_count(uint32_t label, unsigned front, unsigned service, unsigned direction,
                unsigned verdict)
{
	if (label >= RULE_LABELS_MAX || front >= FRONTS || service > 1 || direction > 1 ||
	    verdict > 2)
		return;
	if (!mine) {
		struct block *b = calloc(1, sizeof *b);
		if (!b)
			return;
		pthread_mutex_lock(&lock);
		b->next = blocks;
		blocks = b;
		pthread_mutex_unlock(&lock);
		mine = b;
	}
	_Atomic uint64_t *c =
		atomic_load_explicit(&mine->chunk[label / CHUNK], memory_order_relaxed);
	if (!c) {
		if (!(c = calloc(CHUNK * SLOTS, sizeof *c)))
			return;
		atomic_store_explicit(&mine->chunk[label / CHUNK], c, memory_order_release);
	}
	_Atomic uint64_t *slot =
		&c[(label % CHUNK) * SLOTS + front * 12 + (service * 2 + direction) * 3 + verdict];
	/* one writer: a plain add, made visible to the scrape */
	atomic_store_explicit(slot, atomic_load_explicit(slot, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

void cbar_rule_counts_each(void (*fn)(void *arg, const char *label, unsigned front,
                                 unsigned service, unsigned direction, unsigned verdict,
                                 uint64_t n),
                      void *arg)
{
	pthread_mutex_lock(&lock);
	uint32_t n = atomic_load_explicit(&nnames, memory_order_acquire);
	for (uint32_t id = 0; id < n; id++) {
		uint64_t sum[SLOTS] = {0};
		bool any = false;
		for (struct block *b = blocks; b; b = b->next) {
			_Atomic uint64_t *c =
				atomic_load_explicit(&b->chunk[id / CHUNK], memory_order_acquire);
			if (!c)
				continue;
			for (unsigned k = 0; k < SLOTS; k++) {
				sum[k] += atomic_load_explicit(&c[(id % CHUNK) * SLOTS + k],
				                               memory_order_relaxed);
				any = any || sum[k];
			}
		}
		if (!any || !names[id])
			continue;
		for (unsigned k = 0; k < SLOTS; k++)
			if (sum[k])
				fn(arg, names[id], k / 12, k % 12 / 6, k / 3 % 2, k % 3, sum[k]);
	}
	pthread_mutex_unlock(&lock);
}

void cbar_rule_counts_release(void)
{
	pthread_mutex_lock(&lock);
	while (blocks) {
		struct block *b = blocks;
		blocks = b->next;
		for (unsigned i = 0; i < NCHUNKS; i++)
			free((void *)atomic_load_explicit(&b->chunk[i], memory_order_relaxed));
		free(b);
	}
	for (uint32_t i = 0; i < RULE_LABELS_MAX; i++) {
		free(names[i]);
		names[i] = NULL;
	}
	memset(index_of, 0, sizeof index_of);
	atomic_store_explicit(&nnames, 0, memory_order_relaxed);
	pthread_mutex_unlock(&lock);
}
