/*
 * callbar batch: decide a stream of CDR events (CSV or JSON lines).
 *
 * CSV is our own simple format (docs/rules.md): a header line
 * time,service,direction,subscriber,peer[,ingress], then one record a line,
 * fields never quoted and never holding a comma; so it is split by hand on
 * ',' (a CSV library would spend its time on quoting rules we do not have).
 * JSON lines are read with jansson.  Memory is constant: input is read in
 * big blocks, records are cut in place, output goes through one buffer, and
 * no record allocates anything on the CSV path.  With --threads N the blocks
 * are decided on N threads (batch_threads.c), each with its own output
 * buffer and counts (batch.h), and written in input order.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "proto/buf.h"
#include "proto/event.h"
#include "proto/verdict_json.h"
#include "cli.h"
#include "load/numplan_load.h"

/* Not in the help, for tests: CALLBAR_BATCH_CHUNK=BYTES in the environment
 * reads the input in blocks of that size (at least 2 * MAX_RECORD) instead
 * of IN_BLOCK, with any number of threads, to get many chunks out of a small
 * input (docs/rules.md). */
static const char help[] =
	"usage: callbar batch --rules FILE [--unlocked FILE | --registry URL]\n"
	"                     [--format csv|jsonl] [--compare OLD [--changed]]\n"
	"                     [--threads N] [IN [OUT]]\n"
	"\n"
	"Decide every event of a CDR file (default: standard input to standard output)\n"
	"and write each record with its verdict, rule (file:line) and reason appended.\n"
	"\n"
	"CSV: a header 'time,service,direction,subscriber,peer[,ingress]', then one\n"
	"record a line; time is epoch seconds or ISO 8601 (docs/rules.md).  A header\n"
	"may name those columns in any order among others (a CDR export as it is),\n"
	"and a 'roaming' column (yes, no, empty); other columns are kept as they are.\n"
	"JSON lines: one object a line with those keys (\"roaming\": true or false);\n"
	"verdict, rule and reason are added to it.\n"
	"\n"
	"Unlock records come from --unlocked FILE (NUMBER SCOPE LEVEL a line) or\n"
	"from the registry, --registry sqlite:PATH or postgres://..., read once.\n"
	"\n"
	"What-if: --compare OLD decides every event by the rule file OLD too, and\n"
	"appends old_verdict, old_rule and old_reason; --changed writes only the\n"
	"records whose verdict differs.  The summary counts the changes by old and\n"
	"new verdict and by the rule that now decides.\n"
	"\n"
	"Bad records are reported on stderr with their line number (the first 20),\n"
	"written out with verdict 'error' and counted.  A summary by verdict and by\n"
	"rule goes to stderr; a progress bar too when stderr is a terminal.\n"
	"\n"
	"--threads N decides on N threads (1 to 256, default 1; 0: one per CPU):\n"
	"a reader cuts the input into blocks of whole lines, N threads decide them\n"
	"and the output is written in input order, the same as with one thread.\n"
	"\n"
	"Exit status: 0 when every record was decided, 1 when some were errors,\n"
	"2 when the run could not start or stopped (a write failed, memory ran short).\n";

static void flush(struct batch *b)
{
	if (b->on)
		fwrite(b->obuf, 1, b->on, b->out);
	b->on = 0;
}

static void put(struct batch *b, const char *s, size_t n)
{
	if (b->on + n > b->ocap) {
		if (b->ck) {
			chunk_spill(b, s, n);
			return;
		}
		flush(b);
		if (n > b->ocap) {
			fwrite(s, 1, n, b->out);
			return;
		}
	}
	memcpy(b->obuf + b->on, s, n);
	b->on += n;
}

static void puts_(struct batch *b, const char *s)
{
	put(b, s, strlen(s));
}

void batch_say_bad(bool progress, uint64_t line, const char *msg)
{
	fprintf(stderr, "%sbatch: line %llu: %s\n", progress ? "\r" : "", (unsigned long long)line,
	        msg);
}

static void report(struct batch *b, const char *msg)
{
	if (b->ck)
		chunk_report(b, msg);
	else if (b->reports++ < MAX_REPORTS)
		batch_say_bad(b->progress, b->line, msg);
}

/* The forms of time a CDR may carry: epoch seconds, ISO 8601 with or
 * without a zone (then the rule file's), a date, @EPOCH. */
#define CDR_TIME_FORMS                                                           \
	(CBAR_TIME_DIGITS | CBAR_TIME_ZONED | CBAR_TIME_LOCAL | CBAR_TIME_DATE | CBAR_TIME_EPOCH)

/* Decide one event given as fields (and by the old rules into *ov with
 * --compare); NULL on success, else what is wrong.  The fields are read by
 * the event module every front end reads with (proto/event.h).  Numbers
 * are parsed afresh for every record: a memo of repeated numbers was tried
 * and lost (hashing the text costs about what parsing does, and on 160,000
 * distinct subscribers a cache-sized memo hits 7%). */
static const char *decide(struct batch *b, const char *const *f, const size_t *n,
                          size_t nf, struct cbar_verdict *v, struct cbar_verdict *ov, char *msg,
                          size_t cap)
{
	const struct cbar_event_ctx ec = {.np = b->np, .country = b->cn, .tz = b->tz};
	struct cbar_event_in in;
	struct cbar_event_error e;
	cbar_event_begin(&in);
	if (cbar_event_time(&in, &ec, f[0], n[0], CDR_TIME_FORMS, &e) ||
	    cbar_event_service(&in, f[1], n[1], &e) || cbar_event_direction(&in, f[2], n[2], &e) ||
	    cbar_event_subscriber(&in, &ec, f[3], n[3], &e) ||
	    cbar_event_peer(&in, &ec, f[4], n[4], &e) ||
	    (nf > 5 && cbar_event_ingress(&in, f[5], n[5], &e)) ||
	    (nf > 6 && cbar_event_roaming(&in, f[6], n[6], &e))) {
		snprintf(msg, cap, "%s: %s", e.field, e.message);
		return msg;
	}
	if (cbar_decide(b->now.rules, &in.ev, b->lk, v) == CBAR_ERROR) {
		snprintf(msg, cap, "%s", cbar_err_message(v->err));
		return msg;
	}
	if (b->old.rules && cbar_decide(b->old.rules, &in.ev, b->lk, ov) == CBAR_ERROR) {
		snprintf(msg, cap, "old rules: %s", cbar_err_message(ov->err));
		return msg;
	}
	return NULL;
}

/* The index of a verdict's rule text: the rule, or [nrules] for an
 * emergency number. */
static size_t rule_slot(const struct ruleset *rs, const struct cbar_verdict *v)
{
	return v->rule >= 0 ? (size_t)v->rule : cbar_rules_count(rs->rules);
}

static void count(struct batch *b, const struct cbar_verdict *v)
{
	b->t.count[v->decision]++;
	if (v->rule >= 0 || v->decision == CBAR_ALLOW)
		b->t.per_rule[rule_slot(&b->now, v)]++;
}

/* --compare: count the old verdict; whether the record is to be written. */
static bool compare(struct batch *b, const struct cbar_verdict *v, const struct cbar_verdict *ov)
{
	if (!b->old.rules)
		return true;
	if (ov->rule >= 0 || ov->decision == CBAR_ALLOW)
		b->t.old_per_rule[rule_slot(&b->old, ov)]++;
	b->t.changes[ov->decision][v->decision]++;
	if (ov->decision == v->decision)
		return !b->changed_only;
	b->t.changed_by[rule_slot(&b->now, v)]++;
	return true;
}

static const char *const words[] = {"allow", "block", "error"};

static const char *const map_names[MAP_FIELDS] = {"time",       "service", "direction",
                                                   "subscriber", "peer",    "ingress",
                                                   "roaming"};

bool batch_header(const char *s, size_t len, struct colmap *m)
{
	memset(m, 0, sizeof *m);
	for (int k = 0; k < MAP_FIELDS; k++)
		m->col[k] = -1;
	size_t i = 0;
	for (int c = 0; i <= len && c < MAP_COLUMNS_MAX; c++) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		for (int k = 0; k < MAP_FIELDS; k++)
			if (m->col[k] < 0 && strlen(map_names[k]) == j - i &&
			    !memcmp(s + i, map_names[k], j - i))
				m->col[k] = c;
		m->ncols = c + 1;
		i = j + 1;
	}
	for (int k = 0; k < 5; k++)
		if (m->col[k] < 0)
			return false;
	/* the fixed layout keeps the fast path */
	m->custom = m->col[6] >= 0 || m->ncols > 6 || (m->ncols == 6 && m->col[5] != 5);
	for (int k = 0; k < 5; k++)
		m->custom = m->custom || m->col[k] != k;
	return true;
}

/* A record of a header-named layout: its fields picked by the map. */
static const char *mapped_fields(struct batch *b, const char *s, size_t len, const char **f,
                                 size_t *n)
{
	const struct colmap *m = b->map;
	const char *col[MAP_COLUMNS_MAX];
	size_t cl[MAP_COLUMNS_MAX];
	int nc = 0;
	size_t i = 0;
	while (nc < m->ncols) {
		const char *c = memchr(s + i, ',', len - i);
		size_t j = c ? (size_t)(c - s) : len;
		col[nc] = s + i;
		cl[nc++] = j - i;
		if (!c)
			break;
		i = j + 1;
	}
	if (nc != m->ncols)
		return "fewer fields than the header names";
	for (int k = 0; k < MAP_FIELDS; k++) {
		f[k] = m->col[k] >= 0 ? col[m->col[k]] : "";
		n[k] = m->col[k] >= 0 ? cl[m->col[k]] : 0;
	}
	return NULL;
}

static void csv_decided(struct batch *b, const char *s, size_t len, const char *bad,
                        const char *const *f, const size_t *n, size_t nf);

static void csv_record(struct batch *b, const char *s, size_t len)
{
	const char *f[7];
	size_t n[7], nf = 0;
	if (b->map) { /* the header's layout: the general cut */
		const char *bad = mapped_fields(b, s, len, f, n);
		csv_decided(b, s, len, bad, f, n, MAP_FIELDS);
		return;
	}
	/* One pass over the bytes, eight at a time: a word with a comma in it
	 * has a zero byte after XOR with ",,,,,,,," (the classic has-zero-byte
	 * test), and the lowest set bit of the mask is the first comma.
	 * Fields are short, so a memchr call per field costs more. */
	const char *start = s;
	size_t i = 0;
	while (i + 8 <= len && nf < 6) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		w ^= 0x2c2c2c2c2c2c2c2cull;
		uint64_t m = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
		while (m && nf < 6) {
			size_t at = i + (size_t)(__builtin_ctzll(m) >> 3);
			f[nf] = start;
			n[nf++] = (size_t)(s + at - start);
			start = s + at + 1;
			m &= m - 1;
		}
		i += 8;
	}
	for (; i < len && nf < 6; i++)
		if (s[i] == ',') {
			f[nf] = start;
			n[nf++] = (size_t)(s + i - start);
			start = s + i + 1;
		}
	f[nf] = start;
	n[nf++] = (size_t)(s + len - start);
	csv_decided(b, s, len,
	            nf < 5 || nf > 6
	                    ? "want 5 or 6 fields: time,service,direction,subscriber,peer[,ingress]"
	                    : NULL,
	            f, n, nf);
}

/* Decide a record cut into fields (bad: why it cannot be, else NULL) and
 * write it with its verdict. */
static void csv_decided(struct batch *b, const char *s, size_t len, const char *bad,
                        const char *const *f, const size_t *n, size_t nf)
{
	struct cbar_verdict v, ov;
	char msg[160];
	if (!bad)
		bad = decide(b, f, n, nf, &v, &ov, msg, sizeof msg);
	if (bad) {
		report(b, bad);
		b->t.count[CBAR_ERROR]++;
		if (b->old.rules && b->changed_only)
			return; /* an error under both files: no change */
		put(b, s, len);
		puts_(b, b->old.rules ? ",error,,bad-record,error,,bad-record\n" : ",error,,bad-record\n");
		return;
	}
	count(b, &v);
	if (!compare(b, &v, &ov))
		return;
	put(b, s, len);
	size_t t = rule_slot(&b->now, &v);
	if (!b->old.rules) {
		put(b, b->now.tail[t], b->now.tail_len[t]);
		return;
	}
	size_t o = rule_slot(&b->old, &ov);
	put(b, b->now.tail[t], b->now.tail_len[t] - 1); /* without its newline */
	put(b, b->old.tail[o], b->old.tail_len[o]);
}

static void jsonl_record(struct batch *b, const char *s, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(s, len, 0, &je);
	static const char *keys[] = {"time", "service", "direction", "subscriber", "peer", "ingress"};
	const char *f[7];
	size_t n[7];
	char tbuf[32], msg[200];
	const char *bad = NULL;
	struct cbar_verdict v, ov;
	if (!o || !json_is_object(o)) {
		snprintf(msg, sizeof msg, "not a JSON object: %s", o ? "another value" : je.text);
		bad = msg;
	}
	for (int i = 0; i < 6 && !bad; i++) {
		json_t *x = json_object_get(o, keys[i]);
		if (i == 0 && json_is_integer(x)) {
			n[0] = (size_t)snprintf(tbuf, sizeof tbuf, "%lld", (long long)json_integer_value(x));
			f[0] = tbuf;
		} else if (json_is_string(x)) {
			f[i] = json_string_value(x);
			n[i] = json_string_length(x);
		} else if (i == 5 && !x) {
			f[5] = "";
			n[5] = 0;
		} else {
			snprintf(msg, sizeof msg, "key '%s' missing or not a string", keys[i]);
			bad = msg;
		}
	}
	json_t *rm = bad ? NULL : json_object_get(o, "roaming");
	f[6] = !rm ? "" : json_is_true(rm) ? "yes" : "no";
	n[6] = strlen(f[6]);
	if (rm && !json_is_boolean(rm))
		bad = "key 'roaming' not true or false";
	if (!bad)
		bad = decide(b, f, n, 7, &v, &ov, msg, sizeof msg);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		o = json_object();
		json_object_set_new(o, "input", json_stringn(s, len));
	}
	/* The record as it came, then the verdict's members as every front end
	 * writes them (proto/verdict_json.h): verdict, rule, reason, exempted_by
	 * (and old_ ones with --compare). */
	static const char *const added[] = {"verdict", "rule", "reason", "exempted_by", "error",
	                                    "old_verdict", "old_rule", "old_reason",
	                                    "old_exempted_by"};
	for (size_t i = 0; i < sizeof added / sizeof added[0]; i++)
		json_object_del(o, added[i]);
	bool write = true;
	if (bad) {
		report(b, bad);
		b->t.count[CBAR_ERROR]++;
		write = !(b->old.rules && b->changed_only);
	} else {
		count(b, &v);
		write = compare(b, &v, &ov);
	}
	char *txt = write ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!txt)
		return;
	struct cbar_buf jb;
	size_t tl = strlen(txt);
	cbar_buf_init(&jb, 1u << 20);
	cbar_buf_put(&jb, txt, tl - 1); /* without its closing brace */
	free(txt);
	if (bad) {
		struct cbar_verdict ev = {.decision = CBAR_ERROR, .rule = -1, .reason = "bad-record"};
		cbar_verdict_json_members(&jb, &ev, bad,
		                          CBAR_VJ_VERDICT | CBAR_VJ_RULE | CBAR_VJ_REASON | CBAR_VJ_ERROR,
		                          "");
	} else {
		const unsigned m = CBAR_VJ_VERDICT | CBAR_VJ_RULE | CBAR_VJ_REASON | CBAR_VJ_EXEMPTED;
		cbar_verdict_json_members(&jb, &v, NULL, m, "");
		if (b->old.rules)
			cbar_verdict_json_members(&jb, &ov, NULL, m, "old_");
	}
	cbar_buf_put(&jb, "}\n", 2);
	size_t jl = 0;
	char *line = cbar_buf_steal(&jb, &jl);
	if (line)
		put(b, line, jl);
	free(line);
}

void batch_say_progress(uint64_t line, uint64_t bytes, uint64_t total)
{
	if (total)
		fprintf(stderr, "\r%llu records  %5.1f%%", (unsigned long long)line,
		        100.0 * (double)bytes / (double)total);
	else
		fprintf(stderr, "\r%llu records", (unsigned long long)line);
}

/* One line of the input, without its '\n': whether it was a record. */
static inline bool decide_line(struct batch *b, const char *s, size_t len)
{
	b->line++;
	if (len && s[len - 1] == '\r')
		len--;
	if (b->first) {
		b->first = false;
		struct colmap hm;
		if (!b->jsonl && batch_header(s, len, &hm)) {
			if (!b->ck) { /* one thread: the layout from here on (threads: the reader's) */
				b->own_map = hm;
				b->map = hm.custom ? &b->own_map : NULL;
			}
			put(b, s, len);
			puts_(b, b->old.rules ? ",verdict,rule,reason,old_verdict,old_rule,old_reason\n"
			                      : ",verdict,rule,reason\n");
			return false;
		}
	}
	if (!len)
		return false;
	if (len >= MAX_RECORD) {
		report(b, "record too long");
		b->t.count[CBAR_ERROR]++;
		return false;
	}
	if (b->jsonl)
		jsonl_record(b, s, len);
	else
		csv_record(b, s, len);
	return true;
}

void batch_lines(struct batch *b, const char *s, size_t n)
{
	const char *e = s + n;
	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		size_t len = (size_t)((nl ? nl : e) - s);
		decide_line(b, s, len);
		s += len + (nl != NULL);
	}
}

/*
 * One thread.  The input is read a block at a time and cut into lines; a
 * line that does not end in the block is moved to the front and the block
 * filled up again, unless MAX_RECORD bytes of it are there already: then
 * those bytes are its line (too long: one bad record) and the rest of it,
 * up to its '\n', is skipped.  So every line of MAX_RECORD bytes or more is
 * one bad record wherever the blocks fall, and every shorter one is read
 * whole; batch_threads.c cuts its chunks by the same rule, so that its
 * lines are these.
 */
static bool run(struct batch *b, FILE *in)
{
	char *buf = malloc(b->block + 1);
	size_t have = 0;
	bool eof = false, skip = false; /* skip: the rest of a too long line */
	if (!buf) {
		fputs("callbar batch: out of memory\n", stderr);
		return false;
	}
	while (!eof || have) {
		if (!eof) {
			size_t got = fread(buf + have, 1, b->block - have, in);
			b->bytes += got;
			have += got;
			eof = got == 0 || feof(in) || ferror(in);
		}
		size_t i = 0;
		for (;;) {
			char *nl = memchr(buf + i, '\n', have - i);
			if (skip) {
				i = nl ? (size_t)(nl - buf) + 1 : have;
				skip = !nl;
				if (skip)
					break;
				continue;
			}
			if (!nl) {
				if (!eof && have - i < MAX_RECORD)
					break;
				if (i == have)
					break;
				/* the last line without newline, or too long */
				skip = !eof;
				nl = buf + have;
			}
			size_t len = (size_t)(nl - (buf + i));
			const char *s = buf + i;
			i = nl == buf + have ? have : (size_t)(nl - buf) + 1;
			if (decide_line(b, s, len) && b->progress && !(b->line & 0xfffff))
				batch_say_progress(b->line, b->bytes, b->total);
		}
		memmove(buf, buf + i, have - i);
		have -= i;
		if (eof && have == 0)
			break;
	}
	free(buf);
	return true;
}

bool batch_ruleset_init(struct ruleset *rs, const struct cbar_rules *rules, const char *path)
{
	size_t nr = cbar_rules_count(rules);
	rs->rules = rules;
	rs->rule_txt = calloc(nr, sizeof *rs->rule_txt);
	rs->tail = calloc(nr + 1, sizeof *rs->tail);
	rs->tail_len = calloc(nr + 1, sizeof *rs->tail_len);
	if (!rs->rule_txt || !rs->tail || !rs->tail_len)
		return false;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < nr; i++) {
		char t[512];
		snprintf(t, sizeof t, "%s:%u", base, cbar_rules_line(rules, i));
		if (!(rs->rule_txt[i] = strdup(t)))
			return false;
		const char *why = cbar_rules_reason(rules, i);
		char u[700];
		/* A rule's verdict is fixed: block rules block, pass rules allow. */
		rs->tail_len[i] = (size_t)snprintf(u, sizeof u, ",%s,%s,%s\n",
		                                   cbar_rules_blocks(rules, i) ? "block" : "allow", t,
		                                   why ? why : "");
		if (!(rs->tail[i] = strdup(u)))
			return false;
	}
	rs->tail_len[nr] = strlen(",allow,,emergency\n");
	return (rs->tail[nr] = strdup(",allow,,emergency\n")) != NULL;
}

void batch_ruleset_free(struct ruleset *rs)
{
	size_t nr = rs->rules ? cbar_rules_count(rs->rules) : 0;
	if (rs->rule_txt)
		for (size_t i = 0; i < nr; i++)
			free(rs->rule_txt[i]);
	if (rs->tail)
		for (size_t i = 0; i <= nr; i++)
			free(rs->tail[i]);
	free(rs->rule_txt);
	free(rs->tail);
	free(rs->tail_len);
}

bool tally_init(struct tally *t, size_t nr, size_t old_nr)
{
	*t = (struct tally){0};
	t->per_rule = calloc(nr + 1, sizeof *t->per_rule);
	if (old_nr) {
		t->old_per_rule = calloc(old_nr + 1, sizeof *t->old_per_rule);
		t->changed_by = calloc(nr + 1, sizeof *t->changed_by);
		if (!t->old_per_rule || !t->changed_by)
			return false;
	}
	return t->per_rule != NULL;
}

void tally_add(struct tally *to, const struct tally *from, size_t nr, size_t old_nr)
{
	for (int i = 0; i < 3; i++) {
		to->count[i] += from->count[i];
		for (int k = 0; k < 3; k++)
			to->changes[i][k] += from->changes[i][k];
	}
	for (size_t i = 0; i <= nr; i++)
		to->per_rule[i] += from->per_rule[i];
	if (!old_nr)
		return;
	for (size_t i = 0; i <= nr; i++)
		to->changed_by[i] += from->changed_by[i];
	for (size_t i = 0; i <= old_nr; i++)
		to->old_per_rule[i] += from->old_per_rule[i];
}

void tally_release(struct tally *t)
{
	free(t->per_rule);
	free(t->old_per_rule);
	free(t->changed_by);
	*t = (struct tally){0};
}

static void print_per_rule(const struct ruleset *rs, const uint64_t *counts, const char *indent)
{
	size_t nr = cbar_rules_count(rs->rules);
	if (counts[nr])
		fprintf(stderr, "%semergency: %llu allow\n", indent, (unsigned long long)counts[nr]);
	for (size_t i = 0; i < nr; i++)
		if (counts[i])
			fprintf(stderr, "%s%s %s: %llu\n", indent, rs->rule_txt[i],
			        cbar_rules_reason(rs->rules, i) ? cbar_rules_reason(rs->rules, i) : "-",
			        (unsigned long long)counts[i]);
}

/* A count from 0 to max written in decimal: false when it is anything else. */
static bool read_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* --threads 0: one per online CPU. */
static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* The block size: IN_BLOCK, or CALLBAR_BATCH_CHUNK bytes, a testing knob
 * for many chunks out of a small input (at least 2 * MAX_RECORD, so that a
 * block always holds a whole record or the first MAX_RECORD bytes of one).
 * 0 when the knob is bad. */
static size_t block_size(void)
{
	const char *k = getenv("CALLBAR_BATCH_CHUNK");
	unsigned long v;
	if (!k || !*k)
		return IN_BLOCK;
	if (!read_count(k, 64ul << 20, &v) || v < 2 * MAX_RECORD) {
		fprintf(stderr, "callbar batch: CALLBAR_BATCH_CHUNK: want bytes from %u to %lu\n",
		        2 * MAX_RECORD, 64ul << 20);
		return 0;
	}
	return v;
}

static void summary(const struct batch *b, const char *old_path)
{
	const struct tally *t = &b->t;
	uint64_t total = t->count[0] + t->count[1] + t->count[2];
	fprintf(stderr, "batch: %llu records: %llu allow, %llu block, %llu error\n",
	        (unsigned long long)total, (unsigned long long)t->count[0],
	        (unsigned long long)t->count[1], (unsigned long long)t->count[2]);
	print_per_rule(&b->now, t->per_rule, "  ");
	if (!b->old.rules)
		return;
	uint64_t same = 0;
	for (int k = 0; k < 3; k++)
		same += t->changes[k][k];
	uint64_t decided = 0;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			decided += t->changes[i][k];
	fprintf(stderr, "compare with %s: %llu of %llu decided records change verdict\n", old_path,
	        (unsigned long long)(decided - same), (unsigned long long)decided);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			if (i != k && t->changes[i][k])
				fprintf(stderr, "  %s -> %s: %llu\n", words[i], words[k],
				        (unsigned long long)t->changes[i][k]);
	fputs("  changed, by the rule that now decides:\n", stderr);
	print_per_rule(&b->now, t->changed_by, "    ");
	fputs("  the old file's rules:\n", stderr);
	print_per_rule(&b->old, t->old_per_rule, "    ");
}

int cmd_batch(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, NULL, 'r'}, {"unlocked", required_argument, NULL, 'u'},
		{"registry", required_argument, NULL, 'R'},
		{"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
		{"compare", required_argument, NULL, 'c'}, {"changed", no_argument, NULL, 'C'},
		{"threads", required_argument, NULL, 't'},
		{0, 0, 0, 0},
	};
	const char *rules_path = NULL, *unlocked = NULL, *registry = NULL, *format = "csv";
	const char *old_path = NULL;
	bool changed_only = false;
	unsigned long threads = 1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rules_path = optarg; break;
		case 'u': unlocked = optarg; break;
		case 'R': registry = optarg; break;
		case 'f': format = optarg; break;
		case 'c': old_path = optarg; break;
		case 'C': changed_only = true; break;
		case 't':
			if (!read_count(optarg, MAX_THREADS, &threads)) {
				fprintf(stderr, "callbar batch: --threads '%s': want 1 to %d, or 0 for one "
				                "per CPU\n", optarg, MAX_THREADS);
				return CLI_BAD;
			}
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	bool jsonl = !strcmp(format, "jsonl");
	if (!rules_path || argc - optind > 2 || (!jsonl && strcmp(format, "csv"))) {
		fputs(help, stderr);
		return CLI_BAD;
	}
	if (changed_only && !old_path) {
		fputs("callbar batch: --changed goes with --compare OLD\n", stderr);
		return CLI_BAD;
	}
	if (threads == 0)
		threads = online_cpus();
	size_t block = block_size();
	if (!block)
		return CLI_BAD;
	struct numplan_files files = {0};
	struct batch b = {0};
	struct cbar_numplan *np = numplan_load(&files);
	struct cbar_rules *rules = NULL, *old = NULL;
	struct cbar_unlockset *us = NULL;
	struct cbar_unlock_lookup lk;
	FILE *in = stdin, *out = stdout;
	int rc = CLI_BAD;
	if (!np)
		return CLI_BAD;
	b.np = np;
	b.cn = cbar_numplan_country(np, "CN", 2);
	if (!(rules = rules_load(np, rules_path)))
		goto out;
	if (old_path && !(old = rules_load(np, old_path)))
		goto out;
	if (unlocked && registry) {
		fputs("callbar batch: --unlocked and --registry exclude each other\n", stderr);
		goto out;
	}
	if (registry && !(us = unlocks_from_registry(registry)))
		goto out;
	if (unlocked && !(us = unlocks_load(np, b.cn, unlocked)))
		goto out;
	if (optind < argc && strcmp(argv[optind], "-") && !(in = fopen(argv[optind], "rb"))) {
		perror(argv[optind]);
		goto out;
	}
	if (optind + 1 < argc && !(out = fopen(argv[optind + 1], "wb"))) {
		perror(argv[optind + 1]);
		goto out;
	}
	b.tz = cbar_rules_tz_offset(rules);
	if (us) {
		lk = cbar_unlockset_lookup(us);
		b.lk = &lk;
	}
	b.out = out;
	b.jsonl = jsonl;
	b.block = block;
	b.first = true;
	b.ocap = OUT_BLOCK;
	b.obuf = malloc(OUT_BLOCK);
	b.changed_only = changed_only;
	if (!b.obuf || !batch_ruleset_init(&b.now, rules, rules_path) ||
	    (old && !batch_ruleset_init(&b.old, old, old_path)) ||
	    !tally_init(&b.t, cbar_rules_count(rules), old ? cbar_rules_count(old) : 0)) {
		fputs("callbar batch: out of memory\n", stderr);
		goto out;
	}
	struct stat st;
	b.progress = isatty(2);
	if (!fstat(fileno(in), &st) && S_ISREG(st.st_mode))
		b.total = (uint64_t)st.st_size;
	if (threads > 1) {
		/* jansson sets its hash seed on first use unless told; tell it
		 * before there are threads (its documentation's advice). */
		if (jsonl)
			json_object_seed(0);
		if (!batch_threads(&b, in, (unsigned)threads))
			goto out;
	} else {
		if (!run(&b, in))
			goto out;
		flush(&b);
	}
	if (b.progress)
		fputs("\r\033[K", stderr);
	if (fflush(out) || ferror(out)) {
		perror("callbar batch: output");
		goto out;
	}
	summary(&b, old_path);
	rc = b.t.count[CBAR_ERROR] ? CLI_BLOCK : CLI_OK;
out:
	if (in && in != stdin)
		fclose(in);
	if (out && out != stdout)
		fclose(out);
	batch_ruleset_free(&b.now);
	batch_ruleset_free(&b.old);
	tally_release(&b.t);
	free(b.obuf);
	cbar_unlockset_free(us);
	cbar_rules_free(rules);
	cbar_rules_free(old);
	cbar_numplan_free(np);
	return rc;
}
