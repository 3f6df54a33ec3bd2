/* callbar serve: building a snapshot from the rule file (see snapshot.h). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load/rules_load.h"
#include "rule_counts.h"
#include "snapshot.h"

static char *slurp(const char *path, size_t *len, struct cbar_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		cbar_diag_set(d, CBAR_IO, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	char *buf = malloc(SNAPSHOT_FILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, SNAPSHOT_FILE_MAX + 1, f) : 0;
	if (!buf)
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	else if (ferror(f))
		cbar_diag_set(d, CBAR_IO, 0, 0, "read error");
	else if (n > SNAPSHOT_FILE_MAX)
		cbar_diag_set(d, CBAR_TOO_BIG, 0, 0, "larger than %u bytes", SNAPSHOT_FILE_MAX);
	else {
		fclose(f);
		*len = n;
		buf[n] = '\0';
		return buf;
	}
	fclose(f);
	free(buf);
	return NULL;
}

struct daemon_snapshot *snapshot_build(const char *path, uint64_t version,
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
	if (!(s->text = slurp(path, &s->len, d)))
		goto fail;

	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)s->text, s->len);
	sodium_bin2hex(s->sha256, sizeof s->sha256, h, sizeof h);

	/* A NUL byte is no part of a rule file: say where, before the
	 * compiler would call it a bad character. */
	unsigned line = 1, col = 1;
	for (size_t i = 0; i < s->len; i++) {
		if (s->text[i] == '\0') {
			cbar_diag_set(d, CBAR_INVAL, line, col, "NUL byte in a rule file");
			goto fail;
		}
		if (s->text[i] == '\n')
			line++, col = 1;
		else
			col++;
	}
	s->lines = line - (s->len && s->text[s->len - 1] == '\n');
	if (!s->len)
		s->lines = 0;
	struct cbar_rules_loader loader = {rules_load_list, NULL};
	if (cbar_rules_compile(np, s->text, s->len, s->path, &loader, d, &s->rules)) {
		if (d)
			d->file = path;
		goto fail;
	}
	s->rule_count = cbar_rules_count(s->rules);
	/* each rule's metric label (its reason, else "default"), interned
	 * now so that the SIP workers count by id */
	if (!(s->rule_label = malloc((s->rule_count + 1) * sizeof *s->rule_label))) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s->rule_count; i++) {
		const char *why = cbar_rules_reason(s->rules, i);
		s->rule_label[i] = rule_label_intern(why ? why : "default");
	}
	s->label_default = rule_label_intern("default");
	s->label_emergency = rule_label_intern("emergency");

	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->loaded_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(s->loaded_at, sizeof s->loaded_at, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(s->loaded_at + n, sizeof s->loaded_at - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return s;
fail:
	snapshot_free(s);
	return NULL;
}

void snapshot_free(void *snap)
{
	struct daemon_snapshot *s = snap;
	if (!s)
		return;
	cbar_rules_free(s->rules);
	free(s->rule_label);
	free(s->path);
	free(s->text);
	free(s);
}
