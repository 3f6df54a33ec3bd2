/* callbar serve: JSON-lines logging (contract in log.h). */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static unsigned min_level = LOG_LV_INFO;
static bool decision_lines;
static FILE *out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(unsigned level, bool decisions, FILE *f)
{
	min_level = level;
	decision_lines = decisions;
	out = f;
}

bool log_enabled(enum log_level lv)
{
	return (unsigned)lv >= min_level;
}

bool log_decisions(void)
{
	return decision_lines;
}

void log_line(enum log_level lv, const char *msg, const char *fmt, ...)
{
	if (!log_enabled(lv))
		return;
	json_t *o = NULL;
	if (fmt) {
		va_list ap;
		json_error_t je;
		va_start(ap, fmt);
		o = json_vpack_ex(&je, 0, fmt, ap);
		va_end(ap);
	}
	if (!o)
		o = json_object();
	if (!o)
		return;
	struct timespec ts;
	struct tm tm;
	char when[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

	/* ts, level and msg first: a reader scanning lines sees them first. */
	json_t *line = json_pack("{s:s,s:s,s:s}", "ts", when, "level", level_names[lv], "msg", msg);
	if (line) {
		json_object_update(line, o);
		char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s) {
			FILE *f = out ? out : stderr;
			size_t len = strlen(s);
			s[len] = '\n';
			/* One write: lines of different threads do not interleave. */
			flockfile(f);
			fwrite(s, 1, len + 1, f);
			fflush(f);
			funlockfile(f);
			free(s);
		}
		json_decref(line);
	}
	json_decref(o);
}
