/*
 * callbar serve: the decision engine and the unlock registry behind the
 * daemon's routes (hooks.h).
 *
 * Decisions read two RCU-published objects and take no lock: the rule
 * snapshot (the daemon's) and the unlock view here, a base set loaded at
 * start plus a delta of the registry's changes (unlockview.h).  A follower
 * thread waits for the registry's notification of a change (PostgreSQL
 * LISTEN/NOTIFY) or FOLLOW_MS, whichever comes first, asks for the changes
 * since the last sequence it saw and publishes a new view when there are
 * any, so an unlock made through the API or by `callbar unlock` in another
 * process governs decisions within a second on either backend (at once on
 * PostgreSQL).  When the registry cannot be reached the follower keeps
 * the last view (decisions go on), /readyz says so, and it reconnects and
 * catches up from the last change sequence it saw.
 *
 * Registry routes (unlock, relock, status, audit) share one store
 * connection under a mutex: they are rare next to decisions, and a store
 * handle is not for two threads at once.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "callbar/dochash.h"
#include "callbar/idcheck.h"
#include "callbar/store.h"
#include "hooks.h"
#include "load/keyfile.h"
#include "load/keywords.h"
#include "log.h"
#include "slot.h"
#include "store/unlockview.h"

/* How often the follower asks the registry for changes. */
#define FOLLOW_MS 250
/* Past this many changed subscribers the delta is folded into the base. */
#define DELTA_MAX 65536

/* The base set, shared by the views built on it until a merge replaces it. */
struct base_ref {
	struct cbar_unlockset *set;
	atomic_int refs;
};

/* One published view: what decisions read. */
struct unlock_snap {
	struct base_ref *base;
	struct cbar_unlockset *delta;
	struct cbar_unlockview view;
};

struct engine {
	char *url;
	pthread_mutex_t lock;       /* the store connection */
	struct cbar_store *store;   /* NULL while the registry is unreachable */
	struct cbar_key key;
	bool have_key;
	struct cbar_snapshot_slot unlocks; /* struct unlock_snap */
	pthread_mutex_t follow;     /* one follow_once() at a time: the follower
	                               thread, or a route that just wrote */
	int64_t head;               /* the change sequence followed so far
	                               (under follow) */
	int64_t broken_at;          /* the audit entry following stopped at,
	                               0: none (under follow) */
	atomic_bool store_ok;
	atomic_size_t records;
	atomic_bool stop;
	struct kw_table keywords;   /* for POST /v1/keyword */
	bool have_keywords;
	pthread_t follower;
	bool follower_on;
};

static void base_put(struct base_ref *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		cbar_unlockset_free(b->set);
		free(b);
	}
}

static void snap_release(void *obj)
{
	struct unlock_snap *s = obj;
	base_put(s->base);
	cbar_unlockset_free(s->delta);
	free(s);
}

static enum cbar_err publish(struct engine *e, struct base_ref *base,
                             struct cbar_unlockset *delta)
{
	struct unlock_snap *s = calloc(1, sizeof *s);
	if (!s)
		return CBAR_NOMEM;
	atomic_fetch_add(&base->refs, 1);
	s->base = base;
	s->delta = delta;
	s->view.base = base->set;
	s->view.delta = delta;
	atomic_store(&e->records, cbar_unlockset_count(base->set) +
	                              (delta ? cbar_unlockset_count(delta) : 0));
	return slot_swap(&e->unlocks, s, snap_release);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- loading and following the registry ---------------------------------- */

struct changes {
	struct cbar_unlock *v;
	size_t n, cap;
	bool oom;
};

static int add_change(void *arg, const struct cbar_store_record *r)
{
	struct changes *c = arg;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct cbar_unlock *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->oom = true;
			return -1;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = cbar_unlock_from_store(r->subscriber, r->scope, r->level, r->expires,
	                         r->status == CBAR_STORE_ACTIVE);
	return 0;
}

/* Open the store if it is closed; under e->lock. */
static bool store_up(struct engine *e)
{
	if (e->store)
		return true;
	struct cbar_diag d = {0};
	struct cbar_store_opts o = {0};
	if (cbar_store_open(&e->store, e->url, &o, &d)) {
		e->store = NULL;
		atomic_store(&e->store_ok, false);
		return false;
	}
	atomic_store(&e->store_ok, true);
	return true;
}

/* The store failed: close it so the next call reconnects; under e->lock. */
static void store_down(struct engine *e)
{
	cbar_store_free(e->store);
	e->store = NULL;
	atomic_store(&e->store_ok, false);
}

/* One round of following; publishes a new view when something changed. */
static void follow_round(struct engine *e);

static void follow_once(struct engine *e)
{
	pthread_mutex_lock(&e->follow);
	follow_round(e);
	pthread_mutex_unlock(&e->follow);
}

static void follow_round(struct engine *e)
{
	struct changes c = {0};
	struct cbar_diag d = {0};
	struct cbar_store_unaudited u = {0};
	int64_t head = e->head;
	pthread_mutex_lock(&e->lock);
	bool ok = store_up(e);
	if (ok && cbar_store_changes(e->store, e->head, add_change, &c, &head, &u, &d)) {
		store_down(e);
		ok = false;
	}
	pthread_mutex_unlock(&e->lock);
	/* Rows changed behind callbar's back are never applied: say so. */
	if (u.rows)
		log_line(LOG_LV_ERROR, "registry rows without a valid audit entry ignored",
		         "{s:I,s:I,s:I}", "rows", (json_int_t)u.rows, "record", (json_int_t)u.id,
		         "seq", (json_int_t)u.seq);
	if (u.broken_at && u.broken_at != e->broken_at)
		log_line(LOG_LV_ERROR, "registry audit chain broken: following stopped before it",
		         "{s:I}", "entry", (json_int_t)u.broken_at);
	e->broken_at = u.broken_at;
	if (!ok || c.oom || c.n == 0) {
		if (ok && !c.oom)
			e->head = head;
		free(c.v);
		return;
	}
	slot_read_begin();
	struct unlock_snap *cur = slot_get(&e->unlocks);
	struct base_ref *base = cur->base;
	atomic_fetch_add(&base->refs, 1);
	struct cbar_unlockset *delta = NULL;
	enum cbar_err err = cbar_unlockdelta_apply(cur->delta, c.v, c.n, &delta);
	slot_read_end();
	free(c.v);
	if (!err && cbar_unlockset_count(delta) > DELTA_MAX) {
		struct cbar_unlockset *merged = NULL;
		struct base_ref *nb = calloc(1, sizeof *nb);
		if (nb && !cbar_unlockset_merge(base->set, delta, &merged)) {
			nb->set = merged;
			atomic_init(&nb->refs, 1);
			base_put(base);
			base = nb;
			cbar_unlockset_free(delta);
			delta = NULL;
		} else {
			free(nb);
		}
	}
	if (!err && !publish(e, base, delta))
		e->head = head;
	else
		cbar_unlockset_free(delta);
	base_put(base);
}

/*
 * The follower waits on a connection of its own (PostgreSQL: LISTEN
 * callbar_changes, so a change is seen at once; SQLite: a plain wait) and
 * then asks for changes since the last sequence, at least every FOLLOW_MS
 * whatever it heard, so a lost notification or connection costs at most
 * that.  The waiting connection is reopened when it fails.
 */
static void *follower(void *arg)
{
	struct engine *e = arg;
	struct cbar_store *watch = NULL;
	while (!atomic_load(&e->stop)) {
		struct cbar_diag d = {0};
		struct cbar_store_opts o = {0};
		if (!watch && cbar_store_open(&watch, e->url, &o, &d))
			watch = NULL;
		if (!watch || cbar_store_wait_change(watch, FOLLOW_MS, &d)) {
			cbar_store_free(watch);
			watch = NULL;
			struct timespec ts = {0, FOLLOW_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		follow_once(e);
	}
	cbar_store_free(watch);
	return NULL;
}

/* ---- decide ------------------------------------------------------------- */

static enum cbar_decision hook_decide_event(void *ctx, const struct cbar_rules *rules,
                                            const struct cbar_event *ev, struct cbar_verdict *v)
{
	struct engine *e = ctx;
	/* Inside the caller's read section (hooks.h): the view cannot go
	 * away until this returns. */
	struct unlock_snap *us = slot_get(&e->unlocks);
	struct cbar_unlock_lookup lk;
	if (us)
		lk = cbar_unlockview_lookup(&us->view);
	return cbar_decide(rules, ev, us ? &lk : NULL, v);
}

/* ---- the registry routes --------------------------------------------------- */

static json_t *json_time(int64_t t)
{
	if (!t)
		return json_null();
	char buf[40];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *json_opt(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* A record as the API shows it: never the document number or its hash. */
static json_t *json_record(const struct cbar_store_record *r)
{
	char sc[64], num[24];
	snprintf(num, sizeof num, "+%" PRIu64, r->subscriber);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
	                 (json_int_t)r->id, "subscriber", num, "status",
	                 cbar_store_status_key(r->status), "scope",
	                 cbar_store_scope_str(r->scope, sc, sizeof sc), "level",
	                 cbar_store_level_key(r->level), "channel", cbar_store_channel_key(r->channel),
	                 "created", json_time(r->created), "expires", json_time(r->expires), "agent",
	                 json_opt(r->agent), "document", json_opt(r->doc_type), "revoked",
	                 json_time(r->revoked_at), "revoked_by", json_opt(r->revoked_by),
	                 "revoked_why", json_opt(r->revoked_why));
}

/* REQ_* service and direction to store scope bits. */
static unsigned scope_of(uint8_t service, uint8_t direction)
{
	unsigned s = 0;
	for (unsigned sv = 0; sv < 2; sv++)
		for (unsigned dr = 0; dr < 2; dr++)
			if ((service == REQ_ANY || service == sv) &&
			    (direction == REQ_ANY || direction == dr))
				s |= CBAR_SCOPE_BIT(sv, dr);
	return s;
}

static uint32_t today_ymd(int64_t now)
{
	time_t t = (time_t)(now + 8 * 3600); /* the date in China */
	struct tm tm;
	gmtime_r(&t, &tm);
	return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

/* A registry route runs between store_begin() and store_end(): one at a
 * time on the one connection, opened again if it was lost.  A call that
 * finds the server gone closes it, for the next one (or the follower) to
 * reopen. */
static bool store_begin(struct engine *e, struct cbar_diag *d)
{
	pthread_mutex_lock(&e->lock);
	if (store_up(e))
		return true;
	pthread_mutex_unlock(&e->lock);
	cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0, "the registry cannot be reached");
	return false;
}

static enum cbar_err store_end(struct engine *e, enum cbar_err err)
{
	if (err == CBAR_STORE_DOWN)
		store_down(e);
	pthread_mutex_unlock(&e->lock);
	return err;
}

static enum cbar_err hook_unlock(void *ctx, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, const struct unlock_req *req,
                                 json_t **out, bool *created, struct cbar_diag *d)
{
	struct engine *e = ctx;
	int64_t now = now_s();
	struct cbar_store_unlock_req r = {
		.subscriber = subscriber->e164,
		.scope = scope_of(req->service, req->direction),
		.level = req->level == REQ_LEVEL_VERIFIED ? CBAR_STORE_VERIFIED : CBAR_STORE_SELF,
		.expires = req->has_expires ? req->expires : 0,
		.channel = req->channel[0] ? cbar_store_channel_parse(req->channel)
		                           : CBAR_STORE_CHANNEL_API,
		.agent = who->name,
		.now = now,
	};
	if (!r.channel)
		return cbar_diag_set(d, CBAR_BAD_VALUE, 0, 0, "channel: unknown channel");
	char canon[CBAR_DOC_MAX + 1], hash[CBAR_STORE_HASH_HEX];
	if (r.level == CBAR_STORE_VERIFIED || req->has_document) {
		if (!req->has_document)
			return cbar_diag_set(d, CBAR_MISSING_FIELD, 0, 0,
			                     "document: level verified needs an identity document");
		enum cbar_doc_type t = cbar_doc_lookup(req->doc_type, strlen(req->doc_type));
		if (t == CBAR_DOC_NONE)
			return cbar_diag_set(d, CBAR_BAD_VALUE, 0, 0,
			                     "document.type: unknown document type (cn-resident, "
			                     "passport, hkmo-permit, ...)");
		struct cbar_diag id = {0};
		enum cbar_err err = cbar_idcheck(t, req->doc_number, strlen(req->doc_number),
		                                 today_ymd(now), canon, &id);
		if (err)
			return cbar_diag_set(d, err, 0, 0, "document.number: %s", id.msg);
		if (!e->have_key)
			return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0,
			                     "no document hashing key is configured");
		r.doc_type = cbar_doc_key(t);
		cbar_doc_hash(&e->key, r.doc_type, canon, hash);
		r.doc_hash = hash;
	}
	struct cbar_store_record rec;
	bool changed = false;
	if (!store_begin(e, d))
		return CBAR_UNAVAILABLE;
	enum cbar_err err = store_end(e, cbar_store_unlock(e->store, &r, &rec, &changed, d));
	memset(canon, 0, sizeof canon);
	if (err)
		return err;
	*created = changed;
	*out = json_record(&rec);
	follow_once(e);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

static enum cbar_err hook_relock(void *ctx, const struct daemon_caller *who,
                                 const struct relock_req *req, json_t **out, struct cbar_diag *d)
{
	struct engine *e = ctx;
	struct cbar_store_record rec;
	memset(&rec, 0, sizeof rec);
	if (!store_begin(e, d))
		return CBAR_UNAVAILABLE;
	enum cbar_err err = store_end(
		e, cbar_store_relock(e->store, req->subscriber.e164,
		                     scope_of(req->service, req->direction),
		                     who->name[0] ? who->name : "api",
		                     req->reason[0] ? req->reason : "api", now_s(), &rec, d));
	if (err == CBAR_STORE_NOTFOUND)
		return cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0, "no active unlock covers that scope");
	if (err)
		return err;
	*out = json_pack("{s:b,s:o}", "relocked", 1, "active",
	                 rec.id ? json_record(&rec) : json_null());
	follow_once(e);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

static int collect_record(void *arg, const struct cbar_store_record *r)
{
	json_t *a = arg;
	return json_array_append_new(a, json_record(r)) ? -1 : 0;
}

static enum cbar_err hook_status(void *ctx, const struct daemon_caller *who,
                                 const struct cbar_number *subscriber, json_t **out,
                                 struct cbar_diag *d)
{
	struct engine *e = ctx;
	(void)who;
	json_t *hist = json_array();
	if (!hist)
		return CBAR_NOMEM;
	enum cbar_err err = CBAR_UNAVAILABLE;
	if (store_begin(e, d))
		err = store_end(e, cbar_store_history(e->store, subscriber->e164, collect_record,
		                                      hist, d));
	if (err) {
		json_decref(hist);
		return err;
	}
	if (!json_array_size(hist)) {
		json_decref(hist);
		return cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0, "no unlock record for this number");
	}
	json_t *active = json_null();
	size_t i;
	json_t *r;
	json_array_foreach(hist, i, r) {
		if (!strcmp(json_string_value(json_object_get(r, "status")), "active")) {
			json_decref(active);
			active = json_incref(r);
		}
	}
	char num[24];
	snprintf(num, sizeof num, "+%s", subscriber->digits);
	*out = json_pack("{s:s,s:o,s:o}", "subscriber", num, "active", active, "history", hist);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

struct audit_acc {
	json_t *a;
	const struct audit_query *q;
};

static int collect_audit(void *arg, const struct cbar_store_audit *a)
{
	struct audit_acc *acc = arg;
	if (acc->q->has_subscriber && a->subscriber != acc->q->subscriber.e164)
		return 0;
	char num[24];
	snprintf(num, sizeof num, "+%" PRIu64, a->subscriber);
	/* subscriber and record null: a change of no subscriber's (a token) */
	json_t *o = json_pack("{s:I,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "seq", (json_int_t)a->seq,
	                      "time", json_time(a->at), "who", a->who, "what", a->what,
	                      "subscriber", a->subscriber ? json_string(num) : json_null(),
	                      "record", a->record ? json_integer(a->record) : json_null(),
	                      "before", json_opt(a->before), "after", json_opt(a->after), "hash",
	                      a->hash);
	if (!o || json_array_append_new(acc->a, o))
		return -1;
	return json_array_size(acc->a) >= acc->q->limit;
}

static enum cbar_err hook_audit(void *ctx, const struct daemon_caller *who,
                                const struct audit_query *q, json_t **out, struct cbar_diag *d)
{
	struct engine *e = ctx;
	(void)who;
	struct audit_acc acc = {json_array(), q};
	if (!acc.a)
		return CBAR_NOMEM;
	enum cbar_err err = CBAR_UNAVAILABLE;
	if (store_begin(e, d))
		err = store_end(e, cbar_store_audit(e->store, q->has_since ? q->since : 0,
		                                    collect_audit, &acc, d));
	if (err) {
		json_decref(acc.a);
		return err;
	}
	*out = json_pack("{s:o}", "entries", acc.a);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

/* A keyword the SMS centre saw: the same table and effect as `callbar
 * keyword` (keywords.h); an unknown keyword is answered with the valid
 * ones, as a text to send back. */
static enum cbar_err hook_keyword(void *ctx, const struct daemon_caller *who,
                                  const struct keyword_req *req, json_t **out,
                                  struct cbar_diag *d)
{
	struct engine *e = ctx;
	char msg[1024], why[80], num[24];
	const char *result = "unknown-keyword";
	const struct kw *k = kw_find(&e->keywords, req->keyword);
	snprintf(num, sizeof num, "+%s", req->subscriber.digits);
	if (!k) {
		kw_unknown_answer(&e->keywords, msg, sizeof msg);
	} else {
		snprintf(why, sizeof why, "keyword %s via %s", k->word,
		         who->name[0] ? who->name : "api");
		if (!store_begin(e, d))
			return CBAR_UNAVAILABLE;
		enum cbar_err err = store_end(
			e, kw_apply(e->store, k, req->subscriber.e164, why,
			            req->has_at ? req->at : now_s(), &result, msg, sizeof msg, d));
		if (err)
			return err;
		follow_once(e);
	}
	*out = json_pack("{s:s,s:s,s:s}", "subscriber", num, "result", result, "answer", msg);
	return *out ? CBAR_OK : CBAR_NOMEM;
}

static enum cbar_err hook_audit_head(void *ctx, int64_t *seq, char hash[CBAR_STORE_HASH_HEX],
                                     struct cbar_diag *d)
{
	struct engine *e = ctx;
	if (!store_begin(e, d))
		return CBAR_UNAVAILABLE;
	return store_end(e, cbar_store_chain_head(e->store, seq, hash, d));
}

static enum cbar_err hook_ready(void *ctx, struct cbar_diag *d)
{
	struct engine *e = ctx;
	if (atomic_load(&e->store_ok))
		return CBAR_OK;
	return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0,
	                     "registry unreachable: deciding on the last copy");
}

static size_t hook_size(void *ctx)
{
	struct engine *e = ctx;
	return atomic_load(&e->records);
}

/* ---- install ------------------------------------------------------------- */

/* The document key: the file beside a SQLite registry (created on first
 * use, as `callbar unlock` does), or $CALLBAR_KEY. */
/* The document key, found as the command line finds it (load/keyfile.h):
 * a key that is named and cannot be read, or one the registry refuses,
 * stops the start; a shared registry without one named decides and
 * serves, but refuses verified unlocks (503) and says so at start. */
static enum cbar_err load_key(struct engine *e, struct cbar_diag *d)
{
	char id[17];
	enum cbar_err err = cbar_key_find(NULL, e->url, &e->key, d);
	if (err == CBAR_NOT_FOUND) {
		fprintf(stderr, "callbar serve: %s: verified unlocks are refused until it is\n",
		        d->msg);
		d->msg[0] = '\0';
		return CBAR_OK;
	}
	if (err)
		return err;
	cbar_key_id(&e->key, id);
	if ((err = cbar_store_bind_key(e->store, id, d))) {
		cbar_key_release(&e->key);
		return err;
	}
	e->have_key = true;
	return CBAR_OK;
}

/* The embedded default keeps its SQLite file under var/: make the folder
 * (one level) so a fresh checkout serves at once. */
static void make_parent(const char *url)
{
	if (strncmp(url, "sqlite:", 7))
		return;
	const char *path = url + 7, *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return;
	char dir[600];
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	mkdir(dir, 0750); /* an error shows when the store opens */
}

enum cbar_err hooks_install(struct daemon_hooks *h, const char *registry_url,
                            struct cbar_diag *d)
{
	memset(h, 0, sizeof *h);
	if (d)
		d->file = registry_url;
	struct engine *e = calloc(1, sizeof *e);
	struct base_ref *base = calloc(1, sizeof *base);
	enum cbar_err err = CBAR_NOMEM;
	if (!e || !base || !(e->url = strdup(registry_url ? registry_url : "")))
		goto fail;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->follow, NULL);
	slot_init(&e->unlocks);
	atomic_init(&base->refs, 1);
	if (!(base->set = cbar_unlockset_new(1024)))
		goto fail;
	if (e->url[0]) {
		struct cbar_store_opts o = {0};
		make_parent(e->url);
		if ((err = cbar_store_open(&e->store, e->url, &o, d)))
			goto fail;
		atomic_store(&e->store_ok, true);
		if ((err = cbar_store_foreach_active(e->store, cbar_unlockset_add_active, base->set, &e->head, d)))
			goto fail;
		if ((err = load_key(e, d)))
			goto fail;
		struct cbar_diag kd = {0};
		if (!kw_table_load(&e->keywords, NULL, &kd)) {
			err = cbar_diag_set(d, CBAR_CONFIG, kd.line, kd.column, "%s: %s", kd.file,
			                    kd.msg);
			goto fail;
		}
		e->have_keywords = true;
	}
	if ((err = publish(e, base, NULL)))
		goto fail;
	base_put(base);
	base = NULL;
	if (e->url[0]) {
		if (pthread_create(&e->follower, NULL, follower, e)) {
			err = cbar_diag_set(d, CBAR_NOMEM, 0, 0, "cannot start the registry follower");
			goto fail;
		}
		e->follower_on = true;
	}
	h->ctx = e;
	h->decide_event = hook_decide_event;
	if (e->url[0]) {
		h->unlock = hook_unlock;
		h->relock = hook_relock;
		h->status = hook_status;
		h->audit = hook_audit;
		h->keyword = hook_keyword;
		h->registry_ready = hook_ready;
		h->registry_size = hook_size;
		h->audit_head = hook_audit_head;
	}
	return CBAR_OK;
fail:
	if (base) {
		cbar_unlockset_free(base->set);
		free(base);
	}
	if (e) {
		h->ctx = e;
		hooks_release(h);
	}
	return err;
}

void hooks_release(struct daemon_hooks *h)
{
	struct engine *e = h->ctx;
	if (e) {
		atomic_store(&e->stop, true);
		if (e->follower_on)
			pthread_join(e->follower, NULL);
		slot_release(&e->unlocks);
		cbar_store_free(e->store);
		if (e->have_key)
			cbar_key_release(&e->key);
		pthread_mutex_destroy(&e->lock);
		pthread_mutex_destroy(&e->follow);
		free(e->url);
		free(e);
	}
	memset(h, 0, sizeof *h);
}
