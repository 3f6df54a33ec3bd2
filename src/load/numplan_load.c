/* callbar: building the numbering plan from embedded data and files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "file.h"
#include "numplan_load.h"

/* Prefix tables are at most a few megabytes; a full national table of
 * 7-digit segments is under 64 MiB. */
#define MAX_TABLE (64u << 20)
/* A ported-number list holds a line a number: tens of millions of numbers
 * in a country of 1.7 billion lines, about 18 bytes each. */
#define MAX_PORTED (1024u << 20)

static bool load_table(struct cbar_numplan *np, const char *path, size_t cap,
                       enum cbar_err (*load)(struct cbar_numplan *, const char *, size_t,
                                             const char *, struct cbar_diag *))
{
	size_t len;
	char *text = cbar_file_read(path, cap, &len);
	if (!text) {
		fprintf(stderr, "callbar: %s: %s\n", path, strerror(errno));
		return false;
	}
	struct cbar_diag d = {0};
	enum cbar_err err = load(np, text, len, path, &d);
	free(text);
	if (err) {
		if (err == CBAR_DATA)
			fprintf(stderr, "%s:%u:%u: %s\n", path, d.line, d.column, d.msg);
		else
			fprintf(stderr, "callbar: %s: %s\n", path, cbar_err_message(err));
		return false;
	}
	return true;
}

struct cbar_numplan *cbar_numplan_load(const struct numplan_files *files)
{
	struct cbar_numplan *np = NULL;
	struct cbar_diag d = {0};
	enum cbar_err err = cbar_numplan_embedded(&np, &d);
	if (err) {
		fprintf(stderr, "callbar: built-in numbering data: %s:%u:%u: %s\n",
		        d.file ? d.file : "?", d.line, d.column,
		        err == CBAR_DATA ? d.msg : cbar_err_message(err));
		return NULL;
	}
	if ((files->carriers &&
	     !load_table(np, files->carriers, MAX_TABLE, cbar_numplan_load_cn_carriers)) ||
	    (files->segments &&
	     !load_table(np, files->segments, MAX_TABLE, cbar_numplan_load_cn_segments)) ||
	    (files->ported && !load_table(np, files->ported, MAX_PORTED, cbar_numplan_load_cn_ported))) {
		cbar_numplan_free(np);
		return NULL;
	}
	return np;
}
