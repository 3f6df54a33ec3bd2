/*
 * callbar import --map: unlock records from any CSV with a header, an
 * operator's CRM export say, through a column map:
 *
 *   --map 'number=col3,level=col5,document_type=id_type,document_number=col7'
 *
 * Each target is given a column by its 1-based position (colN) or by its
 * name in the header.  Every row is checked before any is written: the
 * number, the scope, the level, the identity document (type, GB 11643
 * check character, dates: the raw number is hashed with the registry's key
 * and never stored), the expiry, and that the line has no active unlock
 * already nor another row of the file.  One bad row writes nothing, unless
 * --skip-bad: then the bad rows are reported and left out.  The rows are
 * written in one transaction, each with an `import` audit entry.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/csv.h"
#include "callbar/idcheck.h"
#include "import_map.h"

/* The fields a map may fill. */
#define MAP_FIELDS(X)                                                                              \
	X(NUMBER, "number")                                                                        \
	X(SCOPE, "scope")                                                                          \
	X(LEVEL, "level")                                                                          \
	X(DOC_TYPE, "document_type")                                                               \
	X(DOC_NUMBER, "document_number")                                                           \
	X(EXPIRES, "expires")                                                                      \
	X(CHANNEL, "channel")                                                                      \
	X(AGENT, "agent")
enum map_field {
#define MAP__ENUM(name, key) MF_##name,
	MAP_FIELDS(MAP__ENUM)
#undef MAP__ENUM
	    MF_COUNT
};
static const char *const field_names[MF_COUNT] = {
#define MAP__NAME(name, key) [MF_##name] = key,
    MAP_FIELDS(MAP__NAME)
#undef MAP__NAME
};

struct col_map {
	int col[MF_COUNT];                       /* 0-based column; -1: not mapped */
	char name[MF_COUNT][CBAR_CSV_FIELD_MAX]; /* a header name still to find, or "" */
};

/* --map's text to targets; false after a message. */
static bool map_parse(const char *spec, struct col_map *m)
{
	for (int i = 0; i < MF_COUNT; i++)
		m->col[i] = -1, m->name[i][0] = 0;
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		int f = -1;
		for (int i = 0; eq && i < MF_COUNT; i++)
			if ((size_t)(eq - p) == strlen(field_names[i]) &&
			    !strncmp(p, field_names[i], (size_t)(eq - p)))
				f = i;
		size_t vn = eq ? n - (size_t)(eq - p) - 1 : 0;
		if (f < 0 || !vn || vn >= CBAR_CSV_FIELD_MAX) {
			fprintf(
			    stderr,
			    "callbar import: --map '%.*s': want FIELD=colN or FIELD=HEADER, FIELD "
			    "one of number, scope, level, document_type, document_number, expires, "
			    "channel, agent\n",
			    (int)n, p);
			return false;
		}
		const char *v = eq + 1;
		char *e;
		if (vn > 3 && !strncmp(v, "col", 3) && v[3] >= '1' && v[3] <= '9') {
			errno = 0;
			unsigned long c = strtoul(v + 3, &e, 10);
			if (errno || e != v + vn || c > CBAR_CSV_FIELDS) {
				fprintf(stderr, "callbar import: --map %s: at most col%d\n",
				        field_names[f], CBAR_CSV_FIELDS);
				return false;
			}
			m->col[f] = (int)c - 1;
		} else {
			memcpy(m->name[f], v, vn);
			m->name[f][vn] = 0;
		}
		p += n + (end != NULL);
	}
	if (m->col[MF_NUMBER] < 0 && !m->name[MF_NUMBER][0]) {
		fputs("callbar import: --map must name the number's column (number=colN)\n",
		      stderr);
		return false;
	}
	return true;
}

/* Header names to columns; false after a message. */
static bool map_header(struct col_map *m, const struct cbar_csv_row *h, const char *path)
{
	for (int i = 0; i < MF_COUNT; i++) {
		if (!m->name[i][0])
			continue;
		for (unsigned c = 0; c < h->n && m->col[i] < 0; c++)
			if (!strcmp(h->field[c], m->name[i]))
				m->col[i] = (int)c;
		if (m->col[i] < 0) {
			fprintf(stderr,
			        "callbar import: %s: --map %s=%s: no such column in the header\n",
			        path, field_names[i], m->name[i]);
			return false;
		}
	}
	for (int i = 0; i < MF_COUNT; i++)
		if (m->col[i] >= (int)h->n) {
			fprintf(stderr,
			        "callbar import: %s: --map %s=col%d: the header has %u columns\n",
			        path, field_names[i], m->col[i] + 1, h->n);
			return false;
		}
	return true;
}

static const char *cell(const struct col_map *m, const struct cbar_csv_row *row, enum map_field f)
{
	return m->col[f] >= 0 && (unsigned)m->col[f] < row->n ? row->field[m->col[f]] : "";
}

/* One row to a record, the document hashed: CBAR_OK, or CBAR_BAD_VALUE with
 * d naming the column (1-based) and what is wrong (never the document's
 * characters). */
static enum cbar_err row_record(struct reg *r, const struct col_map *m,
                                const struct cbar_csv_row *row, const struct cbar_key *key,
                                int64_t now, struct cbar_store_record *rec, struct cbar_diag *d)
{
	memset(rec, 0, sizeof *rec);
#define BAD(f, ...)                                                                                \
	cbar_diag_set(d, CBAR_BAD_VALUE, row->line, (unsigned)m->col[f] + 1, __VA_ARGS__)
	const char *v = cell(m, row, MF_NUMBER);
	struct cbar_number n;
	size_t at;
	if (cbar_number_parse(r->np, r->cn, v, strlen(v), &n, &at) ||
	    (n.flags & (CBAR_NUM_EMERGENCY | CBAR_NUM_SHORT)))
		return BAD(MF_NUMBER, "number: not a subscriber number");
	rec->subscriber = n.e164;
	v = cell(m, row, MF_SCOPE);
	if (!(rec->scope = cbar_store_scope_parse(v[0] ? v : "all")))
		return BAD(MF_SCOPE, "scope: want voice, sms, in, out, all or voice-in,... ");
	const char *dt = cell(m, row, MF_DOC_TYPE), *dn = cell(m, row, MF_DOC_NUMBER);
	v = cell(m, row, MF_LEVEL);
	rec->level = v[0]    ? cbar_store_level_parse(v)
	             : dn[0] ? CBAR_STORE_VERIFIED
	                     : CBAR_STORE_SELF;
	if (!rec->level)
		return BAD(MF_LEVEL, "level: want self or verified");
	if (rec->level == CBAR_STORE_VERIFIED && !dn[0])
		return BAD(m->col[MF_DOC_NUMBER] >= 0 ? MF_DOC_NUMBER : MF_LEVEL,
		           "level verified needs an identity document (document_number)");
	if (dn[0]) {
		enum cbar_doc_type t =
		    cbar_doc_lookup(dt[0] ? dt : "cn-resident", strlen(dt[0] ? dt : "cn-resident"));
		if (t == CBAR_DOC_NONE)
			return BAD(MF_DOC_TYPE, "document_type: not a document type (cn-resident, "
			                        "passport, hkmo-permit, ...)");
		char canon[CBAR_DOC_MAX + 1];
		struct cbar_diag id = {0};
		enum cbar_err e = cbar_idcheck(t, dn, strlen(dn), cbar_reg_today(now), canon, &id);
		if (e) {
			sodium_memzero(canon, sizeof canon);
			return BAD(MF_DOC_NUMBER, "document_number: %s", id.msg);
		}
		snprintf(rec->doc_type, sizeof rec->doc_type, "%s", cbar_doc_key(t));
		cbar_doc_hash(key, rec->doc_type, canon, rec->doc_hash);
		sodium_memzero(canon, sizeof canon);
	}
	v = cell(m, row, MF_EXPIRES);
	if (v[0] && (rec->expires = cbar_reg_date_end(v)) < 0)
		return BAD(MF_EXPIRES, "expires: want a date YYYY-MM-DD");
	if (v[0] && rec->expires <= now)
		return BAD(MF_EXPIRES, "expires: the date has passed");
	v = cell(m, row, MF_CHANNEL);
	if (!(rec->channel = v[0] ? cbar_store_channel_parse(v) : CBAR_STORE_CHANNEL_IMPORT))
		return BAD(MF_CHANNEL, "channel: want shop, keyword, api, app, hotline or import");
	v = cell(m, row, MF_AGENT);
	if (strlen(v) >= sizeof rec->agent)
		return BAD(MF_AGENT, "agent: too long");
	snprintf(rec->agent, sizeof rec->agent, "%s", v);
	rec->status = CBAR_STORE_ACTIVE;
	rec->created = now;
	return CBAR_OK;
#undef BAD
}

/* By subscriber, then file order (the records' addresses): the later of
 * two lines is the one rejected, whatever qsort does with equal keys. */
static int by_subscriber(const void *a, const void *b)
{
	const struct cbar_store_record *x = *(const struct cbar_store_record *const *)a,
	                               *y = *(const struct cbar_store_record *const *)b;
	if (x->subscriber != y->subscriber)
		return x->subscriber < y->subscriber ? -1 : 1;
	return x < y ? -1 : x > y;
}

int cbar_import_mapped(struct reg *r, const char *path, char *text, size_t len, const char *spec,
                       bool skip_bad)
{
	int rc = CLI_BAD;
	struct col_map m;
	struct cbar_key key;
	bool have_key = false;
	static struct cbar_csv_row row;
	struct cbar_store_record *recs = NULL, **order = NULL;
	unsigned *lines = NULL;
	bool *drop = NULL;
	uint64_t *subs = NULL;  /* the rows the registry is asked about */
	int64_t *active = NULL; /* their active record's id, 0: none */
	size_t nrecs = 0, cap = 0, bad = 0;
	unsigned line = 1;
	size_t pos = 0;
	bool eof, header = false;
	struct cbar_diag d = {0};
	int64_t now = (int64_t)time(NULL);
	if (!map_parse(spec, &m) || !cbar_reg_open(r))
		goto done;
	/* The key hashes documents; a file without any needs none. */
	if (m.col[MF_DOC_NUMBER] >= 0 || m.name[MF_DOC_NUMBER][0]) {
		if (!cbar_reg_key(r, &key))
			goto done;
		have_key = true;
	}
	for (;;) {
		enum cbar_err e = cbar_csv_next(text, len, &pos, &line, &row, &eof, &d);
		if (e) {
			fprintf(stderr, "callbar import: %s:%u:%u: %s\n", path, d.line, d.column,
			        d.msg);
			bad++;
			continue;
		}
		if (eof)
			break;
		if (!header) {
			header = true;
			if (!map_header(&m, &row, path))
				goto done;
			continue;
		}
		if (row.n == 1 && !row.field[0][0])
			continue; /* a blank line */
		if (nrecs == cap) {
			cap = cap ? cap * 2 : 1024;
			struct cbar_store_record *nr = realloc(recs, cap * sizeof *recs);
			unsigned *nl = nr ? realloc(lines, cap * sizeof *lines) : NULL;
			if (nr)
				recs = nr;
			if (nl)
				lines = nl;
			if (!nr || !nl) {
				fputs("callbar import: out of memory\n", stderr);
				goto done;
			}
		}
		struct cbar_diag why = {0};
		if (row_record(r, &m, &row, have_key ? &key : NULL, now, &recs[nrecs], &why)) {
			fprintf(stderr, "callbar import: %s:%u:%u: rejected: %s\n", path, row.line,
			        why.column, why.msg);
			bad++;
			continue;
		}
		lines[nrecs++] = row.line;
	}
	sodium_memzero(&row, sizeof row);
	if (!header) {
		fprintf(stderr, "callbar import: %s: no header line\n", path);
		goto done;
	}
	/* A line once in the file, and not unlocked already: checked before
	 * anything is written. */
	order = malloc((nrecs ? nrecs : 1) * sizeof *order);
	drop = calloc(nrecs ? nrecs : 1, sizeof *drop);
	subs = malloc((nrecs ? nrecs : 1) * sizeof *subs);
	active = malloc((nrecs ? nrecs : 1) * sizeof *active);
	if (!order || !drop || !subs || !active) {
		fputs("callbar import: out of memory\n", stderr);
		goto done;
	}
	for (size_t i = 0; i < nrecs; i++)
		order[i] = &recs[i];
	qsort(order, nrecs, sizeof *order, by_subscriber);
	for (size_t i = 1; i < nrecs; i++)
		if (order[i]->subscriber == order[i - 1]->subscriber) {
			size_t k = (size_t)(order[i] - recs);
			fprintf(stderr,
			        "callbar import: %s:%u: rejected: +%" PRIu64 " is on line %u too\n",
			        path, lines[k], order[i]->subscriber, lines[order[i - 1] - recs]);
			drop[k] = true;
		}
	/* The registry is asked about the rows left, 256 at a time
	 * (cbar_store_active_many), not once a row: against PostgreSQL a
	 * question is a round trip.  Reported in file order. */
	size_t nask = 0;
	for (size_t i = 0; i < nrecs; i++)
		if (!drop[i])
			subs[nask++] = recs[i].subscriber;
	d = (struct cbar_diag){0};
	enum cbar_err e = cbar_store_active_many(r->store, subs, nask, active, &d);
	if (e) {
		rc = cbar_reg_fail(r, e, &d);
		goto done;
	}
	for (size_t i = 0, k = 0; i < nrecs; i++) {
		if (drop[i])
			continue;
		if (active[k]) {
			fprintf(stderr,
			        "callbar import: %s:%u: rejected: +%" PRIu64
			        " already has an active unlock (#%" PRId64 ")\n",
			        path, lines[i], recs[i].subscriber, active[k]);
			drop[i] = true;
		}
		k++;
	}
	for (size_t i = 0; i < nrecs; i++)
		bad += drop[i];
	if (bad && !skip_bad) {
		fprintf(
		    stderr,
		    "callbar import: %zu rows rejected; nothing imported (--skip-bad imports the "
		    "others)\n",
		    bad);
		goto done;
	}
	size_t done_n = 0;
	d = (struct cbar_diag){0};
	if ((e = cbar_store_import_begin(r->store, &d))) {
		rc = cbar_reg_fail(r, e, &d);
		goto done;
	}
	/* The rows kept, in file order, imported in one call. */
	for (size_t i = 0; i < nrecs; i++)
		if (!drop[i]) {
			recs[done_n] = recs[i];
			lines[done_n++] = lines[i];
		}
	size_t at = 0;
	if ((e = cbar_store_import_many(r->store, recs, done_n, "channel:import", now, &at, &d))) {
		cbar_store_import_end(r->store, false, NULL);
		fprintf(stderr, "callbar import: %s:%u: %s; nothing imported\n", path,
		        at < done_n ? lines[at] : 0, d.msg);
		goto done;
	}
	if ((e = cbar_store_import_end(r->store, true, &d))) {
		rc = cbar_reg_fail(r, e, &d);
		goto done;
	}
	if (r->json)
		printf("{\"imported\":%zu,\"skipped\":%zu}\n", done_n, bad);
	else if (bad)
		printf("imported %zu records, skipped %zu rejected rows\n", done_n, bad);
	else
		printf("imported %zu records\n", done_n);
	rc = CLI_OK;
done:
	if (have_key)
		cbar_key_release(&key);
	if (recs)
		sodium_memzero(recs, cap * sizeof *recs);
	free(recs);
	free(order);
	free(lines);
	free(drop);
	free(subs);
	free(active);
	return rc;
}
