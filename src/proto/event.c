/* callbar: a front end's fields to the one event (contract in event.h). */
#include <stdio.h>
#include <string.h>

#include "callbar/scope.h"
#include "event.h"

void cbar_event_begin(struct cbar_event_in *in)
{
	memset(in, 0, sizeof *in);
	in->ev.subscriber = &in->sub;
	in->ev.peer = &in->peer;
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
	in->has_sub = !err;
	return err;
}

enum cbar_err cbar_event_peer(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                              const char *s, size_t len, struct cbar_event_error *e)
{
	/* The peer in our subscriber's country: a national number is national
	 * where the subscriber lives (a shared code such as +1 has no country:
	 * then the operator's). */
	uint16_t ctx = in->has_sub && in->sub.country ? in->sub.country : c->country;
	return number(c, ctx, s, len, "peer", &in->peer, e);
}

enum cbar_err cbar_event_time(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                              const char *s, size_t len, unsigned forms,
                              struct cbar_event_error *e)
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
	in->has_time = true;
	return CBAR_OK;
}

void cbar_event_at(struct cbar_event_in *in, int64_t t)
{
	in->ev.time = t;
	in->has_time = true;
}

/* Trunk classes: letters, digits and . _ - : + / */
static bool text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9');
		if (!alnum && (!ch || !strchr("._-:+/", ch)))
			return false;
	}
	return true;
}

enum cbar_err cbar_event_ingress(struct cbar_event_in *in, const char *s, size_t len,
                                 struct cbar_event_error *e)
{
	if (len > CBAR_EVENT_TEXT_MAX || !text_ok(s, len))
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

/* Exactly n digits at s[*p] (bounded by len); -1 when they are not there. */
static int digits(const char *s, size_t len, size_t *p, unsigned n)
{
	int v = 0;
	for (unsigned i = 0; i < n; i++, (*p)++) {
		if (*p >= len || s[*p] < '0' || s[*p] > '9')
			return -1;
		v = v * 10 + (s[*p] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Up to 18 digits alone (after an optional sign for @): seconds. */
static bool epoch(const char *s, size_t len, int64_t *out)
{
	bool neg = len && s[0] == '-';
	size_t i = neg;
	int64_t v = 0;
	if (len == i || len - i > 18)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

enum cbar_err cbar_time_read(const char *s, size_t len, int32_t tz, unsigned forms,
                             int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if ((forms & CBAR_TIME_EPOCH) && len > 1 && s[0] == '@')
		return epoch(s + 1, len - 1, out) ? CBAR_OK : CBAR_BAD_TIME;
	if ((forms & CBAR_TIME_DIGITS) && len && s[0] >= '0' && s[0] <= '9' && len <= 18 &&
	    !memchr(s, '-', len))
		return epoch(s, len, out) ? CBAR_OK : CBAR_BAD_TIME;
	size_t p = 0;
	int y = digits(s, len, &p, 4);
	if (y < 1970 || p >= len || s[p++] != '-')
		return CBAR_BAD_TIME;
	int mo = digits(s, len, &p, 2);
	if (mo < 1 || mo > 12 || p >= len || s[p++] != '-')
		return CBAR_BAD_TIME;
	int d = digits(s, len, &p, 2);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return CBAR_BAD_TIME;
	int h = 0, mi = 0, sec = 0;
	int32_t off = tz;
	if (p == len) {
		if (!(forms & CBAR_TIME_DATE))
			return CBAR_BAD_TIME;
		goto done;
	}
	/* A space between date and time, as CDR exports write it, or T. */
	if (s[p] != 'T' && s[p] != 't' && !(s[p] == ' ' && (forms & CBAR_TIME_LOCAL)))
		return CBAR_BAD_TIME;
	p++;
	h = digits(s, len, &p, 2);
	if (h < 0 || h > 23 || p >= len || s[p++] != ':')
		return CBAR_BAD_TIME;
	mi = digits(s, len, &p, 2);
	if (mi < 0 || mi > 59)
		return CBAR_BAD_TIME;
	if (p < len && s[p] == ':') {
		p++;
		sec = digits(s, len, &p, 2);
		if (sec < 0 || sec > 60) /* 60: a leap second, counted as the next */
			return CBAR_BAD_TIME;
		if (p < len && (s[p] == '.' || s[p] == ',')) {
			size_t f = ++p;
			while (p < len && p - f < 9 && s[p] >= '0' && s[p] <= '9')
				p++;
			if (p == f)
				return CBAR_BAD_TIME;
		}
	}
	if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
		p++;
		off = 0;
	} else if (p < len && (s[p] == '+' || s[p] == '-')) {
		int sign = s[p++] == '-' ? -1 : 1;
		int oh = digits(s, len, &p, 2);
		if (p < len && s[p] == ':')
			p++;
		int om = digits(s, len, &p, 2);
		/* Offsets in use run from -12:00 to +14:00; up to 18:00 accepted. */
		if (oh < 0 || om < 0 || om > 59 || oh * 60 + om > 18 * 60)
			return CBAR_BAD_TIME;
		off = sign * (oh * 3600 + om * 60);
	} else if (!(forms & CBAR_TIME_LOCAL)) {
		return CBAR_BAD_TIME; /* a time without a zone is ambiguous here */
	}
	if (p != len || !(forms & (CBAR_TIME_ZONED | CBAR_TIME_LOCAL)))
		return CBAR_BAD_TIME;
done:
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return CBAR_OK;
}
