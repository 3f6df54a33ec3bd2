/* callbar serve: building a snapshot from the rule file (see snapshot.h). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load/numplan_load.h"
#include "load/rules_load.h"
#include "rule_counts.h"
#include "snapshot.h"

struct daemon_snapshot *cbar_snapshot_build(const char *path, uint64_t version,
                                       const struct cbar_numplan *np, uint16_t country,
                                       struct cbar_diag *d)
{
	if (d)
		d->file = path;
	struct daemon_snapshot *s = calloc(1, sizeof *s);
	if (!s) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		return NULL;
	}
	s->version = version;
	s->np = np;
	s->country = country;
	if (!(s->path = strdup(path))) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		goto fail;
	}
	/* Read and compiled as every command reads a rule file (one limit,
	 * the same checks): a file `callbar lint` accepts loads here. */
	if (cbar_rules_read(np, path, &s->text, &s->len, &s->rules, d))
		goto fail;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)s->text, s->len);
	sodium_bin2hex(s->sha256, sizeof s->sha256, h, sizeof h);
	size_t line = 1;
	for (size_t i = 0; i < s->len; i++)
		line += s->text[i] == '\n';
	s->lines = s->len ? line - (s->text[s->len - 1] == '\n') : 0;
	s->rule_count = cbar_rules_count(s->rules);
	/* each rule's metric label (its reason, else "default"), interned
	 * now so that the SIP workers count by id */
	if (!(s->rule_label = malloc((s->rule_count + 1) * sizeof *s->rule_label))) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->rule_count; i++) {
		const char *why = cbar_rules_reason(s->rules, i);
		s->rule_label[i] = cbar_rule_label_intern(why ? why : "default");
	}
	s->label_default = cbar_rule_label_intern("default");
	s->label_emergency = cbar_rule_label_intern("emergency");

	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->loaded_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(s->loaded_at, sizeof s->loaded_at, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(s->loaded_at + n, sizeof s->loaded_at - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return s;
fail:
	cbar_snapshot_free(s);
	return NULL;
}

struct daemon_snapshot *cbar_snapshot_build_numbered(const char *path, uint64_t version,
                                                     const struct cbar_numplan *np,
                                                     const char *segments, const char *carriers,
                                                     const char *ported, uint16_t country,
                                                     struct cbar_diag *d)
{
	const struct numplan_files nf = {
	    .segments = segments && segments[0] ? segments : NULL,
	    .carriers = carriers && carriers[0] ? carriers : NULL,
	    .ported = ported && ported[0] ? ported : NULL};
	if (!nf.segments && !nf.carriers && !nf.ported)
		return cbar_snapshot_build(path, version, np, country, d);
	/* Read with each reload: an updated segment table or ported list
	 * governs decisions from this snapshot on. */
	struct cbar_numplan *own = cbar_numplan_load(&nf);
	if (!own) {
		if (d)
			d->file = nf.ported ? nf.ported : nf.segments ? nf.segments : nf.carriers;
		cbar_diag_set(d, CBAR_RELOAD, 0, 0,
		              "the numbering files (numbering.segments, carriers, ported) did not "
		              "load");
		return NULL;
	}
	struct daemon_snapshot *s = cbar_snapshot_build(path, version, own, country, d);
	if (s)
		s->own_np = own;
	else
		cbar_numplan_free(own);
	return s;
}

void cbar_snapshot_free(void *snap)
{
	struct daemon_snapshot *s = snap;
	if (!s)
		return;
	cbar_rules_free(s->rules);
	cbar_numplan_free(s->own_np); /* after the rules, which point into it */
	free(s->rule_label);
	free(s->path);
	free(s->text);
	free(s);
}
