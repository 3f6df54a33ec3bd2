/* callbar: a front end's fields to the one event (contract in event.h). */
#include <stdio.h>
#include <string.h>

#include "callbar/civil.h"
#include "callbar/scope.h"
#include "event.h"

void cbar_event_begin(struct cbar_event_in *in)
{
	memset(in, 0, sizeof *in);
	in->ev.subscriber = &in->sub;
	in->ev.peer = &in->peer;
}

void cbar_event_copy(struct cbar_event_in *dst, const struct cbar_event_in *src)
{
	*dst = *src;
	if (src->ev.subscriber == &src->sub)
		dst->ev.subscriber = &dst->sub;
	if (src->ev.peer == &src->peer)
		dst->ev.peer = &dst->peer;
}

/* The error: the field, and what is wrong with it (the front end says
 * which field in its own words). */
static enum cbar_err fail(struct cbar_event_error *e, enum cbar_err code, const char *field,
                          const char *what)
{
	if (e) {
		e->code = code;
		e->field = field;
		snprintf(e->message, sizeof e->message, "%s", what);
	}
	return code;
}

enum cbar_err cbar_event_service(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e)
{
	if (!cbar_service_parse(s, len, &in->ev.service))
		return fail(e, CBAR_BAD_VALUE, "service", "want voice or sms");
	return CBAR_OK;
}

enum cbar_err cbar_event_direction(struct cbar_event_in *in, const char *s, size_t len,
                                   struct cbar_event_error *e)
{
	if (!cbar_direction_parse(s, len, &in->ev.direction))
		return fail(e, CBAR_BAD_VALUE, "direction", "want in or out");
	return CBAR_OK;
}

static enum cbar_err number(const struct cbar_event_ctx *c, uint16_t country, const char *s,
                            size_t len, const char *field, struct cbar_number *out,
                            struct cbar_event_error *e)
{
	size_t at = 0;
	enum cbar_err err;
	if (len > CBAR_EVENT_NUMBER_MAX)
		err = CBAR_NUM_TOO_LONG, at = CBAR_EVENT_NUMBER_MAX;
	else
		err = cbar_number_parse(c->np, country, s, len, out, &at);
	if (err) {
		char what[120];
		snprintf(what, sizeof what, "%s at byte %zu", cbar_err_message(err), at);
		return fail(e, err, field, what);
	}
	return CBAR_OK;
}

enum cbar_err cbar_event_subscriber(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                                    const char *s, size_t len, struct cbar_event_error *e)
{
	enum cbar_err err = number(c, c->country, s, len, "subscriber", &in->sub, e);
	in->sub_err = err;
	in->ev.subscriber = err ? NULL : &in->sub;
	return err;
}

enum cbar_err cbar_event_no_subscriber(struct cbar_event_in *in, struct cbar_event_error *e)
{
	in->sub_err = CBAR_MISSING_FIELD;
	in->ev.subscriber = NULL;
	return fail(e, CBAR_MISSING_FIELD, "subscriber", "required field is missing");
}

/* "anonymous" in any case, as switches write a withheld caller ID. */
static bool anonymous(const char *s, size_t len)
{
	static const char w[] = "anonymous";
	if (len != sizeof w - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((s[i] | 0x20) != w[i])
			return false;
	return true;
}

enum cbar_err cbar_event_peer(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                              const char *s, size_t len, struct cbar_event_error *e)
{
	/* The peer in our subscriber's country: a national number is national
	 * where the subscriber lives (a shared code such as +1 has no country:
	 * then the operator's). */
	uint16_t ctx = in->ev.subscriber && in->sub.country ? in->sub.country : c->country;
	if (in->ev.direction == CBAR_IN && (!len || anonymous(s, len))) {
		in->ev.peer = NULL; /* a withheld caller: unknown, not an error */
		return CBAR_OK;
	}
	enum cbar_err err = number(c, ctx, s, len, "peer", &in->peer, e);
	in->ev.peer = err ? NULL : &in->peer;
	/* A presented caller ID the numbering data refuses: `from invalid`
	 * (an unknown country code, or no possible length). */
	in->ev.peer_invalid = in->ev.direction == CBAR_IN &&
	                      (err == CBAR_NUM_CC || err == CBAR_NUM_TOO_SHORT ||
	                       err == CBAR_NUM_TOO_LONG);
	return err;
}

enum cbar_err cbar_event_caller_id(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                                   const char *s, size_t len, struct cbar_event_error *e)
{
	if (in->ev.direction == CBAR_IN) {
		if (!s || cbar_event_peer(in, c, s, len, NULL))
			in->ev.peer = NULL;
		return CBAR_OK;
	}
	if (!s)
		return fail(e, CBAR_SIP_NO_NUMBER, "peer", "the request carries no called number");
	return cbar_event_peer(in, c, s, len, e);
}

enum cbar_err cbar_event_time(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                              const char *s, size_t len, unsigned forms, struct cbar_event_error *e)
{
	if (cbar_time_read(s, len, c->tz, forms, &in->ev.time))
		return fail(e, CBAR_BAD_TIME, "time",
		            (forms & CBAR_TIME_DATE)
		                ? "want 2022-05-08T09:30:00+08:00, ...Z, a time without a "
		                  "zone (the rule file's), YYYY-MM-DD or @EPOCH"
		            : (forms & CBAR_TIME_LOCAL)
		                ? "want an ISO 8601 time such as 2022-05-08T09:30:00+08:00, "
		                  "or one without a zone (the rule file's)"
		                : "want an ISO 8601 time such as 2022-05-08T09:30:00+08:00");
	return CBAR_OK;
}

void cbar_event_at(struct cbar_event_in *in, int64_t t)
{
	in->ev.time = t;
}

bool cbar_text_ok(const char *s, size_t len, bool alnum_only)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9');
		if (!alnum && (alnum_only || !ch || !strchr("._-:+/", ch)))
			return false;
	}
	return true;
}

enum cbar_err cbar_event_ingress(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e)
{
	if (len > CBAR_EVENT_TEXT_MAX || !cbar_text_ok(s, len, false))
		return fail(e, CBAR_BAD_VALUE, "ingress",
		            "want 1 to 64 of A-Z a-z 0-9 . _ - : + /");
	in->ev.ingress = len ? s : NULL;
	in->ev.ingress_len = len;
	return CBAR_OK;
}

static bool word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(s, w, n);
}

enum cbar_err cbar_event_roaming(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e)
{
	if (!len)
		in->ev.roaming = CBAR_ROAMING_UNKNOWN;
	else if (word(s, len, "yes") || word(s, len, "true") || word(s, len, "1"))
		in->ev.roaming = CBAR_ROAMING_YES;
	else if (word(s, len, "no") || word(s, len, "false") || word(s, len, "0"))
		in->ev.roaming = CBAR_ROAMING_NO;
	else
		return fail(e, CBAR_BAD_VALUE, "roaming", "want yes, no, or empty");
	return CBAR_OK;
}

enum cbar_err cbar_event_carrier(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e)
{
	enum cbar_carrier k = cbar_carrier_lookup(s, len);
	if (!k)
		return fail(e, CBAR_BAD_VALUE, "carrier", "unknown carrier");
	in->ev.carrier = (uint8_t)k;
	return CBAR_OK;
}

enum cbar_err cbar_event_region(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                                const char *s, size_t len, struct cbar_event_error *e)
{
	uint8_t r = cbar_numplan_region(c->np, s, len);
	if (!r)
		return fail(e, CBAR_BAD_VALUE, "region", "unknown region");
	in->ev.region = r;
	return CBAR_OK;
}

/* ---- time ------------------------------------------------------------------ */

enum cbar_err cbar_time_read(const char *s, size_t len, int32_t tz, unsigned forms, int64_t *out)
{
	/* The event's forms are the civil module's, bit for bit; a CDR or a
	 * command line's time may put a space between date and time. */
	unsigned flags = forms & ((unsigned)CBAR_CIVIL_ZONED | CBAR_CIVIL_LOCAL | CBAR_CIVIL_DATE |
	                          CBAR_CIVIL_EPOCH | CBAR_CIVIL_DIGITS);
	if (forms & CBAR_TIME_LOCAL)
		flags |= CBAR_CIVIL_SPACE;
	return cbar_civil_parse(s, len, flags, tz, out, NULL) ? CBAR_BAD_TIME : CBAR_OK;
}
