/* callbar: request bodies to structs (contract in request.h). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "request.h"

/* Kinds of field value. */
/* F_BOOL: a JSON true or false into a uint8_t, 2 and 1 (0: not given). */
enum fkind { F_ENUM, F_NUMBER, F_TIME, F_TEXT, F_DOC, F_OBJECT, F_BOOL };

struct field {
	const char *name;
	enum fkind kind;
	bool required;
	size_t off;                /* of the value in the request struct */
	size_t size;               /* of a text field, NUL included */
	bool has;                  /* a bool at has_off says it was given */
	size_t has_off;
	const char *const *names;  /* F_ENUM: value i is names[i] */
	const struct field *sub;   /* F_OBJECT: its fields */
};

/* An event is voice or sms, in or out; an unlock's scope may be "any". */
static const char *const service_names[] = {"voice", "sms", NULL};
static const char *const direction_names[] = {"in", "out", NULL};
static const char *const scope_service_names[] = {"voice", "sms", "any", NULL};
static const char *const scope_direction_names[] = {"in", "out", "any", NULL};
static const char *const level_names[] = {"", "self", "verified", NULL};

#define OFF(t, m) offsetof(struct t, m)
#define SIZE(t, m) sizeof(((struct t *)0)->m)

/* The fields of each body: what docs/api.md documents. */
static const struct field decide_fields[] = {
	{.name = "service", .kind = F_ENUM, .required = true, .off = OFF(decide_req, service),
	 .names = service_names},
	{.name = "direction", .kind = F_ENUM, .required = true, .off = OFF(decide_req, direction),
	 .names = direction_names},
	{.name = "subscriber", .kind = F_NUMBER, .required = true,
	 .off = OFF(decide_req, subscriber)},
	{.name = "peer", .kind = F_NUMBER, .required = true, .off = OFF(decide_req, peer)},
	{.name = "at", .kind = F_TIME, .off = OFF(decide_req, at), .has = true,
	 .has_off = OFF(decide_req, has_at)},
	{.name = "roaming", .kind = F_BOOL, .off = OFF(decide_req, roaming)},
	{.name = "ingress", .kind = F_TEXT, .off = OFF(decide_req, ingress),
	 .size = SIZE(decide_req, ingress)},
	{0},
};

static const struct field document_fields[] = {
	{.name = "type", .kind = F_TEXT, .required = true, .off = OFF(unlock_req, doc_type),
	 .size = SIZE(unlock_req, doc_type)},
	{.name = "number", .kind = F_DOC, .required = true, .off = OFF(unlock_req, doc_number),
	 .size = SIZE(unlock_req, doc_number)},
	{0},
};

static const struct field unlock_fields[] = {
	{.name = "service", .kind = F_ENUM, .off = OFF(unlock_req, service),
	 .names = scope_service_names},
	{.name = "direction", .kind = F_ENUM, .off = OFF(unlock_req, direction),
	 .names = scope_direction_names},
	{.name = "level", .kind = F_ENUM, .off = OFF(unlock_req, level), .names = level_names},
	{.name = "channel", .kind = F_TEXT, .required = true, .off = OFF(unlock_req, channel),
	 .size = SIZE(unlock_req, channel)},
	{.name = "document", .kind = F_OBJECT, .has = true, .has_off = OFF(unlock_req, has_document),
	 .sub = document_fields},
	{.name = "expires", .kind = F_TIME, .off = OFF(unlock_req, expires), .has = true,
	 .has_off = OFF(unlock_req, has_expires)},
	{0},
};

static const struct field keyword_fields[] = {
	{.name = "subscriber", .kind = F_NUMBER, .required = true,
	 .off = OFF(keyword_req, subscriber)},
	{.name = "keyword", .kind = F_TEXT, .required = true, .off = OFF(keyword_req, keyword),
	 .size = SIZE(keyword_req, keyword)},
	{.name = "at", .kind = F_TIME, .off = OFF(keyword_req, at), .has = true,
	 .has_off = OFF(keyword_req, has_at)},
	{0},
};

struct ctx {
	const struct cbar_numplan *np;
	uint16_t country;
	char prefix[24]; /* "[3]." in a batch, "document." in a sub-object */
};

static enum cbar_err fail(struct req_error *e, enum cbar_err code, const struct ctx *c,
                          const char *field, const char *msg)
{
	e->code = code;
	if (field)
		snprintf(e->field, sizeof e->field, "%.23s%.40s", c ? c->prefix : "", field);
	else if (c && c->prefix[0]) /* a batch item as a whole: "[3]" */
		snprintf(e->field, sizeof e->field, "%.*s", (int)strcspn(c->prefix, "."), c->prefix);
	else
		e->field[0] = '\0';
	snprintf(e->message, sizeof e->message, "%s", msg);
	return code;
}

enum cbar_err req_number(const struct cbar_numplan *np, uint16_t country, const char *s,
                         size_t len, const char *field, struct cbar_number *out,
                         struct req_error *e)
{
	size_t at = 0;
	enum cbar_err err;
	if (len > REQ_NUMBER_MAX)
		err = CBAR_NUM_TOO_LONG, at = REQ_NUMBER_MAX;
	else
		err = cbar_number_parse(np, country, s, len, out, &at);
	if (err) {
		e->code = err;
		snprintf(e->field, sizeof e->field, "%s", field);
		snprintf(e->message, sizeof e->message, "%s: %s at byte %zu", field,
		         cbar_err_message(err), at);
	}
	return err;
}

/* Text fields: letters, digits and . _ - : + / (trunk classes, channels,
 * keywords, document types); a document number: letters and digits. */
static bool text_ok(const char *s, size_t len, bool doc)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9');
		if (!alnum && (doc || !strchr("._-:+/", ch) || ch == '\0'))
			return false;
	}
	return len > 0;
}

static enum cbar_err parse_object(const json_t *obj, const struct field *fields, void *out,
                                  struct ctx *c, struct req_error *e);

static enum cbar_err set_field(const struct field *f, const json_t *v, void *out, struct ctx *c,
                               struct req_error *e)
{
	char *dst = (char *)out + f->off;
	if (f->kind == F_OBJECT) {
		if (!json_is_object(v))
			return fail(e, CBAR_BAD_TYPE, c, f->name, "want an object");
		struct ctx sub = *c;
		snprintf(sub.prefix, sizeof sub.prefix, "%.12s%.10s.", c->prefix, f->name);
		return parse_object(v, f->sub, out, &sub, e);
	}
	if (f->kind == F_BOOL) {
		if (!json_is_boolean(v))
			return fail(e, CBAR_BAD_TYPE, c, f->name, "want true or false");
		*(uint8_t *)dst = json_is_true(v) ? 2 : 1;
		return CBAR_OK;
	}
	if (!json_is_string(v))
		return fail(e, CBAR_BAD_TYPE, c, f->name, "want a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	switch (f->kind) {
	case F_ENUM:
		for (unsigned i = 0; f->names[i]; i++)
			if (f->names[i][0] && strlen(f->names[i]) == len && !memcmp(f->names[i], s, len)) {
				*(uint8_t *)dst = (uint8_t)i;
				return CBAR_OK;
			}
		return fail(e, CBAR_BAD_VALUE, c, f->name, "not one of the allowed values");
	case F_NUMBER: {
		char name[sizeof e->field];
		snprintf(name, sizeof name, "%s%s", c->prefix, f->name);
		return req_number(c->np, c->country, s, len, name, (struct cbar_number *)(void *)dst,
		                  e);
	}
	case F_TIME:
		if (req_time_parse(s, len, (int64_t *)(void *)dst))
			return fail(e, CBAR_BAD_TIME, c, f->name,
			            "want an ISO 8601 time such as 2024-05-01T12:00:00+08:00");
		return CBAR_OK;
	case F_TEXT:
	case F_DOC:
		if (len >= f->size || !text_ok(s, len, f->kind == F_DOC))
			/* Never echo a document number back. */
			return fail(e, CBAR_BAD_VALUE, c, f->name,
			            f->kind == F_DOC ? "want 1 to 40 letters and digits"
			                             : "want 1 to 64 of A-Z a-z 0-9 . _ - : + /");
		memcpy(dst, s, len);
		dst[len] = '\0';
		return CBAR_OK;
	case F_OBJECT:
	case F_BOOL:
		break;
	}
	return CBAR_INVAL;
}

static enum cbar_err parse_object(const json_t *obj, const struct field *fields, void *out,
                                  struct ctx *c, struct req_error *e)
{
	if (!json_is_object(obj))
		return fail(e, CBAR_BAD_TYPE, c, NULL, "want a JSON object");
	const char *key;
	json_t *v;
	/* Every key must be known: a misspelt optional field is an error, not
	 * a silently ignored condition. */
	json_object_foreach((json_t *)obj, key, v) {
		const struct field *f = fields;
		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name) {
			char k[40];
			snprintf(k, sizeof k, "%s", key);
			return fail(e, CBAR_UNKNOWN_FIELD, c, k, "unknown field");
		}
		enum cbar_err err = set_field(f, v, out, c, e);
		if (err)
			return err;
		if (f->has)
			*(bool *)(void *)((char *)out + f->has_off) = true;
	}
	for (const struct field *f = fields; f->name; f++)
		if (f->required && !json_object_get(obj, f->name))
			return fail(e, CBAR_MISSING_FIELD, c, f->name, "required field is missing");
	return CBAR_OK;
}

/* Decode one JSON value; a syntax error says where, and what in words of
 * our own: jansson's text quotes the input near the error ("near '...'"),
 * which may be an identity document number or a subscriber's. */
static json_t *decode(const char *body, size_t len, struct ctx *c, struct req_error *e)
{
	static const char *const what[] = {
		[json_error_invalid_utf8] = "invalid UTF-8",
		[json_error_premature_end_of_input] = "premature end of input",
		[json_error_end_of_input_expected] = "end of input expected",
		[json_error_invalid_syntax] = "invalid syntax",
		[json_error_null_character] = "NUL character not allowed",
		[json_error_null_byte_in_key] = "NUL byte in an object key",
		[json_error_duplicate_key] = "duplicate object key",
		[json_error_numeric_overflow] = "number out of range",
		[json_error_stack_overflow] = "nested too deeply",
		[json_error_out_of_memory] = "out of memory",
	};
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!j) {
		unsigned code = (unsigned)json_error_code(&je);
		const char *w = code < sizeof what / sizeof what[0] && what[code] ? what[code]
		                                                                  : "malformed JSON";
		char msg[sizeof e->message];
		snprintf(msg, sizeof msg, "line %d column %d: %s", je.line, je.column, w);
		fail(e, CBAR_BAD_JSON, c, NULL, msg);
	}
	return j;
}

static enum cbar_err parse_body(const struct cbar_numplan *np, uint16_t country, const char *body,
                                size_t len, const struct field *fields, void *out,
                                struct req_error *e)
{
	struct ctx c = {.np = np, .country = country};
	memset(e, 0, sizeof *e);
	json_t *j = decode(body, len, &c, e);
	if (!j)
		return e->code;
	enum cbar_err err = parse_object(j, fields, out, &c, e);
	json_decref(j);
	return err;
}

enum cbar_err req_decide_parse(const struct cbar_numplan *np, uint16_t country, const char *body,
                               size_t len, struct decide_req *out, struct req_error *e)
{
	memset(out, 0, sizeof *out);
	return parse_body(np, country, body, len, decide_fields, out, e);
}

enum cbar_err req_unlock_parse(const struct cbar_numplan *np, uint16_t country, const char *body,
                               size_t len, struct unlock_req *out, struct req_error *e)
{
	memset(out, 0, sizeof *out);
	out->service = REQ_ANY;
	out->direction = REQ_ANY;
	out->level = REQ_LEVEL_SELF;
	enum cbar_err err = parse_body(np, country, body, len, unlock_fields, out, e);
	if (!err && out->level == REQ_LEVEL_VERIFIED && !out->has_document)
		err = fail(e, CBAR_MISSING_FIELD, NULL, "document",
		           "level verified needs the identity document checked");
	if (err)
		unlock_req_wipe(out);
	return err;
}

enum cbar_err req_keyword_parse(const struct cbar_numplan *np, uint16_t country,
                                const char *body, size_t len, struct keyword_req *out,
                                struct req_error *e)
{
	memset(out, 0, sizeof *out);
	return parse_body(np, country, body, len, keyword_fields, out, e);
}

static void batch_item(const struct cbar_numplan *np, uint16_t country, const json_t *j,
                       size_t i,
                       void (*each)(void *arg, size_t i, const struct decide_req *ev,
                                    const struct req_error *item_err),
                       void *arg)
{
	struct ctx c = {.np = np, .country = country};
	struct decide_req ev;
	struct req_error ie = {0};
	snprintf(c.prefix, sizeof c.prefix, "[%zu].", i);
	memset(&ev, 0, sizeof ev);
	if (parse_object(j, decide_fields, &ev, &c, &ie))
		each(arg, i, NULL, &ie);
	else
		each(arg, i, &ev, NULL);
}

enum cbar_err req_batch_parse(const struct cbar_numplan *np, uint16_t country, const char *body,
                              size_t len, size_t max,
                              void (*each)(void *arg, size_t i, const struct decide_req *ev,
                                           const struct req_error *item_err),
                              void *arg, bool *lines, struct req_error *e)
{
	memset(e, 0, sizeof *e);
	size_t k = 0;
	while (k < len && strchr(" \t\r\n", body[k]) && body[k])
		k++;
	*lines = !(k < len && body[k] == '[');
	if (!*lines) {
		struct ctx c = {.np = np, .country = country};
		json_t *j = decode(body, len, &c, e);
		if (!j)
			return e->code;
		size_t n = json_array_size(j);
		if (n > max) {
			json_decref(j);
			char msg[64];
			snprintf(msg, sizeof msg, "more than %zu events", max);
			return fail(e, CBAR_TOO_BIG, NULL, NULL, msg);
		}
		for (size_t i = 0; i < n; i++)
			batch_item(np, country, json_array_get(j, i), i, each, arg);
		json_decref(j);
		return CBAR_OK;
	}
	/* JSON lines: count first, so that an oversized batch answers nothing. */
	size_t n = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(body + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (body + at)) : len - at;
		for (size_t q = 0; q < ll; q++)
			if (!strchr(" \t\r", body[at + q]) || !body[at + q]) {
				n++;
				break;
			}
		at += ll + 1;
	}
	if (n > max) {
		char msg[64];
		snprintf(msg, sizeof msg, "more than %zu events", max);
		return fail(e, CBAR_TOO_BIG, NULL, NULL, msg);
	}
	if (n == 0)
		return fail(e, CBAR_BAD_JSON, NULL, NULL, "no events");
	size_t i = 0;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(body + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (body + at)) : len - at;
		bool blank = true;
		for (size_t q = 0; q < ll; q++)
			if (!strchr(" \t\r", body[at + q]) || !body[at + q])
				blank = false;
		if (!blank) {
			struct ctx c = {.np = np, .country = country};
			struct req_error ie = {0};
			snprintf(c.prefix, sizeof c.prefix, "[%zu].", i);
			json_t *j = decode(body + at, ll, &c, &ie);
			if (j) {
				batch_item(np, country, j, i, each, arg);
				json_decref(j);
			} else {
				each(arg, i, NULL, &ie);
			}
			i++;
		}
		at += ll + 1;
	}
	return CBAR_OK;
}

int req_service(const char *s)
{
	for (int i = 0; scope_service_names[i]; i++)
		if (!strcmp(s, scope_service_names[i]))
			return i;
	return -1;
}

int req_direction(const char *s)
{
	for (int i = 0; scope_direction_names[i]; i++)
		if (!strcmp(s, scope_direction_names[i]))
			return i;
	return -1;
}

/* Read exactly n digits at *p (bounded); -1 when they are not there. */
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

enum cbar_err req_time_parse(const char *s, size_t len, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
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
	if (p >= len || (s[p] != 'T' && s[p] != 't'))
		return CBAR_BAD_TIME;
	p++;
	int h = digits(s, len, &p, 2);
	if (h < 0 || h > 23 || p >= len || s[p++] != ':')
		return CBAR_BAD_TIME;
	int mi = digits(s, len, &p, 2);
	if (mi < 0 || mi > 59 || p >= len || s[p++] != ':')
		return CBAR_BAD_TIME;
	int sec = digits(s, len, &p, 2);
	if (sec < 0 || sec > 60) /* 60: a leap second, counted as the next */
		return CBAR_BAD_TIME;
	if (p < len && (s[p] == '.' || s[p] == ',')) {
		size_t f = ++p;
		while (p < len && p - f < 9 && s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == f)
			return CBAR_BAD_TIME;
	}
	int off = 0;
	if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
		p++;
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
	} else {
		return CBAR_BAD_TIME; /* a time without a zone is ambiguous */
	}
	if (p != len)
		return CBAR_BAD_TIME;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return CBAR_OK;
}

void unlock_req_wipe(struct unlock_req *u)
{
	/* volatile: a wipe the compiler may not drop as a dead store. */
	volatile char *p = u->doc_number;
	for (size_t i = 0; i < sizeof u->doc_number; i++)
		p[i] = 0;
}
