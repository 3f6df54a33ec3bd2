/*
 * callbar tests: the metrics registry.  Exposition text, label escaping,
 * cumulative histogram buckets, the series cap ("overflow"), gauges zeroed,
 * and counts that add up when many threads update at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics.h"

static char *render(struct metric_family *f)
{
	struct metric_family *const fams[] = {f};
	char *t = cbar_metrics_render(fams, 1, 1u << 22, NULL);
	assert_non_null(t);
	return t;
}

static void has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("no '%s' in:\n%s", want, text);
}

static void counter_and_escaping(void **state)
{
	(void)state;
	static struct metric_family f = {.name = "t_requests_total", .help = "Requests.",
	                                 .type = METRIC_COUNTER, .labels = {"route", "status"},
	                                 .lock = PTHREAD_MUTEX_INITIALIZER};
	cbar_metric_count(&f, (const char *const[]){"/a", "200"}, 2);
	cbar_metric_count(&f, (const char *const[]){"/a", "200"}, 1);
	cbar_metric_count(&f, (const char *const[]){"q\"b\\c\nd", "404"}, 1);
	char *t = render(&f);
	has(t, "# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n");
	has(t, "t_requests_total{route=\"/a\",status=\"200\"} 3\n");
	has(t, "t_requests_total{route=\"q\\\"b\\\\c\\nd\",status=\"404\"} 1\n");
	free(t);
	struct metric_family *const fams[] = {&f};
	cbar_metrics_release(fams, 1);
}

static void histogram_cumulative(void **state)
{
	(void)state;
	static const double b[] = {0.1, 1, 10};
	static struct metric_family f = {.name = "t_seconds", .help = "Time.",
	                                 .type = METRIC_HISTOGRAM, .buckets = b, .nbuckets = 3,
	                                 .lock = PTHREAD_MUTEX_INITIALIZER};
	struct cbar_metric_series *s = cbar_metric_series(&f, NULL);
	cbar_metric_observe(&f, s, 0.05);
	cbar_metric_observe(&f, s, 0.1); /* on a bound: that bucket (le) */
	cbar_metric_observe(&f, s, 5);
	cbar_metric_observe(&f, s, 100);
	char *t = render(&f);
	has(t, "t_seconds_bucket{le=\"0.1\"} 2\n");
	has(t, "t_seconds_bucket{le=\"1\"} 2\n");
	has(t, "t_seconds_bucket{le=\"10\"} 3\n");
	has(t, "t_seconds_bucket{le=\"+Inf\"} 4\n");
	has(t, "t_seconds_sum 105.15000000000001\n");
	has(t, "t_seconds_count 4\n");
	free(t);
	struct metric_family *const fams[] = {&f};
	cbar_metrics_release(fams, 1);
}

static void series_cap(void **state)
{
	(void)state;
	static struct metric_family f = {.name = "t_by_key_total", .help = "Keys.",
	                                 .type = METRIC_COUNTER, .labels = {"key"},
	                                 .lock = PTHREAD_MUTEX_INITIALIZER};
	char key[32];
	for (int i = 0; i < METRIC_SERIES_MAX + 100; i++) {
		snprintf(key, sizeof key, "k%d", i);
		cbar_metric_count(&f, (const char *const[]){key}, 1);
	}
	char *t = render(&f);
	unsigned lines = 0;
	for (const char *p = t; (p = strstr(p, "\nt_by_key_total{")); p++)
		lines++;
	assert_int_equal(lines, METRIC_SERIES_MAX); /* 511 kept + overflow */
	has(t, "t_by_key_total{key=\"overflow\"} 101\n");
	has(t, "t_by_key_total{key=\"k0\"} 1\n");
	free(t);
	/* A series once added is still found after the cap. */
	cbar_metric_count(&f, (const char *const[]){"k0"}, 1);
	t = render(&f);
	has(t, "t_by_key_total{key=\"k0\"} 2\n");
	free(t);
	struct metric_family *const fams[] = {&f};
	cbar_metrics_release(fams, 1);
}

static void gauge_zero(void **state)
{
	(void)state;
	static struct metric_family f = {.name = "t_info", .help = "Info.", .type = METRIC_GAUGE,
	                                 .labels = {"sha"}, .lock = PTHREAD_MUTEX_INITIALIZER};
	cbar_metric_gauge(&f, (const char *const[]){"aa"}, 1);
	cbar_metric_gauge_zero(&f);
	cbar_metric_gauge(&f, (const char *const[]){"bb"}, 1);
	char *t = render(&f);
	has(t, "t_info{sha=\"aa\"} 0\n");
	has(t, "t_info{sha=\"bb\"} 1\n");
	free(t);
	struct metric_family *const fams[] = {&f};
	cbar_metrics_release(fams, 1);
}

static struct metric_family par = {.name = "t_par_total", .help = "Parallel.",
                                   .type = METRIC_COUNTER, .labels = {"k"},
                                   .lock = PTHREAD_MUTEX_INITIALIZER};

static void *bump(void *arg)
{
	(void)arg;
	static const char *const keys[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
	for (int i = 0; i < 20000; i++)
		cbar_metric_count(&par, (const char *const[]){keys[i % 8]}, 1);
	return NULL;
}

static void parallel_counts(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bump, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	char *text = render(&par);
	for (char k = 'a'; k <= 'h'; k++) {
		char want[64];
		snprintf(want, sizeof want, "t_par_total{k=\"%c\"} 10000\n", k);
		has(text, want);
	}
	free(text);
	struct metric_family *const fams[] = {&par};
	cbar_metrics_release(fams, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counter_and_escaping), cmocka_unit_test(histogram_cumulative),
		cmocka_unit_test(series_cap),           cmocka_unit_test(gauge_zero),
		cmocka_unit_test(parallel_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
