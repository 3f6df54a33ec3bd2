/*
 * callbar: the registry's audit log (callbar/store.h): the hash chain's
 * append and head, the listing, and verification.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_impl.h"

/* ---- the chain ----------------------------------------------------------- */

void cbar__audit_hash(const struct cbar_store_audit *a, char out[CBAR_STORE_HASH_HEX])
{
	char canon[2048];
	char who[256];
	cbar__esc(who, sizeof who, 0, a->who);
	int n = snprintf(canon, sizeof canon,
	                 "callbar-audit-v1\nseq=%" PRId64 "\nat=%" PRId64
	                 "\nwho=%s\nwhat=%s\nsubscriber=+%" PRIu64 "\nrecord=%" PRId64
	                 "\nbefore=%s\nafter=%s\n",
	                 a->seq, a->at, who, a->what, a->subscriber, a->record, a->before,
	                 a->after);
	unsigned char h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)a->prev_hash, strlen(a->prev_hash));
	crypto_generichash_update(&st, (const unsigned char *)canon,
	                          (size_t)(n < (int)sizeof canon ? n : (int)sizeof canon - 1));
	crypto_generichash_final(&st, h, sizeof h);
	static const char hexd[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hexd[h[i] >> 4];
		out[2 * i + 1] = hexd[h[i] & 15];
	}
	out[64] = 0;
}

const char cbar__genesis[CBAR_STORE_HASH_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static int row_head(void *arg, int n, const char *const *c)
{
	struct cbar__head *h = arg;
	if (n >= 2 && c[0] && c[1]) {
		h->seq = strtoll(c[0], NULL, 10);
		cbar__copy(h->hash, sizeof h->hash, c[1]);
	}
	return 1;
}

enum cbar_err cbar__head_get(struct cbar_store *s, struct cbar__head *h, struct cbar_diag *d)
{
	h->seq = 0;
	memcpy(h->hash, cbar__genesis, sizeof h->hash);
	return cbar__q(s, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", 0, NULL, row_head, h,
	         d);
}

/* Append the audit entry for change h->seq + 1 and advance h; before and
 * after are texts ("" for none). */
enum cbar_err cbar__audit_append_text(struct cbar_store *s, struct cbar__head *h, int64_t at,
                                       const char *who, const char *what, uint64_t subscriber,
                                       int64_t record, const char *before, const char *after,
                                       struct cbar_diag *d)
{
	static struct cbar_store_audit a; /* large; one thread per store */
	memset(&a, 0, sizeof a);
	a.seq = h->seq + 1;
	a.at = at;
	cbar__copy(a.who, sizeof a.who, who);
	cbar__copy(a.what, sizeof a.what, what);
	a.subscriber = subscriber;
	a.record = record;
	cbar__copy(a.before, sizeof a.before, before);
	cbar__copy(a.after, sizeof a.after, after);
	memcpy(a.prev_hash, h->hash, sizeof a.prev_hash);
	cbar__audit_hash(&a, a.hash);
	char b1[24], b2[24], b3[24], b4[24];
	const char *p[] = {I64(b1, a.seq), I64(b2, a.at), a.who, a.what, U64(b3, a.subscriber),
	                   I64(b4, a.record), a.before, a.after, a.prev_hash, a.hash};
	enum cbar_err err = cbar__q(s,
	                      "INSERT INTO audit (seq, at, who, what, subscriber, record, before, "
	                      "after, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                      10, p, NULL, NULL, d);
	if (err)
		return err;
	/* An import writes the head once, at its end (cbar_store_import_end):
	 * in PostgreSQL every UPDATE of the one head row inside a transaction
	 * adds a version that the next one walks past, so a head written a
	 * record made an import of n records cost n^2. */
	const char *hp[] = {b1};
	if (!s->in_import &&
	    (err = cbar__q(s, "UPDATE meta SET value = ? WHERE key = 'head_seq'", 1, hp, NULL, NULL, d)))
		return err;
	h->seq = a.seq;
	memcpy(h->hash, a.hash, sizeof h->hash);
	return CBAR_OK;
}

/* The same for a change of an unlock record (NULL: none). */
enum cbar_err cbar__audit_append(struct cbar_store *s, struct cbar__head *h, int64_t at,
                                  const char *who, const char *what, uint64_t subscriber,
                                  int64_t record, const struct cbar_store_record *before,
                                  const struct cbar_store_record *after, struct cbar_diag *d)
{
	static char bt[640], at_[640]; /* one thread per store */
	bt[0] = at_[0] = '\0';
	if (before)
		cbar_store_record_text(before, bt, sizeof bt);
	if (after)
		cbar_store_record_text(after, at_, sizeof at_);
	return cbar__audit_append_text(s, h, at, who, what, subscriber, record, bt, at_, d);
}

/* ---- audit ---------------------------------------------------------------- */

void cbar__audit_from_row(struct cbar_store_audit *a, const char *const *c)
{
	memset(a, 0, sizeof *a);
	a->seq = strtoll(c[0] ? c[0] : "0", NULL, 10);
	a->at = strtoll(c[1] ? c[1] : "0", NULL, 10);
	cbar__copy(a->who, sizeof a->who, c[2]);
	cbar__copy(a->what, sizeof a->what, c[3]);
	a->subscriber = strtoull(c[4] ? c[4] : "0", NULL, 10);
	a->record = strtoll(c[5] ? c[5] : "0", NULL, 10);
	cbar__copy(a->before, sizeof a->before, c[6]);
	cbar__copy(a->after, sizeof a->after, c[7]);
	cbar__copy(a->prev_hash, sizeof a->prev_hash, c[8]);
	cbar__copy(a->hash, sizeof a->hash, c[9]);
}

struct audit_walk {
	cbar_store_audit_fn fn;
	void *arg;
};

static int row_audit(void *arg, int n, const char *const *c)
{
	struct audit_walk *w = arg;
	static struct cbar_store_audit a;
	if (n < 10)
		return 1;
	cbar__audit_from_row(&a, c);
	return w->fn(w->arg, &a);
}

enum cbar_err cbar_store_audit(struct cbar_store *s, int64_t since, cbar_store_audit_fn fn,
                               void *arg, struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {I64(b, since)};
	struct audit_walk w = {fn, arg};
	return cbar__q(s, "SELECT " AUDIT_COLS " FROM audit WHERE at >= ? ORDER BY seq", 1, p, row_audit,
	         &w, d);
}

/* A token as the audit log last left it. */
struct tok_state {
	char name[65], role[16], fp[17];
	int64_t seq; /* of its last entry */
	bool alive, seen;
};

struct verify {
	int64_t next;
	char prev[CBAR_STORE_HASH_HEX];
	int64_t bad;
	struct cbar_diag *d;
	struct cbar_store_audit a;
	char text[640];
	struct tok_state *tok;
	size_t ntok, captok;
	bool nomem;
	char key_text[96]; /* the key-bind entry's text, "" for none */
	int64_t key_seq;
	struct cbar__bar_log bars; /* auto-bar and bar-lift entries */
};

/* Follow a token-add or token-revoke entry ("token=N role=R sha256=F"). */
static bool verify_token_entry(struct verify *v)
{
	const char *text = !strcmp(v->a.what, "token-add") ? v->a.after : v->a.before;
	struct tok_state t;
	memset(&t, 0, sizeof t);
	if (sscanf(text, "token=%64s role=%15s sha256=%16s", t.name, t.role, t.fp) != 3)
		return false;
	size_t i;
	for (i = 0; i < v->ntok && strcmp(v->tok[i].name, t.name); i++)
		;
	if (i == v->ntok) {
		if (v->ntok == v->captok) {
			size_t cap = v->captok ? v->captok * 2 : 16;
			struct tok_state *nt = realloc(v->tok, cap * sizeof *nt);
			if (!nt) {
				v->nomem = true;
				return false;
			}
			v->tok = nt;
			v->captok = cap;
		}
		v->ntok++;
	}
	t.alive = !strcmp(v->a.what, "token-add");
	t.seq = v->a.seq;
	v->tok[i] = t;
	return true;
}

static int row_verify(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	char h[CBAR_STORE_HASH_HEX];
	if (n < 10)
		return 1;
	cbar__audit_from_row(&v->a, c);
	if (v->a.seq != v->next) {
		v->bad = v->next;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              v->a.seq > v->next ? "entry %" PRId64 " is missing (the next is %" PRId64 ")"
		                                 : "entry %" PRId64 " is out of order (found %" PRId64 ")",
		              v->next, v->a.seq);
		return 1;
	}
	if (strcmp(v->a.prev_hash, v->prev)) {
		v->bad = v->a.seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entry %" PRId64 " does not follow entry %" PRId64
		              " (prev_hash differs): an entry was removed, reordered or changed",
		              v->a.seq, v->a.seq - 1);
		return 1;
	}
	cbar__audit_hash(&v->a, h);
	if (strcmp(h, v->a.hash)) {
		v->bad = v->a.seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entry %" PRId64 " was changed: its hash does not match its content",
		              v->a.seq);
		return 1;
	}
	if (!strncmp(v->a.what, "token-", 6) && !verify_token_entry(v)) {
		if (v->nomem)
			return 1;
		v->bad = v->a.seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entry %" PRId64 " is a token change that cannot be read", v->a.seq);
		return 1;
	}
	if (!strcmp(v->a.what, KEY_BIND_WHAT)) {
		if (v->key_seq) {
			v->bad = v->a.seq;
			cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
			              "entry %" PRId64 " binds a second key (entry %" PRId64
			              " bound the first)",
			              v->a.seq, v->key_seq);
			return 1;
		}
		cbar__copy(v->key_text, sizeof v->key_text, v->a.after);
		v->key_seq = v->a.seq;
	}
	if (!cbar__bar_log_add(&v->bars, &v->a)) {
		v->nomem = true;
		return 1;
	}
	memcpy(v->prev, v->a.hash, sizeof v->prev);
	v->next++;
	return 0;
}

/* The registry's key id (meta) against its key-bind entry: a key id
 * changed by hand would let documents hashed with two keys mix. */
static void verify_key(struct verify *v, const char *meta_key)
{
	char text[96];
	if (!meta_key[0] && !v->key_seq)
		return;
	if (!v->key_seq) {
		v->bad = v->next;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "the registry's key id has no audit entry: it was set outside "
		              "callbar");
		return;
	}
	cbar__key_text(meta_key, text, sizeof text);
	if (!meta_key[0] || strcmp(text, v->key_text)) {
		v->bad = v->key_seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "the registry's key id differs from what entry %" PRId64
		              " bound: it was changed outside callbar",
		              v->key_seq);
	}
}

/* Each token against what the audit log last said of it: a token put in
 * the table by hand (an admin role granted outside callbar) shows. */
static int row_verify_token(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	if (n < 3 || !c[0] || !c[1] || !c[2])
		return 1;
	for (size_t i = 0; i < v->ntok; i++) {
		struct tok_state *t = &v->tok[i];
		if (strcmp(t->name, c[0]))
			continue;
		t->seen = true;
		if (t->alive && !strcmp(t->role, c[1]) && !strncmp(t->fp, c[2], 16))
			return 0;
		v->bad = t->seq;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              "token '%s' differs from what its last audit entry (%" PRId64 ") says",
		              c[0], t->seq);
		return 1;
	}
	v->bad = v->next;
	cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
	              "token '%s' has no audit entry: it was put in the registry outside callbar",
	              c[0]);
	return 1;
}

/* Each record against the after text of its last audit entry. */
static int row_verify_rec(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	struct cbar_store_record r;
	if (n < REC_NCOLS + 1)
		return 1;
	cbar__rec_from_row(&r, c);
	cbar_store_record_text(&r, v->text, sizeof v->text);
	if (!c[REC_NCOLS] || strcmp(c[REC_NCOLS], v->text)) {
		v->bad = r.id;
		cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
		              c[REC_NCOLS] ? "record #%" PRId64
		                             " differs from what its last audit entry says"
		                           : "record #%" PRId64 " has no audit entry",
		              r.id);
		return 1;
	}
	return 0;
}

static int row_missing(void *arg, int n, const char *const *c)
{
	struct verify *v = arg;
	if (n < 1 || !c[0])
		return 1;
	v->bad = strtoll(c[0], NULL, 10);
	cbar_diag_set(v->d, CBAR_AUDIT_BROKEN, 0, 0,
	              "record #%" PRId64 " of the audit log is missing from the registry", v->bad);
	return 1;
}

enum cbar_err cbar_store_audit_verify(struct cbar_store *s, int64_t *n, int64_t *bad,
                                      char *head_hash, struct cbar_diag *d)
{
	enum cbar_err err;
	struct verify *v = calloc(1, sizeof *v);
	int64_t head = 0;
	if (!v)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	v->next = 1;
	memcpy(v->prev, cbar__genesis, sizeof v->prev);
	v->d = d;
	*bad = 0;
	*n = 0;
	if ((err = s->be->begin(s, false, d)))
		goto out;
	if ((err = cbar__q(s, "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", 0, NULL, row_verify, v,
	             d)) || v->nomem)
		goto done;
	if (!v->bad && (err = cbar__q(s, "SELECT value FROM meta WHERE key = 'head_seq'", 0, NULL,
	                        cbar__row_int, &head, d)))
		goto done;
	char meta_key[CBAR_STORE_HASH_HEX] = "";
	if (!v->bad &&
	    (err = cbar__q(s, "SELECT value FROM meta WHERE key = 'key_id'", 0, NULL,
	                   cbar__row_text, meta_key, d)))
		goto done;
	if (!v->bad && head != v->next - 1) {
		v->bad = v->next;
		cbar_diag_set(d, CBAR_AUDIT_BROKEN, 0, 0,
		              "entries %" PRId64 " to %" PRId64 " are missing (the last change was %" PRId64 ")",
		              v->next, head, head);
	}
	if (!v->bad)
		verify_key(v, meta_key);
	if (!v->bad &&
	    (err = cbar__q(s,
	             "SELECT " REC_COLS ", (SELECT a.after FROM audit a WHERE a.record = u.id "
	             "ORDER BY a.seq DESC LIMIT 1) FROM unlock u ORDER BY id",
	             0, NULL, row_verify_rec, v, d)))
		goto done;
	if (!v->bad &&
	    (err = cbar__q(s,
	             "SELECT DISTINCT record FROM audit WHERE record <> 0 AND record NOT IN "
	             "(SELECT id FROM unlock) ORDER BY record",
	             0, NULL, row_missing, v, d)))
		goto done;
	if (!v->bad &&
	    (err = cbar__q(s, "SELECT name, role, hash FROM token ORDER BY name", 0, NULL,
	             row_verify_token, v, d)))
		goto done;
	for (size_t i = 0; i < v->ntok && !v->bad; i++)
		if (v->tok[i].alive && !v->tok[i].seen) {
			v->bad = v->tok[i].seq;
			cbar_diag_set(d, CBAR_AUDIT_BROKEN, 0, 0,
			              "token '%s' of the audit log (entry %" PRId64
			              ") is missing from the registry",
			              v->tok[i].name, v->tok[i].seq);
		}
	/* The bars every node honours, against their auto-bar and bar-lift
	 * entries: a row inserted or edited by hand is named like a record. */
	if (!v->bad && (err = cbar__bars_verify(s, &v->bars, &v->bad, d)))
		goto done;
done:
	s->be->rollback(s);
	if (!err && v->nomem) {
		err = cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory while verifying the chain");
		v->bad = 0;
	} else if (!err && v->bad) {
		err = CBAR_AUDIT_BROKEN;
	}
	*bad = v->bad;
	*n = v->next - 1;
	if (head_hash)
		memcpy(head_hash, v->prev, CBAR_STORE_HASH_HEX);
out:
	cbar__bar_log_free(&v->bars);
	free(v->tok);
	free(v);
	return err;
}

enum cbar_err cbar_store_chain_head(struct cbar_store *s, int64_t *seq,
                                    char hash[CBAR_STORE_HASH_HEX], struct cbar_diag *d)
{
	struct cbar__head h;
	enum cbar_err err = cbar__head_get(s, &h, d);
	if (err)
		return err;
	*seq = h.seq;
	if (hash)
		memcpy(hash, h.hash, CBAR_STORE_HASH_HEX);
	return CBAR_OK;
}

enum cbar_err cbar_store_entry_hash(struct cbar_store *s, int64_t seq,
                                    char hash[CBAR_STORE_HASH_HEX], struct cbar_diag *d)
{
	char b[24];
	const char *p[] = {I64(b, seq)};
	hash[0] = '\0';
	return cbar__q(s, "SELECT hash FROM audit WHERE seq = ?", 1, p, cbar__row_text, hash, d);
}
