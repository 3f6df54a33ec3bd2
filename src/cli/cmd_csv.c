/* callbar export, callbar import: the registry as CSV, to move it between
 * back ends (SQLite to PostgreSQL and back). */
#include <errno.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/csv.h"
#include "callbar/idcheck.h"
#include "cli.h"
#include "import_map.h"
#include "load/numplan_load.h"
#include "registry.h"

#define CSV_HEADER                                                               \
	"id,subscriber,scope,level,status,created,expires,channel,agent,doc_type,"   \
	"doc_hash,revoked_at,revoked_by,revoked_why"
#define CSV_NFIELDS 14
#define IMPORT_MAX (1u << 30) /* bytes of CSV read at most */

static const char export_help[] =
	"usage: callbar export [--registry URL] [--key FILE]\n"
	"\n"
	"Write every record (active and revoked) as CSV to standard output:\n"
	"  # callbar registry export v1 key_id=KEYID\n"
	"  " CSV_HEADER "\n"
	"Times are unix seconds (0: none), subscribers E.164, scopes as in --scope.\n"
	"doc_hash is the keyed hash, never the number; KEYID names the key it was\n"
	"made with, so an import into a registry with another key is refused.\n" REG_HELP_COMMON;

static const char import_help[] =
	"usage: callbar import [FILE] [--registry URL] [--json]\n"
	"       callbar import --map MAP [--skip-bad] FILE [--registry URL] [--key FILE] [--json]\n"
	"\n"
	"Read records written by callbar export (FILE, or standard input) into the\n"
	"registry, in one transaction: each gets a new id and an audit entry\n"
	"'import'.  Every row is checked first; when any is rejected, each is\n"
	"reported with its line and nothing is imported.\n"
	"\n"
	"With --map, FILE is any CSV with a header (an operator's CRM export, at\n"
	"most 64 columns) and MAP says which column holds what, by position or by\n"
	"header name:\n"
	"  --map 'number=col3,level=col5,document_type=col6,document_number=col7'\n"
	"Fields: number (required), scope (default all), level (self or verified;\n"
	"default verified with a document, else self), document_type (default\n"
	"cn-resident), document_number (checked, hashed with the key, never\n"
	"stored), expires (YYYY-MM-DD), channel (default import), agent.  Every row\n"
	"is checked before any is written, identity numbers included, and a line\n"
	"already unlocked or twice in the file is rejected; one rejected row writes\n"
	"nothing unless --skip-bad, which imports the others.\n" REG_HELP_COMMON
	"  --map MAP         the column map (above)\n"
	"  --skip-bad        import the good rows when some are rejected\n"
	"\n"
	"Exit status: 0 imported, 2 rejected rows, bad input or registry error.\n";

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int export_one(void *arg, const struct cbar_store_record *r)
{
	(void)arg;
	char sc[64];
	printf("%" PRId64 ",+%" PRIu64 ",", r->id, r->subscriber);
	csv_field(stdout, cbar_store_scope_str(r->scope, sc, sizeof sc));
	printf(",%s,%s,%" PRId64 ",%" PRId64 ",%s,", cbar_store_level_key(r->level),
	       cbar_store_status_key(r->status), r->created, r->expires,
	       cbar_store_channel_key(r->channel));
	csv_field(stdout, r->agent);
	printf(",%s,%s,%" PRId64 ",", r->doc_type, r->doc_hash, r->revoked_at);
	csv_field(stdout, r->revoked_by);
	fputc(',', stdout);
	csv_field(stdout, r->revoked_why);
	fputc('\n', stdout);
	return 0;
}

static int key_id_row(void *arg, int n, const char *const *c)
{
	(void)arg;
	(void)n;
	(void)c;
	return 1;
}

int cbar_cmd_export(int argc, char **argv)
{
	struct reg r;
	int c, rc = CLI_BAD;
	(void)key_id_row;
	cbar_reg_init(&r, "export");
	if ((c = cbar_reg_options_only(&r, argc, argv, export_help)) >= 0)
		return c;
	if (optind != argc) {
		fprintf(stderr, "callbar export: unexpected argument '%s'\n", argv[optind]);
		return CLI_BAD;
	}
	struct cbar_key key;
	char id[17];
	if (!cbar_reg_open(&r) || !cbar_reg_key(&r, &key))
		goto done;
	cbar_key_id(&key, id);
	cbar_key_release(&key);
	printf("# callbar registry export v1 key_id=%s\n%s\n", id, CSV_HEADER);
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_foreach(r.store, export_one, NULL, &d);
	rc = e ? cbar_reg_fail(&r, e, &d) : CLI_OK;
	if (!e && (fflush(stdout) || ferror(stdout))) {
		fprintf(stderr, "callbar export: writing: %s\n", strerror(errno));
		rc = CLI_BAD;
	}
done:
	cbar_reg_release(&r);
	return rc;
}

static bool int_field(const char *s, int64_t *out)
{
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (errno || !*s || *e || v < 0)
		return false;
	*out = v;
	return true;
}

static bool hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* One CSV row to a record; NULL when fine, else what is wrong. */
/* A field whose length was checked against cap before: copied with its NUL. */
static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A row of the export as a record: CBAR_OK, or CBAR_BAD_VALUE with d saying
 * which column (1-based) and why; the row's line is the caller's. */
static enum cbar_err row_record(struct reg *r, const struct cbar_csv_row *row,
                                struct cbar_store_record *rec, struct cbar_diag *d)
{
	memset(rec, 0, sizeof *rec);
	if (row->n != CSV_NFIELDS)
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 0, "%u fields, want %d", row->n,
		                     CSV_NFIELDS);
	struct cbar_number n;
	const char *sub = row->field[1];
	if (sub[0] != '+' || cbar_number_parse(r->np, r->cn, sub, strlen(sub), &n, NULL))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 2, "subscriber: want an E.164 number with +");
	rec->subscriber = n.e164;
	if (!(rec->scope = cbar_store_scope_parse(row->field[2])))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 3, "scope: want voice-in, voice-out, sms-in, sms-out (comma-separated)");
	if (!(rec->level = cbar_store_level_parse(row->field[3])))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 4, "level: want self or verified");
	if (!strcmp(row->field[4], "active"))
		rec->status = CBAR_STORE_ACTIVE;
	else if (!strcmp(row->field[4], "revoked"))
		rec->status = CBAR_STORE_REVOKED;
	else
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 5, "status: want active or revoked");
	if (!int_field(row->field[5], &rec->created) || !rec->created)
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 6, "created: want unix seconds");
	if (!int_field(row->field[6], &rec->expires))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 7, "expires: want unix seconds or 0");
	if (!(rec->channel = cbar_store_channel_parse(row->field[7])))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 8, "channel: want shop, keyword, api or import");
	if (strlen(row->field[8]) >= sizeof rec->agent)
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 9, "agent: too long");
	copy_text(rec->agent, sizeof rec->agent, row->field[8]);
	if (row->field[9][0] && !cbar_doc_lookup(row->field[9], strlen(row->field[9])))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 10, "doc_type: not a document type");
	if (row->field[10][0] && !hex64(row->field[10]))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 11, "doc_hash: want 64 lower-case hex digits (a keyed hash, not a number)");
	if (!row->field[9][0] != !row->field[10][0])
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 10, "doc_type and doc_hash go together");
	if (rec->level == CBAR_STORE_VERIFIED && !row->field[10][0])
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 11, "a verified record needs its document hash");
	copy_text(rec->doc_type, sizeof rec->doc_type, row->field[9]);
	copy_text(rec->doc_hash, sizeof rec->doc_hash, row->field[10]);
	if (!int_field(row->field[11], &rec->revoked_at))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 12, "revoked_at: want unix seconds or 0");
	if ((rec->status == CBAR_STORE_REVOKED) != (rec->revoked_at != 0))
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 12, "revoked_at: set exactly when status is revoked");
	if (strlen(row->field[12]) >= sizeof rec->revoked_by ||
	    strlen(row->field[13]) >= sizeof rec->revoked_why)
		return cbar_diag_set(d, CBAR_BAD_VALUE, row->line, 13, "revoked_by or revoked_why too long");
	copy_text(rec->revoked_by, sizeof rec->revoked_by, row->field[12]);
	copy_text(rec->revoked_why, sizeof rec->revoked_why, row->field[13]);
	return CBAR_OK;
}

int cbar_cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"map", required_argument, NULL, 'm'},
		{"skip-bad", no_argument, NULL, 's'},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	int c, rc = CLI_BAD;
	const char *map = NULL;
	bool skip_bad = false;
	cbar_reg_init(&r, "import");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case 'm': map = optarg; break;
		case 's': skip_bad = true; break;
		case 'h':
			fputs(import_help, stdout);
			return CLI_OK;
		default:
			fputs(import_help, stderr);
			return CLI_BAD;
		}
	}
	if (skip_bad && !map) {
		fputs("callbar import: --skip-bad goes with --map\n", stderr);
		return CLI_BAD;
	}
	if (argc - optind > 1) {
		fputs("callbar import: at most one FILE\n", stderr);
		return CLI_BAD;
	}
	const char *path = optind < argc ? argv[optind] : "-";
	size_t len = 0;
	char *text = NULL;
	if (strcmp(path, "-")) {
		text = cbar_file_read(path, IMPORT_MAX, &len);
		if (!text) {
			fprintf(stderr, "callbar import: %s: %s\n", path, strerror(errno));
			return CLI_BAD;
		}
	} else {
		size_t cap = 1 << 16;
		text = malloc(cap);
		size_t got;
		while (text && (got = fread(text + len, 1, cap - len, stdin)) > 0) {
			len += got;
			if (len == cap) {
				char *t = cap < IMPORT_MAX ? realloc(text, cap *= 2) : NULL;
				if (!t)
					free(text);
				text = t;
			}
		}
		if (!text) {
			fputs("callbar import: standard input: out of memory or too large\n", stderr);
			return CLI_BAD;
		}
	}
	if (map) {
		rc = cbar_import_mapped(&r, path, text, len, map, skip_bad);
		sodium_memzero(text, len); /* it held identity numbers */
		free(text);
		cbar_reg_release(&r);
		return rc;
	}
	static struct cbar_csv_row row;
	static struct cbar_store_record *recs;
	size_t nrecs = 0, cap = 0;
	unsigned line = 1, bad = 0;
	size_t pos = 0;
	bool eof, header = false;
	char key_id[17] = "";
	struct cbar_diag d = {0};
	if (!cbar_reg_open(&r))
		goto done;
	/* The export's key line, then the header, then records. */
	while (pos < len && text[pos] == '#') {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *k = memmem(text + pos, n, "key_id=", 7);
		if (k && (size_t)(k + 7 + 16 - (text + pos)) <= n)
			snprintf(key_id, sizeof key_id, "%.16s", k + 7);
		pos += n + (nl != NULL);
		line++;
	}
	for (;;) {
		enum cbar_err e = cbar_csv_next(text, len, &pos, &line, &row, &eof, &d);
		if (e) {
			fprintf(stderr, "callbar import: %s:%u:%u: %s\n", path, d.line, d.column, d.msg);
			bad++;
			continue;
		}
		if (eof)
			break;
		if (!header) {
			header = true;
			if (row.n == CSV_NFIELDS && !strcmp(row.field[0], "id"))
				continue;
		}
		if (row.n == 1 && !row.field[0][0])
			continue; /* a blank line */
		if (nrecs == cap) {
			cap = cap ? cap * 2 : 1024;
			struct cbar_store_record *nr = realloc(recs, cap * sizeof *recs);
			if (!nr) {
				fputs("callbar import: out of memory\n", stderr);
				goto done;
			}
			recs = nr;
		}
		struct cbar_diag why = {0};
		if (row_record(&r, &row, &recs[nrecs], &why)) {
			if (why.column)
				fprintf(stderr, "callbar import: %s:%u:%u: rejected: %s\n", path, row.line,
				        why.column, why.msg);
			else
				fprintf(stderr, "callbar import: %s:%u: rejected: %s\n", path, row.line,
				        why.msg);
			bad++;
			continue;
		}
		nrecs++;
	}
	if (bad) {
		fprintf(stderr, "callbar import: %u rows rejected; nothing imported\n", bad);
		goto done;
	}
	enum cbar_err e;
	bool docs = false;
	for (size_t i = 0; i < nrecs; i++)
		docs |= recs[i].doc_hash[0] != 0;
	if (docs && !key_id[0]) {
		fputs("callbar import: the file has document hashes but no key_id line; nothing "
		      "imported\n",
		      stderr);
		goto done;
	}
	d = (struct cbar_diag){0};
	if (key_id[0] && (e = cbar_store_bind_key(r.store, key_id, &d))) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	int64_t now = (int64_t)time(NULL);
	if ((e = cbar_store_import_begin(r.store, &d))) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	size_t i = 0;
	if ((e = cbar_store_import_many(r.store, recs, nrecs, "channel:import", now, &i, &d))) {
		cbar_store_import_end(r.store, false, NULL);
		fprintf(stderr, "callbar import: record %zu (subscriber +%" PRIu64 "): %s; nothing "
		                "imported\n",
		        i + 1, i < nrecs ? recs[i].subscriber : 0, d.msg);
		goto done;
	}
	if ((e = cbar_store_import_end(r.store, true, &d))) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	if (r.json)
		printf("{\"imported\":%zu}\n", nrecs);
	else
		printf("imported %zu records\n", nrecs);
	rc = CLI_OK;
done:
	free(recs);
	recs = NULL;
	free(text);
	cbar_reg_release(&r);
	return rc;
}
