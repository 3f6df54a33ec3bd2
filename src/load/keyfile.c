/* callbar: finding the document hashing key (keyfile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"

enum cbar_err cbar_key_find(const char *named, const char *url, struct cbar_key *key,
                            struct cbar_diag *d)
{
	char path[600];
	const char *env = getenv("CALLBAR_KEY");
	const char *from = "--key";
	bool create = false;
	if (!named && env && *env)
		named = env, from = "$CALLBAR_KEY";
	if (named) {
		snprintf(path, sizeof path, "%s", named);
	} else if (url && !strncmp(url, "sqlite:", 7)) {
		const char *db = url + 7, *slash = strrchr(db, '/');
		if (slash)
			snprintf(path, sizeof path, "%.*s/callbar.key", (int)(slash - db), db);
		else
			snprintf(path, sizeof path, "callbar.key");
		create = true;
		from = "beside the registry";
	} else {
		return cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0,
		                     "a shared registry needs its document key named (--key FILE "
		                     "or $CALLBAR_KEY), the same on every node");
	}
	struct cbar_diag kd = {0};
	enum cbar_err err = cbar_key_load(key, path, create, &kd);
	if (err)
		return cbar_diag_set(d, err, 0, 0, "document key %s (%s): %s", path, from,
		                     kd.msg[0] ? kd.msg : cbar_err_message(err));
	return CBAR_OK;
}
