/*
 * callbar: what to answer a SIP request, and the answer's bytes.
 * Stateless (RFC 3261 section 8.3 redirect server): the reply is a pure
 * function of the request and the verdict, so a retransmission gets the
 * same bytes, To-tag included.
 */
#include <string.h>

#include "callbar/sip.h"

/* ---- status phrases ------------------------------------------------------- */

static const struct {
	uint16_t code;
	const char *phrase;
} phrases[] = {
	{100, "Trying"},
	{200, "OK"},
	{302, "Moved Temporarily"},
	{400, "Bad Request"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{416, "Unsupported URI Scheme"},
	{420, "Bad Extension"},
	{483, "Too Many Hops"},
	{500, "Server Internal Error"},
	{501, "Not Implemented"},
	{503, "Service Unavailable"},
	{505, "Version Not Supported"},
	{513, "Message Too Large"},
	{603, "Decline"},
};

const char *cbar_sip_status_phrase(uint16_t status)
{
	for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
		if (phrases[i].code == status)
			return phrases[i].phrase;
	static const char *const cls[] = {"Provisional", "Success", "Redirection",
	                                  "Client Error", "Server Error", "Global Failure"};
	return status >= 100 && status <= 699 ? cls[status / 100 - 1] : "";
}

/* ---- triage ------------------------------------------------------------------ */

static bool same(struct cbar_sip_str a, struct cbar_sip_str b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

enum cbar_sip_next cbar_sip_triage(const struct cbar_sip_msg *m, enum cbar_err perr,
                                   const struct cbar_sip_cfg *cfg, uint16_t *status)
{
	*status = 0;
	/* Never answer a response, an ACK (RFC 3261 section 17.2.1: it ends
	 * our INVITE transaction), or what has no request line and Via. */
	if (m->kind != CBAR_SIP_REQUEST || m->method == CBAR_SIP_ACK || !m->nvia_lines)
		return CBAR_SIP_DROP;
	if (perr) {
		*status = perr == CBAR_SIP_TOO_BIG ? 513 : perr == CBAR_SIP_VERSION ? 505 : 400;
		return CBAR_SIP_ANSWER;
	}
	/* RFC 3261 section 8.2: method, then headers, then the request. */
	if (m->method == CBAR_SIP_UNKNOWN) {
		*status = 501;
	} else if (!same(m->method_name, m->cseq_method_name)) {
		*status = 400;
	} else if (m->method != CBAR_SIP_INVITE && m->method != CBAR_SIP_MESSAGE &&
	           m->method != CBAR_SIP_OPTIONS && m->method != CBAR_SIP_CANCEL) {
		*status = 405;
	} else if (m->ruri.scheme != CBAR_SIP_SCHEME_SIP && m->ruri.scheme != CBAR_SIP_SCHEME_SIPS &&
	           m->ruri.scheme != CBAR_SIP_SCHEME_TEL) {
		*status = 416;
	} else if (m->nrequire && !(cfg && cfg->ignore_require) && m->method != CBAR_SIP_CANCEL) {
		*status = 420;
	} else if (m->method == CBAR_SIP_OPTIONS || m->method == CBAR_SIP_CANCEL) {
		/* OPTIONS with Max-Forwards 0: callbar is the final recipient
		 * (RFC 3261 section 16.3 item 2).  CANCEL: the INVITE already had
		 * its final answer, so the CANCEL has nothing left to cancel. */
		*status = 200;
	} else if (m->max_forwards == 0) {
		*status = 483;
	} else {
		return CBAR_SIP_DECIDE;
	}
	return CBAR_SIP_ANSWER;
}

uint16_t cbar_sip_verdict_status(const struct cbar_sip_cfg *cfg, enum cbar_sip_verdict v)
{
	switch (v) {
	case CBAR_SIP_ALLOW:
		return 302;
	case CBAR_SIP_BLOCK:
		return cfg && cfg->block_status == 603 ? 603 : 403;
	case CBAR_SIP_ERROR:
		break;
	}
	return cfg && cfg->fail_open ? 302 : 500;
}

/* ---- numbers ---------------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum cbar_err cbar_sip_number_text(const struct cbar_sip_msg *m, enum cbar_sip_source src,
                                   char *buf, size_t cap, size_t *len)
{
	const struct cbar_sip_uri *u = NULL;
	switch (src) {
	case CBAR_SIP_SRC_RURI:
		u = m->kind == CBAR_SIP_REQUEST ? &m->ruri : NULL;
		break;
	case CBAR_SIP_SRC_TO:
		u = m->to.present ? &m->to.uri : NULL;
		break;
	case CBAR_SIP_SRC_FROM:
		u = m->from.present ? &m->from.uri : NULL;
		break;
	case CBAR_SIP_SRC_PAI:
		for (unsigned i = 0; i < m->npai; i++)
			if (!u || m->pai[i].uri.scheme == CBAR_SIP_SCHEME_TEL)
				u = u && u->scheme == CBAR_SIP_SCHEME_TEL ? u : &m->pai[i].uri;
		break;
	}
	*len = 0;
	if (!u || !u->user.len ||
	    (u->scheme != CBAR_SIP_SCHEME_SIP && u->scheme != CBAR_SIP_SCHEME_SIPS &&
	     u->scheme != CBAR_SIP_SCHEME_TEL))
		return CBAR_SIP_NO_NUMBER;
	/* The number: the user part up to its first ';' (a telephone-subscriber's
	 * parameters), %HH unescaped in sip user parts. */
	const char *p = u->user.p, *e = p + u->user.len;
	const char *semi = memchr(p, ';', u->user.len);
	if (semi)
		e = semi;
	size_t n = 0;
	bool ctx = u->phone_context.len > 0;
	if (ctx) {
		if (cap < 5)
			return CBAR_SIP_BUFFER;
		memcpy(buf, "tel:", 4);
		n = 4;
	}
	for (; p < e; p++) {
		char c = *p;
		int h1, h2;
		if (c == '%' && e - p >= 3 && (h1 = hexval(p[1])) >= 0 && (h2 = hexval(p[2])) >= 0) {
			c = (char)(h1 * 16 + h2);
			p += 2;
		}
		if (n + 1 >= cap)
			return CBAR_SIP_BUFFER;
		buf[n++] = c;
	}
	if (ctx) {
		static const char pc[] = ";phone-context=";
		size_t need = sizeof pc - 1 + u->phone_context.len;
		if (n + need + 1 > cap)
			return CBAR_SIP_BUFFER;
		memcpy(buf + n, pc, sizeof pc - 1);
		memcpy(buf + n + sizeof pc - 1, u->phone_context.p, u->phone_context.len);
		n += need;
	}
	buf[n] = 0;
	*len = n;
	return CBAR_OK;
}

enum cbar_err cbar_sip_number(const struct cbar_numplan *np, uint16_t country,
                              const struct cbar_sip_msg *m, enum cbar_sip_source src,
                              struct cbar_number *out)
{
	char buf[CBAR_SIP_NUMBER_MAX];
	size_t len;
	enum cbar_err e = cbar_sip_number_text(m, src, buf, sizeof buf, &len);
	if (e)
		return e;
	return cbar_number_parse(np, country, buf, len, out, NULL);
}

/* ---- the To-tag ------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, struct cbar_sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 0x100000001b3u;
	}
	/* a separator, so ("ab","c") and ("a","bc") differ */
	h ^= 0xff;
	return h * 0x100000001b3u;
}

void cbar_sip_to_tag(const struct cbar_sip_msg *m, char buf[17])
{
	uint64_t h = 0xcbf29ce484222325u;
	h = fnv(h, m->call_id);
	h = fnv(h, m->from.tag);
	h = fnv(h, m->top_via.branch);
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--, h >>= 4)
		buf[i] = hex[h & 15];
	buf[16] = 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* A capped writer: once something does not fit, nothing more is written. */
struct w {
	char *p;
	size_t cap, len;
	bool over;
};

static void put(struct w *w, const char *s, size_t n)
{
	if (w->over || n > w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void puts_(struct w *w, const char *s)
{
	put(w, s, strlen(s));
}

/* A header value from the request, unfolded: CR and LF dropped (folding is
 * CRLF followed by SP or HT, which stays). */
static void put_unfolded(struct w *w, struct cbar_sip_str v)
{
	const char *p = v.p, *e = p + v.len;
	while (p < e) {
		const char *q = p;
		while (q < e && *q != '\r' && *q != '\n')
			q++;
		put(w, p, (size_t)(q - p));
		while (q < e && (*q == '\r' || *q == '\n'))
			q++;
		p = q;
	}
}

/* Text from the operator (rule names, announcements): control characters
 * dropped so nothing can end the header; in a quoted string '"' and '\'
 * are escaped. */
static void put_text(struct w *w, const char *s, size_t n, bool quote)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			continue;
		if (quote && (c == '"' || c == '\\'))
			put(w, "\\", 1);
		put(w, s + i, 1);
	}
}

static void put_uint(struct w *w, uint32_t v)
{
	char d[10];
	int n = 0;
	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, d + sizeof d - n, (size_t)n);
}

enum cbar_err cbar_sip_reply_build(const struct cbar_sip_msg *m, const struct cbar_sip_reply *r,
                                   char *out, size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (r->status < 100 || r->status > 699)
		return CBAR_INVAL;
	struct w w = {out, cap, 0, false};
	puts_(&w, "SIP/2.0 ");
	put_uint(&w, r->status);
	puts_(&w, " ");
	puts_(&w, cbar_sip_status_phrase(r->status));
	puts_(&w, "\r\n");
	for (unsigned i = 0; i < m->nvia_lines; i++) {
		puts_(&w, "Via: ");
		put_unfolded(&w, m->via_line[i]);
		puts_(&w, "\r\n");
	}
	if (m->from.present) {
		puts_(&w, "From: ");
		put_unfolded(&w, m->from.raw);
		puts_(&w, "\r\n");
	}
	if (m->to.present) {
		puts_(&w, "To: ");
		put_unfolded(&w, m->to.raw);
		if (!m->to.tag.p && r->status != 100) {
			char tag[17];
			cbar_sip_to_tag(m, tag);
			puts_(&w, ";tag=");
			put(&w, tag, 16);
		}
		puts_(&w, "\r\n");
	}
	if (m->call_id.len) {
		puts_(&w, "Call-ID: ");
		put_unfolded(&w, m->call_id);
		puts_(&w, "\r\n");
	}
	if (m->have_cseq) {
		puts_(&w, "CSeq: ");
		put_uint(&w, m->cseq);
		puts_(&w, " ");
		put(&w, m->cseq_method_name.p, m->cseq_method_name.len);
		puts_(&w, "\r\n");
	}
	if (r->status >= 300 && r->status < 400 && r->contact) {
		puts_(&w, "Contact: <");
		put_text(&w, r->contact, r->contact_len, false);
		puts_(&w, ">\r\n");
	} else if (r->status >= 300 && r->status < 400 && m->ruri.raw.len) {
		puts_(&w, "Contact: <");
		put(&w, m->ruri.raw.p, m->ruri.raw.len);
		puts_(&w, ">\r\n");
	}
	if (r->status == 403 || r->status == 603) {
		if (r->reason) {
			puts_(&w, "Reason: Q.850;cause=");
			put_uint(&w, r->q850_cause ? r->q850_cause : 21);
			puts_(&w, ";text=\"");
			put_text(&w, r->reason, r->reason_len, true);
			puts_(&w, "\"\r\n");
		}
		if (r->rule) {
			puts_(&w, CBAR_SIP_HDR_RULE ": ");
			put_text(&w, r->rule, r->rule_len, false);
			puts_(&w, "\r\n");
		}
		if (r->announcement) {
			puts_(&w, CBAR_SIP_HDR_ANNOUNCEMENT ": ");
			put_text(&w, r->announcement, r->announcement_len, false);
			puts_(&w, "\r\n");
		}
		if (r->warning) {
			puts_(&w, "Warning: 399 callbar \"");
			put_text(&w, r->warning, r->warning_len, true);
			puts_(&w, "\"\r\n");
		}
	}
	/* A call let through says why too: the rule that allowed it, its
	 * reason, and the unlock record that exempted it from a bar. */
	if (r->status >= 300 && r->status < 400) {
		if (r->rule) {
			puts_(&w, CBAR_SIP_HDR_RULE ": ");
			put_text(&w, r->rule, r->rule_len, false);
			puts_(&w, "\r\n");
		}
		if (r->reason) {
			puts_(&w, CBAR_SIP_HDR_REASON ": ");
			put_text(&w, r->reason, r->reason_len, false);
			puts_(&w, "\r\n");
		}
	}
	if (r->unlock && r->status >= 300 && r->status < 700) {
		puts_(&w, CBAR_SIP_HDR_UNLOCK ": ");
		put_text(&w, r->unlock, r->unlock_len, false);
		puts_(&w, "\r\n");
	}
	if (r->status == 405 || r->status == 501 ||
	    (r->status == 200 && m->method == CBAR_SIP_OPTIONS))
		puts_(&w, "Allow: " CBAR_SIP_ALLOW_METHODS "\r\n");
	if (r->status == 420 && m->nrequire) {
		puts_(&w, "Unsupported: ");
		for (unsigned i = 0; i < m->nrequire; i++) {
			if (i)
				puts_(&w, ", ");
			put_unfolded(&w, m->require[i]);
		}
		puts_(&w, "\r\n");
	}
	puts_(&w, "Content-Length: 0\r\n\r\n");
	if (w.over)
		return CBAR_SIP_BUFFER;
	*outlen = w.len;
	return CBAR_OK;
}
