/* callbar: loading rule and unlock files for the commands (rules_load.h). */
#include <errno.h>
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

struct cbar_unlockset *cbar_unlocks_load(const struct cbar_numplan *np, uint16_t country,
                                    const char *path)
{
	size_t len;
	char *text = cbar_file_read(path, 1u << 31, &len);
	if (!text) {
		fprintf(stderr, "callbar: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct cbar_diag d = {0};
	struct cbar_unlockset *s = cbar_unlocks_parse(np, country, text, len, path, &d);
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
