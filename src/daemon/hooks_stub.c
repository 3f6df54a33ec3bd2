/*
 * callbar serve: the hooks as they are until the engine and the registry
 * are merged: none.  Every decide and registry route answers 501 NOT_BUILT
 * (docs/api.md says so); nothing pretends to decide.
 *
 * For the lead: this is the file to replace.  decide() calls cbar_decide()
 * with the snapshot's compiled rules (snapshot.h) and an unlock lookup on
 * the registry's in-memory set; unlock/relock/status/audit/keyword call the
 * store (store.h); registry_ready pings it.
 */
#include <string.h>

#include "hooks.h"

enum cbar_err hooks_install(struct daemon_hooks *h, const char *registry_url,
                            struct cbar_diag *d)
{
	(void)registry_url;
	(void)d;
	memset(h, 0, sizeof *h);
	return CBAR_OK;
}

void hooks_release(struct daemon_hooks *h)
{
	memset(h, 0, sizeof *h);
}
