/*
 * callbar: reading a rule file (rules.h, docs/rules.md) into the per-rule
 * structs of a snapshot; rules_build.c then makes the decision tables.
 *
 * The rule language is ours, so its lexer and parser are hand-written: one
 * statement per line, tokens separated by blanks, "strings" with C escapes,
 * '#' to the end of the line.  Input is (pointer, length); a NUL is an
 * ordinary bad character.  Every statement keyword and every rule clause is
 * a row of a table with its handler, and every error names the line and
 * column (struct cbar_diag).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/civil.h"
#include "rules_impl.h"

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
	size_t capsets, caprules, capann, capemerg, caplimits;
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
	dst->dflt = cbar__zone_default(src) ^ invert;
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


/* A new set (zone z moved in); its index in *idx. */
static enum cbar_err add_set(struct ps *ps, const struct tok *name, enum cbar__set_kind kind,
                             struct cbar_zone *z, int *idx)
{
	struct cbar_rules *rs = ps->rs;
	char *nm = NULL;
	if (name) {
		if (name->n == 7 && !memcmp(name->s, "unknown", 7))
			return fail(ps, CBAR_RULES_NAME, name->col,
			            "'unknown' is reserved: 'from unknown' names a caller the network "
			            "does not identify");
		if (name->n == 12 && !memcmp(name->s, "alphanumeric", 12))
			return fail(ps, CBAR_RULES_NAME, name->col,
			            "'alphanumeric' is reserved: 'from alphanumeric' names a sender "
			            "written in letters");
		if ((name->n == 7 && !memcmp(name->s, "invalid", 7)) ||
		    (name->n == 4 && !memcmp(name->s, "self", 4)))
			return fail(ps, CBAR_RULES_NAME, name->col,
			            "'" TOKF "' is reserved: 'from " TOKF "' is a caller-ID condition",
			            TOKA(name), TOKA(name));
		int other = find_named(ps, name->s, name->n);
		if (other >= 0)
			return fail(ps, CBAR_RULES_NAME, name->col,
			            "name '" TOKF "' is already defined at line %u", TOKA(name),
			            rs->sets[other].line);
		if (!(nm = dup_n(name->s, name->n)) ||
		    cbar__grow((void **)&ps->named, &ps->capnamed, ps->nnamed, sizeof *ps->named)) {
			free(nm);
			return CBAR_NOMEM;
		}
	}
	if (cbar__grow((void **)&rs->sets, &ps->capsets, rs->nsets, sizeof *rs->sets)) {
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
	/* The offsets of civil.h (+HH:MM, +HHMM, +HH, Z), within the ones in
	 * use: a rule file's zone is a real one. */
	struct cbar_civil_fail f;
	int32_t off;
	if (t.str || cbar_civil_offset_parse(t.s, t.n, &off, &f)) {
		if (!t.str && f.range && !strstr(f.why, "minutes"))
			return fail(ps, CBAR_RULES_VALUE, t.col, "time zone '" TOKF "' is beyond +-14:00",
			            TOKA(&t));
		return fail(ps, CBAR_RULES_VALUE, t.col, "bad time zone '" TOKF "': want +HH:MM or -HH:MM",
		            TOKA(&t));
	}
	if (off < -14 * 3600 || off > 14 * 3600)
		return fail(ps, CBAR_RULES_VALUE, t.col, "time zone '" TOKF "' is beyond +-14:00",
		            TOKA(&t));
	ps->rs->tz = off;
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
		if (cbar__grow((void **)&rs->emerg, &ps->capemerg, rs->nemerg, sizeof *rs->emerg))
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
		if ((err = cbar__grow((void **)&texts, &cap, nt, sizeof *texts)))
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
	    cbar__grow((void **)&rs->ann, &ps->capann, rs->nann, sizeof *rs->ann)) {
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

/* A date (its midnight) or a date-time, in the file's zone unless it says
 * its own (civil.h, CBAR_CIVIL_RULES), as UTC. */
static enum cbar_err parse_date(struct ps *ps, const struct tok *t, int64_t *out)
{
	struct cbar_civil_fail f;
	if (t->str)
		return fail(ps, CBAR_RULES_VALUE, t->col, "bad date '" TOKF "': want YYYY-MM-DD",
		            TOKA(t));
	if (!cbar_civil_parse(t->s, t->n, CBAR_CIVIL_RULES, ps->rs->tz, out, &f))
		return CBAR_OK;
	if (!f.range)
		return fail(ps, CBAR_RULES_VALUE, t->col, "bad date '" TOKF "': want YYYY-MM-DD",
		            TOKA(t));
	return fail(ps, CBAR_RULES_VALUE, t->col, "no such %s '" TOKF "'",
	            f.at < 10 ? "date" : "time", TOKA(t));
}

struct rule_ctx {
	struct cbar__rule *r;
	unsigned seen; /* clause bits */
	bool is_all;
	unsigned ramp_col; /* where 'ramp' was written, for its error */
	struct cbar_limit_info *lim; /* a `limit` statement's definition, else NULL */
	uint64_t window_ms;          /* as written, for lint's "shorter than a second" */
};

/* `from invalid`: a caller ID the numbering data refuses; `from self`: the
 * caller is the callee.  Both are about a presented caller, so only `from`
 * with `in` takes them. */
static enum cbar_err peer_check(struct ps *ps, const struct tok *kw, const struct tok *t,
                                bool neg, struct rule_ctx *rc)
{
	bool self = t->n - neg == 4;
	if (neg)
		return fail(ps, CBAR_RULES_SYNTAX, t->col,
		            "'" TOKF "' is not a peer condition: put the '%s' rule first", TOKA(t),
		            self ? "self" : "invalid");
	if (!tok_is(kw, "from") || (rc->r->scope & (CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_OUT) |
	                                           CBAR_SCOPE_BIT(CBAR_SMS, CBAR_OUT))))
		return fail(ps, CBAR_RULES_SYNTAX, t->col,
		            "'from %s' checks the caller ID an incoming event presents: use it with 'in'",
		            self ? "self" : "invalid");
	if (self)
		rc->r->self = true;
	else
		rc->r->invalid = true;
	return CBAR_OK;
}

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
		            "'" TOKF "' needs a zone, <list>, +prefix or 'unknown'", TOKA(kw));
	bool neg = t.n > 1 && t.s[0] == '!' && !t.str;
	const char *s = t.s + neg;
	size_t n = t.n - neg;
	unsigned col = t.col + neg;
	r->neg = neg;
	if (t.str)
		return fail(ps, CBAR_RULES_SYNTAX, t.col, "expected a zone, <list> or +prefix");
	/* A peer the network does not identify: missing, anonymous, or a
	 * number that does not parse.  Its complement is no condition at all
	 * but for the unknown, which a rule says more plainly by its order. */
	if (n == 7 && !memcmp(s, "unknown", 7)) {
		if (neg)
			return fail(ps, CBAR_RULES_SYNTAX, t.col,
			            "'!unknown' is not a peer condition: put the 'unknown' rule first, "
			            "then one without '" TOKF "'",
			            TOKA(kw));
		r->unknown = true;
		return CBAR_OK;
	}
	/* A sender named by letters (SMPP TON 5, "PAYPAL"): no number, no
	 * country; what it is, is where it came in (`via`). */
	if (n == 12 && !memcmp(s, "alphanumeric", 12)) {
		if (neg)
			return fail(ps, CBAR_RULES_SYNTAX, t.col,
			            "'!alphanumeric' is not a peer condition: put the 'alphanumeric' "
			            "rule first");
		r->alnum = true;
		return CBAR_OK;
	}
	if ((n == 7 && !memcmp(s, "invalid", 7)) || (n == 4 && !memcmp(s, "self", 4)))
		return peer_check(ps, kw, &t, neg, rc);
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

/* `notify`: tell the barred subscriber, with the rule's announcement
 * (checked when the rule is complete: a block rule with one). */
static enum cbar_err cl_notify(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	(void)ps;
	(void)kw;
	rc->r->notify = true;
	return CBAR_OK;
}

/* ---- limits ---- */

/* A duration: digits and a unit (ms, s, m, h, d), in milliseconds; 0 on a
 * malformed one.  At most a year: longer is a mistake, not a policy. */
static uint64_t duration_ms(const char *s, size_t n)
{
	size_t i = 0;
	uint64_t v = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9' && i < 9)
		v = v * 10 + (uint64_t)(s[i++] - '0');
	if (!i)
		return 0;
	size_t u = n - i;
	uint64_t m = u == 2 && s[i] == 'm' && s[i + 1] == 's' ? 1
	             : u != 1                                 ? 0
	             : s[i] == 's'                            ? 1000
	             : s[i] == 'm'                            ? 60000
	             : s[i] == 'h'                            ? 3600000
	             : s[i] == 'd'                            ? 86400000
	                                                      : 0;
	if (!m || v * m > UINT64_C(366) * 86400000)
		return 0;
	uint64_t ms = v * m;
	return ms ? ms : 1; /* "0s": kept, and lint says it */
}

static enum cbar_err need_limit(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	if (!rc->lim)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'" TOKF "' belongs to a 'limit' statement, not to a block or pass rule",
		            TOKA(kw));
	return CBAR_OK;
}

/* per peer | subscriber | peer-prefix N */
static enum cbar_err cl_per(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	enum cbar_err err = need_limit(ps, kw, rc);
	if (err)
		return err;
	if (!next_tok(ps, &t))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'per' needs 'peer', 'subscriber' or 'peer-prefix N'");
	if (tok_is(&t, "peer"))
		rc->lim->per = CBAR_PER_PEER;
	else if (tok_is(&t, "subscriber"))
		rc->lim->per = CBAR_PER_SUBSCRIBER;
	else if (tok_is(&t, "peer-prefix")) {
		struct tok nt;
		if (!next_tok(ps, &nt) || nt.str || nt.n > 2 || nt.s[0] < '1' || nt.s[0] > '9' ||
		    (nt.n == 2 && (nt.s[1] < '0' || nt.s[1] > '9')) ||
		    (nt.n == 2 && (nt.s[0] - '0') * 10 + (nt.s[1] - '0') > 15))
			return fail(ps, CBAR_RULES_VALUE, t.col,
			            "'peer-prefix' needs how many leading digits of the E.164 number "
			            "make the key (1 to 15)");
		rc->lim->per = CBAR_PER_PEER_PREFIX;
		rc->lim->prefix = (uint8_t)(nt.n == 1 ? nt.s[0] - '0' : (nt.s[0] - '0') * 10 + (nt.s[1] - '0'));
	} else
		return fail(ps, CBAR_RULES_SYNTAX, t.col,
		            "'per' needs 'peer', 'subscriber' or 'peer-prefix N', got '" TOKF "'",
		            TOKA(&t));
	return CBAR_OK;
}

/* distinct subscriber | peer */
static enum cbar_err cl_distinct(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	enum cbar_err err = need_limit(ps, kw, rc);
	if (err)
		return err;
	if (!next_tok(ps, &t) || !(tok_is(&t, "subscriber") || tok_is(&t, "peer")))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'distinct' needs 'subscriber' or 'peer': whose different numbers count");
	/* The counterpart is the other party; which one the key is follows
	 * from 'per', checked once the statement is read. */
	rc->lim->distinct = tok_is(&t, "subscriber") ? 1 : 2;
	return CBAR_OK;
}

/* N/WINDOW: more than N events (or counterparts) in a sliding window. */
static enum cbar_err cl_rate(struct ps *ps, const struct tok *t, struct rule_ctx *rc)
{
	size_t i = 0;
	uint32_t n = 0;
	while (i < t->n && t->s[i] >= '0' && t->s[i] <= '9' && i < 6)
		n = n * 10 + (uint32_t)(t->s[i++] - '0');
	if (!i || i >= t->n || t->s[i] != '/' || !n || n > CBAR_LIMIT_THRESHOLD_MAX)
		return fail(ps, CBAR_RULES_VALUE, t->col,
		            "bad rate '" TOKF "': want N/WINDOW, N from 1 to %u and WINDOW such as "
		            "10m (s, m, h)",
		            TOKA(t), CBAR_LIMIT_THRESHOLD_MAX);
	uint64_t ms = duration_ms(t->s + i + 1, t->n - i - 1);
	if (!ms || ms > UINT64_C(7) * 86400000)
		return fail(ps, CBAR_RULES_VALUE, t->col + (unsigned)i + 1,
		            "bad window '%.*s': want digits and s, m or h, at most 7 days",
		            (int)(t->n - i - 1 > 20 ? 20 : t->n - i - 1), t->s + i + 1);
	rc->lim->threshold = n;
	rc->window_ms = ms;
	rc->lim->window = (uint32_t)(ms / 1000);
	return CBAR_OK;
}

static enum cbar_err cl_bar(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct tok t;
	enum cbar_err err = need_limit(ps, kw, rc);
	if (err)
		return err;
	uint64_t ms = 0;
	if (!next_tok(ps, &t) || t.str || !(ms = duration_ms(t.s, t.n)) || ms < 1000)
		return fail(ps, CBAR_RULES_VALUE, kw->col,
		            "'bar' needs how long the key stays barred, such as 24h (s, m, h, d; at "
		            "least a second)");
	rc->lim->bar = (uint32_t)(ms / 1000);
	return CBAR_OK;
}

/* A limit's identity across reloads: its statement's tokens, one blank
 * between each, hashed (FNV-1a).  A changed threshold, window, key or
 * condition is a new limit with new counters. */
static uint64_t statement_id(const struct ps *ps)
{
	uint64_t h = 0xcbf29ce484222325u;
	struct ps q = *ps;
	struct tok t;
	q.p = q.ls;
	while (next_tok(&q, &t)) {
		for (size_t i = 0; i < t.n; i++)
			h = (h ^ (unsigned char)t.s[i]) * 0x100000001b3u;
		h = (h ^ ' ') * 0x100000001b3u;
	}
	return h;
}

/* What a limit statement must say once it is read. */
static enum cbar_err limit_done(struct ps *ps, const struct tok *kw, struct rule_ctx *rc)
{
	struct cbar_limit_info *l = rc->lim;
	struct cbar__rule *r = rc->r;
	if (!l->per)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "a limit needs its key: 'per peer', 'per subscriber' or 'per peer-prefix N'");
	if (!l->threshold)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "a limit needs its rate N/WINDOW, such as 20/10m");
	if (!l->bar)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "a limit needs 'bar DURATION': how long a key that goes over stays barred");
	if (r->unless)
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'unless' does not apply to a limit: put a pass rule for the exempted "
		            "subscribers before it");
	if (l->distinct && (l->distinct == 1) == (l->per == CBAR_PER_SUBSCRIBER))
		return fail(ps, CBAR_RULES_VALUE, kw->col,
		            "'distinct %s' counts the other party of the key: with 'per %s' use "
		            "'distinct %s'",
		            l->distinct == 1 ? "subscriber" : "peer",
		            l->per == CBAR_PER_SUBSCRIBER ? "subscriber" : "peer",
		            l->per == CBAR_PER_SUBSCRIBER ? "peer" : "subscriber");
	l->line = r->line;
	l->reason = r->reason;
	l->id = statement_id(ps);
	l->subsecond = rc->window_ms < 1000;
	r->block = 1;
	return CBAR_OK;
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
	{"per", cl_per, 1u << 11, false},       {"distinct", cl_distinct, 1u << 12, false},
	{"bar", cl_bar, 1u << 13, false},
	{"notify", cl_notify, 1u << 14, false},
};

static enum cbar_err st_rule(struct ps *ps, const struct tok *kw)
{
	struct cbar_rules *rs = ps->rs;
	struct tok t;
	enum cbar_err err;
	if (rs->nrules >= MAX_RULES)
		return fail(ps, CBAR_RULES_TOO_BIG, kw->col, "more than %u rules", MAX_RULES);
	if ((err = cbar__grow((void **)&rs->rules, &ps->caprules, rs->nrules, sizeof *rs->rules)))
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
	if (tok_is(kw, "limit")) {
		if ((err = cbar__grow((void **)&rs->limits, &ps->caplimits, rs->nlimits,
		                      sizeof *rs->limits)))
			return err;
		rc.lim = &rs->limits[rs->nlimits++];
		memset(rc.lim, 0, sizeof *rc.lim);
		rc.lim->rule = rs->nrules - 1;
		r->lim = (uint32_t)rs->nlimits;
	}

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
		if (k == sizeof clauses / sizeof clauses[0] && rc.lim && !t.str && t.s[0] >= '0' &&
		    t.s[0] <= '9') {
			if (rc.lim->threshold)
				return fail(ps, CBAR_RULES_SYNTAX, t.col, "a second rate in one limit");
			if ((err = cl_rate(ps, &t, &rc)))
				return err;
			continue;
		}
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
	if (rc.lim && (err = limit_done(ps, kw, &rc)))
		return err;
	if (r->notify && (!r->block || r->announce < 0))
		return fail(ps, CBAR_RULES_SYNTAX, kw->col,
		            "'notify' sends the rule's announcement to the barred subscriber: it needs "
		            "'block' and 'announce'");
	r->dflt = r->scope == CBAR_SCOPE_ALL && r->set < 0 && !r->unknown && !r->carriers && r->any_region &&
	          r->since == INT64_MIN && r->until == INT64_MAX && !r->ingress && !r->unless &&
	          !r->ramp_end && !r->roaming && !r->invalid && !r->self && !r->lim &&
	          !r->alnum;
	return CBAR_OK;
}

static const struct {
	const char *word;
	enum cbar_err (*fn)(struct ps *, const struct tok *);
} statements[] = {
	{"timezone", st_timezone}, {"zone", st_zone},   {"list", st_list},
	{"emergency", st_emergency}, {"announce", st_announce}, {"block", st_rule},
	{"pass", st_rule}, {"limit", st_rule},
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
				            "announce, block, pass, limit)",
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

enum cbar_err cbar__rules_parse(struct cbar_rules *rs, const char *text, size_t len,
                                const char *fname, const struct cbar_rules_loader *loader,
                                struct cbar_diag *d, unsigned *lines)
{
	struct ps ps = {.np = rs->np,
	                .text = text ? text : "",
	                .end = (text ? text : "") + len,
	                .fname = fname,
	                .loader = loader,
	                .d = d,
	                .rs = rs};
	enum cbar_err err = parse(&ps);
	free(ps.named);
	if (err == CBAR_NOMEM)
		cbar_diag_set(d, err, ps.line, 0, "out of memory");
	*lines = ps.line;
	return err;
}
