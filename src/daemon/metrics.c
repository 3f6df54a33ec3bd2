/* callbar serve: metrics registry (contract in metrics.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "metrics.h"

static size_t nlabels(const struct metric_family *f)
{
	size_t n = 0;
	while (n < METRIC_LABELS_MAX && f->labels[n])
		n++;
	return n;
}

static uint64_t hash_values(const char *const *values, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xffu) * 1099511628211ull;
	}
	return h;
}

static bool same(const struct cbar_metric_series *s, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]))
			return false;
	return true;
}

static struct cbar_metric_series *series_new(const char *const *values, size_t n, uint64_t h)
{
	struct cbar_metric_series *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->hash = h;
	for (size_t i = 0; i < n; i++)
		if (!(s->values[i] = strdup(values[i]))) {
			while (i--)
				free(s->values[i]);
			free(s);
			return NULL;
		}
	return s;
}

static struct cbar_metric_series *overflow_series(struct metric_family *f, size_t n)
{
	struct cbar_metric_series *s = atomic_load_explicit(&f->overflow, memory_order_acquire);
	if (s)
		return s;
	const char *values[METRIC_LABELS_MAX] = {"overflow", "overflow", "overflow", "overflow"};
	pthread_mutex_lock(&f->lock);
	s = atomic_load_explicit(&f->overflow, memory_order_relaxed);
	if (!s && (s = series_new(values, n, 0)))
		atomic_store_explicit(&f->overflow, s, memory_order_release);
	pthread_mutex_unlock(&f->lock);
	return s;
}

struct cbar_metric_series *cbar_metric_series(struct metric_family *f, const char *const *values)
{
	size_t n = nlabels(f);
	uint64_t h = hash_values(values, n);
	size_t i = (size_t)(h % METRIC_SERIES_MAX);
	/* Lock-free probe: a slot, once set, never changes. */
	for (size_t k = 0; k < METRIC_SERIES_MAX; k++, i = (i + 1) % METRIC_SERIES_MAX) {
		struct cbar_metric_series *s = atomic_load_explicit(&f->slot[i], memory_order_acquire);
		if (!s)
			break;
		if (s->hash == h && same(s, values, n))
			return s;
	}
	/* Not there: add it under the lock, probing again from the start since
	 * another thread may have added it meanwhile.  One slot is kept empty so
	 * that every probe ends. */
	pthread_mutex_lock(&f->lock);
	struct cbar_metric_series *found = NULL;
	i = (size_t)(h % METRIC_SERIES_MAX);
	for (size_t k = 0; k < METRIC_SERIES_MAX; k++, i = (i + 1) % METRIC_SERIES_MAX) {
		struct cbar_metric_series *s = atomic_load_explicit(&f->slot[i], memory_order_relaxed);
		if (!s) {
			if (atomic_load_explicit(&f->nseries, memory_order_relaxed) + 1 >=
			    METRIC_SERIES_MAX)
				break;
			if ((found = series_new(values, n, h))) {
				atomic_store_explicit(&f->slot[i], found, memory_order_release);
				atomic_fetch_add_explicit(&f->nseries, 1, memory_order_relaxed);
			}
			pthread_mutex_unlock(&f->lock);
			return found;
		}
		if (s->hash == h && same(s, values, n)) {
			pthread_mutex_unlock(&f->lock);
			return s;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return overflow_series(f, n);
}

void cbar_metric_inc(struct cbar_metric_series *s, uint64_t n)
{
	if (s)
		atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
}

static uint64_t dbits(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return b;
}

static double bitsd(uint64_t b)
{
	double v;
	memcpy(&v, &b, sizeof v);
	return v;
}

void cbar_metric_count_set(struct metric_family *f, const char *const *values, uint64_t v)
{
	struct cbar_metric_series *s = cbar_metric_series(f, values);
	if (s)
		atomic_store_explicit(&s->count, v, memory_order_relaxed);
}

void cbar_metric_set(struct cbar_metric_series *s, double v)
{
	if (s)
		atomic_store_explicit(&s->bits, dbits(v), memory_order_relaxed);
}

void cbar_metric_observe(const struct metric_family *f, struct cbar_metric_series *s, double v)
{
	if (!s)
		return;
	/* Buckets are stored non-cumulative; rendering adds them up. */
	size_t b = 0;
	while (b < f->nbuckets && v > f->buckets[b])
		b++;
	if (b < f->nbuckets)
		atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
	uint64_t old = atomic_load_explicit(&s->bits, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&s->bits, &old, dbits(bitsd(old) + v),
	                                              memory_order_relaxed, memory_order_relaxed))
		;
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void cbar_metric_count(struct metric_family *f, const char *const *values, uint64_t n)
{
	cbar_metric_inc(cbar_metric_series(f, values), n);
}

void cbar_metric_gauge(struct metric_family *f, const char *const *values, double v)
{
	cbar_metric_set(cbar_metric_series(f, values), v);
}

void cbar_metric_gauge_zero(struct metric_family *f)
{
	for (size_t i = 0; i < METRIC_SERIES_MAX; i++) {
		struct cbar_metric_series *s = atomic_load_explicit(&f->slot[i], memory_order_acquire);
		if (s)
			cbar_metric_set(s, 0);
	}
}

static void put_value(struct cbar_buf *b, double v)
{
	if (isinf(v))
		cbar_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		cbar_buf_puts(b, "NaN");
	else
		cbar_buf_printf(b, "%.17g", v);
}

/* {a="x",b="y"} with an extra label (le) when extra is not NULL. */
static void put_labels(struct cbar_buf *b, const struct metric_family *f,
                       const struct cbar_metric_series *s, const char *extra, const char *extra_v)
{
	size_t n = nlabels(f);
	if (!n && !extra)
		return;
	cbar_buf_put(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		cbar_buf_printf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
		for (const char *p = s->values[i]; *p; p++) {
			if (*p == '\\')
				cbar_buf_puts(b, "\\\\");
			else if (*p == '"')
				cbar_buf_puts(b, "\\\"");
			else if (*p == '\n')
				cbar_buf_puts(b, "\\n");
			else
				cbar_buf_put(b, p, 1);
		}
		cbar_buf_put(b, "\"", 1);
	}
	if (extra)
		cbar_buf_printf(b, "%s%s=\"%s\"", n ? "," : "", extra, extra_v);
	cbar_buf_put(b, "}", 1);
}

static void render_series(struct cbar_buf *b, const struct metric_family *f,
                          const struct cbar_metric_series *s)
{
	switch (f->type) {
	case METRIC_COUNTER:
		cbar_buf_puts(b, f->name);
		put_labels(b, f, s, NULL, NULL);
		cbar_buf_printf(b, " %llu\n",
		           (unsigned long long)atomic_load_explicit(&s->count, memory_order_relaxed));
		break;
	case METRIC_GAUGE:
		cbar_buf_puts(b, f->name);
		put_labels(b, f, s, NULL, NULL);
		cbar_buf_put(b, " ", 1);
		put_value(b, bitsd(atomic_load_explicit(&s->bits, memory_order_relaxed)));
		cbar_buf_put(b, "\n", 1);
		break;
	case METRIC_HISTOGRAM: {
		/* Read the count first: the buckets may move on meanwhile, and +Inf
		 * is written as the larger of the two so the series stays monotone. */
		uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
		uint64_t cum = 0;
		char le[40];
		for (size_t i = 0; i < f->nbuckets; i++) {
			cum += atomic_load_explicit(&s->bucket[i], memory_order_relaxed);
			snprintf(le, sizeof le, "%g", f->buckets[i]);
			cbar_buf_printf(b, "%s_bucket", f->name);
			put_labels(b, f, s, "le", le);
			cbar_buf_printf(b, " %llu\n", (unsigned long long)cum);
		}
		if (count < cum)
			count = cum;
		cbar_buf_printf(b, "%s_bucket", f->name);
		put_labels(b, f, s, "le", "+Inf");
		cbar_buf_printf(b, " %llu\n", (unsigned long long)count);
		cbar_buf_printf(b, "%s_sum", f->name);
		put_labels(b, f, s, NULL, NULL);
		cbar_buf_put(b, " ", 1);
		put_value(b, bitsd(atomic_load_explicit(&s->bits, memory_order_relaxed)));
		cbar_buf_printf(b, "\n%s_count", f->name);
		put_labels(b, f, s, NULL, NULL);
		cbar_buf_printf(b, " %llu\n", (unsigned long long)count);
		break;
	}
	}
}

char *cbar_metrics_render(struct metric_family *const *fams, size_t n, size_t cap, size_t *len)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	struct cbar_buf b;
	cbar_buf_init(&b, cap);
	for (size_t i = 0; i < n; i++) {
		struct metric_family *f = fams[i];
		cbar_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		           type_names[f->type]);
		for (size_t k = 0; k < METRIC_SERIES_MAX; k++) {
			struct cbar_metric_series *s = atomic_load_explicit(&f->slot[k], memory_order_acquire);
			if (s)
				render_series(&b, f, s);
		}
		struct cbar_metric_series *o = atomic_load_explicit(&f->overflow, memory_order_acquire);
		if (o)
			render_series(&b, f, o);
	}
	return cbar_buf_steal(&b, len);
}

static void series_free(struct cbar_metric_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < METRIC_LABELS_MAX; i++)
		free(s->values[i]);
	free(s);
}

void cbar_metrics_release(struct metric_family *const *fams, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct metric_family *f = fams[i];
		for (size_t k = 0; k < METRIC_SERIES_MAX; k++) {
			series_free(atomic_load(&f->slot[k]));
			atomic_store(&f->slot[k], NULL);
		}
		series_free(atomic_load(&f->overflow));
		atomic_store(&f->overflow, NULL);
		atomic_store(&f->nseries, 0);
	}
}
