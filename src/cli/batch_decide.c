/*
 * callbar batch: one record decided and written out, the same on one
 * thread and on several (batch.h).
 *
 * A line is cut into the event's fields by the CDR reader (proto/cdr.h),
 * read into the event by the event module every front end reads with
 * (proto/event.h), decided by the rules (and by the old rules with
 * --compare), counted in the thread's tally and written with its verdict,
 * rule and reason appended.  No record allocates anything on the CSV path:
 * the verdict's text is made once per rule (struct ruleset).  This file
 * calls nothing in batch_threads.c or cmd_batch.c: a worker's chunk is
 * reached through b->ck_ops.
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "batch.h"
#include "batch_report.h"
#include "proto/buf.h"
#include "proto/cdr.h"
#include "proto/event.h"
#include "proto/verdict_json.h"

void cbar_batch_flush(struct batch *b)
{
	if (b->on)
		fwrite(b->obuf, 1, b->on, b->out);
	b->on = 0;
}

static void put(struct batch *b, const char *s, size_t n)
{
	if (b->on + n > b->ocap) {
		if (b->ck) {
			b->ck_ops->spill(b, s, n);
			return;
		}
		cbar_batch_flush(b);
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

void cbar_batch_say_bad(bool progress, uint64_t line, const char *msg)
{
	fprintf(stderr, "%sbatch: line %llu: %s\n", progress ? "\r" : "", (unsigned long long)line,
	        msg);
}

static void report(struct batch *b, const char *msg)
{
	if (b->ck)
		b->ck_ops->report(b, msg);
	else if (b->reports++ < MAX_REPORTS)
		cbar_batch_say_bad(b->progress, b->line, msg);
}

/* The forms of time a CDR may carry: epoch seconds, ISO 8601 with or
 * without a zone (then the rule file's), a date, @EPOCH. */
#define CDR_TIME_FORMS                                                           \
	(CBAR_TIME_DIGITS | CBAR_TIME_ZONED | CBAR_TIME_LOCAL | CBAR_TIME_DATE | CBAR_TIME_EPOCH)

/* Read one event given as fields into *in (sub_e: why the subscriber
 * cannot be read, when it cannot); NULL on success, else what is wrong.
 * The fields are read by the event module every front end reads with
 * (proto/event.h).  Numbers are parsed afresh for every record: a memo of
 * repeated numbers was tried and lost (hashing the text costs about what
 * parsing does, and on 160,000 distinct subscribers a cache-sized memo hits
 * 7%). */
static const char *read_event(const struct batch *b, const char *const *f, const size_t *n,
                              size_t nf, struct cbar_event_in *in,
                              struct cbar_event_error *sub_e, char *msg, size_t cap)
{
	const struct cbar_event_ctx ec = {.np = b->np, .country = b->cn, .tz = b->tz};
	struct cbar_event_error e;
	cbar_event_begin(in);
	/* A subscriber that cannot be read is the record's fault unless the
	 * call is to an emergency number (allowed whoever calls). */
	if (cbar_event_time(in, &ec, f[0], n[0], CDR_TIME_FORMS, &e) ||
	    cbar_event_service(in, f[1], n[1], &e) || cbar_event_direction(in, f[2], n[2], &e) ||
	    (cbar_event_subscriber(in, &ec, f[3], n[3], sub_e), false) ||
	    cbar_event_peer(in, &ec, f[4], n[4], &e) ||
	    (nf > 5 && cbar_event_ingress(in, f[5], n[5], &e)) ||
	    (nf > 6 && cbar_event_roaming(in, f[6], n[6], &e)) ||
	    (nf > CBAR_CDR_CARRIER && n[CBAR_CDR_CARRIER] &&
	     cbar_event_carrier(in, f[CBAR_CDR_CARRIER], n[CBAR_CDR_CARRIER], &e)) ||
	    (nf > CBAR_CDR_REGION && n[CBAR_CDR_REGION] &&
	     cbar_event_region(in, &ec, f[CBAR_CDR_REGION], n[CBAR_CDR_REGION], &e))) {
		snprintf(msg, cap, "%s: %s", e.field, e.message);
		return msg;
	}
	return NULL;
}

/* After the decision v of an event read by read_event(): NULL when it
 * stands, else what is wrong with the record. */
static const char *decided(const struct cbar_event_in *in, const struct cbar_event_error *sub_e,
                           const struct cbar_verdict *v, char *msg, size_t cap)
{
	if (in->sub_err && v->decision != CBAR_ALLOW) {
		snprintf(msg, cap, "%s: %s", sub_e->field, sub_e->message);
		return msg;
	}
	if (v->decision == CBAR_ERROR) {
		snprintf(msg, cap, "%s", cbar_err_message(v->err));
		return msg;
	}
	return NULL;
}

/* --compare: the old file's decision of an event that the new one
 * decided; NULL, or what is wrong. */
static const char *decide_old(const struct batch *b, const struct cbar_event_in *in,
                              struct cbar_verdict *ov, char *msg, size_t cap)
{
	if (b->old.rules &&
	    cbar_decide(b->old.rules, &in->ev, b->old_lk ? b->old_lk : b->lk, ov) == CBAR_ERROR) {
		snprintf(msg, cap, "old rules: %s", cbar_err_message(ov->err));
		return msg;
	}
	return NULL;
}

/* Decide one event given as fields (and by the old rules into *ov with
 * --compare); NULL on success, else what is wrong. */
static const char *decide(struct batch *b, const char *const *f, const size_t *n,
                          size_t nf, struct cbar_event_in *in, struct cbar_verdict *v,
                          struct cbar_verdict *ov, char *msg, size_t cap)
{
	struct cbar_event_error sub_e;
	const char *bad = read_event(b, f, n, nf, in, &sub_e, msg, cap);
	if (bad)
		return bad;
	cbar_decide(b->now.rules, &in->ev, b->lk, v);
	if ((bad = decided(in, &sub_e, v, msg, cap)))
		return bad;
	return decide_old(b, in, ov, msg, cap);
}

/* The index of a verdict's rule text: the rule, or [nrules] for an
 * emergency number. */
static size_t rule_slot(const struct ruleset *rs, const struct cbar_verdict *v)
{
	return v->rule >= 0 ? (size_t)v->rule : cbar_rules_count(rs->rules);
}

/* A bar a limit set, for the summary (as many as MAX_BARS_KEPT; all are
 * counted in nbars). */
void cbar_batch_note_bar(struct batch *b, const struct cbar_verdict *v, uint64_t line)
{
	if (b->nbars < MAX_BARS_KEPT && b->nbars == b->capbars) {
		size_t nc = b->capbars ? b->capbars * 2 : 64;
		struct batch_bar *nb = realloc(b->bars, nc * sizeof *nb);
		if (!nb)
			return; /* the verdicts stand; the list is shorter */
		b->bars = nb;
		b->capbars = nc;
	}
	if (b->nbars < b->capbars)
		b->bars[b->nbars] = (struct batch_bar){.limit = v->limit,
		                                       .key = v->limit_key,
		                                       .line = line,
		                                       .count = v->limit_count,
		                                       .until = v->limit_bar_until};
	b->nbars++;
}

static void count(struct batch *b, const struct cbar_verdict *v)
{
	if (v->limit_new_bar)
		cbar_batch_note_bar(b, v, b->line);
	b->t.count[v->decision]++;
	if (v->rule >= 0 || v->decision == CBAR_ALLOW)
		b->t.per_rule[rule_slot(&b->now, v)]++;
}

/* --report: what the report's plots count (batch_report.c). */
static void report_count(struct batch *b, const struct cbar_event *ev,
                         const struct cbar_verdict *v, const struct cbar_verdict *ov)
{
	if (b->report)
		cbar_report_count(&b->t.rep, ev, b->tz, v, b->old.rules ? ov : NULL);
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


/* Write a CSV record with its verdict (bad: why it has none, else NULL),
 * counted. */
static void csv_write(struct batch *b, const char *s, size_t len, const char *bad,
                      const struct cbar_event *ev, const struct cbar_verdict *v,
                      const struct cbar_verdict *ov)
{
	if (bad) {
		report(b, bad);
		b->t.count[CBAR_ERROR]++;
		if (b->old.rules && b->changed_only)
			return; /* an error under both files: no change */
		put(b, s, len);
		puts_(b, b->old.rules ? ",error,,bad-record,error,,bad-record\n" : ",error,,bad-record\n");
		return;
	}
	count(b, v);
	report_count(b, ev, v, ov);
	if (!compare(b, v, ov))
		return;
	put(b, s, len);
	size_t t = rule_slot(&b->now, v);
	if (!b->old.rules) {
		put(b, b->now.tail[t], b->now.tail_len[t]);
		return;
	}
	size_t o = rule_slot(&b->old, ov);
	put(b, b->now.tail[t], b->now.tail_len[t] - 1); /* without its newline */
	put(b, b->old.tail[o], b->old.tail_len[o]);
}

void cbar_batch_drain(struct batch *b)
{
	size_t k = b->npend;
	if (!k)
		return;
	if (b->ck && b->ck_ops->defer) { /* limits on threads: decided in turn */
		b->ck_ops->defer(b);
		return;
	}
	b->npend = 0;
	const struct cbar_event *ev[DECIDE_BATCH];
	struct cbar_verdict v[DECIDE_BATCH];
	size_t ne = 0;
	for (size_t i = 0; i < k; i++)
		if (!b->pend[i].bad)
			ev[ne++] = &b->pend[i].in.ev;
	cbar_batch_decide(b, ev, ne, v);
	cbar_batch_write_decided(b, b->pend, k, v);
}

void cbar_batch_decide(struct batch *b, const struct cbar_event *const *ev, size_t n,
                       struct cbar_verdict *v)
{
	/* The decisions of the records that were read, together: their unlock
	 * probes overlap (cbar_decide_many()). */
	if (b->single)
		for (size_t i = 0; i < n; i++)
			cbar_decide(b->now.rules, ev[i], b->lk, &v[i]);
	else
		cbar_decide_many(b->now.rules, ev, n, b->lk, v);
}

void cbar_batch_write_decided(struct batch *b, struct pending *pend, size_t k,
                              const struct cbar_verdict *v)
{
	struct cbar_verdict ov;
	uint64_t line = b->line;
	for (size_t i = 0, j = 0; i < k; i++) {
		struct pending *p = &pend[i];
		b->line = p->line; /* for a report */
		const char *bad = p->bad;
		const struct cbar_verdict *vi = bad ? NULL : &v[j++];
		if (!bad && !(bad = decided(&p->in, &p->sub_e, vi, p->msg, sizeof p->msg)))
			bad = decide_old(b, &p->in, &ov, p->msg, sizeof p->msg);
		csv_write(b, p->s, p->len, bad, &p->in.ev, vi, &ov);
	}
	b->line = line;
}

/* A CSV record: cut and read into its event now, while the line is in the
 * cache; decided with the others of its batch (cbar_batch_drain()). */
static void csv_record(struct batch *b, const char *s, size_t len)
{
	const char *f[CBAR_CDR_FIELDS];
	size_t n[CBAR_CDR_FIELDS], nf = CBAR_CDR_FIELDS;
	struct pending *p = &b->pend[b->npend++];
	p->s = s;
	p->len = len;
	p->line = b->line;
	p->bad = b->map ? cbar_cdr_mapped(b->map, s, len, f, n) /* the header's layout */
	                : cbar_cdr_fixed(s, len, f, n, &nf);
	if (!p->bad)
		p->bad = read_event(b, f, n, nf, &p->in, &p->sub_e, p->msg, sizeof p->msg);
	if (b->npend == DECIDE_BATCH)
		cbar_batch_drain(b);
}

static void jsonl_record(struct batch *b, const char *s, size_t len)
{
	const char *f[CBAR_CDR_FIELDS];
	size_t n[CBAR_CDR_FIELDS];
	struct cbar_cdr_json_text tx;
	struct cbar_verdict v, ov;
	struct cbar_event_in in;
	json_t *o;
	const char *bad = cbar_cdr_json(s, len, &o, f, n, &tx);
	if (!bad)
		bad = decide(b, f, n, CBAR_CDR_FIELDS, &in, &v, &ov, tx.msg, sizeof tx.msg);
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
		report_count(b, &in.ev, &v, &ov);
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
		const unsigned m =
			CBAR_VJ_VERDICT | CBAR_VJ_RULE | CBAR_VJ_REASON | CBAR_VJ_EXEMPTED | CBAR_VJ_LIMIT;
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

void cbar_batch_say_progress(uint64_t line, uint64_t bytes, uint64_t total)
{
	if (total)
		fprintf(stderr, "\r%llu records  %5.1f%%", (unsigned long long)line,
		        100.0 * (double)bytes / (double)total);
	else
		fprintf(stderr, "\r%llu records", (unsigned long long)line);
}

static inline bool decide_line(struct batch *b, const char *s, size_t len)
{
	b->line++;
	if (len && s[len - 1] == '\r')
		len--;
	if (b->first) {
		b->first = false;
		struct cbar_cdr_map hm;
		if (!b->jsonl && cbar_cdr_header(s, len, &hm)) {
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
		cbar_batch_drain(b); /* its report after theirs */
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

bool cbar_batch_line(struct batch *b, const char *s, size_t len)
{
	return decide_line(b, s, len);
}

void cbar_batch_lines(struct batch *b, const char *s, size_t n)
{
	const char *e = s + n;
	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		size_t len = (size_t)((nl ? nl : e) - s);
		b->bytes += len + (nl != NULL);
		if (decide_line(b, s, len) && b->progress && !(b->line & 0xfffff))
			cbar_batch_say_progress(b->line, b->bytes, b->total);
		s += len + (nl != NULL);
	}
	cbar_batch_drain(b);
}

bool cbar_batch_ruleset_init(struct ruleset *rs, const struct cbar_rules *rules, const char *path)
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

void cbar_batch_ruleset_free(struct ruleset *rs)
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

bool cbar_tally_init(struct tally *t, size_t nr, size_t old_nr)
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

void cbar_tally_add(struct tally *to, const struct tally *from, size_t nr, size_t old_nr)
{
	cbar_report_add(&to->rep, from->rep);
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

void cbar_tally_release(struct tally *t)
{
	free(t->per_rule);
	free(t->old_per_rule);
	free(t->changed_by);
	cbar_report_free(t->rep);
	*t = (struct tally){0};
}
