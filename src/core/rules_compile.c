/*
 * callbar: compiling a rule file into a snapshot (rules.h, docs/rules.md).
 *
 * The rule language is ours, so its lexer and parser are hand-written: one
 * statement per line, tokens separated by blanks, "strings" with C escapes,
 * '#' to the end of the line.  Input is (pointer, length); a NUL is an
 * ordinary bad character.  Every statement keyword and every rule clause is
 * a row of a table with its handler.
 *
 * After parsing, the compiler builds what cbar_decide() reads (see
 * rules_impl.h).  The peer bitmaps are made by one depth-first walk of the
 * combined digit trie that keeps the current rule bitmap and flips only the
 * bits of the rules whose set changes value at a node; a Zobrist hash of
 * the bitmap finds its twin among the bitmaps already made, so a node that
 * changes nothing costs nothing and identical bitmaps are stored once.
 * Compile time is then about (terms x rules using them) + (distinct
 * bitmaps x rules / 64), which keeps 100,000 rules over a few dozen zones
 * well under half a second.  Its weak spot is thousands of rules each with
 * its own `+prefix` peer: that makes thousands of distinct bitmaps, so a
 * cap turns it into a compile error that says to use a list instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_impl.h"

/* Bitmaps for the peer trie may take at most this much memory. */
#define MAX_VEC_BYTES (256u << 20)
#define MAX_RULES (1u << 22)

struct tok {
	const char *s;
	size_t n;
	unsigned col;
	bool str;
	bool closed; /* a string that found its closing quote */
};

struct ps {
	const struct cbar_numplan *np;
	const char *text, *end;
	const char *fname;
	const struct cbar_rules_loader *loader;
	struct cbar_diag *d;
	struct cbar_rules *rs;
	size_t capsets, caprules, capann, capemerg;
	uint32_t *named; /* indexes of named sets */
	size_t nnamed, capnamed;
	unsigned line;
	const char *ls, *le, *p; /* line start, line end, cursor */
	bool tz_set;
};

static enum cbar_err fail(struct ps *ps, enum cbar_err e, unsigned col, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;

static enum cbar_err fail(struct ps *ps, enum cbar_err e, unsigned col, const char *fmt, ...)
{
	char buf[sizeof ps->d->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return cbar_diag_set(ps->d, e, ps->line, col, "%s", buf);
}

/* A token as it may appear in a message: at most 60 bytes. */
#define TOKF "%.*s"
#define TOKA(t) (int)((t)->n > 60 ? 60 : (t)->n), (t)->s

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next token of the current line; false at its end (or a comment). */
static bool next_tok(struct ps *ps, struct tok *t)
{
	while (ps->p < ps->le && is_blank(*ps->p))
		ps->p++;
	if (ps->p >= ps->le || *ps->p == '#')
		return false;
	t->s = ps->p;
	t->col = (unsigned)(ps->p - ps->ls) + 1;
	t->str = *ps->p == '"';
	t->closed = false;
	if (t->str) {
		const char *q = ps->p + 1;
		while (q < ps->le && *q != '"')
			q += *q == '\\' && q + 1 < ps->le ? 2 : 1;
		t->closed = q < ps->le;
		ps->p = t->closed ? q + 1 : q; /* unterminated: caught by unquote */
	} else {
		while (ps->p < ps->le && !is_blank(*ps->p))
			ps->p++;
	}
	t->n = (size_t)(ps->p - t->s);
	return true;
}

static bool tok_is(const struct tok *t, const char *w)
{
	return !t->str && strlen(w) == t->n && !memcmp(t->s, w, t->n);
}

static char *dup_n(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = 0;
	}
	return r;
}

/* A quoted string without its quotes and escapes, in a new buffer. */
static enum cbar_err unquote(struct ps *ps, const struct tok *t, char **out)
{
	if (!t->str)
		return fail(ps, CBAR_RULES_SYNTAX, t->col, "expected a \"quoted string\", got '" TOKF "'",
		            TOKA(t));
	if (!t->closed)
		return fail(ps, CBAR_RULES_SYNTAX, t->col, "unterminated string");
	char *r = malloc(t->n);
	if (!r)
		return CBAR_NOMEM;
	size_t k = 0;
	for (size_t i = 1; i + 1 < t->n; i++) {
		char c = t->s[i];
		if (c == 0) {
			free(r);
			return fail(ps, CBAR_RULES_SYNTAX, t->col + (unsigned)i, "NUL byte in string");
		}
		if (c == '\\') {
			char e = t->s[++i];
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e == '"' ? '"' : e == '\\' ? '\\' : 0;
			if (!c) {
				free(r);
				return fail(ps, CBAR_RULES_SYNTAX, t->col + (unsigned)i - 1,
				            "unknown escape '\\%c' in string", e);
			}
		}
		r[k++] = c;
	}
	r[k] = 0;
	*out = r;
	return CBAR_OK;
}

/* Names: a letter, then letters, digits, '-', '_', '.'. */
static bool is_name(const char *s, size_t n)
{
	if (n == 0 || n > 64 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') && c != '-' &&
		    c != '_' && c != '.')
			return false;
	}
	return true;
}

static enum cbar_err need_name(struct ps *ps, const struct tok *t, const char *what)
{
	if (t->str || !is_name(t->s, t->n))
		return fail(ps, CBAR_RULES_SYNTAX, t->col,
		            "bad %s name '" TOKF "': a letter, then letters, digits, '-', '_', '.'", what,
		            TOKA(t));
	return CBAR_OK;
}

static bool zdefault(const struct cbar_zone *z)
{
	if (z->dflt_set)
		return z->dflt;
	for (size_t i = 0; i < z->nterms; i++)
		if (z->terms[i].in)
			return false;
	return true;
}

/* dst = src, or its complement. */
static enum cbar_err zone_copy(struct cbar_zone *dst, const struct cbar_zone *src, bool invert)
{
	cbar_zone_init(dst);
	if (src->nterms) {
		dst->terms = malloc(src->nterms * sizeof *dst->terms);
		if (!dst->terms)
			return CBAR_NOMEM;
		memcpy(dst->terms, src->terms, src->nterms * sizeof *dst->terms);
		for (size_t i = 0; i < src->nterms; i++)
			dst->terms[i].in ^= invert;
	}
	dst->nterms = dst->capterms = src->nterms;
	dst->dflt = zdefault(src) ^ invert;
	dst->dflt_set = true;
	return CBAR_OK;
}

static int find_named(const struct ps *ps, const char *s, size_t n)
{
	for (size_t i = 0; i < ps->nnamed; i++) {
		const char *nm = ps->rs->sets[ps->named[i]].name;
		if (strlen(nm) == n && !memcmp(nm, s, n))
			return (int)ps->named[i];
	}
	return -1;
}

static enum cbar_err grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return CBAR_OK;
	size_t nc = *cap ? *cap * 2 : 16;
	void *np = realloc(*p, nc * size);
	if (!np)
		return CBAR_NOMEM;
	*p = np;
	*cap = nc;
	return CBAR_OK;
}

/* A new set (zone z moved in); its index in *idx. */
static enum cbar_err add_set(struct ps *ps, const struct tok *name, enum cbar__set_kind kind,
                             struct cbar_zone *z, int *idx)
{
	struct cbar_rules *rs = ps->rs;
	char *nm = NULL;
	if (name) {
		int other = find_named(ps, name->s, name->n);
		if (other >= 0)
			return fail(ps, CBAR_RULES_NAME, name->col,
			            "name '" TOKF "' is already defined at line %u", TOKA(name),
			            rs->sets[other].line);
		if (!(nm = dup_n(name->s, name->n)) ||
		    grow((void **)&ps->named, &ps->capnamed, ps->nnamed, sizeof *ps->named)) {
			free(nm);
			return CBAR_NOMEM;
		}
	}
	if (grow((void **)&rs->sets, &ps->capsets, rs->nsets, sizeof *rs->sets)) {
		free(nm);
		return CBAR_NOMEM;
	}
	enum cbar_err err = cbar_zone_compile(z);
	if (err) {
		free(nm);
		return err;
	}
	struct cbar__set *s = &rs->sets[rs->nsets];
	s->name = nm;
	s->kind = kind;
	s->line = ps->line;
	s->z = *z;
	cbar_zone_init(z);
	if (nm)
		ps->named[ps->nnamed++] = (uint32_t)rs->nsets;
	*idx = (int)rs->nsets++;
	return CBAR_OK;
}

/* ---- statements ---------------------------------------------------------- */

static enum cbar_err st_timezone(struct ps *ps, const struct tok *kw)
{
	struct tok t;
	if (ps->tz_set)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "a second 'timezone'");
	if (ps->rs->nrules)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'timezone' must come before the first rule (rule dates depend on it)");
	if (!next_tok(ps, &t))
		return fail(ps, CBAR_RULES_SYNTAX, (unsigned)(ps->p - ps->ls) + 1,
		            "'timezone' needs an offset such as +08:00");
	const char *s = t.s;
	if (t.str || t.n != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || s[1] < '0' ||
	    s[1] > '9' || s[2] < '0' || s[2] > '9' || s[4] < '0' || s[4] > '5' || s[5] < '0' ||
	    s[5] > '9')
		return fail(ps, CBAR_RULES_VALUE, t.col, "bad time zone '" TOKF "': want +HH:MM or -HH:MM",
		            TOKA(&t));
	int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
	if (h * 60 + m > 14 * 60)
		return fail(ps, CBAR_RULES_VALUE, t.col, "time zone '" TOKF "' is beyond +-14:00",
		            TOKA(&t));
	ps->rs->tz = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	ps->tz_set = true;
	return CBAR_OK;
}

static enum cbar_err st_zone(struct ps *ps, const struct tok *kw)
{
	struct tok name, t;
	struct cbar_zone pz, acc;
	bool have_acc = false;
	enum cbar_err err;
	if (!next_tok(ps, &name))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'zone' needs a name and terms");
	if ((err = need_name(ps, &name, "zone")))
		return err;
	cbar_zone_init(&pz);
	cbar_zone_init(&acc);
	unsigned nterms = 0;
	/* Prefix terms form one zone (longest prefix decides); named terms are
	 * joined to it by union, in order. */
	const char *save = ps->p;
	while (next_tok(ps, &t)) {
		nterms++;
		bool neg = t.n > 1 && t.s[0] == '!';
		const char *s = t.s + neg;
		size_t n = t.n - neg;
		if (!t.str && n && s[0] == '+') {
			if ((err = cbar_zone_add(&pz, t.s, t.n))) {
				if (err == CBAR_ZONE_PREFIX)
					err = fail(ps, CBAR_RULES_VALUE, t.col,
					           "bad prefix '" TOKF "': want +digits (1 to 15)", TOKA(&t));
				goto fail;
			}
		}
	}
	if (!nterms) {
		err = fail(ps, CBAR_RULES_SYNTAX, name.col, "zone '" TOKF "' needs at least one term",
		           TOKA(&name));
		goto fail;
	}
	if (pz.nterms) {
		acc = pz;
		cbar_zone_init(&pz);
		have_acc = true;
	}
	ps->p = save;
	while (next_tok(ps, &t)) {
		bool neg = t.n > 1 && t.s[0] == '!';
		const char *s = t.s + neg;
		size_t n = t.n - neg;
		if (!t.str && n && s[0] == '+')
			continue;
		if (t.str || !is_name(s, n)) {
			err = fail(ps, CBAR_RULES_SYNTAX, t.col,
			           "bad zone term '" TOKF "': want +prefix, !+prefix, zone or !zone",
			           TOKA(&t));
			goto fail;
		}
		int other = find_named(ps, s, n);
		if (other < 0 || ps->rs->sets[other].kind != CBAR__SET_ZONE) {
			err = fail(ps, CBAR_RULES_NAME, t.col + neg, "unknown zone '%.*s'", (int)n, s);
			goto fail;
		}
		struct cbar_zone tmp;
		if ((err = zone_copy(&tmp, &ps->rs->sets[other].z, neg))) {
			cbar_zone_release(&tmp);
			goto fail;
		}
		if (!have_acc) {
			acc = tmp;
			have_acc = true;
			continue;
		}
		err = cbar_zone_union(&acc, &tmp);
		cbar_zone_release(&tmp);
		if (err)
			goto fail;
	}
	int idx;
	if ((err = add_set(ps, &name, CBAR__SET_ZONE, &acc, &idx)))
		goto fail;
	return CBAR_OK;
fail:
	cbar_zone_release(&pz);
	cbar_zone_release(&acc);
	return err;
}

/* The entries of a list file: one +prefix a line, '#' comments. */
static enum cbar_err list_text(struct ps *ps, const struct tok *path, const char *pname,
                               const char *text, size_t len, struct cbar_zone *z)
{
	unsigned ln = 0;
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && text[j] != '\n')
			j++;
		ln++;
		size_t a = i, b = j;
		for (size_t k = a; k < b; k++)
			if (text[k] == '#') {
				b = k;
				break;
			}
		while (a < b && is_blank(text[a]))
			a++;
		while (b > a && is_blank(text[b - 1]))
			b--;
		if (b > a) {
			enum cbar_err err = text[a] == '+' ? cbar_zone_add(z, text + a, b - a)
			                                   : CBAR_ZONE_PREFIX;
			if (err == CBAR_ZONE_PREFIX)
				return fail(ps, CBAR_RULES_VALUE, path->col,
				            "%.80s:%u:%zu: bad entry '%.*s': want +digits (1 to 15)",
				            pname, ln, a - i + 1, (int)(b - a > 40 ? 40 : b - a),
				            text + a);
			if (err)
				return err;
		}
		i = j + 1;
	}
	return CBAR_OK;
}

static enum cbar_err st_list(struct ps *ps, const struct tok *kw)
{
	struct tok name, t;
	struct cbar_zone z;
	enum cbar_err err;
	if (!next_tok(ps, &name))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'list' needs a name and entries");
	if ((err = need_name(ps, &name, "list")))
		return err;
	cbar_zone_init(&z);
	unsigned n = 0;
	while (next_tok(ps, &t)) {
		if (n == 0 && tok_is(&t, "file")) {
			struct tok path;
			char *p = NULL, *text = NULL;
			size_t len = 0;
			if (!next_tok(ps, &path)) {
				err = fail(ps, CBAR_RULES_SYNTAX, t.col, "'file' needs a \"path\"");
				goto fail;
			}
			if ((err = unquote(ps, &path, &p)))
				goto fail;
			if (!ps->loader || !ps->loader->load) {
				err = fail(ps, CBAR_IO, path.col, "cannot read '%s': no file loader", p);
				free(p);
				goto fail;
			}
			struct cbar_diag ld = {0};
			err = ps->loader->load(ps->loader->ctx, ps->fname, p, strlen(p), &text, &len, &ld);
			if (err) {
				err = fail(ps, err, path.col, "cannot read list file '%s'%s%s", p,
				           ld.msg[0] ? ": " : "", ld.msg);
				free(p);
				goto fail;
			}
			err = list_text(ps, &path, p, text, len, &z);
			free(p);
			free(text);
			if (err)
				goto fail;
			if (next_tok(ps, &t)) {
				err = fail(ps, CBAR_RULES_SYNTAX, t.col,
				           "unexpected '" TOKF "' after the list file", TOKA(&t));
				goto fail;
			}
			n = 1;
			break;
		}
		n++;
		/* out of memory is not a bad entry */
		err = t.str || !t.n || t.s[0] != '+' ? CBAR_ZONE_PREFIX : cbar_zone_add(&z, t.s, t.n);
		if (err == CBAR_ZONE_PREFIX) {
			err = fail(ps, CBAR_RULES_VALUE, t.col,
			           "bad list entry '" TOKF "': want +digits (1 to 15) or file \"PATH\"",
			           TOKA(&t));
			goto fail;
		}
		if (err)
			goto fail;
	}
	if (!n) {
		err = fail(ps, CBAR_RULES_SYNTAX, name.col,
		           "list '" TOKF "' needs entries or file \"PATH\"", TOKA(&name));
		goto fail;
	}
	/* An empty list file is an empty list, not "everything". */
	if (!z.nterms) {
		z.dflt = false;
		z.dflt_set = true;
	}
	int idx;
	if ((err = add_set(ps, &name, CBAR__SET_LIST, &z, &idx)))
		goto fail;
	return CBAR_OK;
fail:
	cbar_zone_release(&z);
	return err;
}

static enum cbar_err st_emergency(struct ps *ps, const struct tok *kw)
{
	struct tok t;
	unsigned n = 0;
	while (next_tok(ps, &t)) {
		n++;
		bool ok = !t.str && t.n >= 1 && t.n <= CBAR_E164_MAX;
		for (size_t i = 0; ok && i < t.n; i++)
			ok = t.s[i] >= '0' && t.s[i] <= '9';
		if (!ok)
			return fail(ps, CBAR_RULES_VALUE, t.col,
			            "bad emergency number '" TOKF "': want digits as dialled (110)",
			            TOKA(&t));
		struct cbar_rules *rs = ps->rs;
		if (grow((void **)&rs->emerg, &ps->capemerg, rs->nemerg, sizeof *rs->emerg))
			return CBAR_NOMEM;
		struct cbar__emerg *e = &rs->emerg[rs->nemerg++];
		memset(e, 0, sizeof *e);
		memcpy(e->digits, t.s, t.n);
		e->len = (uint8_t)t.n;
	}
	if (!n)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'emergency' needs numbers");
	return CBAR_OK;
}

static enum cbar_err st_announce(struct ps *ps, const struct tok *kw)
{
	struct tok name, lang, text;
	enum cbar_err err;
	struct cbar_rules *rs = ps->rs;
	if (!next_tok(ps, &name))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'announce' needs a name and texts");
	if ((err = need_name(ps, &name, "announcement")))
		return err;
	for (size_t i = 0; i < rs->nann; i++)
		if (strlen(rs->ann[i].name) == name.n && !memcmp(rs->ann[i].name, name.s, name.n))
			return fail(ps, CBAR_RULES_NAME, name.col,
			            "announcement '" TOKF "' is already defined", TOKA(&name));
	struct cbar_text *texts = NULL;
	size_t nt = 0, cap = 0;
	char *nm = NULL;
	while (next_tok(ps, &lang)) {
		bool ok = !lang.str && lang.n >= 2 && lang.n <= 8;
		for (size_t i = 0; ok && i < lang.n; i++)
			ok = (lang.s[i] >= 'a' && lang.s[i] <= 'z') || (i >= 2 && lang.s[i] == '-') ||
			     (i >= 3 && (lang.s[i] | 0x20) >= 'a' && (lang.s[i] | 0x20) <= 'z');
		if (!ok) {
			err = fail(ps, CBAR_RULES_SYNTAX, lang.col,
			           "bad language '" TOKF "': want a tag such as zh or en", TOKA(&lang));
			goto fail;
		}
		if (!next_tok(ps, &text)) {
			err = fail(ps, CBAR_RULES_SYNTAX, lang.col,
			           "language '" TOKF "' needs a \"text\"", TOKA(&lang));
			goto fail;
		}
		if ((err = grow((void **)&texts, &cap, nt, sizeof *texts)))
			goto fail;
		char *l = dup_n(lang.s, lang.n), *x = NULL;
		if (!l) {
			err = CBAR_NOMEM;
			goto fail;
		}
		if ((err = unquote(ps, &text, &x))) {
			free(l);
			goto fail;
		}
		texts[nt].lang = l;
		texts[nt++].text = x;
	}
	if (!nt) {
		err = fail(ps, CBAR_RULES_SYNTAX, name.col, "announcement '" TOKF "' needs texts",
		           TOKA(&name));
		goto fail;
	}
	if (!(nm = dup_n(name.s, name.n)) ||
	    grow((void **)&rs->ann, &ps->capann, rs->nann, sizeof *rs->ann)) {
		err = CBAR_NOMEM;
		goto fail;
	}
	rs->ann[rs->nann].name = nm;
	rs->ann[rs->nann].texts = texts;
	rs->ann[rs->nann++].ntexts = nt;
	return CBAR_OK;
fail:
	free(nm);
	for (size_t i = 0; i < nt; i++) {
		free((char *)texts[i].lang);
		free((char *)texts[i].text);
	}
	free(texts);
	return err;
}

/* ---- rules --------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Midnight starting date t (YYYY-MM-DD) in the file's zone, as UTC. */
static enum cbar_err parse_date(struct ps *ps, const struct tok *t, int64_t *out)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *s = t->s;
	bool ok = !t->str && t->n == 10 && s[4] == '-' && s[7] == '-';
	for (int i = 0; ok && i < 10; i++)
		ok = i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9');
	if (!ok)
		return fail(ps, CBAR_RULES_VALUE, t->col, "bad date '" TOKF "': want YYYY-MM-DD",
		            TOKA(t));
	unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	                        (s[3] - '0'));
	unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
		return fail(ps, CBAR_RULES_VALUE, t->col, "no such date '" TOKF "'", TOKA(t));
	*out = days_from_civil(y, m, d) * 86400 - ps->rs->tz;
	return CBAR_OK;
}

struct rule_ctx {
	struct cbar__rule *r;
	unsigned seen; /* clause bits */
	bool is_all;
	unsigned ramp_col; /* where 'ramp' was written, for its error */
};

static enum cbar_err cl_peer(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct cbar__rule *r = rc->r;
	struct tok t;
	bool to = tok_is(kw, "to");
	const unsigned in = CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_IN) | CBAR_SCOPE_BIT(CBAR_SMS, CBAR_IN);
	/* With 'any' both words name the other party; with one direction the
	 * word must fit it, so a rule reads as what it does. */
	if (to && !(r->scope & ~in))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'to' names whom our subscriber calls: use 'from' with 'in'");
	if (!to && !(r->scope & in))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'from' names who calls our subscriber: use 'to' with 'out'");
	r->peer_kw = to ? CBAR__PEER_TO : CBAR__PEER_FROM;
	if (!next_tok(ps, &t))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'" TOKF "' needs a zone, <list> or +prefix", TOKA(kw));
	bool neg = t.n > 1 && t.s[0] == '!' && !t.str;
	const char *s = t.s + neg;
	size_t n = t.n - neg;
	unsigned col = t.col + neg;
	r->neg = neg;
	if (t.str)
		return fail(ps, CBAR_RULES_SYNTAX, t.col, "expected a zone, <list> or +prefix");
	if (n && s[0] == '+') {
		struct cbar_zone z;
		int idx;
		cbar_zone_init(&z);
		enum cbar_err err = cbar_zone_add(&z, s, n);
		if (!err)
			err = add_set(ps, NULL, CBAR__SET_PREFIX, &z, &idx);
		cbar_zone_release(&z);
		if (err == CBAR_ZONE_PREFIX)
			return fail(ps, CBAR_RULES_VALUE, col, "bad prefix '%.*s': want +digits (1 to 15)",
			            (int)n, s);
		if (err)
			return err;
		r->set = idx;
		return CBAR_OK;
	}
	bool list = n >= 2 && s[0] == '<' && s[n - 1] == '>';
	if (list) {
		s++;
		n -= 2;
		col++;
	}
	if (!is_name(s, n))
		return fail(ps, CBAR_RULES_SYNTAX, t.col,
		            "expected a zone, <list> or +prefix, got '" TOKF "'", TOKA(&t));
	int idx = find_named(ps, s, n);
	if (idx < 0 || (ps->rs->sets[idx].kind == CBAR__SET_LIST) != list) {
		if (idx >= 0)
			return fail(ps, CBAR_RULES_NAME, col, "'%.*s' is a %s: write %s", (int)n, s,
			            list ? "zone" : "list", list ? "it without <>" : "it as <name>");
		return fail(ps, CBAR_RULES_NAME, col, "unknown %s '%.*s'", list ? "list" : "zone",
		            (int)n, s);
	}
	r->set = idx;
	return CBAR_OK;
}

/* "a,b,c": call one() for each item with its column. */
static enum cbar_err each_item(struct ps *ps, const struct tok *kw, struct rule_ctx *rc,
                               enum cbar_err (*one)(struct ps *, struct rule_ctx *, const char *,
                                                    size_t, unsigned))
{
	struct tok t;
	if (!next_tok(ps, &t) || t.str)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'" TOKF "' needs a value", TOKA(kw));
	size_t i = 0;
	do {
		size_t j = i;
		while (j < t.n && t.s[j] != ',')
			j++;
		if (j == i)
			return fail(ps, CBAR_RULES_SYNTAX, t.col + (unsigned)i, "empty item in '" TOKF "'",
			            TOKA(&t));
		enum cbar_err err = one(ps, rc, t.s + i, j - i, t.col + (unsigned)i);
		if (err)
			return err;
		i = j + 1;
	} while (i <= t.n);
	return CBAR_OK;
}

static enum cbar_err one_carrier(struct ps *ps, struct rule_ctx *rc, const char *s, size_t n,
                                 unsigned col)
{
	enum cbar_carrier c = cbar_carrier_lookup(s, n);
	if (c == CBAR_CARRIER_NONE)
		return fail(ps, CBAR_RULES_VALUE, col,
		            "unknown carrier '%.*s' (cmcc, cucc, ctcc, cbn or their names)",
		            (int)(n > 60 ? 60 : n), s);
	rc->r->carriers |= 1u << c;
	return CBAR_OK;
}

static enum cbar_err one_region(struct ps *ps, struct rule_ctx *rc, const char *s, size_t n,
                                unsigned col)
{
	uint8_t g = cbar_numplan_region(ps->np, s, n);
	if (g == CBAR_NONE)
		return fail(ps, CBAR_RULES_VALUE, col, "unknown region '%.*s'", (int)(n > 60 ? 60 : n),
		            s);
	rc->r->regions[g / 64] |= 1ull << (g % 64);
	rc->r->any_region = false;
	return CBAR_OK;
}

static enum cbar_err cl_carrier(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	return each_item(ps, kw, rc, one_carrier);
}

static enum cbar_err cl_region(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	return each_item(ps, kw, rc, one_region);
}

static enum cbar_err cl_date(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'" TOKF "' needs a date YYYY-MM-DD",
		            TOKA(kw));
	return parse_date(ps, &t, tok_is(kw, "since") ? &rc->r->since : &rc->r->until);
}

/* ramp DATE: a staged rollout from the rule's 'since' to DATE (checked
 * once the rule is read, since 'since' may come after it). */
static enum cbar_err cl_ramp(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'ramp' needs the date YYYY-MM-DD the rollout reaches every subscriber");
	rc->ramp_col = kw->col;
	return parse_date(ps, &t, &rc->r->ramp_end);
}

static enum cbar_err cl_via(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t) || !is_name(t.s, t.n) || t.str)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'via' needs an ingress name");
	if (!(rc->r->ingress = dup_n(t.s, t.n)))
		return CBAR_NOMEM;
	rc->r->ingress_len = t.n;
	return CBAR_OK;
}

static enum cbar_err cl_roaming(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t) || !(tok_is(&t, "yes") || tok_is(&t, "no")))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'roaming' needs 'yes' or 'no'");
	rc->r->roaming = tok_is(&t, "yes") ? CBAR_ROAMING_YES : CBAR_ROAMING_NO;
	return CBAR_OK;
}

static enum cbar_err cl_unless(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t) || !(tok_is(&t, "unlocked") || tok_is(&t, "verified")))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'unless' needs 'unlocked' or 'verified'");
	rc->r->unless = tok_is(&t, "unlocked") ? CBAR__UNLESS_UNLOCKED : CBAR__UNLESS_VERIFIED;
	return CBAR_OK;
}

static enum cbar_err cl_reason(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t) || !is_name(t.s, t.n) || t.str)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'reason' needs a word (letters, digits, '-', '_', '.')");
	if (!(rc->r->reason = dup_n(t.s, t.n)))
		return CBAR_NOMEM;
	return CBAR_OK;
}

static enum cbar_err cl_announce(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	if (!next_tok(ps, &t) || t.str)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col, "'announce' needs an announcement name");
	for (size_t i = 0; i < ps->rs->nann; i++)
		if (strlen(ps->rs->ann[i].name) == t.n && !memcmp(ps->rs->ann[i].name, t.s, t.n)) {
			rc->r->announce = (int32_t)i;
			return CBAR_OK;
		}
	return fail(ps, CBAR_RULES_NAME, t.col, "unknown announcement '" TOKF "'", TOKA(&t));
}

static const struct {
	const char *word;
	enum cbar_err (*fn)(struct ps *, const struct tok *, struct rule_ctx *);
	unsigned bit; /* clauses sharing a bit exclude each other */
	bool reserved;
} clauses[] = {
	{"to", cl_peer, 1u << 0, false},        {"from", cl_peer, 1u << 0, false},
	{"carrier", cl_carrier, 1u << 1, false}, {"region", cl_region, 1u << 2, false},
	{"since", cl_date, 1u << 3, false},     {"until", cl_date, 1u << 4, false},
	{"via", cl_via, 1u << 5, false},        {"unless", cl_unless, 1u << 6, false},
	{"reason", cl_reason, 1u << 7, false},  {"announce", cl_announce, 1u << 8, false},
	/* Room for what DESIGN.md section 3 announces; not yet built. */
	{"roaming", cl_roaming, 1u << 10, false}, {"attest", NULL, 0, true},
	{"ramp", cl_ramp, 1u << 9, false},      {"velocity", NULL, 0, true},
};

static enum cbar_err st_rule(struct ps *ps, const struct tok *kw)
{
	struct cbar_rules *rs = ps->rs;
	struct tok t;
	enum cbar_err err;
	if (rs->nrules >= MAX_RULES)
		return fail(ps, CBAR_RULES_TOO_BIG, kw->col, "more than %u rules", MAX_RULES);
	if ((err = grow((void **)&rs->rules, &ps->caprules, rs->nrules, sizeof *rs->rules)))
		return err;
	struct cbar__rule *r = &rs->rules[rs->nrules];
	memset(r, 0, sizeof *r);
	r->line = ps->line;
	r->block = tok_is(kw, "block");
	r->set = -1;
	r->announce = -1;
	r->any_region = true;
	r->since = INT64_MIN;
	r->until = INT64_MAX;
	rs->nrules++; /* owned from here: freed with the snapshot on failure */
	struct rule_ctx rc = {.r = r};

	unsigned dirs = 0, svcs = 0;
	if (!next_tok(ps, &t))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'" TOKF "' needs a direction (in, out, any) or 'all'", TOKA(kw));
	if (tok_is(&t, "all")) {
		dirs = 3;
		svcs = 3;
		rc.is_all = true;
	} else {
		if (tok_is(&t, "in"))
			dirs = 1u << CBAR_IN;
		else if (tok_is(&t, "out"))
			dirs = 1u << CBAR_OUT;
		else if (tok_is(&t, "any"))
			dirs = 3;
		else
			return fail(ps, CBAR_RULES_SYNTAX, t.col,
			            "expected a direction (in, out, any) or 'all', got '" TOKF "'",
			            TOKA(&t));
		if (!next_tok(ps, &t))
			return fail(ps, CBAR_RULES_SYNTAX, (unsigned)(ps->p - ps->ls) + 1,
			            "expected a service (voice, sms, any)");
		if (tok_is(&t, "voice"))
			svcs = 1u << CBAR_VOICE;
		else if (tok_is(&t, "sms"))
			svcs = 1u << CBAR_SMS;
		else if (tok_is(&t, "any"))
			svcs = 3;
		else
			return fail(ps, CBAR_RULES_SYNTAX, t.col,
			            "expected a service (voice, sms, any), got '" TOKF "'", TOKA(&t));
	}
	for (unsigned s = 0; s < 2; s++)
		for (unsigned d = 0; d < 2; d++)
			if ((svcs >> s & 1) && (dirs >> d & 1))
				r->scope |= (uint8_t)CBAR_SCOPE_BIT(s, d);

	while (next_tok(ps, &t)) {
		size_t k;
		for (k = 0; k < sizeof clauses / sizeof clauses[0]; k++)
			if (tok_is(&t, clauses[k].word))
				break;
		if (k == sizeof clauses / sizeof clauses[0])
			return fail(ps, CBAR_RULES_SYNTAX, t.col, "unknown condition '" TOKF "'", TOKA(&t));
		if (clauses[k].reserved)
			return fail(ps, CBAR_RULES_SYNTAX, t.col,
			            "'" TOKF "' is reserved for a later version of callbar", TOKA(&t));
		if (rc.seen & clauses[k].bit)
			return fail(ps, CBAR_RULES_SYNTAX, t.col, "a second '" TOKF "'%s in one rule",
			            TOKA(&t), clauses[k].bit == 1u ? " (or to/from)" : "");
		rc.seen |= clauses[k].bit;
		if ((err = clauses[k].fn(ps, &t, &rc)))
			return err;
	}
	if (r->ramp_end && (r->since == INT64_MIN || r->ramp_end <= r->since))
		return fail(ps, CBAR_RULES_VALUE, rc.ramp_col,
		            "'ramp' needs a 'since' date before its own: the rollout runs from "
		            "'since' to the ramp date");
	r->dflt = r->scope == CBAR_SCOPE_ALL && r->set < 0 && !r->carriers && r->any_region &&
	          r->since == INT64_MIN && r->until == INT64_MAX && !r->ingress && !r->unless &&
	          !r->ramp_end && !r->roaming;
	return CBAR_OK;
}

static const struct {
	const char *word;
	enum cbar_err (*fn)(struct ps *, const struct tok *);
} statements[] = {
	{"timezone", st_timezone}, {"zone", st_zone},   {"list", st_list},
	{"emergency", st_emergency}, {"announce", st_announce}, {"block", st_rule},
	{"pass", st_rule},
};

static enum cbar_err parse(struct ps *ps)
{
	const char *p = ps->text;
	while (p < ps->end) {
		const char *e = memchr(p, '\n', (size_t)(ps->end - p));
		if (!e)
			e = ps->end;
		ps->line++;
		ps->ls = ps->p = p;
		ps->le = e;
		struct tok t;
		if (next_tok(ps, &t)) {
			size_t k;
			for (k = 0; k < sizeof statements / sizeof statements[0]; k++)
				if (tok_is(&t, statements[k].word))
					break;
			if (k == sizeof statements / sizeof statements[0])
				return fail(ps, CBAR_RULES_SYNTAX, t.col,
				            "unknown statement '" TOKF "' (timezone, zone, list, emergency, "
				            "announce, block, pass)",
				            TOKA(&t));
			enum cbar_err err = statements[k].fn(ps, &t);
			if (err)
				return err;
		}
		p = e + 1;
	}
	struct cbar_rules *rs = ps->rs;
	if (!rs->nrules || !rs->rules[rs->nrules - 1].dflt) {
		if (rs->nrules)
			ps->line = rs->rules[rs->nrules - 1].line;
		return fail(ps, CBAR_RULES_DEFAULT, 1,
		            "no default: the last rule must be 'pass all' or 'block all' with no "
		            "conditions");
	}
	return CBAR_OK;
}

/* ---- the decision tables ------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

struct term_end {
	uint32_t set, next;
	bool in;
};

struct build {
	struct cbar_rules *rs;
	uint32_t *te_head; /* per node */
	struct term_end *te;
	size_t nte, capte, captrie;
	bool *val;          /* per set: value at the current node */
	uint32_t *by_set;   /* CSR: rules of each set */
	uint32_t *by_set_at;
	uint64_t *cur, hash;
	uint32_t *undo; /* sets changed on the path from the root */
	size_t nundo;
	uint32_t *htab; /* vec ids + 1, open addressing */
	uint64_t *hkeys;
	size_t hcap, capvec;
	enum cbar_err err;
};

static void flip_set(struct build *b, uint32_t s)
{
	for (uint32_t i = b->by_set_at[s]; i < b->by_set_at[s + 1]; i++) {
		uint32_t r = b->by_set[i];
		b->cur[r / 64] ^= 1ull << (r % 64);
		b->hash ^= mix64(r);
	}
}

static enum cbar_err intern(struct build *b, uint32_t *id)
{
	struct cbar_rules *rs = b->rs;
	size_t w = rs->words;
	if (rs->nvec * 2 + 2 > b->hcap) {
		size_t nc = b->hcap ? b->hcap * 2 : 64;
		uint32_t *nt = calloc(nc, sizeof *nt);
		uint64_t *nk = calloc(nc, sizeof *nk);
		if (!nt || !nk) {
			free(nt);
			free(nk);
			return CBAR_NOMEM;
		}
		for (size_t i = 0; i < b->hcap; i++)
			if (b->htab[i]) {
				size_t j = b->hkeys[i] & (nc - 1);
				while (nt[j])
					j = (j + 1) & (nc - 1);
				nt[j] = b->htab[i];
				nk[j] = b->hkeys[i];
			}
		free(b->htab);
		free(b->hkeys);
		b->htab = nt;
		b->hkeys = nk;
		b->hcap = nc;
	}
	size_t j = b->hash & (b->hcap - 1);
	for (; b->htab[j]; j = (j + 1) & (b->hcap - 1))
		if (b->hkeys[j] == b->hash &&
		    !memcmp(rs->vecbits + (size_t)(b->htab[j] - 1) * w, b->cur, w * 8)) {
			*id = b->htab[j] - 1;
			return CBAR_OK;
		}
	if ((rs->nvec + 1) * w * 8 > MAX_VEC_BYTES)
		return CBAR_RULES_TOO_BIG;
	if (rs->nvec == b->capvec) {
		size_t nc = b->capvec ? b->capvec * 2 : 16;
		uint64_t *nv = realloc(rs->vecbits, nc * w * 8);
		if (!nv)
			return CBAR_NOMEM;
		rs->vecbits = nv;
		b->capvec = nc;
	}
	memcpy(rs->vecbits + rs->nvec * w, b->cur, w * 8);
	b->htab[j] = (uint32_t)rs->nvec + 1;
	b->hkeys[j] = b->hash;
	*id = (uint32_t)rs->nvec++;
	return CBAR_OK;
}

/* Depth first over the combined trie, keeping cur = the rule bitmap of
 * the numbers under the node. */
static void walk(struct build *b, uint32_t node, bool root)
{
	size_t mark = b->nundo;
	for (uint32_t e = b->te_head[node]; e != UINT32_MAX; e = b->te[e].next) {
		uint32_t s = b->te[e].set;
		if (b->val[s] == b->te[e].in)
			continue;
		b->val[s] = b->te[e].in;
		flip_set(b, s);
		b->undo[b->nundo++] = s;
	}
	if (root || b->nundo > mark) {
		enum cbar_err err = intern(b, &b->rs->trie[node].vec);
		if (err && !b->err)
			b->err = err;
	}
	for (unsigned d = 0; d < 10 && !b->err; d++)
		if (b->rs->trie[node].child[d])
			walk(b, b->rs->trie[node].child[d], false);
	while (b->nundo > mark) {
		uint32_t s = b->undo[--b->nundo];
		b->val[s] = !b->val[s];
		flip_set(b, s);
	}
}

static enum cbar_err add_node(struct build *b, uint32_t *id)
{
	struct cbar_rules *rs = b->rs;
	if (rs->ntrie == b->captrie) {
		size_t nc = b->captrie ? b->captrie * 2 : 64;
		struct cbar__node *nn = realloc(rs->trie, nc * sizeof *nn);
		uint32_t *nh = realloc(b->te_head, nc * sizeof *nh);
		if (nn)
			rs->trie = nn;
		if (nh)
			b->te_head = nh;
		if (!nn || !nh)
			return CBAR_NOMEM;
		b->captrie = nc;
	}
	memset(&rs->trie[rs->ntrie], 0, sizeof rs->trie[0]);
	rs->trie[rs->ntrie].vec = CBAR__NOVEC;
	b->te_head[rs->ntrie] = UINT32_MAX;
	*id = (uint32_t)rs->ntrie++;
	return CBAR_OK;
}

static enum cbar_err build_peer(struct cbar_rules *rs)
{
	struct build b = {.rs = rs};
	enum cbar_err err = CBAR_NOMEM;
	size_t ns = rs->nsets;
	b.val = calloc(ns + 1, sizeof *b.val);
	b.by_set_at = calloc(ns + 2, sizeof *b.by_set_at);
	b.by_set = malloc((rs->nrules + 1) * sizeof *b.by_set);
	b.cur = calloc(rs->words, 8);
	uint32_t root;
	if (!b.val || !b.by_set_at || !b.by_set || !b.cur || add_node(&b, &root))
		goto out;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].set >= 0)
			b.by_set_at[rs->rules[i].set + 1]++;
	for (size_t s = 0; s < ns; s++)
		b.by_set_at[s + 1] += b.by_set_at[s];
	b.by_set_at[ns + 1] = b.by_set_at[ns];
	{
		uint32_t *fill = calloc(ns + 1, sizeof *fill);
		if (!fill)
			goto out;
		for (size_t i = 0; i < rs->nrules; i++) {
			int32_t s = rs->rules[i].set;
			if (s >= 0)
				b.by_set[b.by_set_at[s] + fill[s]++] = (uint32_t)i;
		}
		free(fill);
	}
	/* Values at the root are the sets' defaults; rules with no peer
	 * condition hold everywhere. */
	for (size_t s = 0; s < ns; s++)
		b.val[s] = zdefault(&rs->sets[s].z);
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cbar__rule *r = &rs->rules[i];
		if (r->set < 0 || (b.val[r->set] ^ r->neg)) {
			b.cur[i / 64] |= 1ull << (i % 64);
			b.hash ^= mix64(i);
		}
	}
	/* The trie of every term of every set some rule uses. */
	for (size_t s = 0; s < ns; s++) {
		if (b.by_set_at[s] == b.by_set_at[s + 1])
			continue;
		const struct cbar_zone *z = &rs->sets[s].z;
		for (size_t i = 0; i < z->nterms; i++) {
			uint32_t cur = 0;
			for (unsigned k = 0; k < z->terms[i].len; k++) {
				unsigned d = (unsigned)(z->terms[i].digits[k] - '0');
				if (!rs->trie[cur].child[d]) {
					uint32_t id;
					if ((err = add_node(&b, &id)))
						goto out;
					rs->trie[cur].child[d] = id;
				}
				cur = rs->trie[cur].child[d];
			}
			if ((err = grow((void **)&b.te, &b.capte, b.nte, sizeof *b.te)))
				goto out;
			b.te[b.nte] = (struct term_end){(uint32_t)s, b.te_head[cur], z->terms[i].in};
			b.te_head[cur] = (uint32_t)b.nte++;
		}
	}
	/* Each term end changes at most one set once on a path. */
	if (!(b.undo = malloc((b.nte + 1) * sizeof *b.undo))) {
		err = CBAR_NOMEM;
		goto out;
	}
	walk(&b, 0, true);
	err = b.err;
out:
	free(b.val);
	free(b.by_set_at);
	free(b.by_set);
	free(b.cur);
	free(b.te);
	free(b.te_head);
	free(b.undo);
	free(b.htab);
	free(b.hkeys);
	return err;
}

static enum cbar_err build_tables(struct cbar_rules *rs)
{
	size_t w = rs->words = (rs->nrules + 63) / 64;
	rs->nregion = 1;
	while (rs->nregion < 256 && cbar_numplan_region_code(rs->np, (uint8_t)rs->nregion))
		rs->nregion++;
	rs->svcdir = calloc(4 * w, 8);
	rs->carrier = calloc(CBAR_CARRIER_COUNT * w, 8);
	rs->region = calloc(rs->nregion * w, 8);
	if (!rs->svcdir || !rs->carrier || !rs->region)
		return CBAR_NOMEM;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cbar__rule *r = &rs->rules[i];
		uint64_t bit = 1ull << (i % 64);
		rs->any_unless |= r->unless != CBAR__UNLESS_NONE;
		for (unsigned k = 0; k < 4; k++)
			if (r->scope >> k & 1)
				rs->svcdir[k * w + i / 64] |= bit;
		for (unsigned c = 0; c < CBAR_CARRIER_COUNT; c++)
			if (!r->carriers || (r->carriers >> c & 1))
				rs->carrier[c * w + i / 64] |= bit;
		for (size_t g = 0; g < rs->nregion; g++)
			if (r->any_region || (r->regions[g / 64] >> (g % 64) & 1))
				rs->region[g * w + i / 64] |= bit;
	}
	return build_peer(rs);
}

enum cbar_err cbar_rules_compile(const struct cbar_numplan *np, const char *text, size_t len,
                                 const char *filename, const struct cbar_rules_loader *loader,
                                 struct cbar_diag *d, struct cbar_rules **out)
{
	struct cbar_diag dummy;
	if (!d)
		d = &dummy;
	memset(d, 0, sizeof *d);
	d->file = filename;
	*out = NULL;
	if (!np || (!text && len))
		return CBAR_INVAL;
	struct cbar_rules *rs = calloc(1, sizeof *rs);
	if (!rs)
		return CBAR_NOMEM;
	rs->np = np;
	rs->file = dup_n(filename ? filename : "-", filename ? strlen(filename) : 1);
	struct ps ps = {.np = np,
	                .text = text ? text : "",
	                .end = (text ? text : "") + len,
	                .fname = filename ? filename : "-",
	                .loader = loader,
	                .d = d,
	                .rs = rs};
	enum cbar_err err = rs->file ? parse(&ps) : CBAR_NOMEM;
	free(ps.named);
	if (!err) {
		err = build_tables(rs);
		if (err == CBAR_RULES_TOO_BIG)
			cbar_diag_set(d, err, 0, 0,
			              "too many distinct peer conditions for one snapshot: gather "
			              "+prefix peers into a list");
	}
	if (err) {
		if (err == CBAR_NOMEM)
			cbar_diag_set(d, err, ps.line, 0, "out of memory");
		cbar_rules_free(rs);
		return err;
	}
	*out = rs;
	return CBAR_OK;
}

void cbar_rules_free(struct cbar_rules *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nsets; i++) {
		free(rs->sets[i].name);
		cbar_zone_release(&rs->sets[i].z);
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		free(rs->rules[i].ingress);
		free(rs->rules[i].reason);
	}
	for (size_t i = 0; i < rs->nann; i++) {
		for (size_t k = 0; k < rs->ann[i].ntexts; k++) {
			free((char *)rs->ann[i].texts[k].lang);
			free((char *)rs->ann[i].texts[k].text);
		}
		free((struct cbar_text *)rs->ann[i].texts);
		free((char *)rs->ann[i].name);
	}
	free(rs->ann);
	free(rs->sets);
	free(rs->rules);
	free(rs->emerg);
	free(rs->svcdir);
	free(rs->carrier);
	free(rs->region);
	free(rs->trie);
	free(rs->vecbits);
	free(rs->file);
	free(rs);
}
