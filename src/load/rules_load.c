/* callbar: loading rule and unlock files for the commands (rules_load.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "numplan_load.h"
#include "callbar/store.h"
#include "rules_load.h"
#include "store/unlockview.h"

/* List files are read relative to the rule file that names them. */
enum cbar_err cbar_rules_load_list(void *ctx, const char *rule_file, const char *path,
                               size_t pathlen, char **text, size_t *len, struct cbar_diag *d)
{
	(void)ctx;
	char full[4096];
	const char *slash = strrchr(rule_file, '/');
	int dirlen = path[0] == '/' || !slash ? 0 : (int)(slash - rule_file + 1);
	if ((size_t)dirlen + pathlen + 1 > sizeof full)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "path too long");
	memcpy(full, rule_file, (size_t)dirlen);
	memcpy(full + dirlen, path, pathlen);
	full[(size_t)dirlen + pathlen] = 0;
	*text = cbar_file_read(full, CBAR_RULES_FILE_MAX, len);
	if (!*text)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "%s: %s", full, strerror(errno));
	return CBAR_OK;
}

void cbar_rules_print_diag(FILE *f, const char *text, size_t len, const struct cbar_diag *d)
{
	fprintf(f, "%s:%u:%u: %s\n", d->file ? d->file : "-", d->line, d->column, d->msg);
	if (!d->line || !text)
		return;
	const char *p = text, *end = text + len;
	for (unsigned l = 1; l < d->line && p < end; l++) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		p = e ? e + 1 : end;
	}
	const char *e = memchr(p, '\n', (size_t)(end - p));
	if (!e)
		e = end;
	fprintf(f, "  %.*s\n", (int)(e - p), p);
	if (d->column) {
		fputs("  ", f);
		for (unsigned c = 1; c < d->column && p + c - 1 < e; c++)
			fputc(p[c - 1] == '\t' ? '\t' : ' ', f);
		fputs("^\n", f);
	}
}

enum cbar_err cbar_rules_read(const struct cbar_numplan *np, const char *path, char **text,
                              size_t *len, struct cbar_rules **out, struct cbar_diag *d)
{
	*out = NULL;
	*text = NULL;
	if (d)
		d->file = path;
	char *t = cbar_file_read(path, CBAR_RULES_FILE_MAX, len);
	if (!t) {
		int e = errno;
		if (e == EFBIG)
			return cbar_diag_set(d, CBAR_TOO_BIG, 0, 0, "larger than 256 MiB: not a rule file");
		if (e == ENOMEM)
			return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot open: %s", strerror(e));
	}
	/* A NUL byte is no part of a rule file: say where, before the
	 * compiler would call it a bad character. */
	unsigned line = 1, col = 1;
	for (size_t i = 0; i < *len; i++) {
		if (t[i] == '\0') {
			free(t);
			return cbar_diag_set(d, CBAR_INVAL, line, col, "NUL byte in a rule file");
		}
		if (t[i] == '\n')
			line++, col = 1;
		else
			col++;
	}
	struct cbar_rules_loader loader = {cbar_rules_load_list, NULL};
	enum cbar_err err = cbar_rules_compile(np, t, *len, path, &loader, d, out);
	if (d)
		d->file = path;
	*text = t;
	return err;
}

struct cbar_rules *cbar_rules_load(const struct cbar_numplan *np, const char *path)
{
	size_t len = 0;
	char *text;
	struct cbar_diag d = {0};
	struct cbar_rules *r = NULL;
	if (cbar_rules_read(np, path, &text, &len, &r, &d)) {
		if (text)
			cbar_rules_print_diag(stderr, text, len, &d);
		else if (d.line)
			fprintf(stderr, "callbar: %s:%u:%u: %s\n", path, d.line, d.column, d.msg);
		else
			fprintf(stderr, "callbar: %s: %s\n", path, d.msg);
	}
	free(text);
	return r;
}

struct cbar_unlockset *cbar_unlocks_parse(const struct cbar_numplan *np, uint16_t country,
                                     const char *text, size_t len, const char *name,
                                     struct cbar_diag *d)
{
	struct cbar_unlockset *s = cbar_unlockset_new(len / 32);
	if (!s) {
		if (d)
			d->file = name;
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		return NULL;
	}
	if (cbar_unlockset_load(s, np, country, text, len, name, d)) {
		cbar_unlockset_free(s);
		return NULL;
	}
	return s;
}

/* One part of an unlock file read on a thread of its own: its records
 * kept, in order, with their lines counted from the part's start. */
struct unlock_part {
	const struct cbar_numplan *np;
	uint16_t country;
	const char *text, *name;
	size_t len;
	struct cbar_unlock *u;
	unsigned *line;
	size_t n, cap;
	unsigned lines; /* the part's lines, once read */
	enum cbar_err err;
	struct cbar_diag d;
};

static enum cbar_err keep_run(void *arg, const struct cbar_unlock *u, const unsigned *line,
                              size_t n, struct cbar_diag *d)
{
	struct unlock_part *p = arg;
	if (p->n + n > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1u << 14;
		while (cap < p->n + n)
			cap *= 2;
		struct cbar_unlock *nu = realloc(p->u, cap * sizeof *nu);
		if (nu)
			p->u = nu;
		unsigned *nl = nu ? realloc(p->line, cap * sizeof *nl) : NULL;
		if (!nl)
			return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		p->line = nl;
		p->cap = cap;
	}
	memcpy(p->u + p->n, u, n * sizeof *u);
	memcpy(p->line + p->n, line, n * sizeof *line);
	p->n += n;
	return CBAR_OK;
}

static void *read_part(void *arg)
{
	struct unlock_part *p = arg;
	p->err = cbar_unlockset_parse(p->np, p->country, p->text, p->len, p->name, keep_run, p,
	                              &p->lines, &p->d);
	return NULL;
}

/* Below this many bytes a part, one thread reads the file: a thread costs
 * more than it saves. */
#define UNLOCK_PART_MIN (256u << 10)

struct cbar_unlockset *cbar__unlocks_parse_parts(const struct cbar_numplan *np, uint16_t country,
                                                 const char *text, size_t len, const char *name,
                                                 unsigned threads, size_t part_min,
                                                 struct cbar_diag *d)
{
	/* Reading the text (the numbers above all) is most of a load, and
	 * parts of it read on their own threads; the inserts, a tenth or so,
	 * stay on this one, in file order, so that the set is the one a single
	 * thread makes, and so is the first error: a part's records are added
	 * only when every part before it was read and added without one. */
	if (threads > CBAR_UNLOCK_THREADS_MAX)
		threads = CBAR_UNLOCK_THREADS_MAX;
	while (threads > 1 && len / threads < part_min)
		threads--;
	if (threads <= 1)
		return cbar_unlocks_parse(np, country, text, len, name, d);
	struct unlock_part part[CBAR_UNLOCK_THREADS_MAX];
	pthread_t tid[CBAR_UNLOCK_THREADS_MAX];
	bool started[CBAR_UNLOCK_THREADS_MAX] = {false};
	struct cbar_unlockset *s = NULL;
	size_t at = 0;
	for (unsigned k = 0; k < threads; k++) {
		/* Each part ends after a '\n': its lines are whole. */
		size_t end = len;
		if (k + 1 < threads) {
			size_t want = len / threads * (k + 1);
			if (want < at)
				want = at;
			const char *nl = memchr(text + want, '\n', len - want);
			end = nl ? (size_t)(nl - text) + 1 : len;
		}
		part[k] = (struct unlock_part){
		    .np = np, .country = country, .text = text + at, .len = end - at, .name = name};
		at = end;
	}
	for (unsigned k = 1; k < threads; k++)
		started[k] = pthread_create(&tid[k], NULL, read_part, &part[k]) == 0;
	/* The table is made (its pages touched) while the others read. */
	s = cbar_unlockset_new(len / 32);
	read_part(&part[0]);
	for (unsigned k = 1; k < threads; k++)
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			read_part(&part[k]);
	if (d)
		d->file = name;
	bool ok = s != NULL;
	if (!ok)
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	unsigned base = 0; /* the lines before part k */
	for (unsigned k = 0; ok && k < threads; k++) {
		struct unlock_part *p = &part[k];
		size_t done = 0;
		enum cbar_err err;
		if (p->err) {
			if (d) {
				*d = p->d;
				if (d->line)
					d->line += base;
			}
			ok = false;
		} else if ((err = cbar_unlockset_add_many(s, p->u, p->n, &done))) {
			cbar_diag_set(d, err, p->line[done] + base, 1, "%s", cbar_err_message(err));
			ok = false;
		}
		base += p->lines;
	}
	for (unsigned k = 0; k < threads; k++) {
		free(part[k].u);
		free(part[k].line);
	}
	if (!ok) {
		cbar_unlockset_free(s);
		s = NULL;
	}
	return s;
}

struct cbar_unlockset *cbar_unlocks_parse_threads(const struct cbar_numplan *np, uint16_t country,
                                                  const char *text, size_t len, const char *name,
                                                  unsigned threads, struct cbar_diag *d)
{
	return cbar__unlocks_parse_parts(np, country, text, len, name, threads, UNLOCK_PART_MIN, d);
}

struct cbar_unlockset *cbar_unlocks_load(const struct cbar_numplan *np, uint16_t country,
                                         const char *path, unsigned threads)
{
	size_t len;
	char *text = cbar_file_read(path, 1u << 31, &len);
	if (!text) {
		fprintf(stderr, "callbar: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct cbar_diag d = {0};
	struct cbar_unlockset *s =
	    cbar_unlocks_parse_threads(np, country, text, len, path, threads, &d);
	if (!s)
		cbar_rules_print_diag(stderr, text, len, &d);
	free(text);
	return s;
}

struct cbar_unlockset *cbar_unlocks_from_registry(const char *url)
{
	struct cbar_store *st = NULL;
	struct cbar_diag d = {0};
	struct cbar_store_opts o = {0};
	enum cbar_err err = cbar_store_open(&st, url, &o, &d);
	if (err) {
		fprintf(stderr, "callbar: registry %s: %s\n", url, d.msg[0] ? d.msg : cbar_err_message(err));
		return NULL;
	}
	struct cbar_unlockset *s = cbar_unlockset_new(1024);
	int64_t head = 0;
	err = s ? cbar_store_foreach_active(st, cbar_unlockset_add_active, s, &head, &d) : CBAR_NOMEM;
	cbar_store_free(st);
	if (err) {
		fprintf(stderr, "callbar: registry %s: %s\n", url, d.msg[0] ? d.msg : cbar_err_message(err));
		cbar_unlockset_free(s);
		return NULL;
	}
	return s;
}
