/* callbar serve: the HTTP answers and errors every route writes (routes.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routes.h"
#include "slot.h"
#include "snapshot.h"

void cbar_respond_json(struct http_response *resp, int status, json_t *j)
{
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (j)
		json_decref(j);
	if (!resp->body) {
		resp->status = 500;
		resp->body = strdup("{\"error\":{\"code\":\"NOMEM\",\"message\":\"out of memory\","
		                    "\"field\":null}}");
	}
	resp->len = resp->body ? strlen(resp->body) : 0;
}

json_t *cbar_error_object(enum cbar_err code, const char *field, const char *message)
{
	return json_pack("{s:{s:s,s:s,s:o}}", "error", "code", cbar_err_name(code), "message",
	                 message && *message ? message : cbar_err_message(code), "field",
	                 field && *field ? json_string(field) : json_null());
}

void cbar_respond_error(struct http_response *resp, int status, enum cbar_err code, const char *field,
                   const char *message)
{
	cbar_respond_json(resp, status, cbar_error_object(code, field, message));
}

/* The HTTP status of an error from a parser or a hook. */
int cbar_status_of(enum cbar_err e)
{
	switch (e) {
	case CBAR_OK:
		return 200;
	case CBAR_NOT_FOUND:
	case CBAR_NO_ROUTE:
	case CBAR_STORE_NOTFOUND:
		return 404;
	case CBAR_STORE_LIMIT:
		return 409;
	case CBAR_STORE_BUSY:
	case CBAR_STORE_DOWN:
	case CBAR_STORE_OPEN:
		return 503;
	case CBAR_UNAVAILABLE:
		return 503;
	case CBAR_TOO_BIG:
		return 413;
	case CBAR_UNAUTHENTICATED:
		return 401;
	case CBAR_FORBIDDEN:
		return 403;
	case CBAR_METHOD:
		return 405;
	case CBAR_RELOAD:
		return 422;
	case CBAR_NOMEM:
	case CBAR_IO:
		return 500;
	default:
		return e >= CBAR_NUM_EMPTY && e <= CBAR_NUM_COUNTRY ? 400
		       : e >= CBAR_BAD_JSON && e <= CBAR_BAD_VALUE  ? 400
		       : e >= CBAR_ID_TYPE && e <= CBAR_ID_FORMAT   ? 400
		       : e == CBAR_BAD_TIME || e == CBAR_INVAL      ? 400
		                                                    : 500;
	}
}

void cbar_respond_req_error(struct http_response *resp, const struct req_error *e)
{
	cbar_respond_error(resp, cbar_status_of(e->code), e->code, e->field, e->message);
}

/* A hook's failure, or 501 for a hook that is not there. */
void cbar_respond_hook_error(struct http_response *resp, enum cbar_err e, const struct cbar_diag *diag)
{
	cbar_respond_error(resp, cbar_status_of(e), e, NULL, diag ? diag->msg : NULL);
}

/* A node configured without a registry (registry.url empty) decides
 * without unlock records and has no registry routes. */
void cbar_respond_no_registry(struct http_response *resp)
{
	cbar_respond_error(resp, 404, CBAR_NO_ROUTE, NULL,
	              "this node has no registry (registry.url is empty): it decides without "
	              "unlock records");
}

/* The rule file's zone: dates a route reads or checks are the operator's. */
int32_t cbar_rules_tz(struct daemon *d)
{
	cbar_slot_read_begin();
	const struct daemon_snapshot *s = cbar_slot_get(&d->rules);
	int32_t tz = s ? cbar_rules_tz_offset(s->rules) : 0;
	cbar_slot_read_end();
	return tz;
}

int64_t cbar_routes_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}
