/*
 * callbar: SIP message parser (RFC 3261 section 7, 19, 20, 25) and TCP
 * framing.  See include/callbar/sip.h for the contract, docs/sip.md for
 * what is accepted and how each malformed case is answered.
 *
 * Why hand-written: this is the product's fast path (a UDP worker parses,
 * decides and answers in one pass over a receive buffer), and no library in
 * Debian offers an allocation-free, stateless parse into caller memory:
 * libosip2 allocates a tree per message (osip_message_init, a malloc per
 * header and URI), sofia-sip and reSIProcate do the same with their own
 * allocators and transaction state.  Here everything is a slice of the
 * caller's buffer, every list has a cap, and no byte is written outside the
 * caller's struct.
 *
 * Reading rules: cursors (p, e) never pass e; a NUL is an ordinary byte; a
 * number is accumulated with an explicit bound before it can overflow.
 */
#include <string.h>
#include <strings.h>

#include "callbar/sip.h"

/* ---- character classes (RFC 3261 section 25.1) -------------------------- */

enum {
	C_TOKEN = 1 << 0, /* token: alphanum / -.!%*_+`'~ */
	C_UNRES = 1 << 1, /* unreserved: alphanum / mark -_.!~*'() */
	C_USER = 1 << 2,  /* user: unreserved / user-unreserved &=+$,;?/ */
	C_PASS = 1 << 3,  /* password: unreserved / &=+$, */
	C_PARAM = 1 << 4, /* paramchar: unreserved / param-unreserved []/:&+$ */
	C_HNV = 1 << 5,   /* hname/hvalue: unreserved / hnv-unreserved []/?:+$ */
	C_WORD = 1 << 6,  /* word (Call-ID): token chars and ()<>:\"/[]?{} */
	C_URIC = 1 << 7,  /* uric: unreserved / reserved ;/?:@&=+$, */
};

static const unsigned char ctab[256] = {
	/* 00 ................ */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 10 ................ */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	/* 20  !"#$%&'()*+,-./ */ 0x00, 0xff, 0x40, 0x00, 0xbc, 0x41, 0x9c, 0xff, 0xfe, 0xfe, 0xff, 0xfd, 0x8c, 0xff, 0xff, 0xf4,
	/* 30 0123456789:;<=>? */ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0x84, 0x40, 0x8c, 0x40, 0xe4,
	/* 40 @ABCDEFGHIJKLMNO */ 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	/* 50 PQRSTUVWXYZ[\]^_ */ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x70, 0x40, 0x70, 0x00, 0xff,
	/* 60 `abcdefghijklmno */ 0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	/* 70 pqrstuvwxyz{|}~. */ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x40, 0x00, 0x40, 0xff, 0x00,
	/* 80..ff: none (UTF-8 only inside quoted strings and reason phrases) */
};

static inline bool is(const char *p, unsigned cls)
{
	return ctab[(unsigned char)*p] & cls;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Inside a header value CR and LF only ever occur as line folding (the line
 * splitter guarantees it), so linear white space is SP, HT, CR, LF. */
static inline bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_lws(const char *p, const char *e)
{
	while (p < e && is_lws(*p))
		p++;
	return p;
}

/* Skip a run of class cls or %HH escapes (when esc); NULL on a bad escape. */
static const char *span(const char *p, const char *e, unsigned cls, bool esc)
{
	while (p < e) {
		if (is(p, cls)) {
			p++;
		} else if (esc && *p == '%') {
			if (e - p < 3 || !is_hex(p[1]) || !is_hex(p[2]))
				return NULL;
			p += 3;
		} else {
			break;
		}
	}
	return p;
}

static bool ieq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && !strncasecmp(p, lit, n);
}

static struct cbar_sip_str mkstr(const char *p, const char *e)
{
	return (struct cbar_sip_str){p, (size_t)(e - p)};
}

/* ---- methods ----------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned char len;
} methods[CBAR_SIP_METHOD_COUNT] = {
#define CBAR__SIP_METHOD_ROW(id, text) [CBAR_SIP_##id] = {text, sizeof(text) - 1},
	CBAR_SIP_METHOD_MAP(CBAR__SIP_METHOD_ROW)
#undef CBAR__SIP_METHOD_ROW
};

const char *cbar_sip_method_name(enum cbar_sip_method m)
{
	return (unsigned)m < CBAR_SIP_METHOD_COUNT ? methods[m].name : "";
}

/* Methods are case-sensitive (RFC 3261 section 7.1): "invite" is unknown. */
static enum cbar_sip_method method_lookup(const char *p, size_t n)
{
	for (unsigned i = 1; i < CBAR_SIP_METHOD_COUNT; i++)
		if (methods[i].len == n && !memcmp(methods[i].name, p, n))
			return (enum cbar_sip_method)i;
	return CBAR_SIP_UNKNOWN;
}

/* ---- header names --------------------------------------------------------------- */

enum hdr {
	H_OTHER,
	H_VIA,
	H_FROM,
	H_TO,
	H_CALL_ID,
	H_CSEQ,
	H_MAX_FORWARDS,
	H_CONTENT_LENGTH,
	H_CONTACT,
	H_PAI,
	H_REQUIRE,
};

/* Names are case-insensitive; compact forms from RFC 3261 section 7.3.3 and
 * the IANA registry.  Rows with H_OTHER are only recognised, never read. */
static const struct {
	const char *name;
	unsigned char len;
	char compact;
	unsigned char id;
} hdr_names[] = {
	{"Via", 3, 'v', H_VIA},
	{"From", 4, 'f', H_FROM},
	{"To", 2, 't', H_TO},
	{"Call-ID", 7, 'i', H_CALL_ID},
	{"CSeq", 4, 0, H_CSEQ},
	{"Max-Forwards", 12, 0, H_MAX_FORWARDS},
	{"Content-Length", 14, 'l', H_CONTENT_LENGTH},
	{"Contact", 7, 'm', H_CONTACT},
	{"P-Asserted-Identity", 19, 0, H_PAI},
	{"Require", 7, 0, H_REQUIRE},
	{"Content-Type", 12, 'c', H_OTHER},
	{"Content-Encoding", 16, 'e', H_OTHER},
	{"Supported", 9, 'k', H_OTHER},
	{"Subject", 7, 's', H_OTHER},
	{"Event", 5, 'o', H_OTHER},
	{"Allow-Events", 12, 'u', H_OTHER},
	{"Refer-To", 8, 'r', H_OTHER},
	{"Referred-By", 11, 'b', H_OTHER},
	{"Session-Expires", 15, 'x', H_OTHER},
	{"Accept-Contact", 14, 'a', H_OTHER},
	{"Reject-Contact", 14, 'j', H_OTHER},
	{"Request-Disposition", 19, 'd', H_OTHER},
	{"Identity", 8, 'y', H_OTHER},
};

static enum hdr hdr_lookup(const char *p, size_t n)
{
	if (n == 1) {
		char c = (char)(*p | 0x20);
		for (size_t i = 0; i < sizeof hdr_names / sizeof hdr_names[0]; i++)
			if (hdr_names[i].compact == c)
				return (enum hdr)hdr_names[i].id;
		return H_OTHER;
	}
	/* length and first letter before the full compare: most rows fail fast */
	char c = (char)(*p | 0x20);
	for (size_t i = 0; i < sizeof hdr_names / sizeof hdr_names[0]; i++)
		if (hdr_names[i].len == n && (hdr_names[i].name[0] | 0x20) == c &&
		    !strncasecmp(hdr_names[i].name, p, n))
			return (enum hdr)hdr_names[i].id;
	return H_OTHER;
}

/* ---- numbers -------------------------------------------------------------------- */

/* 1*DIGIT up to max, leading zeros allowed; NULL when empty or above max. */
static const char *parse_uint(const char *p, const char *e, uint64_t max, uint64_t *out)
{
	const char *s = p;
	uint64_t v = 0;
	while (p < e && is_digit(*p)) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return NULL;
		p++;
	}
	if (p == s)
		return NULL;
	*out = v;
	return p;
}

/* ---- URIs (RFC 3261 section 19.1, RFC 3966) --------------------------------------- */

static bool parse_host(const char **pp, const char *e, struct cbar_sip_str *host, uint16_t *port)
{
	const char *p = *pp, *s = p;
	if (p < e && *p == '[') {
		p++;
		while (p < e && (is_hex(*p) || *p == ':' || *p == '.'))
			p++;
		if (p == e || *p != ']' || p - s < 3)
			return false;
		p++;
	} else {
		while (p < e && (is_alpha(*p) || is_digit(*p) || *p == '-' || *p == '.'))
			p++;
		if (p == s)
			return false;
	}
	*host = mkstr(s, p);
	*port = 0;
	if (p < e && *p == ':') {
		uint64_t v;
		const char *q = parse_uint(p + 1, e, 65535, &v);
		if (!q || q - (p + 1) > 5)
			return false;
		*port = (uint16_t)v;
		p = q;
	}
	*pp = p;
	return true;
}

/* ;name[=value] pairs of paramchar; records user=phone and phone-context. */
static bool parse_uri_params(const char *p, const char *e, struct cbar_sip_uri *u)
{
	while (p < e) {
		if (*p != ';')
			return false;
		const char *n = ++p;
		if (!(p = span(p, e, C_PARAM, true)) || p == n)
			return false;
		const char *ne = p, *v = p;
		if (p < e && *p == '=') {
			v = ++p;
			if (!(p = span(p, e, C_PARAM, true)) || p == v)
				return false;
		}
		if (ieq(n, (size_t)(ne - n), "user") && ieq(v, (size_t)(p - v), "phone"))
			u->user_phone = true;
		else if (ieq(n, (size_t)(ne - n), "phone-context") && v < p)
			u->phone_context = mkstr(v, p);
	}
	return true;
}

/* tel: number [; params] (RFC 3966, read liberally: the number parser
 * decides what the digits mean). */
static bool parse_tel(const char *p, const char *e, struct cbar_sip_uri *u)
{
	const char *s = p;
	while (p < e && *p != ';') {
		char c = *p;
		if (!(is_hex(c) || c == '+' || c == '*' || c == '#' || c == '-' || c == '.' ||
		      c == '(' || c == ')'))
			return false;
		p++;
	}
	if (p == s)
		return false;
	u->user = mkstr(s, p);
	if (p < e)
		u->params = mkstr(p + 1, e);
	return parse_uri_params(p, e, u);
}

/* The phone-context of a telephone-subscriber in a sip user part
 * ("12345;phone-context=+86"), RFC 3261 section 19.1.6. */
static void user_phone_context(struct cbar_sip_uri *u)
{
	const char *p = u->user.p, *e = p + u->user.len;
	const char *semi = memchr(p, ';', u->user.len);
	while (semi) {
		const char *n = semi + 1;
		const char *next = memchr(n, ';', (size_t)(e - n));
		const char *ve = next ? next : e;
		if (ve - n > 14 && !strncasecmp(n, "phone-context=", 14)) {
			u->phone_context = mkstr(n + 14, ve);
			return;
		}
		semi = next;
	}
}

/*
 * Any URI callbar may meet: sip:, sips:, tel: split into parts; another
 * scheme is an absoluteURI kept whole.  headers: whether '?' headers may
 * follow (not in a Request-URI, RFC 3261 section 19.1.1).
 */
static bool parse_uri(const char *p, const char *e, struct cbar_sip_uri *u, bool headers)
{
	memset(u, 0, sizeof *u);
	u->raw = mkstr(p, e);
	const char *s = p;
	if (p == e || !is_alpha(*p))
		return false;
	while (p < e && (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.'))
		p++;
	if (p == e || *p != ':')
		return false;
	size_t sl = (size_t)(p - s);
	p++;
	if (ieq(s, sl, "tel")) {
		u->scheme = CBAR_SIP_SCHEME_TEL;
		return parse_tel(p, e, u);
	}
	if (!ieq(s, sl, "sip") && !ieq(s, sl, "sips")) {
		u->scheme = CBAR_SIP_SCHEME_OTHER;
		const char *q = span(p, e, C_URIC, true);
		return q == e && q > p;
	}
	u->scheme = sl == 3 ? CBAR_SIP_SCHEME_SIP : CBAR_SIP_SCHEME_SIPS;
	const char *at = memchr(p, '@', (size_t)(e - p));
	if (at) {
		const char *q = span(p, at, C_USER, true);
		if (!q || q == p)
			return false;
		u->user = mkstr(p, q);
		if (q < at) { /* ":" password */
			if (*q != ':' || span(q + 1, at, C_PASS, true) != at)
				return false;
		}
		p = at + 1;
		user_phone_context(u);
	}
	if (!parse_host(&p, e, &u->host, &u->port))
		return false;
	const char *qm = memchr(p, '?', (size_t)(e - p));
	const char *pe = qm ? qm : e;
	if (p < pe)
		u->params = mkstr(p + 1, pe);
	if (!parse_uri_params(p, pe, u))
		return false;
	if (qm) {
		if (!headers)
			return false;
		u->has_headers = true;
		const char *q = span(qm + 1, e, C_HNV | C_UNRES, true);
		while (q && q < e && (*q == '=' || *q == '&'))
			q = span(q + 1, e, C_HNV, true);
		if (q != e)
			return false;
	}
	return true;
}

/* ---- name-addr / addr-spec (RFC 3261 section 20.10, 25.1) -------------------------- */

/* quoted-string from p (at '"'); returns the byte after the closing quote. */
static const char *quoted(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if (++p == e || *p == '\r' || *p == '\n')
				return NULL;
		} else if (c < 0x20 && !is_lws((char)c)) {
			return NULL;
		} else if (c == 0x7f) {
			return NULL;
		}
	}
	return NULL;
}

/* *(SEMI generic-param), stopping at e or (multi) a ','; records tag. */
static const char *hdr_params(const char *p, const char *e, bool multi, struct cbar_sip_str *tag)
{
	for (;;) {
		p = skip_lws(p, e);
		if (p == e || (multi && *p == ','))
			return p;
		if (*p != ';')
			return NULL;
		p = skip_lws(p + 1, e);
		const char *n = p;
		while (p < e && is(p, C_TOKEN))
			p++;
		if (p == n)
			return NULL;
		const char *ne = p;
		p = skip_lws(p, e);
		struct cbar_sip_str v = {p, 0};
		if (p < e && *p == '=') {
			p = skip_lws(p + 1, e);
			const char *vs = p;
			if (p < e && *p == '"') {
				if (!(p = quoted(p, e)))
					return NULL;
			} else {
				while (p < e && (is(p, C_TOKEN) || *p == ':' || *p == '[' || *p == ']'))
					p++;
			}
			if (p == vs)
				return NULL;
			v = mkstr(vs, p);
		}
		if (tag && ieq(n, (size_t)(ne - n), "tag"))
			*tag = v;
	}
}

/* One name-addr or addr-spec with its parameters; returns the end (e, or a
 * ',' when multi) or NULL. */
static const char *parse_addr(const char *p, const char *e, struct cbar_sip_addr *a, bool multi)
{
	p = skip_lws(p, e);
	const char *lt = NULL;
	if (p < e && *p == '"') {
		const char *q = quoted(p, e);
		if (!q)
			return NULL;
		a->display = mkstr(p + 1, q - 1);
		p = skip_lws(q, e);
		if (p == e || *p != '<')
			return NULL;
		lt = p;
	} else if (p < e && *p == '<') {
		lt = p;
	} else {
		/* *(token LWS) before '<', or the scheme of an addr-spec. */
		const char *s = p, *q = p;
		while (q < e && is(q, C_TOKEN))
			q++;
		if (q < e && *q == ':' && q > s) {
			const char *ue = q;
			while (ue < e && !is_lws(*ue) && *ue != ';' && !(multi && *ue == ','))
				ue++;
			if (!parse_uri(s, ue, &a->uri, false))
				return NULL;
			return hdr_params(ue, e, multi, &a->tag);
		}
		while (q < e && (is(q, C_TOKEN) || is_lws(*q)))
			q++;
		if (q == e || *q != '<' || q == s)
			return NULL;
		const char *de = q;
		while (de > s && is_lws(de[-1]))
			de--;
		a->display = mkstr(s, de);
		lt = q;
	}
	const char *gt = memchr(lt, '>', (size_t)(e - lt));
	if (!gt || !parse_uri(lt + 1, gt, &a->uri, true))
		return NULL;
	return hdr_params(gt + 1, e, multi, &a->tag);
}

/* ---- Via (RFC 3261 section 20.42) -------------------------------------------------- */

static const char *via_token(const char *p, const char *e)
{
	const char *s = p = skip_lws(p, e);
	while (p < e && is(p, C_TOKEN))
		p++;
	return p == s ? NULL : p;
}

/* Every value of one Via line; the first value of the first line fills
 * m->top_via.  Returns false on a syntax error. */
static bool parse_via(const char *p, const char *e, struct cbar_sip_msg *m, enum cbar_err *err)
{
	for (;;) {
		struct cbar_sip_via v = {0};
		const char *q;
		/* sent-protocol: name SWS "/" SWS version SWS "/" SWS transport */
		if (!(q = via_token(p, e)))
			return false;
		for (int i = 0; i < 2; i++) {
			q = skip_lws(q, e);
			if (q == e || *q != '/')
				return false;
			const char *ts = skip_lws(q + 1, e);
			if (!(q = via_token(ts, e)))
				return false;
			if (i == 1)
				v.transport = mkstr(ts, q);
		}
		p = skip_lws(q, e);
		if (p == q) /* LWS before sent-by */
			return false;
		/* sent-by: host [ SWS ":" SWS port ] */
		if (!parse_host(&p, e, &v.host, &v.port))
			return false;
		q = skip_lws(p, e);
		if (q < e && *q == ':') {
			uint64_t port;
			if (v.port || !(p = parse_uint(skip_lws(q + 1, e), e, 65535, &port)))
				return false;
			v.port = (uint16_t)port;
		}
		/* via-params */
		for (;;) {
			p = skip_lws(p, e);
			if (p == e || *p == ',')
				break;
			if (*p != ';')
				return false;
			const char *n = skip_lws(p + 1, e);
			if (!(q = via_token(n, e)))
				return false;
			struct cbar_sip_str name = mkstr(n, q), val = {0};
			p = skip_lws(q, e);
			if (p < e && *p == '=') {
				const char *vs = skip_lws(p + 1, e);
				p = vs;
				if (p < e && *p == '"') {
					if (!(p = quoted(p, e)))
						return false;
				} else {
					while (p < e && (is(p, C_TOKEN) || *p == ':' || *p == '[' ||
					                 *p == ']'))
						p++;
				}
				if (p == vs)
					return false;
				val = mkstr(vs, p);
			}
			if (ieq(name.p, name.len, "branch"))
				v.branch = val;
			else if (ieq(name.p, name.len, "received"))
				v.received = val;
			else if (ieq(name.p, name.len, "rport"))
				v.rport = true;
		}
		if (m->nvia == CBAR_SIP_MAX_VIA) {
			*err = CBAR_SIP_TOO_MANY;
			return false;
		}
		if (m->nvia++ == 0)
			m->top_via = v;
		if (p == e)
			return true;
		p++; /* ',' */
	}
}

/* ---- the message ------------------------------------------------------------------------ */

struct ctx {
	const char *buf;
	struct cbar_sip_msg *m;
	enum cbar_err err;
};

static void fail(struct ctx *c, enum cbar_err e, const char *at)
{
	if (!c->err) {
		c->err = e;
		c->m->errat = (size_t)(at - c->buf);
	}
}

/* Method SP Request-URI SP SIP-Version, exactly (RFC 3261 section 7.1:
 * one SP each, none trailing), or SIP-Version SP Status-Code SP Reason. */
static void start_line(struct ctx *c, const char *p, const char *e)
{
	struct cbar_sip_msg *m = c->m;
	if (e - p >= 4 && !strncasecmp(p, "SIP/", 4)) {
		m->kind = CBAR_SIP_RESPONSE;
		const char *sp = memchr(p, ' ', (size_t)(e - p));
		if (!sp || sp - p != 7 || strncasecmp(p, "SIP/2.0", 7)) {
			fail(c, CBAR_SIP_VERSION, p);
			return;
		}
		const char *q = sp + 1;
		uint64_t v;
		const char *d = parse_uint(q, e, 999, &v);
		if (!d || d - q != 3 || v < 100 || v > 699 || d == e || *d != ' ') {
			fail(c, CBAR_SIP_STATUS, q);
			return;
		}
		m->status = (uint16_t)v;
		m->reason = mkstr(d + 1, e);
		return;
	}
	const char *q = p;
	while (q < e && is(q, C_TOKEN))
		q++;
	if (q == p || q == e || *q != ' ') {
		fail(c, CBAR_SIP_START_LINE, q);
		return;
	}
	m->kind = CBAR_SIP_REQUEST;
	m->method_name = mkstr(p, q);
	m->method = method_lookup(p, (size_t)(q - p));
	const char *u = q + 1;
	const char *ue = memchr(u, ' ', (size_t)(e - u));
	if (!ue || ue == u) {
		fail(c, CBAR_SIP_START_LINE, ue ? ue : e);
		return;
	}
	const char *ver = ue + 1;
	/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT */
	const char *d = ver;
	uint64_t maj, min;
	if (e - d < 4 || strncasecmp(d, "SIP/", 4) || !(d = parse_uint(d + 4, e, 999, &maj)) ||
	    d == e || *d != '.' || !(d = parse_uint(d + 1, e, 999, &min)) || d != e) {
		fail(c, CBAR_SIP_START_LINE, ver);
	} else if (maj != 2 || min != 0) {
		fail(c, CBAR_SIP_VERSION, ver);
	}
	if (!parse_uri(u, ue, &m->ruri, false))
		fail(c, CBAR_SIP_URI, u);
}

static void header(struct ctx *c, enum hdr id, const char *p, const char *e)
{
	struct cbar_sip_msg *m = c->m;
	uint64_t v = 0;
	const char *q;
	switch (id) {
	case H_OTHER:
		return;
	case H_VIA: {
		if (m->nvia_lines == CBAR_SIP_MAX_VIA_LINES) {
			fail(c, CBAR_SIP_TOO_MANY, p);
			return;
		}
		m->via_line[m->nvia_lines++] = mkstr(p, e);
		enum cbar_err err = CBAR_SIP_VIA;
		if (!parse_via(p, e, m, &err))
			fail(c, err, p);
		return;
	}
	case H_FROM:
	case H_TO: {
		struct cbar_sip_addr *a = id == H_FROM ? &m->from : &m->to;
		if (a->present) {
			fail(c, CBAR_SIP_DUPLICATE, p);
			return;
		}
		a->present = true;
		if (parse_addr(p, e, a, false) != e)
			fail(c, CBAR_SIP_ADDR, p);
		a->raw = mkstr(p, e);
		return;
	}
	case H_PAI:
		for (q = p;;) {
			if (m->npai == CBAR_SIP_MAX_PAI) {
				fail(c, CBAR_SIP_TOO_MANY, q);
				return;
			}
			struct cbar_sip_addr *a = &m->pai[m->npai++];
			const char *s = skip_lws(q, e);
			a->present = true;
			if (!(q = parse_addr(s, e, a, true))) {
				fail(c, CBAR_SIP_ADDR, s);
				return;
			}
			a->raw = mkstr(s, q);
			if (q == e)
				return;
			q++;
		}
	case H_CONTACT:
		/* Checked, not kept: "*" or a list of name-addr / addr-spec. */
		if (e - p == 1 && *p == '*')
			return;
		for (q = p;;) {
			struct cbar_sip_addr a = {0};
			if (!(q = parse_addr(q, e, &a, true))) {
				fail(c, CBAR_SIP_ADDR, p);
				return;
			}
			if (q == e)
				return;
			q++;
		}
	case H_CALL_ID:
		if (m->call_id.p) {
			fail(c, CBAR_SIP_DUPLICATE, p);
			return;
		}
		m->call_id = mkstr(p, e);
		q = span(p, e, C_WORD, false);
		if (q > p && q < e && *q == '@') {
			const char *w = q + 1;
			q = span(w, e, C_WORD, false);
			if (q == w)
				q = NULL;
		}
		if (q != e || e == p)
			fail(c, CBAR_SIP_CALL_ID, p);
		else
			m->have_call_id = true;
		return;
	case H_CSEQ:
		if (m->cseq_method_name.p || m->have_cseq) {
			fail(c, CBAR_SIP_DUPLICATE, p);
			return;
		}
		q = parse_uint(p, e, UINT32_MAX, &v);
		if (q) {
			const char *ms = skip_lws(q, e), *me = ms;
			while (me < e && is(me, C_TOKEN))
				me++;
			m->cseq_method_name = mkstr(ms, me);
			if (ms > q && me > ms && me == e) {
				m->cseq = (uint32_t)v;
				m->cseq_method = method_lookup(ms, (size_t)(me - ms));
				m->have_cseq = true;
				return;
			}
		}
		if (!m->cseq_method_name.p)
			m->cseq_method_name = mkstr(p, p);
		fail(c, CBAR_SIP_CSEQ, p);
		return;
	case H_MAX_FORWARDS:
		if (m->max_forwards >= 0 || m->max_forwards == -2) {
			fail(c, CBAR_SIP_DUPLICATE, p);
			return;
		}
		if (parse_uint(p, e, 255, &v) != e) {
			m->max_forwards = -2; /* seen, bad */
			fail(c, CBAR_SIP_MAX_FORWARDS, p);
			return;
		}
		m->max_forwards = (int)v;
		return;
	case H_CONTENT_LENGTH:
		if (m->has_content_length || parse_uint(p, e, UINT32_MAX, &v) != e) {
			fail(c, CBAR_SIP_CONTENT_LENGTH, p);
			return;
		}
		m->has_content_length = true;
		m->content_length = (uint32_t)v;
		return;
	case H_REQUIRE:
		if (p == e)
			return;
		if (m->nrequire == CBAR_SIP_MAX_REQUIRE) {
			fail(c, CBAR_SIP_TOO_MANY, p);
			return;
		}
		m->require[m->nrequire++] = mkstr(p, e);
		return;
	}
}

/* The end of the line at p: *le is where its content ends (before CR LF or
 * a bare LF), the return is the start of the next line; NULL: no LF. */
static const char *line_end(const char *p, const char *e, const char **le)
{
	const char *lf = memchr(p, '\n', (size_t)(e - p));
	if (!lf)
		return NULL;
	*le = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
	return lf + 1;
}

enum cbar_err cbar_sip_parse(const char *buf, size_t len, enum cbar_sip_transport tp,
                             struct cbar_sip_msg *m)
{
	memset(m, 0, sizeof *m);
	m->max_forwards = -1;
	struct ctx c = {buf, m, CBAR_OK};
	const char *p = buf, *e = buf + len;
	/* CRLFs before the start line are keep-alives (RFC 3261 section 7.5). */
	while (p < e && (*p == '\r' || *p == '\n'))
		p++;
	if (p == e) {
		m->errat = len;
		return CBAR_SIP_EMPTY;
	}
	const char *le, *next = line_end(p, e, &le);
	if (!next) {
		fail(&c, CBAR_SIP_START_LINE, e);
		return c.err;
	}
	start_line(&c, p, le);
	if (m->kind == CBAR_SIP_NONE)
		return c.err;
	p = next;
	/* Header fields up to the empty line; continuation lines (starting
	 * with SP or HT) belong to the field before them. */
	for (;;) {
		if (p == e) {
			fail(&c, CBAR_SIP_HEADER, p);
			break;
		}
		if (*p == '\n' || (*p == '\r' && e - p > 1 && p[1] == '\n')) {
			p += *p == '\n' ? 1 : 2;
			break;
		}
		const char *ns = p;
		while (p < e && is(p, C_TOKEN))
			p++;
		const char *ne = p;
		while (p < e && is_wsp(*p))
			p++;
		bool ok = ne > ns && p < e && *p == ':';
		const char *vs = ok ? p + 1 : p;
		if (!(next = line_end(vs, e, &le))) {
			fail(&c, CBAR_SIP_HEADER, vs);
			break;
		}
		while (next < e && is_wsp(*next)) {
			const char *n2 = line_end(next, e, &le);
			if (!n2) {
				fail(&c, CBAR_SIP_HEADER, next);
				next = e;
				le = e;
				break;
			}
			next = n2;
		}
		if (!ok) {
			fail(&c, CBAR_SIP_HEADER, ns);
		} else {
			const char *ve = le;
			vs = skip_lws(vs, ve);
			while (ve > vs && is_lws(ve[-1]))
				ve--;
			header(&c, hdr_lookup(ns, (size_t)(ne - ns)), vs, ve);
		}
		p = next;
	}
	/* The body: Content-Length octets; over UDP without one, the rest of
	 * the datagram (RFC 3261 section 18.3); bytes after it are ignored. */
	size_t hlen = (size_t)(p - buf), avail = (size_t)(e - p);
	if (m->has_content_length) {
		m->msg_len = hlen + m->content_length;
		if (m->content_length > avail)
			fail(&c, CBAR_SIP_CONTENT_LENGTH, p);
		else
			m->body = mkstr(p, p + m->content_length);
	} else {
		size_t b = tp == CBAR_SIP_DGRAM ? avail : 0;
		m->body = mkstr(p, p + b);
		m->msg_len = hlen + b;
	}
	if (m->msg_len > CBAR_SIP_MAX_MSG || len > CBAR_SIP_MAX_MSG) {
		c.err = CBAR_SIP_TOO_BIG;
		m->errat = CBAR_SIP_MAX_MSG;
	}
	if (m->kind == CBAR_SIP_REQUEST && !c.err &&
	    (!m->nvia_lines || !m->from.present || !m->to.present || !m->call_id.p ||
	     !m->cseq_method_name.p || m->max_forwards == -1))
		fail(&c, CBAR_SIP_MISSING, p);
	return c.err;
}

/* ---- TCP framing ------------------------------------------------------------------------ */

enum cbar_err cbar_sip_frame(const char *buf, size_t len, size_t *skip, size_t *msglen,
                             bool *ping)
{
	const char *p = buf, *e = buf + len;
	while (p < e && (*p == '\r' || *p == '\n'))
		p++;
	*skip = (size_t)(p - buf);
	*ping = *skip >= 4 && !memcmp(buf, "\r\n\r\n", 4);
	*msglen = 0;
	if (p == e)
		return CBAR_SIP_MORE;
	/* The empty line ending the headers: LF (CR) LF. */
	const char *hend = NULL, *q = p;
	for (;;) {
		const char *lf = memchr(q, '\n', (size_t)(e - q));
		if (!lf || lf + 1 == e)
			break;
		if (lf[1] == '\n') {
			hend = lf + 2;
			break;
		}
		if (lf[1] == '\r') {
			if (lf + 2 == e)
				break;
			if (lf[2] == '\n') {
				hend = lf + 3;
				break;
			}
		}
		q = lf + 1;
	}
	if (!hend)
		return (size_t)(e - p) > CBAR_SIP_MAX_MSG ? CBAR_SIP_TOO_BIG : CBAR_SIP_MORE;
	if ((size_t)(hend - p) > CBAR_SIP_MAX_MSG)
		return CBAR_SIP_TOO_BIG;
	/* Content-Length (or l) at the start of a line, folded values too. */
	uint64_t cl = 0;
	bool seen = false;
	for (q = p; q < hend;) {
		const char *le, *next = line_end(q, hend, &le);
		if (!next)
			break;
		const char *ns = q;
		while (q < le && is(q, C_TOKEN))
			q++;
		const char *ne = q;
		while (q < le && is_wsp(*q))
			q++;
		if (ne > ns && q < le && *q == ':' &&
		    hdr_lookup(ns, (size_t)(ne - ns)) == H_CONTENT_LENGTH) {
			while (next < hend && is_wsp(*next)) {
				const char *n2 = line_end(next, hend, &le);
				if (!n2)
					break;
				next = n2;
			}
			const char *vs = skip_lws(q + 1, le), *ve = le;
			while (ve > vs && is_lws(ve[-1]))
				ve--;
			const char *d = vs;
			while (d < ve && is_digit(*d))
				d++;
			if (seen || d == vs || d != ve)
				return CBAR_SIP_CONTENT_LENGTH;
			if (!parse_uint(vs, ve, CBAR_SIP_MAX_MSG, &cl))
				return CBAR_SIP_TOO_BIG;
			seen = true;
		}
		q = next;
	}
	size_t total = (size_t)(hend - p) + (size_t)cl;
	if (total > CBAR_SIP_MAX_MSG)
		return CBAR_SIP_TOO_BIG;
	if ((size_t)(e - p) < total)
		return CBAR_SIP_MORE;
	*msglen = total;
	return CBAR_OK;
}

bool cbar_sip_header_find(const char *buf, size_t len, const char *name, size_t nlen,
                          struct cbar_sip_str *out)
{
	const char *p = memchr(buf, '\n', len), *end = buf + len;
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			return false; /* the blank line: the body starts */
		size_t k = 0;
		while (k < n && k < nlen && (p[k] | 0x20) == (name[k] | 0x20))
			k++;
		if (k == nlen) {
			size_t c = k;
			while (c < n && (p[c] == ' ' || p[c] == '\t'))
				c++;
			if (c < n && p[c] == ':') {
				c++;
				while (c < n && (p[c] == ' ' || p[c] == '\t'))
					c++;
				while (n > c && (p[n - 1] == ' ' || p[n - 1] == '\t'))
					n--;
				out->p = p + c;
				out->len = n - c;
				return true;
			}
		}
		p = eol;
	}
	return false;
}
