/*
 * callbar: unlock records (callbar/store.h): unlock with supersede, relock
 * with split, the reads, the decision path's snapshot and changes, and
 * import.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* ---- rows ---------------------------------------------------------------- */

struct one_rec {
	struct cbar_store_record *r;
	bool found;
};

static int row_rec(void *arg, int n, const char *const *c)
{
	struct one_rec *o = arg;
	if (n < REC_NCOLS)
		return 1;
	cbar__rec_from_row(o->r, c);
	o->found = true;
	return 1;
}

static enum cbar_err rec_insert(struct cbar_store *s, const struct cbar_store_record *r,
                                struct cbar_diag *d)
{
	char b[8][24];
	const char *p[REC_NCOLS] = {
		I64(b[0], r->id),         U64(b[1], r->subscriber),
		I64(b[2], r->scope),      cbar_store_level_key(r->level),
		cbar_store_status_key(r->status), I64(b[3], r->created),
		I64(b[4], r->expires),    cbar_store_channel_key(r->channel),
		r->agent,                 r->doc_type,
		r->doc_hash,              I64(b[5], r->revoked_at),
		r->revoked_by,            r->revoked_why,
		I64(b[6], r->seq),
	};
	return cbar__q(s, "INSERT INTO unlock (" REC_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	         REC_NCOLS, p, NULL, NULL, d);
}

static enum cbar_err rec_revoke(struct cbar_store *s, const struct cbar_store_record *r,
                                struct cbar_diag *d)
{
	char b1[24], b2[24], b3[24];
	const char *p[] = {I64(b1, r->revoked_at), r->revoked_by, r->revoked_why, I64(b2, r->seq),
	                   I64(b3, r->id)};
	return cbar__q(s,
	         "UPDATE unlock SET status = 'revoked', revoked_at = ?, revoked_by = ?, "
	         "revoked_why = ?, seq = ? WHERE id = ?",
	         5, p, NULL, NULL, d);
}

static enum cbar_err active_get(struct cbar_store *s, uint64_t sub, struct cbar_store_record *r,
                                bool *found, struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {U64(b, sub)};
	struct one_rec o = {r, false};
	enum cbar_err err = cbar__q(s,
	                      "SELECT " REC_COLS " FROM unlock WHERE subscriber = ? AND "
	                      "status = 'active' ORDER BY id DESC LIMIT 1",
	                      1, p, row_rec, &o, d);
	*found = o.found;
	return err;
}


/* ---- changes ------------------------------------------------------------- */

static int64_t later(int64_t a, int64_t b)
{
	return a == 0 || b == 0 ? 0 : a > b ? a : b;
}

enum cbar_err cbar_store_unlock(struct cbar_store *s, const struct cbar_store_unlock_req *r,
                                struct cbar_store_record *out, bool *changed,
                                struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar_store_record have = {0}, rec;
	struct cbar__head h;
	bool found;
	bool has_doc = r->doc_hash && r->doc_hash[0];
	*changed = false;
	if (!r->subscriber || !r->scope || (r->scope & ~(unsigned)CBAR_STORE_SCOPE_ALL) ||
	    !cbar_store_level_key(r->level) || !cbar_store_channel_key(r->channel))
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "unlock needs a subscriber, a scope, a "
		                                          "level and a channel");
	if (r->level == CBAR_STORE_VERIFIED && !has_doc)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0,
		                     "a verified unlock needs an identity document");
	if (has_doc && (!r->doc_type || !r->doc_type[0] || strlen(r->doc_hash) != 64))
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "a document needs its type and hash");
	if (has_doc && !s->key_id[0])
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "no hashing key bound to the registry");
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = active_get(s, r->subscriber, &have, &found, d)) || (err = cbar__head_get(s, &h, d)))
		goto fail;
	if (found && have.expires && have.expires <= r->now)
		found = false; /* expired: superseded, nothing carried over */
	else if (found)
		goto merge;
	memset(&rec, 0, sizeof rec);
	rec.subscriber = r->subscriber;
	rec.scope = r->scope;
	rec.level = r->level;
	rec.expires = r->expires;
	rec.channel = r->channel;
	cbar__copy(rec.agent, sizeof rec.agent, r->agent);
	if (has_doc) {
		cbar__copy(rec.doc_type, sizeof rec.doc_type, r->doc_type);
		cbar__copy(rec.doc_hash, sizeof rec.doc_hash, r->doc_hash);
	}
	goto limit;
merge:
	rec = have;
	rec.scope = have.scope | r->scope;
	rec.expires = later(have.expires, r->expires);
	if (r->level > have.level || (r->level == have.level && has_doc)) {
		rec.level = r->level;
		rec.channel = r->channel;
		cbar__copy(rec.agent, sizeof rec.agent, r->agent);
		cbar__copy(rec.doc_type, sizeof rec.doc_type, has_doc ? r->doc_type : "");
		cbar__copy(rec.doc_hash, sizeof rec.doc_hash, has_doc ? r->doc_hash : "");
	}
	if (rec.scope == have.scope && rec.level == have.level && rec.expires == have.expires &&
	    !strcmp(rec.doc_hash, have.doc_hash)) {
		s->be->rollback(s);
		*out = have;
		return CBAR_OK;
	}
limit:
	if (has_doc && !strcmp(rec.doc_hash, r->doc_hash)) {
		int64_t n = 0;
		char b1[24], b2[24];
		const char *p[] = {r->doc_hash, U64(b1, r->subscriber), I64(b2, r->now)};
		if ((err = cbar__q(s,
		             "SELECT count(*) FROM unlock WHERE doc_hash = ? AND status = 'active' "
		             "AND subscriber <> ? AND (expires = 0 OR expires > ?)",
		             3, p, cbar__row_int, &n, d)))
			goto fail;
		if (n >= (int64_t)s->opts.max_per_id) {
			err = cbar_diag_set(d, CBAR_STORE_LIMIT, 0, 0,
			                    "this identity document already has %" PRId64
			                    " active unlocks on other numbers (limit %u, set by "
			                    "the operator); relock one first",
			                    n, s->opts.max_per_id);
			goto fail;
		}
	}
	const char *who = r->agent && r->agent[0] ? r->agent : cbar_store_channel_key(r->channel);
	char whobuf[CBAR_STORE_NAME_MAX + 16];
	snprintf(whobuf, sizeof whobuf, "%s:%s", r->agent && r->agent[0] ? "agent" : "channel",
	         who);
	bool had = found || (have.id && have.status == CBAR_STORE_ACTIVE);
	if (had) {
		struct cbar_store_record old = have;
		have.status = CBAR_STORE_REVOKED;
		have.revoked_at = r->now;
		cbar__copy(have.revoked_by, sizeof have.revoked_by, whobuf);
		snprintf(have.revoked_why, sizeof have.revoked_why, "superseded by #%" PRId64,
		         h.seq + 2);
		have.seq = h.seq + 1;
		if ((err = rec_revoke(s, &have, d)) ||
		    (err = cbar__audit_append(s, &h, r->now, whobuf, "supersede", have.subscriber, have.id,
		                        &old, &have, d)))
			goto fail;
	}
	rec.id = rec.seq = h.seq + 1;
	rec.status = CBAR_STORE_ACTIVE;
	rec.created = r->now;
	rec.revoked_at = 0;
	rec.revoked_by[0] = rec.revoked_why[0] = 0;
	if ((err = rec_insert(s, &rec, d)) ||
	    (err = cbar__audit_append(s, &h, r->now, whobuf, "unlock", rec.subscriber, rec.id, NULL, &rec,
	                        d)))
		goto fail;
	if ((err = cbar__finish(s, CBAR_OK, h.seq, d)))
		return err;
	*out = rec;
	*changed = true;
	return CBAR_OK;
fail:
	s->be->rollback(s);
	return err;
}

enum cbar_err cbar_store_relock(struct cbar_store *s, uint64_t subscriber, unsigned scope,
                                const char *who, const char *why, int64_t now,
                                struct cbar_store_record *out, struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar_store_record have, old, rest;
	struct cbar__head h;
	bool found;
	char sc[64];
	if (!who || !who[0] || !scope)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "relock needs who and a scope");
	if ((err = s->be->begin(s, true, d)))
		return err;
	if ((err = active_get(s, subscriber, &have, &found, d)) || (err = cbar__head_get(s, &h, d)))
		goto fail;
	if (!found || !(have.scope & scope)) {
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0,
		                    "+%" PRIu64 " has no active unlock for %s", subscriber,
		                    cbar_store_scope_str(scope, sc, sizeof sc));
		goto fail;
	}
	old = have;
	have.status = CBAR_STORE_REVOKED;
	have.revoked_at = now;
	cbar__copy(have.revoked_by, sizeof have.revoked_by, who);
	cbar__copy(have.revoked_why, sizeof have.revoked_why, why);
	have.seq = h.seq + 1;
	if ((err = rec_revoke(s, &have, d)) ||
	    (err = cbar__audit_append(s, &h, now, who, "relock", subscriber, have.id, &old, &have, d)))
		goto fail;
	memset(&rest, 0, sizeof rest);
	if (old.scope & ~scope) {
		rest = old;
		rest.scope = old.scope & ~scope;
		rest.id = rest.seq = h.seq + 1;
		rest.created = now;
		if ((err = rec_insert(s, &rest, d)) ||
		    (err = cbar__audit_append(s, &h, now, who, "split", subscriber, rest.id, NULL, &rest,
		                        d)))
			goto fail;
	}
	if ((err = cbar__finish(s, CBAR_OK, h.seq, d)))
		return err;
	if (out)
		*out = rest;
	return CBAR_OK;
fail:
	s->be->rollback(s);
	return err;
}

/* ---- reads --------------------------------------------------------------- */

enum cbar_err cbar_store_get_active(struct cbar_store *s, uint64_t subscriber,
                                    struct cbar_store_record *out, struct cbar_diag *d)
{
	bool found;
	enum cbar_err err = active_get(s, subscriber, out, &found, d);
	if (!err && !found)
		err = cbar_diag_set(d, CBAR_STORE_NOTFOUND, 0, 0,
		                    "+%" PRIu64 " has no active unlock", subscriber);
	return err;
}

struct walk {
	cbar_store_record_fn fn;
	void *arg;
	int64_t last;
};

static int row_walk(void *arg, int n, const char *const *c)
{
	struct walk *w = arg;
	struct cbar_store_record r;
	if (n < REC_NCOLS)
		return 1;
	cbar__rec_from_row(&r, c);
	if (r.seq > w->last)
		w->last = r.seq;
	return w->fn(w->arg, &r);
}

enum cbar_err cbar_store_history(struct cbar_store *s, uint64_t subscriber,
                                 cbar_store_record_fn fn, void *arg, struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {U64(b, subscriber)};
	struct walk w = {fn, arg, 0};
	return cbar__q(s, "SELECT " REC_COLS " FROM unlock WHERE subscriber = ? ORDER BY id", 1, p,
	         row_walk, &w, d);
}

enum cbar_err cbar_store_foreach(struct cbar_store *s, cbar_store_record_fn fn, void *arg,
                                 struct cbar_diag *d)
{
	struct walk w = {fn, arg, 0};
	return cbar__q(s, "SELECT " REC_COLS " FROM unlock ORDER BY id", 0, NULL, row_walk, &w, d);
}

struct active_walk {
	cbar_store_active_fn fn;
	void *arg;
};

static int row_active(void *arg, int n, const char *const *c)
{
	struct active_walk *w = arg;
	if (n < 5 || !c[0] || !c[1] || !c[2] || !c[3] || !c[4])
		return 0;
	return w->fn(w->arg, strtoull(c[0], NULL, 10), (unsigned)strtoul(c[1], NULL, 10),
	             c[2][0] == 'v' ? CBAR_STORE_VERIFIED : CBAR_STORE_SELF,
	             strtoll(c[3], NULL, 10), strtoll(c[4], NULL, 10));
}

enum cbar_err cbar_store_foreach_active(struct cbar_store *s, cbar_store_active_fn fn,
                                        void *arg, int64_t *head, struct cbar_diag *d)
{
	enum cbar_err err;
	struct active_walk w = {fn, arg};
	struct cbar__head h;
	if ((err = s->be->begin(s, false, d)))
		return err;
	if ((err = cbar__head_get(s, &h, d)) ||
	    (err = cbar__q(s,
	             "SELECT subscriber, scope, level, expires, id FROM unlock WHERE status = "
	             "'active'",
	             0, NULL, row_active, &w, d))) {
		s->be->rollback(s);
		return err;
	}
	s->be->rollback(s);
	if (head)
		*head = h.seq;
	return CBAR_OK;
}

/*
 * Following changes through the audit chain (store.h, cbar_store_unaudited).
 * Every legitimate change of a record row sets the row's seq to the seq of
 * the change's audit entry, whose record is the row's id and whose after
 * text is the row's canonical text.  So a round reads the entries after
 * since in seq order and checks that they chain on from the last one it
 * trusts (a BLAKE2b each; a round with no change reads none), then reads
 * the rows after since beside the entry with each row's seq, and passes
 * on a row only when that entry is in the checked part of the chain, is
 * about the row, and says exactly what the row holds.
 */
struct follow {
	int64_t next;                   /* the seq the next entry must have */
	char prev[CBAR_STORE_HASH_HEX]; /* and the hash it must follow */
	int64_t broken_at;
	struct cbar_store_audit a;
	char hash[CBAR_STORE_HASH_HEX];
};

static int row_follow(void *arg, int n, const char *const *c)
{
	struct follow *f = arg;
	if (n < AUDIT_NCOLS)
		return 1;
	cbar__audit_from_row(&f->a, c);
	if (f->a.seq != f->next || strcmp(f->a.prev_hash, f->prev)) {
		f->broken_at = f->a.seq < f->next ? f->a.seq : f->next;
		return 1;
	}
	cbar__audit_hash(&f->a, f->hash);
	if (strcmp(f->hash, f->a.hash)) {
		f->broken_at = f->a.seq;
		return 1;
	}
	memcpy(f->prev, f->a.hash, sizeof f->prev);
	f->next++;
	return 0;
}

struct follow_rows {
	struct cbar_store *s;
	cbar_store_record_fn fn;
	void *arg;
	int64_t checked; /* the last entry of the checked chain */
	struct cbar_store_unaudited *u;
	bool stopped;
	char text[640];
};

/* Whether the row (id, seq) was reported before while beyond the chain;
 * remember it (while there is room) when it is beyond the chain now. */
static bool reported(struct cbar_store *s, int64_t id, int64_t seq, bool beyond)
{
	for (unsigned i = 0; i < s->nreported; i++)
		if (s->reported[i].id == id && s->reported[i].seq == seq)
			return true;
	if (beyond && s->nreported < sizeof s->reported / sizeof s->reported[0]) {
		s->reported[s->nreported].id = id;
		s->reported[s->nreported++].seq = seq;
	}
	return false;
}

/* A record row with the record and after text of the entry with its seq
 * (both NULL when there is none). */
static int row_follow_rec(void *arg, int n, const char *const *c)
{
	struct follow_rows *w = arg;
	struct cbar_store_record r;
	if (n < REC_NCOLS + 2)
		return 1;
	cbar__rec_from_row(&r, c);
	const char *rec = c[REC_NCOLS], *after = c[REC_NCOLS + 1];
	if (rec && r.seq > w->checked)
		return 0; /* its entry is past a break in the chain: held back */
	if (rec && after && strtoll(rec, NULL, 10) == r.id) {
		cbar_store_record_text(&r, w->text, sizeof w->text);
		if (!strcmp(after, w->text)) {
			if (w->fn(w->arg, &r)) {
				w->stopped = true;
				return 1;
			}
			return 0;
		}
	}
	/* Rows at or below the checked head are seen once (the caller moves
	 * past them); those beyond it come back every call. */
	if (reported(w->s, r.id, r.seq, r.seq > w->checked))
		return 0;
	if (!w->u->rows) {
		w->u->id = r.id;
		w->u->seq = r.seq;
	}
	w->u->rows++;
	return 0;
}

enum cbar_err cbar_store_changes(struct cbar_store *s, int64_t since, cbar_store_record_fn fn,
                                 void *arg, int64_t *head, struct cbar_store_unaudited *u,
                                 struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar_store_unaudited none;
	struct follow *f = malloc(sizeof *f);
	char b[24];
	if (since < 0)
		since = 0;
	const char *p[] = {I64(b, since)};
	if (!u)
		u = &none;
	memset(u, 0, sizeof *u);
	if (!f)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	f->next = since + 1;
	f->broken_at = 0;
	if (since <= 0)
		memcpy(f->prev, cbar__genesis, sizeof f->prev);
	else if (s->follow_seq == since)
		memcpy(f->prev, s->follow_hash, sizeof f->prev);
	else
		f->prev[0] = '\0';
	if ((err = s->be->begin(s, false, d)))
		goto out;
	/* Entry since as stored when this connection has not checked it: no
	 * entry there (a registry behind the caller) leaves prev empty, and
	 * then any later entry is a break. */
	if (!f->prev[0] && (err = cbar__q(s, "SELECT hash FROM audit WHERE seq = ?", 1, p,
	                                  cbar__row_text, f->prev, d)))
		goto done;
	if ((err = cbar__q(s, "SELECT " AUDIT_COLS " FROM audit WHERE seq > ? ORDER BY seq", 1, p,
	                   row_follow, f, d)))
		goto done;
	struct follow_rows w = {s, fn, arg, f->next - 1, u, false, ""};
	err = cbar__q(s,
	              "SELECT u.id, u.subscriber, u.scope, u.level, u.status, u.created, "
	              "u.expires, u.channel, u.agent, u.doc_type, u.doc_hash, u.revoked_at, "
	              "u.revoked_by, u.revoked_why, u.seq, a.record, a.after FROM unlock u LEFT "
	              "JOIN audit a ON a.seq = u.seq WHERE u.seq > ? ORDER BY u.seq, u.id",
	              1, p, row_follow_rec, &w, d);
done:
	s->be->rollback(s);
	if (!err) {
		u->broken_at = f->broken_at;
		if (f->next - 1 > since) {
			s->follow_seq = f->next - 1;
			memcpy(s->follow_hash, f->prev, sizeof s->follow_hash);
		}
		/* Rows the new head has passed are not asked for again. */
		unsigned k = 0;
		for (unsigned i = 0; i < s->nreported; i++)
			if (s->reported[i].seq > f->next - 1)
				s->reported[k++] = s->reported[i];
		s->nreported = k;
		if (head)
			*head = f->next - 1;
	}
out:
	free(f);
	return err;
}

/* ---- which subscribers have an active unlock, a run at a time ------------- */

/*
 * The registry is asked which subscribers have an active unlock once for
 * ACTIVE_RUN of them (one IN list), not once a subscriber.  Against
 * PostgreSQL each question is a round trip (inside an import, one that
 * also waits for every queued insert): asked once a record, a national
 * import (millions of rows) took hours, and a CRM file's pre-check as long
 * again.  The import and cbar_store_active_many() ask it through
 * active_run(), one statement (prepared once per connection on
 * PostgreSQL).
 */
#define ACTIVE_RUN 256
#define Q4         "?,?,?,?"
#define Q16        Q4 "," Q4 "," Q4 "," Q4
#define Q64        Q16 "," Q16 "," Q16 "," Q16
#define Q256       Q64 "," Q64 "," Q64 "," Q64

struct run_answer {
	const uint64_t *sub;
	int64_t *ids;
	size_t m;
};

/* A row (subscriber, id) to every place of the run that asked for it. */
static int row_active_id(void *arg, int n, const char *const *c)
{
	struct run_answer *a = arg;
	if (n < 2 || !c[0] || !c[1])
		return 0;
	uint64_t sub = strtoull(c[0], NULL, 10);
	int64_t id = strtoll(c[1], NULL, 10);
	for (size_t i = 0; i < a->m; i++)
		if (a->sub[i] == sub)
			a->ids[i] = id;
	return 0;
}

/* ids[i]: the active record of sub[i] (0: none), for m <= ACTIVE_RUN
 * subscribers, in one question.  A subscriber may be asked twice. */
static enum cbar_err active_run(struct cbar_store *s, const uint64_t *sub, size_t m, int64_t *ids,
                                struct cbar_diag *d)
{
	_Static_assert(sizeof(Q256) == 2 * ACTIVE_RUN, "one placeholder a subscriber of a run");
	char buf[ACTIVE_RUN][24];
	const char *p[ACTIVE_RUN];
	/* Unused places ask for subscriber 0, which no record has: one
	 * statement whatever the run's length. */
	for (size_t i = 0; i < ACTIVE_RUN; i++)
		p[i] = U64(buf[i], i < m ? sub[i] : 0);
	for (size_t i = 0; i < m; i++)
		ids[i] = 0;
	struct run_answer a = {sub, ids, m};
	return cbar__q(s,
	               "SELECT subscriber, max(id) FROM unlock WHERE status = 'active' "
	               "AND subscriber IN (" Q256 ") GROUP BY subscriber",
	               ACTIVE_RUN, p, row_active_id, &a, d);
}

enum cbar_err cbar_store_active_many(struct cbar_store *s, const uint64_t *subscribers, size_t n,
                                     int64_t *ids, struct cbar_diag *d)
{
	enum cbar_err err = CBAR_OK;
	/* Several runs read one snapshot; inside an import the import's
	 * transaction is that snapshot already.  PostgreSQL plans the question
	 * on each run, as in an import (cbar_store_import_begin): a generic
	 * plan of its IN list is a sequential scan, and 50,000 rows against a
	 * registry of as many took 24.5 s instead of 1.0. */
	bool own = !s->in_import && n > ACTIVE_RUN;
	if (own && (err = s->be->begin(s, false, d)))
		return err;
	if (own && s->be == &cbar__store_postgres)
		err = cbar__q(s, "SET LOCAL plan_cache_mode = force_custom_plan", 0, NULL, NULL,
		              NULL, d);
	for (size_t at = 0; at < n && !err; at += ACTIVE_RUN)
		err = active_run(s, subscribers + at, n - at < ACTIVE_RUN ? n - at : ACTIVE_RUN,
		                 ids + at, d);
	if (own)
		s->be->rollback(s);
	return err;
}

/* ---- import ---------------------------------------------------------------- */

enum cbar_err cbar_store_import_begin(struct cbar_store *s, struct cbar_diag *d)
{
	enum cbar_err err;
	struct cbar__head h;
	if ((err = s->be->begin(s, true, d)))
		return err;
	/* PostgreSQL plans a prepared statement once for all its runs, with
	 * the statistics of the table as it was: into a new registry, the
	 * import's question (an IN list on unlock) kept the sequential scan
	 * of an empty table while the table grew by the import itself, and
	 * 20,000 records took 2.7 s instead of 1.0.  Planned on each run,
	 * the statement finds the index once the table is big. */
	if (s->be == &cbar__store_postgres &&
	    (err = cbar__q(s, "SET LOCAL plan_cache_mode = force_custom_plan", 0, NULL, NULL, NULL,
	                   d))) {
		s->be->rollback(s);
		return err;
	}
	if ((err = cbar__head_get(s, &h, d))) {
		s->be->rollback(s);
		return err;
	}
	s->import_seq = h.seq;
	memcpy(s->import_hash, h.hash, sizeof s->import_hash);
	s->in_import = true;
	return CBAR_OK;
}

/* The active record's id a subscriber has earlier in this run (ids[] of
 * r[0..i)), else in the registry (reg), 0 when none. */
static int64_t clash_in_run(const struct cbar_store_record *r, const int64_t *ids, size_t i,
                            int64_t reg)
{
	for (size_t j = i; j-- > 0;)
		if (r[j].status == CBAR_STORE_ACTIVE && r[j].subscriber == r[i].subscriber)
			return ids[j];
	return reg;
}

/*
 * Records imported one after another, each refused when its subscriber
 * already has an active unlock in the registry (asked once a run:
 * active_run) or earlier in this run (compared here).  Records imported
 * earlier in the transaction are rows by then, so the question sees them.
 */
enum cbar_err cbar_store_import_many(struct cbar_store *s, const struct cbar_store_record *r,
                                     size_t n, const char *who, int64_t now, size_t *failed,
                                     struct cbar_diag *d)
{
	enum cbar_err err;
	uint64_t sub[ACTIVE_RUN];
	int64_t have[ACTIVE_RUN], ids[ACTIVE_RUN];
	if (!s->in_import)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "import outside import_begin/_end");
	for (size_t at = 0; at < n; at += ACTIVE_RUN) {
		size_t m = n - at < ACTIVE_RUN ? n - at : ACTIVE_RUN;
		const struct cbar_store_record *run = r + at;
		/* A revoked record clashes with nothing: asked as subscriber 0. */
		for (size_t i = 0; i < m; i++)
			sub[i] = run[i].status == CBAR_STORE_ACTIVE ? run[i].subscriber : 0;
		if ((err = active_run(s, sub, m, have, d))) {
			*failed = at;
			return err;
		}
		for (size_t i = 0; i < m; i++) {
			struct cbar_store_record x = run[i];
			int64_t clash =
			    x.status == CBAR_STORE_ACTIVE ? clash_in_run(run, ids, i, have[i]) : 0;
			*failed = at + i;
			if (clash)
				return cbar_diag_set(d, CBAR_INVAL, 0, 0,
				                     "+%" PRIu64
				                     " already has an active unlock (#%" PRId64 ")",
				                     x.subscriber, clash);
			struct cbar__head h = {s->import_seq, ""};
			memcpy(h.hash, s->import_hash, sizeof h.hash);
			x.id = x.seq = h.seq + 1;
			if ((err = rec_insert(s, &x, d)) ||
			    (err = cbar__audit_append(s, &h, now, who, "import", x.subscriber, x.id,
			                              NULL, &x, d)))
				return err;
			ids[i] = x.id;
			s->import_seq = h.seq;
			memcpy(s->import_hash, h.hash, sizeof s->import_hash);
		}
	}
	*failed = n;
	return CBAR_OK;
}

enum cbar_err cbar_store_import_end(struct cbar_store *s, bool commit, struct cbar_diag *d)
{
	if (!s->in_import)
		return CBAR_OK;
	s->in_import = false;
	if (!commit) {
		s->be->rollback(s);
		return CBAR_OK;
	}
	char b[24];
	const char *hp[] = {I64(b, s->import_seq)};
	enum cbar_err err =
	    cbar__q(s, "UPDATE meta SET value = ? WHERE key = 'head_seq'", 1, hp, NULL, NULL, d);
	return cbar__finish(s, err, s->import_seq, d);
}

