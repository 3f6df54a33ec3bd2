/*
 * callbar serve: the auto-bar routes (docs/api.md): GET /v1/bars lists the
 * active bars of the registry, DELETE /v1/bars/{key} lifts a key's bars
 * (audited, by the caller's token name).  Both are registry routes: a node
 * without a registry answers 404 as the others do.
 */
#include <string.h>

#include "bars.h"
#include "daemon.h"
#include "routes.h"

void cbar_h_bars_list(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                      struct http_response *resp)
{
	(void)rq, (void)rc;
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err = cbar_daemon_bars_list(d->engine, &out, &diag);
	if (err)
		cbar_respond_hook_error(resp, err, &diag);
	else
		cbar_respond_json(resp, 200, out);
}

void cbar_h_bars_delete(struct daemon *d, struct http_request *rq, struct req_ctx *rc,
                        struct http_response *resp)
{
	(void)rq;
	if (!cbar_engine_has_registry(d->engine)) {
		cbar_respond_no_registry(resp);
		return;
	}
	/* "+" as written, or percent-encoded by a careful client. */
	char key[sizeof rc->param];
	const char *p = rc->param;
	size_t k = 0;
	if (!strncmp(p, "%2B", 3) || !strncmp(p, "%2b", 3)) {
		key[k++] = '+';
		p += 3;
	}
	while (*p && k + 1 < sizeof key) {
		if (*p == '%' && p[1] == '2' && (p[2] == 'A' || p[2] == 'a')) {
			key[k++] = '*';
			p += 3;
			continue;
		}
		key[k++] = *p++;
	}
	key[k] = 0;
	json_t *out = NULL;
	struct cbar_diag diag = {0};
	enum cbar_err err =
		cbar_daemon_bars_lift(d->engine, d->limits, key, rc->who.name, &out, &diag);
	if (err)
		cbar_respond_hook_error(resp, err, &diag);
	else
		cbar_respond_json(resp, 200, out);
}
