/* callbar tests: reading case files (see casefile.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile.h"

static void die(const char *path, unsigned line, const char *msg)
{
	fprintf(stderr, "%s:%u: %s\n", path, line, msg);
	exit(2);
}

/* Unquote [s, e) into a new string; *len gets its length (may hold NULs). */
static char *field(const char *path, unsigned line, const char *s, const char *e, size_t *len)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	char *out = malloc((size_t)(e - s) + 1), *o = out;
	if (!out)
		die(path, line, "out of memory");
	if (s < e && *s == '"') {
		if (e - s < 2 || e[-1] != '"')
			die(path, line, "unterminated quoted field");
		for (const char *p = s + 1; p < e - 1; p++) {
			if (*p != '\\') {
				*o++ = *p;
				continue;
			}
			p++;
			if (p >= e - 1)
				die(path, line, "backslash at the end of a field");
			switch (*p) {
			case 't': *o++ = '\t'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case '0': *o++ = '\0'; break;
			case 'x': {
				unsigned v = 0;
				if (e - 1 - p < 3 || sscanf(p + 1, "%2x", &v) != 1)
					die(path, line, "bad \\x escape");
				*o++ = (char)v;
				p += 2;
				break;
			}
			default: *o++ = *p;
			}
		}
	} else {
		memcpy(o, s, (size_t)(e - s));
		o += e - s;
	}
	*o = 0;
	*len = (size_t)(o - out);
	return out;
}

struct tcase *casefile_read(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(path, 0, "cannot open");
	struct tcase *v = NULL;
	size_t cnt = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	unsigned lineno = 0;
	while ((len = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof *v);
			if (!v)
				die(path, lineno, "out of memory");
		}
		struct tcase *c = &v[cnt++];
		memset(c, 0, sizeof *c);
		c->file = path;
		c->line = lineno;
		const char *s = line, *end = line + len;
		while (s <= end) {
			const char *q = s;
			bool quoted = false;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && *q == '"') {
				quoted = true;
				for (q++; q < end && *q != '"'; q++)
					if (*q == '\\')
						q++;
				if (q < end)
					q++;
			}
			(void)quoted;
			const char *bar = memchr(q, '|', (size_t)(end - q));
			if (!bar)
				bar = end;
			if (c->nfields == CASE_MAX_FIELDS)
				die(path, lineno, "too many fields");
			c->field[c->nfields] = field(path, lineno, s, bar, &c->len[c->nfields]);
			c->nfields++;
			s = bar + 1;
		}
	}
	free(line);
	fclose(f);
	*n = cnt;
	return v;
}

const char *case_expect(const char *list, const char *key, char *buf, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = list;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		size_t n = 0;
		bool match = (size_t)(p - k) == klen && !strncmp(k, key, klen);
		if (*p == '=') {
			p++;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++)
					if (match && n + 1 < cap)
						buf[n++] = *p;
				if (*p)
					p++;
			} else {
				for (; *p && *p != ' '; p++)
					if (match && n + 1 < cap)
						buf[n++] = *p;
			}
		}
		if (match) {
			buf[n] = 0;
			return buf;
		}
	}
	return NULL;
}

void case_note(void *ctx, size_t rule, unsigned line, bool matched, const char *why)
{
	struct notes *w = ctx;
	(void)rule;
	if (w->n < sizeof w->text)
		w->n += (size_t)snprintf(w->text + w->n, sizeof w->text - w->n, "line %u: %s: %s\n",
		                         line, matched ? "MATCH" : "no", why);
}
