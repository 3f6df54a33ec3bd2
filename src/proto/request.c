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
static const char *const scope_service_names[] = {"voice", "sms", "any", NULL};
static const char *const scope_direction_names[] = {"in", "out", "any", NULL};
static const char *const level_names[] = {"", "self", "verified", NULL};

#define OFF(t, m) offsetof(struct t, m)
#define SIZE(t, m) sizeof(((struct t *)0)->m)

/* The fields of each body: what docs/api.md documents. */
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
	{.name = "to", .kind = F_TEXT, .off = OFF(keyword_req, to), .size = SIZE(keyword_req, to)},
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

/* A subscriber's number from a path or a query: read as an event's
 * subscriber is (proto/event.h), in the operator's country. */
enum cbar_err cbar_req_number(const struct cbar_numplan *np, uint16_t country, const char *s,
                              size_t len, const char *field, struct cbar_number *out,
                              struct req_error *e)
{
	const struct cbar_event_ctx ec = {.np = np, .country = country};
	struct cbar_event_in in;
	struct cbar_event_error ee;
	cbar_event_begin(&in);
	enum cbar_err err = cbar_event_subscriber(&in, &ec, s, len, &ee);
	if (err) {
		e->code = err;
		snprintf(e->field, sizeof e->field, "%s", field);
		snprintf(e->message, sizeof e->message, "%s: %s", field, ee.message);
		return err;
	}
	*out = in.sub;
	return CBAR_OK;
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
		return cbar_req_number(c->np, c->country, s, len, name, (struct cbar_number *)(void *)dst,
		                  e);
	}
	case F_TIME:
		if (cbar_time_read(s, len, 0, CBAR_TIME_ZONED, (int64_t *)(void *)dst))
			return fail(e, CBAR_BAD_TIME, c, f->name,
			            "want an ISO 8601 time such as 2024-05-01T12:00:00+08:00");
		return CBAR_OK;
	case F_TEXT:
	case F_DOC:
		if (len >= f->size || !len || !cbar_text_ok(s, len, f->kind == F_DOC))
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
		const char *w = code < sizeof what / sizeof what[0] && what[code]
		                    ? what[code]
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

/* The members of a decision body, in the order the event module reads
 * them (the peer after the subscriber, in the subscriber's country). */
enum dk { D_SERVICE, D_DIRECTION, D_SUBSCRIBER, D_PEER, D_AT, D_INGRESS, D_ROAMING, D_CARRIER,
          D_REGION, D_COUNT };
static const char *const decide_names[D_COUNT] = {
	"service", "direction", "subscriber", "peer", "at", "ingress", "roaming", "carrier", "region"};
/* The subscriber is not required here: without one, the event is still
 * decided (a call to an emergency number passes whoever calls) and the
 * missing field is the answer otherwise (sub_error). */
static const bool decide_required[D_COUNT] = {true, true, false, true};

/* The event module's error as the body's: the member's name (with the
 * batch's "[3]." before it) and what is wrong. */
static enum cbar_err event_fail(struct req_error *e, const struct ctx *c, const char *name,
                                const struct cbar_event_error *ee)
{
	char msg[sizeof e->message];
	snprintf(msg, sizeof msg, "%.23s%s: %.150s", c->prefix, name, ee->message);
	return fail(e, ee->code, c, name, msg);
}

static enum cbar_err decide_object(const json_t *obj, const struct cbar_event_ctx *ec,
                                   struct decide_req *out, struct ctx *c, struct req_error *e)
{
	const json_t *v[D_COUNT] = {0};
	if (!json_is_object(obj))
		return fail(e, CBAR_BAD_TYPE, c, NULL, "want a JSON object");
	const char *key;
	json_t *val;
	/* Every key must be known: a misspelt optional field is an error, not
	 * a silently ignored condition. */
	json_object_foreach((json_t *)obj, key, val) {
		int k = 0;
		while (k < D_COUNT && strcmp(decide_names[k], key))
			k++;
		if (k == D_COUNT) {
			char name[40];
			snprintf(name, sizeof name, "%s", key);
			return fail(e, CBAR_UNKNOWN_FIELD, c, name, "unknown field");
		}
		if (k == D_ROAMING ? !json_is_boolean(val) : !json_is_string(val))
			return fail(e, CBAR_BAD_TYPE, c, decide_names[k],
			            k == D_ROAMING ? "want true or false" : "want a string");
		v[k] = val;
	}
	for (int k = 0; k < D_COUNT; k++)
		if (decide_required[k] && !v[k])
			return fail(e, CBAR_MISSING_FIELD, c, decide_names[k],
			            "required field is missing");
	struct cbar_event_in *in = &out->in;
	struct cbar_event_error ee;
	cbar_event_begin(in);
#define STR(k) json_string_value(v[k]), json_string_length(v[k])
	if (cbar_event_service(in, STR(D_SERVICE), &ee) ||
	    cbar_event_direction(in, STR(D_DIRECTION), &ee))
		return event_fail(e, c, ee.field, &ee);
	if (v[D_SUBSCRIBER] ? cbar_event_subscriber(in, ec, STR(D_SUBSCRIBER), &ee)
	                    : cbar_event_no_subscriber(in, &ee))
		event_fail(&out->sub_error, c, ee.field, &ee);
	if (cbar_event_peer(in, ec, STR(D_PEER), &ee))
		return event_fail(e, c, ee.field, &ee);
	if (v[D_AT]) {
		if (cbar_event_time(in, ec, STR(D_AT), CBAR_TIME_ZONED, &ee))
			return event_fail(e, c, "at", &ee);
		out->has_at = true;
	}
	if (v[D_INGRESS]) {
		size_t n = json_string_length(v[D_INGRESS]);
		if (!n || n >= sizeof out->ingress ||
		    cbar_event_ingress(in, json_string_value(v[D_INGRESS]), n, &ee))
			return fail(e, CBAR_BAD_VALUE, c, "ingress",
			            "want 1 to 64 of A-Z a-z 0-9 . _ - : + /");
		memcpy(out->ingress, json_string_value(v[D_INGRESS]), n + 1);
		in->ev.ingress = out->ingress;
	}
	if (v[D_ROAMING])
		cbar_event_roaming(in, json_is_true(v[D_ROAMING]) ? "yes" : "no",
		                   json_is_true(v[D_ROAMING]) ? 3 : 2, NULL);
	if ((v[D_CARRIER] && cbar_event_carrier(in, STR(D_CARRIER), &ee)) ||
	    (v[D_REGION] && cbar_event_region(in, ec, STR(D_REGION), &ee)))
		return event_fail(e, c, ee.field, &ee);
#undef STR
	return CBAR_OK;
}

enum cbar_err cbar_req_decide_parse(const struct cbar_event_ctx *ec, const char *body, size_t len,
                               struct decide_req *out, struct req_error *e)
{
	struct ctx c = {.np = ec->np, .country = ec->country};
	memset(out, 0, sizeof *out);
	memset(e, 0, sizeof *e);
	json_t *j = decode(body, len, &c, e);
	if (!j)
		return e->code;
	enum cbar_err err = decide_object(j, ec, out, &c, e);
	json_decref(j);
	return err;
}

enum cbar_err cbar_req_unlock_parse(const struct cbar_numplan *np, uint16_t country, const char *body,
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
		cbar_unlock_req_wipe(out);
	return err;
}

enum cbar_err cbar_req_keyword_parse(const struct cbar_numplan *np, uint16_t country,
                                const char *body, size_t len, struct keyword_req *out,
                                struct req_error *e)
{
	memset(out, 0, sizeof *out);
	return parse_body(np, country, body, len, keyword_fields, out, e);
}

static void batch_item(const struct cbar_event_ctx *ec, const json_t *j, size_t i,
                       void (*each)(void *arg, size_t i, const struct decide_req *ev,
                                    const struct req_error *item_err),
                       void *arg)
{
	struct ctx c = {.np = ec->np, .country = ec->country};
	struct decide_req ev;
	struct req_error ie = {0};
	snprintf(c.prefix, sizeof c.prefix, "[%zu].", i);
	memset(&ev, 0, sizeof ev);
	if (decide_object(j, ec, &ev, &c, &ie))
		each(arg, i, NULL, &ie);
	else
		each(arg, i, &ev, NULL);
}

enum cbar_err cbar_req_batch_parse(const struct cbar_event_ctx *ec, const char *body, size_t len,
                              size_t max,
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
		struct ctx c = {.np = ec->np, .country = ec->country};
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
			batch_item(ec, json_array_get(j, i), i, each, arg);
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
			struct ctx c = {.np = ec->np, .country = ec->country};
			struct req_error ie = {0};
			snprintf(c.prefix, sizeof c.prefix, "[%zu].", i);
			json_t *j = decode(body + at, ll, &c, &ie);
			if (j) {
				batch_item(ec, j, i, each, arg);
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

int cbar_req_service(const char *s)
{
	for (int i = 0; scope_service_names[i]; i++)
		if (!strcmp(s, scope_service_names[i]))
			return i;
	return -1;
}

int cbar_req_direction(const char *s)
{
	for (int i = 0; scope_direction_names[i]; i++)
		if (!strcmp(s, scope_direction_names[i]))
			return i;
	return -1;
}

void cbar_unlock_req_wipe(struct unlock_req *u)
{
	/* volatile: a wipe the compiler may not drop as a dead store. */
	volatile char *p = u->doc_number;
	for (size_t i = 0; i < sizeof u->doc_number; i++)
		p[i] = 0;
}
