/* callbar serve: a reload of the rule file, whatever asked for it (the
 * start, SIGHUP, POST /v1/reload): build a new snapshot beside the one in
 * use and swap it in, or keep the old one and say why (daemon.h).  With
 * [smpp], the peers file is read again too, with the rules: both change, or
 * neither (a peers file that does not read fails the reload). */
#include <pthread.h>
#include <stdio.h>

#include "daemon.h"
#include "limits.h"
#include "log.h"
#include "routes.h"
#include "series.h"
#include "smpp_peers.h"
#include "snapshot.h"

enum cbar_err cbar_daemon_reload(struct daemon *d, const char *trigger, struct cbar_diag *diag)
{
	pthread_mutex_lock(&d->reload_lock);
	struct smpp_peers fresh;
	bool peers = d->smpp_peers != NULL;
	struct daemon_snapshot *s = NULL;
	enum cbar_err err = CBAR_OK;
	if (peers && cbar_smpp_peers_prepare(d->smpp_peers, d->cfg.smpp_peers, &fresh, diag)) {
		if (!diag->file)
			diag->file = d->cfg.smpp_peers;
		peers = false;
		goto fail;
	}
	s = cbar_snapshot_build_numbered(d->cfg.rules_file, d->version + 1, d->np,
	                                 d->cfg.num_segments, d->cfg.num_carriers,
	                                 d->cfg.num_ported, d->country, diag);
	/* The limits count for the new rules before they are published,
	 * keeping the counters of the limits that did not change. */
	if (s && d->limits && cbar_daemon_limits_use(d->limits, s->rules))
		cbar_log_line(LOG_LV_WARN, "out of memory for the limits' counting state: "
		                           "limits count nothing until the next reload",
		              "{s:s}", "trigger", trigger);
	if (!s) {
		err = CBAR_RELOAD;
	} else if (cbar_slot_swap(&d->rules, s, cbar_snapshot_free)) {
		if (d->limits)
			cbar_daemon_limits_use(d->limits, NULL); /* s goes: nothing may point at it */
		cbar_snapshot_free(s);
		cbar_diag_set(diag, CBAR_NOMEM, 0, 0, "out of memory");
		err = CBAR_RELOAD;
	}
	if (err) {
		if (peers)
			cbar_smpp_peers_release(&fresh);
	fail:
		err = CBAR_RELOAD;
		cbar_metric_count(&cbar_m_reloads, (const char *const[]){"failed"}, 1);
		cbar_log_line(LOG_LV_WARN, "reload failed; the rules in use stay",
		              "{s:s,s:s,s:i,s:i,s:s}", "trigger", trigger, "file",
		              diag->file ? diag->file : "", "line", diag->line, "column",
		              diag->column, "error", diag->msg);
		char where[sizeof diag->msg + 1200];
		snprintf(where, sizeof where, "%s:%u:%u: %s", diag->file ? diag->file : "?",
		         diag->line, diag->column, diag->msg);
		cbar_series_reload(cbar_routes_now(), trigger, false, d->version, NULL, where);
		pthread_mutex_unlock(&d->reload_lock);
		return err;
	}
	if (peers) {
		unsigned added, removed, changed;
		cbar_smpp_peers_commit(d->smpp_peers, &fresh, &added, &removed, &changed);
		cbar_log_line(LOG_LV_INFO, "smpp peers loaded", "{s:s,s:s,s:i,s:i,s:i}", "trigger",
		              trigger, "file", d->cfg.smpp_peers, "added", (int)added, "removed",
		              (int)removed, "changed", (int)changed);
	}
	/* s is published: its fields are read here only under reload_lock,
	 * and a later reload (the only one that frees it) waits for this one. */
	d->version = s->version;
	cbar_metric_gauge_zero(&cbar_m_rules_info);
	cbar_metric_gauge(&cbar_m_rules_info, (const char *const[]){s->sha256}, 1);
	cbar_metric_gauge(&cbar_m_rules_version, NULL, (double)s->version);
	cbar_metric_gauge(&cbar_m_rules_count, NULL, (double)s->rule_count);
	cbar_metric_gauge(&cbar_m_rules_loaded, NULL, (double)s->loaded_ms / 1000.0);
	cbar_metric_count(&cbar_m_reloads, (const char *const[]){"ok"}, 1);
	cbar_log_line(LOG_LV_INFO, "rules loaded", "{s:s,s:s,s:I,s:s,s:I}", "trigger", trigger,
	              "file", s->path, "version", (json_int_t)s->version, "sha256", s->sha256,
	              "rules", (json_int_t)s->rule_count);
	cbar_series_reload(s->loaded_ms / 1000, trigger, true, s->version, s->sha256, NULL);
	pthread_mutex_unlock(&d->reload_lock);
	return CBAR_OK;
}
