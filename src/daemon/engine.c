/*
 * callbar serve: the decision engine and the unlock registry behind the
 * daemon's routes (engine.h).
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
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "callbar/civil.h"
#include "callbar/dochash.h"
#include "callbar/idcheck.h"
#include "callbar/store.h"
#include "engine.h"
#include "load/keyfile.h"
#include "load/keywords.h"
#include "log.h"
#include "slot.h"
#include "store/unlock_snapshot.h"
#include "store/unlockview.h"

#include "config.h"
#include "engine_impl.h"

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

static enum cbar_err publish(struct engine *e, struct base_ref *base, struct cbar_unlockset *delta)
{
	struct unlock_snap *s = calloc(1, sizeof *s);
	if (!s)
		return CBAR_NOMEM;
	atomic_fetch_add(&base->refs, 1);
	s->base = base;
	s->delta = delta;
	s->view.base = base->set;
	s->view.delta = delta;
	atomic_store(&e->records,
	             cbar_unlockset_count(base->set) + (delta ? cbar_unlockset_count(delta) : 0));
	return cbar_slot_swap(&e->unlocks, s, snap_release);
}

int64_t cbar__engine_now(void)
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
bool cbar__engine_store_up(struct engine *e)
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
void cbar__engine_store_down(struct engine *e)
{
	cbar_store_free(e->store);
	e->store = NULL;
	atomic_store(&e->store_ok, false);
}

/* One round of following; publishes a new view when something changed. */
static void follow_round(struct engine *e);
/* Write the unlock snapshot when the base is newer than the last one
 * written (and, unless now, SNAPSHOT_EVERY_S has passed). */
static void snapshot_save(struct engine *e, bool now);

void cbar__engine_follow_once(struct engine *e)
{
	pthread_mutex_lock(&e->follow);
	follow_round(e);
	pthread_mutex_unlock(&e->follow);
}

/*
 * The registry went back: its last change is older than the one the set
 * reflects.  After an asynchronous failover the promoted standby may lack
 * the primary's last changes; unlocks it never received must not go on
 * exempting calls.  Load it in full again, as at start.  One indexed read
 * a round when nothing changed.
 */
static void rewound(struct engine *e)
{
	struct cbar_diag d = {0};
	char hash[CBAR_STORE_HASH_HEX];
	int64_t seq = 0, head = 0;
	struct base_ref *nb = calloc(1, sizeof *nb);
	if (!nb)
		return;
	pthread_mutex_lock(&e->lock);
	bool back = e->store && !cbar_store_chain_head(e->store, &seq, hash, &d) && seq < e->head;
	enum cbar_err err = CBAR_OK;
	if (back && (!(nb->set = cbar_unlockset_new(1024)) ||
	             (err = cbar_store_foreach_active(e->store, cbar_unlockset_add_active, nb->set,
	                                              &head, &d)) ||
	             (err = cbar_unlockset_fit(nb->set))))
		back = false;
	pthread_mutex_unlock(&e->lock);
	if (!back) {
		if (err)
			cbar_log_line(LOG_LV_ERROR, "registry went back; its reload failed, trying again",
			              "{s:s}", "why", d.msg);
		cbar_unlockset_free(nb->set);
		free(nb);
		return;
	}
	atomic_init(&nb->refs, 1);
	nb->seq = head;
	cbar_log_line(LOG_LV_WARN, "registry sequence went back (a failover lost changes): reloaded",
	              "{s:I,s:I,s:I}", "had", (json_int_t)e->head, "now", (json_int_t)head,
	              "records", (json_int_t)cbar_unlockset_count(nb->set));
	if (!publish(e, nb, NULL))
		atomic_store(&e->seq, e->head = head);
	base_put(nb);
}

static void follow_round(struct engine *e)
{
	struct changes c = {0};
	struct cbar_diag d = {0};
	struct cbar_store_unaudited u = {0};
	int64_t head = e->head;
	pthread_mutex_lock(&e->lock);
	bool ok = cbar__engine_store_up(e);
	if (ok && cbar_store_changes(e->store, e->head, add_change, &c, &head, &u, &d)) {
		cbar__engine_store_down(e);
		ok = false;
	}
	pthread_mutex_unlock(&e->lock);
	/* Rows changed behind callbar's back are never applied: say so, and
	 * count them (callbar_registry_unaudited_rows_total, alerted on). */
	if (u.rows)
		atomic_fetch_add(&e->unaudited, (uint_least64_t)u.rows);
	if (u.rows)
		cbar_log_line(LOG_LV_ERROR, "registry rows without a valid audit entry ignored",
		              "{s:I,s:I,s:I}", "rows", (json_int_t)u.rows, "record",
		              (json_int_t)u.id, "seq", (json_int_t)u.seq);
	if (u.broken_at && u.broken_at != e->broken_at)
		cbar_log_line(LOG_LV_ERROR,
		              "registry audit chain broken: following stopped before it", "{s:I}",
		              "entry", (json_int_t)u.broken_at);
	e->broken_at = u.broken_at;
	if (!ok || c.oom || c.n == 0) {
		if (ok && !c.oom) {
			atomic_store(&e->seq, e->head = head);
			rewound(e);
		}
		free(c.v);
		return;
	}
	cbar_slot_read_begin();
	struct unlock_snap *cur = cbar_slot_get(&e->unlocks);
	struct base_ref *base = cur->base;
	atomic_fetch_add(&base->refs, 1);
	struct cbar_unlockset *delta = NULL;
	enum cbar_err err = cbar_unlockdelta_apply(cur->delta, c.v, c.n, &delta);
	cbar_slot_read_end();
	free(c.v);
	if (!err && cbar_unlockset_count(delta) > DELTA_MAX) {
		struct cbar_unlockset *merged = NULL;
		struct base_ref *nb = calloc(1, sizeof *nb);
		if (nb && !cbar_unlockset_merge(base->set, delta, &merged)) {
			nb->set = merged;
			nb->seq = head;
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
		atomic_store(&e->seq, e->head = head);
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
	int64_t head_logged = cbar__engine_now(); /* serve.c logs it at start */
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
		cbar__engine_follow_once(e);
		snapshot_save(e, false);
		/* The chain's head in the log once an hour, for an outside system
		 * to anchor: a rewrite of the whole chain cannot match them all. */
		int64_t now = cbar__engine_now();
		if (now - head_logged >= HEAD_LOG_S) {
			char hash[CBAR_STORE_HASH_HEX];
			int64_t seq;
			struct cbar_diag hd = {0};
			head_logged = now;
			if (!cbar_engine_audit_head(e, &seq, hash, &hd))
				cbar_log_line(LOG_LV_INFO, "audit chain head", "{s:I,s:s}", "seq",
				              (json_int_t)seq, "hash", hash);
		}
	}
	cbar_store_free(watch);
	return NULL;
}

/* ---- decide ------------------------------------------------------------- */

bool cbar_engine_unlock_lookup(struct engine *e, struct cbar_unlock_lookup *lk)
{
	struct unlock_snap *us = e ? cbar_slot_get(&e->unlocks) : NULL;
	if (us)
		*lk = cbar_unlockview_lookup(&us->view);
	return us != NULL;
}

void cbar_engine_decide_many(struct engine *e, const struct cbar_rules *rules,
                             const struct cbar_event *const *ev, size_t n,
                             const struct cbar_limit_counter *limits, struct cbar_verdict *v)
{
	/* The unlock view read once for the batch: the caller's read section
	 * keeps it alive throughout. */
	struct cbar_unlock_lookup lk = {0};
	bool us = cbar_engine_unlock_lookup(e, &lk);
	lk.limits = limits;
	/* A batch of one too: cbar_decide_many() fetches every event's unlock
	 * records before it matches any rule, as cbar_decide() does. */
	cbar_decide_many(rules, ev, n, us || limits ? &lk : NULL, v);
}

/* A registry route runs between store_begin() and store_end(): one at a
 * time on the one connection, opened again if it was lost.  A call that
 * finds the server gone closes it, for the next one (or the follower) to
 * reopen. */
bool cbar__engine_store_begin(struct engine *e, struct cbar_diag *d)
{
	pthread_mutex_lock(&e->lock);
	if (cbar__engine_store_up(e))
		return true;
	pthread_mutex_unlock(&e->lock);
	cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0, "the registry cannot be reached");
	return false;
}

enum cbar_err cbar__engine_store_end(struct engine *e, enum cbar_err err)
{
	if (err == CBAR_STORE_DOWN)
		cbar__engine_store_down(e);
	pthread_mutex_unlock(&e->lock);
	return err;
}

enum cbar_err cbar_engine_audit_head(struct engine *e, int64_t *seq, char hash[CBAR_STORE_HASH_HEX],
                                     struct cbar_diag *d)
{
	if (!cbar__engine_store_begin(e, d))
		return CBAR_UNAVAILABLE;
	return cbar__engine_store_end(e, cbar_store_chain_head(e->store, seq, hash, d));
}

enum cbar_err cbar_engine_audit_verify(struct engine *e, int64_t *n, int64_t *bad,
                                       char head[CBAR_STORE_HASH_HEX], struct cbar_diag *d)
{
	if (!cbar__engine_store_begin(e, d))
		return CBAR_UNAVAILABLE;
	return cbar__engine_store_end(e, cbar_store_audit_verify(e->store, n, bad, head, d));
}

enum cbar_err cbar_engine_ready(struct engine *e, struct cbar_diag *d)
{
	if (atomic_load(&e->store_ok))
		return CBAR_OK;
	return cbar_diag_set(d, CBAR_UNAVAILABLE, 0, 0,
	                     "registry unreachable: deciding on the last copy");
}

int64_t cbar_engine_seq(struct engine *e)
{
	return atomic_load(&e->seq);
}

size_t cbar_engine_records(struct engine *e)
{
	return atomic_load(&e->records);
}

/* ---- the unlock snapshot ------------------------------------------------- */

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *key_id_of(struct engine *e, char id[17])
{
	id[0] = '\0';
	if (e->have_key)
		cbar_key_id(&e->key, id);
	return id;
}

/* The full load from a standby (registry.read_url): the set as of the
 * standby's sequence, which the follower then catches up from the primary.
 * false (logged, the set left empty) when the standby cannot be read. */
static bool load_from_standby(struct engine *e, struct base_ref *base)
{
	struct cbar_store *rs = NULL;
	struct cbar_store_opts o = {0};
	struct cbar_diag rd = {0};
	char url_r[600];
	int64_t head = 0;
	double t0 = mono_s();
	cbar_config_url_redact(e->read_url, url_r, sizeof url_r);
	enum cbar_err err = cbar_store_open(&rs, e->read_url, &o, &rd);
	if (!err)
		err = cbar_store_foreach_active(rs, cbar_unlockset_add_active, base->set, &head, &rd);
	cbar_store_free(rs);
	if (err) {
		cbar_log_line(LOG_LV_WARN, "registry.read_url unreadable: loading from registry.url",
		              "{s:s,s:s}", "read_url", url_r, "why", rd.msg);
		cbar_unlockset_free(base->set);
		base->set = cbar_unlockset_new(1024);
		return false;
	}
	e->head = head;
	cbar_log_line(LOG_LV_INFO, "unlock set loaded from registry.read_url", "{s:s,s:I,s:I,s:f}",
	              "read_url", url_r, "records", (json_int_t)cbar_unlockset_count(base->set),
	              "seq", (json_int_t)head, "seconds", mono_s() - t0);
	return true;
}

/* The unlock set at start: from the snapshot when there is one and it
 * checks out (then *from_snapshot and e->head is its seq), else every active
 * record of the registry.  A refused snapshot is logged and costs only
 * time: the full load follows. */
static enum cbar_err load_unlocks(struct engine *e, struct base_ref *base, bool *from_snapshot,
                                  struct cbar_diag *d)
{
	char kid[17];
	double t0 = mono_s();
	enum cbar_err err;
	if (e->snapshot) {
		struct cbar_unlock_snapshot_id id;
		struct cbar_unlockset *set = NULL;
		struct cbar_diag sd = {0};
		struct stat st;
		if (stat(e->snapshot, &st) && errno == ENOENT)
			cbar_log_line(LOG_LV_INFO, "no unlock snapshot yet: loading the registry",
			              "{s:s}", "file", e->snapshot);
		else if ((err = cbar_unlock_snapshot_read(e->snapshot, &id, &set, &sd)) ||
		         (err = cbar_unlock_snapshot_check(e->store, key_id_of(e, kid), &id, &sd))) {
			cbar_log_line(LOG_LV_WARN, "unlock snapshot refused: loading the registry in full",
			              "{s:s,s:s}", "file", e->snapshot, "why", sd.msg);
			cbar_unlockset_free(set);
		} else {
			cbar_unlockset_free(base->set);
			base->set = set;
			base->seq = e->head = id.seq;
			e->snapshot_seq = id.seq;
			*from_snapshot = true;
			cbar_log_line(LOG_LV_INFO, "unlock snapshot loaded", "{s:s,s:I,s:I,s:f}", "file",
			              e->snapshot, "records", (json_int_t)cbar_unlockset_count(set), "seq",
			              (json_int_t)id.seq, "seconds", mono_s() - t0);
			return CBAR_OK;
		}
	}
	if (e->read_url && load_from_standby(e, base))
		*from_snapshot = true; /* as of an older seq: caught up before serving */
	else if ((err = cbar_store_foreach_active(e->store, cbar_unlockset_add_active, base->set,
	                                          &e->head, d)))
		return err;
	if ((err = cbar_unlockset_fit(base->set)))
		return err;
	base->seq = e->head;
	if (e->snapshot)
		cbar_log_line(LOG_LV_INFO, "registry loaded in full", "{s:I,s:I,s:f}", "records",
		              (json_int_t)cbar_unlockset_count(base->set), "seq", (json_int_t)e->head,
		              "seconds", mono_s() - t0);
	return CBAR_OK;
}

static void snapshot_save(struct engine *e, bool now)
{
	if (!e->snapshot)
		return;
	int64_t t = cbar__engine_now();
	cbar_slot_read_begin();
	struct unlock_snap *cur = cbar_slot_get(&e->unlocks);
	struct base_ref *base = cur ? cur->base : NULL;
	if (base)
		atomic_fetch_add(&base->refs, 1);
	cbar_slot_read_end();
	if (!base)
		return;
	if (base->seq == e->snapshot_seq ||
	    (!now && e->snapshot_seq >= 0 && t - e->snapshot_at < SNAPSHOT_EVERY_S)) {
		base_put(base);
		return;
	}
	struct cbar_unlock_snapshot_id id;
	struct cbar_diag d = {0};
	char kid[17];
	double t0 = mono_s();
	pthread_mutex_lock(&e->lock);
	enum cbar_err err = cbar__engine_store_up(e)
	                            ? cbar_unlock_snapshot_id_of(e->store, base->seq,
	                                                         key_id_of(e, kid), &id, &d)
	                            : CBAR_STORE_DOWN;
	pthread_mutex_unlock(&e->lock);
	/* The base is immutable: it is written without holding anything. */
	if (!err)
		err = cbar_unlock_snapshot_write(e->snapshot, base->set, &id, &d);
	e->snapshot_at = t; /* a failure is tried again after the same wait */
	if (err) {
		cbar_log_line(LOG_LV_WARN, "unlock snapshot not written", "{s:s,s:s}", "file",
		              e->snapshot, "why", d.msg[0] ? d.msg : cbar_err_message(err));
	} else {
		e->snapshot_seq = base->seq;
		cbar_log_line(LOG_LV_INFO, "unlock snapshot written", "{s:s,s:I,s:I,s:f}", "file",
		              e->snapshot, "records", (json_int_t)cbar_unlockset_count(base->set),
		              "seq", (json_int_t)base->seq, "seconds", mono_s() - t0);
	}
	base_put(base);
}

/* ---- install ------------------------------------------------------------- */

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

enum cbar_err cbar_engine_open(struct engine **out, const char *registry_url,
                               const char *read_url, const char *snapshot, const char *keywords,
                               struct cbar_diag *d)
{
	bool from_snapshot = false;
	*out = NULL;
	if (d)
		d->file = registry_url;
	struct engine *e = calloc(1, sizeof *e);
	struct base_ref *base = calloc(1, sizeof *base);
	enum cbar_err err = CBAR_NOMEM;
	if (!e || !base || !(e->url = strdup(registry_url ? registry_url : "")) ||
	    (snapshot && snapshot[0] && !(e->snapshot = strdup(snapshot))) ||
	    (read_url && read_url[0] && !(e->read_url = strdup(read_url))))
		goto fail;
	e->snapshot_seq = -1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->follow, NULL);
	cbar_slot_init(&e->unlocks);
	atomic_init(&base->refs, 1);
	if (!(base->set = cbar_unlockset_new(1024)))
		goto fail;
	if (e->url[0]) {
		struct cbar_store_opts o = {0};
		make_parent(e->url);
		if ((err = cbar_store_open(&e->store, e->url, &o, d)))
			goto fail;
		atomic_store(&e->store_ok, true);
		/* The key first: the snapshot must have been made with it. */
		if ((err = load_key(e, d)) || (err = load_unlocks(e, base, &from_snapshot, d)))
			goto fail;
		atomic_store(&e->seq, e->head);
		struct cbar_diag kd = {0};
		if (!cbar_kw_table_load_given(&e->keywords, keywords && keywords[0] ? keywords : NULL,
		                              &kd)) {
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
	/* Ready means caught up: the changes since the snapshot's (or the
	 * standby's) seq. */
	if (from_snapshot)
		cbar__engine_follow_once(e);
	if (e->url[0]) {
		if (pthread_create(&e->follower, NULL, follower, e)) {
			err = cbar_diag_set(d, CBAR_NOMEM, 0, 0,
			                    "cannot start the registry follower");
			goto fail;
		}
		e->follower_on = true;
	}
	*out = e;
	return CBAR_OK;
fail:
	if (base) {
		cbar_unlockset_free(base->set);
		free(base);
	}
	cbar_engine_close(e);
	return err;
}

uint64_t cbar_engine_unaudited(struct engine *e, int64_t *broken_at)
{
	/* broken_at is the follower's; a torn read only delays the alarm by
	 * one scrape */
	*broken_at = e->broken_at;
	return atomic_load(&e->unaudited);
}

bool cbar_engine_has_registry(const struct engine *e)
{
	return e && e->url[0];
}

void cbar_engine_close(struct engine *e)
{
	if (e) {
		atomic_store(&e->stop, true);
		if (e->follower_on)
			pthread_join(e->follower, NULL);
		if (e->follower_on)
			snapshot_save(e, true);
		cbar_slot_release(&e->unlocks);
		cbar_store_free(e->store);
		if (e->have_key)
			cbar_key_release(&e->key);
		pthread_mutex_destroy(&e->lock);
		pthread_mutex_destroy(&e->follow);
		free(e->url);
		free(e->read_url);
		free(e->snapshot);
		free(e);
	}
}
