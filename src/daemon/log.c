/* callbar serve: JSON-lines logging (contract in log.h). */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto/buf.h"

static unsigned min_level = LOG_LV_INFO;
static bool decision_lines;
static FILE *out;

/* Decision lines in files of their own, one a UTC day, kept for a number
 * of days (cbar_log_decision_file); all of it under dlock. */
static pthread_mutex_t dlock = PTHREAD_MUTEX_INITIALIZER;
static char dpath[1024];   /* "" : decision lines go with the others */
static unsigned dkeep;     /* days */
static FILE *dfile;
static char dday[11];      /* the open file's day, YYYY-MM-DD */

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void cbar_log_setup(unsigned level, bool decisions, FILE *f)
{
	min_level = level;
	decision_lines = decisions;
	out = f;
}

bool cbar_log_enabled(enum log_level lv)
{
	return (unsigned)lv >= min_level;
}

bool cbar_log_decisions(void)
{
	return decision_lines;
}

/* YYYY-MM-DD of the UTC day days before t. */
static void day_of(time_t t, int days, char out11[11])
{
	struct tm tm;
	t -= (time_t)days * 86400;
	gmtime_r(&t, &tm);
	strftime(out11, 11, "%Y-%m-%d", &tm);
}

/* Remove the day files of dpath older than dkeep days (today counts as
 * one).  Under dlock. */
static void prune(time_t now)
{
	char dir[1024], oldest[11];
	const char *slash = strrchr(dpath, '/');
	const char *base = slash ? slash + 1 : dpath;
	size_t blen = strlen(base);
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - dpath) : 1, slash ? dpath : ".");
	day_of(now, (int)dkeep - 1, oldest);
	DIR *dh = opendir(dir);
	if (!dh)
		return;
	struct dirent *e;
	while ((e = readdir(dh))) {
		const char *n = e->d_name;
		/* BASE.YYYY-MM-DD exactly */
		if (strlen(n) != blen + 11 || strncmp(n, base, blen) || n[blen] != '.')
			continue;
		const char *day = n + blen + 1;
		bool dated = true;
		for (int i = 0; i < 10; i++)
			dated = dated && (i == 4 || i == 7 ? day[i] == '-' : day[i] >= '0' && day[i] <= '9');
		if (dated && strcmp(day, oldest) < 0) {
			char p[2048];
			snprintf(p, sizeof p, "%s/%s", dir, n);
			unlink(p);
		}
	}
	closedir(dh);
}

/* The group that may read the day files (log.decision_group), -1: none. */
static gid_t dgid = (gid_t)-1;

/* A day file: they hold both numbers of every call, so they are created
 * 0600 (0640 for a configured group) whatever the umask, and an existing
 * one is brought to that mode. */
static FILE *day_open(const char *p)
{
	int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if ((dgid != (gid_t)-1 && fchown(fd, (uid_t)-1, dgid)) ||
	    fchmod(fd, dgid != (gid_t)-1 ? 0640 : 0600)) {
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "a");
	if (!f)
		close(fd);
	return f;
}

enum cbar_err cbar_log_decision_file(const char *path, unsigned keep_days, const char *group,
                                struct cbar_diag *d)
{
	if (group && group[0]) {
		struct group *g = getgrnam(group);
		if (!g)
			return cbar_diag_set(d, CBAR_CONFIG, 0, 0, "log.decision_group: no group '%s'",
			                     group);
		dgid = g->gr_gid;
	} else {
		dgid = (gid_t)-1;
	}
	pthread_mutex_lock(&dlock);
	if (dfile)
		fclose(dfile);
	dfile = NULL;
	dday[0] = '\0';
	snprintf(dpath, sizeof dpath, "%s", path ? path : "");
	dkeep = keep_days ? keep_days : 1;
	enum cbar_err err = CBAR_OK;
	if (dpath[0]) {
		char day[11], p[1100];
		time_t now = time(NULL);
		day_of(now, 0, day);
		snprintf(p, sizeof p, "%s.%s", dpath, day);
		if (!(dfile = day_open(p)))
			err = cbar_diag_set(d, CBAR_IO, 0, 0, "%s: %s", p, strerror(errno));
		else
			memcpy(dday, day, sizeof dday);
		prune(now);
	}
	pthread_mutex_unlock(&dlock);
	return err;
}

/* Write one decision line (with its newline) to today's file, opening the
 * next day's and pruning at midnight UTC; false when there is no file. */
static bool decision_write(const char *s, size_t len)
{
	if (!dpath[0])
		return false;
	pthread_mutex_lock(&dlock);
	time_t now = time(NULL);
	char day[11];
	day_of(now, 0, day);
	if (strcmp(day, dday)) {
		char p[1100];
		snprintf(p, sizeof p, "%s.%s", dpath, day);
		FILE *f = day_open(p);
		if (f) { /* else keep writing the old one */
			if (dfile)
				fclose(dfile);
			dfile = f;
			memcpy(dday, day, sizeof dday);
			prune(now);
		}
	}
	if (dfile) {
		fwrite(s, 1, len, dfile);
		fflush(dfile);
	}
	pthread_mutex_unlock(&dlock);
	return true;
}

static void write_line(enum log_level lv, const char *msg, json_t *o);

void cbar_log_line(enum log_level lv, const char *msg, const char *fmt, ...)
{
	if (!cbar_log_enabled(lv))
		return;
	va_list ap;
	va_start(ap, fmt);
	json_t *o = NULL;
	if (fmt) {
		json_error_t je;
		o = json_vpack_ex(&je, 0, fmt, ap);
	}
	va_end(ap);
	if (!o)
		o = json_object();
	if (o)
		write_line(lv, msg, o);
}

/* The line's time: 2024-05-01T12:00:00.000Z. */
static void stamp(char when[40])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(when, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, 40 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* A whole line (its newline included) in one write, so that lines of
 * different threads do not interleave: a decision's to the day files when
 * there are some. */
static void emit(const char *s, size_t len, bool decision)
{
	FILE *f = out ? out : stderr;
	if (decision && decision_write(s, len))
		return;
	flockfile(f);
	fwrite(s, 1, len, f);
	fflush(f);
	funlockfile(f);
}

void cbar_log_decision_members(const char *members, size_t len)
{
	char when[40];
	struct cbar_buf b;
	stamp(when);
	cbar_buf_init(&b, len + 128);
	cbar_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"decision\",", when,
	                level_names[LOG_LV_INFO]);
	cbar_buf_put(&b, members, len);
	cbar_buf_put(&b, "}\n", 2);
	size_t n = 0;
	char *s = cbar_buf_steal(&b, &n);
	if (s)
		emit(s, n, true);
	free(s);
}

static void write_line(enum log_level lv, const char *msg, json_t *o)
{
	char when[40];
	stamp(when);
	/* ts, level and msg first: a reader scanning lines sees them first. */
	json_t *line = json_pack("{s:s,s:s,s:s}", "ts", when, "level", level_names[lv], "msg", msg);
	if (line) {
		json_object_update(line, o);
		char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s) {
			size_t len = strlen(s);
			s[len] = '\n';
			emit(s, len + 1, false);
			free(s);
		}
		json_decref(line);
	}
	json_decref(o);
}
