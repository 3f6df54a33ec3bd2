/*
 * callbar serve: a small metrics registry in the Prometheus text format.
 *
 * A family (struct metric_family) is declared statically with its name,
 * help, type, label names and, for a histogram, its bucket bounds.  A series
 * is one combination of label values; cbar_metric_series() finds it or adds it.
 * Finding is lock-free (an open-addressed table of atomic pointers); only
 * adding a new series takes the family's mutex, and a series once added is
 * never removed, so a pointer to one stays valid for the process's life
 * (hot paths may keep it).  Updates are relaxed atomic adds: no lock on the
 * path of a request.
 *
 * Label values are copied.  A family has at most METRIC_SERIES_MAX series;
 * past that, updates go to one series whose label values are all
 * "overflow", so a label fed from outside can never grow memory without
 * bound (the route label, for one, is the route's pattern, never the path).
 */
#ifndef CALLBAR_DAEMON_METRICS_H
#define CALLBAR_DAEMON_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define METRIC_LABELS_MAX 5
#define METRIC_SERIES_MAX 512
#define METRIC_BUCKETS_MAX 16

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct cbar_metric_series {
	char *values[METRIC_LABELS_MAX];
	uint64_t hash;
	_Atomic uint64_t count;      /* counter value; histogram observations */
	_Atomic uint64_t bits;       /* gauge value; histogram sum (double bits) */
	_Atomic uint64_t bucket[METRIC_BUCKETS_MAX];
};

struct metric_family {
	const char *name;
	const char *help;
	enum metric_type type;
	const char *labels[METRIC_LABELS_MAX]; /* names; NULL after the last */
	const double *buckets;                 /* ascending upper bounds (histogram) */
	size_t nbuckets;                       /* at most METRIC_BUCKETS_MAX */
	/* The registry's own state; zero in the static declaration. */
	struct cbar_metric_series *_Atomic slot[METRIC_SERIES_MAX];
	_Atomic size_t nseries;
	struct cbar_metric_series *_Atomic overflow;
	pthread_mutex_t lock; /* adding series */
};

/* The series of these label values (as many as the family has labels), or
 * NULL only when memory is short. */
struct cbar_metric_series *cbar_metric_series(struct metric_family *f, const char *const *values);

void cbar_metric_inc(struct cbar_metric_series *s, uint64_t n);
void cbar_metric_set(struct cbar_metric_series *s, double v);
void cbar_metric_observe(const struct metric_family *f, struct cbar_metric_series *s, double v);

/* Convenience: find the series of f by values and update it. */
void cbar_metric_count(struct metric_family *f, const char *const *values, uint64_t n);
void cbar_metric_gauge(struct metric_family *f, const char *const *values, double v);
/* Set a counter to a total kept elsewhere (per-thread counters summed when
 * the page is rendered, as the SIP workers keep theirs). */
void cbar_metric_count_set(struct metric_family *f, const char *const *values, uint64_t v);

/* Set every series of a gauge family to 0 (for an "info" gauge whose label
 * values change, such as the rules hash: the old one drops to 0). */
void cbar_metric_gauge_zero(struct metric_family *f);

/* The text exposition of families fams[0..n-1], NUL-ended, for free(); NULL
 * when memory is short or the text would pass cap bytes. */
char *cbar_metrics_render(struct metric_family *const *fams, size_t n, size_t cap, size_t *len);

/* Free every series (at exit, so leak checkers stay quiet). */
void cbar_metrics_release(struct metric_family *const *fams, size_t n);

#endif
