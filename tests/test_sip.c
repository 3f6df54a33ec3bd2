/*
 * callbar tests: the SIP parser, triage and reply builder, driven by
 * sip/cases.txt (RFC 4475 torture messages under sip/rfc4475/ and our own).
 *
 * Each case: SOURCE | EXPECTATIONS.  SOURCE is @NAME for the file
 * sip/NAME (bytes as they are), @gen:NAME for a message this driver builds
 * (oversize ones), or a quoted message with C escapes.  Expectations are
 * key=value pairs (see the head of cases.txt).  Whatever the expectations,
 * every case also checks: a reply is built for every message that gets
 * one, it re-parses as a response with the same status, Call-ID and Via
 * count, two builds give the same bytes, every smaller buffer is refused
 * without a byte written past its end; and every message that parses is
 * framed for TCP correctly when it arrives split at every byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callbar/data.h"
#include "callbar/sip.h"
#include "casefile.h"

static struct cbar_numplan *np;
static const char *dir;

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

static char *load(const struct tcase *c, size_t *len)
{
	const char *src = c->field[0];
	if (!strncmp(src, "@gen:", 5)) {
		/* INVITE whose body passes CBAR_SIP_MAX_MSG */
		size_t body = !strcmp(src + 5, "big") ? 70000 : 100;
		char *b = malloc(body + 1024);
		int n = snprintf(b, 1024,
		                 "INVITE sip:+85291234567@gw.example SIP/2.0\r\n"
		                 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbig\r\n"
		                 "From: <sip:+8613805710000@sw.example>;tag=big1\r\n"
		                 "To: <sip:+85291234567@gw.example>\r\n"
		                 "Call-ID: big@192.0.2.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		                 "Content-Length: %zu\r\n\r\n",
		                 body);
		memset(b + n, 'x', body);
		*len = (size_t)n + body;
		return b;
	}
	if (src[0] != '@') {
		char *b = malloc(c->len[0] ? c->len[0] : 1);
		memcpy(b, src, c->len[0]);
		*len = c->len[0];
		return b;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, src + 1);
	FILE *f = fopen(path, "rb");
	if (!f)
		FAILF(c, "cannot open %s\n", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(n > 0 ? (size_t)n : 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		FAILF(c, "short read %s\n", path);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* \r \n \t \xNN \\ in an expected text, in place (case_expect() ends a
 * quoted value at the first '"', so a quote is written \x22). */
static size_t unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		unsigned v;
		if (*p == '\\' && p[1] == 'x' && sscanf(p + 2, "%2x", &v) == 1) {
			*o++ = (char)v;
			p += 3;
		} else if (*p == '\\' && p[1]) {
			p++;
			*o++ = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return (size_t)(o - s);
}

static void check(const struct tcase *c, const char *key, const char *got)
{
	char want[512];
	if (!case_expect(c->field[1], key, want, sizeof want))
		return;
	unescape(want);
	if (!got)
		got = "-";
	if (strcmp(want, got))
		FAILF(c, "%s: want \"%s\", got \"%s\"\n", key, want, got);
}

static const char *str(struct cbar_sip_str s, char *buf, size_t cap)
{
	if (!s.p)
		return "-";
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(buf, s.p, n);
	buf[n] = 0;
	return buf;
}

static const char *num(unsigned long v, char *buf)
{
	snprintf(buf, 24, "%lu", v);
	return buf;
}

static const char *const next_names[] = {"drop", "answer", "decide"};
static const char *const kind_names[] = {"none", "request", "response"};
static const char *const scheme_names[] = {"-", "sip", "sips", "tel", "other"};

/* Build the reply for status and check the invariants every reply holds. */
static void check_reply(const struct tcase *c, const struct cbar_sip_msg *m, bool ok,
                        const struct cbar_sip_reply *r, char *out, size_t *outlen)
{
	static char buf[70000], again[70000];
	size_t len, len2;
	enum cbar_err e = cbar_sip_reply_build(m, r, buf, sizeof buf, &len);
	if (e)
		FAILF(c, "reply %u: %s\n", r->status, cbar_err_name(e));
	if (cbar_sip_reply_build(m, r, again, sizeof again, &len2) || len2 != len ||
	    memcmp(buf, again, len))
		FAILF(c, "reply is not deterministic\n");
	/* every cap below the size is refused, nothing written past it */
	for (size_t cap = 0; cap < len; cap += 1 + cap / 8) {
		memset(again, 0x5a, len + 1);
		if (cbar_sip_reply_build(m, r, again, cap, &len2) != CBAR_SIP_BUFFER)
			FAILF(c, "cap %zu of %zu not refused\n", cap, len);
		for (size_t i = cap; i <= len; i++)
			if (again[i] != 0x5a)
				FAILF(c, "cap %zu: byte %zu written\n", cap, i);
	}
	struct cbar_sip_msg rm;
	e = cbar_sip_parse(buf, len, CBAR_SIP_DGRAM, &rm);
	/* a 400 echoes the request's malformed headers: only its status line
	 * is sure to parse */
	if (!ok && rm.kind == CBAR_SIP_RESPONSE && rm.status == r->status)
		goto done;
	if (e || rm.kind != CBAR_SIP_RESPONSE || rm.status != r->status)
		FAILF(c, "reply does not parse: %s at %zu:\n%.*s\n", cbar_err_name(e), rm.errat,
		      (int)len, buf);
	if (rm.nvia != m->nvia || rm.call_id.len != m->call_id.len ||
	    (m->call_id.len && memcmp(rm.call_id.p, m->call_id.p, m->call_id.len)))
		FAILF(c, "reply lost Via or Call-ID\n");
	if (m->to.present && r->status != 100 && !rm.to.tag.len)
		FAILF(c, "reply To has no tag\n");
done:
	memcpy(out, buf, len);
	*outlen = len;
}

/* A stream carrying CRLF keep-alives and then the message, cut at every
 * byte: incomplete until the last byte, then exactly the message. */
static void check_frame(const struct tcase *c, const char *msg, size_t mlen)
{
	size_t n = 4 + mlen;
	char *s = malloc(n);
	memcpy(s, "\r\n\r\n", 4);
	memcpy(s + 4, msg, mlen);
	for (size_t k = 0; k <= n; k++) {
		char *exact = malloc(k ? k : 1);
		memcpy(exact, s, k);
		size_t skip, ml;
		bool ping;
		enum cbar_err e = cbar_sip_frame(exact, k, &skip, &ml, &ping);
		free(exact);
		if (k < n && e != CBAR_SIP_MORE)
			FAILF(c, "frame at %zu of %zu: %s\n", k, n, cbar_err_name(e));
		if (k == n && (e || skip != 4 || ml != mlen || !ping))
			FAILF(c, "frame of all %zu: %s skip %zu len %zu\n", n, cbar_err_name(e),
			      skip, ml);
	}
	free(s);
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	char b1[512], b2[24];
	if (c->nfields != 2)
		FAILF(c, "want 2 fields: SOURCE | EXPECTATIONS\n");
	size_t len;
	char *buf = load(c, &len);
	char want[256];
	enum cbar_sip_transport tp = case_expect(c->field[1], "tcp", want, sizeof want)
		                             ? CBAR_SIP_STREAM
		                             : CBAR_SIP_DGRAM;
	static struct cbar_sip_msg m;
	enum cbar_err e = cbar_sip_parse(buf, len, tp, &m);
	check(c, "parse", e ? cbar_err_name(e) : "ok");
	check(c, "kind", kind_names[m.kind]);
	check(c, "method", cbar_sip_method_name(m.method));
	check(c, "method_name", str(m.method_name, b1, sizeof b1));
	check(c, "ruri", str(m.ruri.raw, b1, sizeof b1));
	check(c, "ruri_scheme", scheme_names[m.ruri.scheme]);
	check(c, "ruri_user", str(m.ruri.user, b1, sizeof b1));
	check(c, "ruri_host", str(m.ruri.host, b1, sizeof b1));
	check(c, "user_phone", m.ruri.user_phone ? "yes" : "no");
	check(c, "phone_context", str(m.ruri.phone_context, b1, sizeof b1));
	check(c, "resp_status", num(m.status, b2));
	check(c, "call_id", str(m.call_id, b1, sizeof b1));
	check(c, "cseq", num(m.cseq, b2));
	check(c, "cseq_method", str(m.cseq_method_name, b1, sizeof b1));
	check(c, "max_forwards", m.max_forwards < 0 ? "-" : num((unsigned long)m.max_forwards, b2));
	check(c, "vias", num(m.nvia, b2));
	check(c, "via_lines", num(m.nvia_lines, b2));
	check(c, "branch", str(m.top_via.branch, b1, sizeof b1));
	check(c, "via_host", str(m.top_via.host, b1, sizeof b1));
	check(c, "via_port", num(m.top_via.port, b2));
	check(c, "transport", str(m.top_via.transport, b1, sizeof b1));
	check(c, "from_user", str(m.from.uri.user, b1, sizeof b1));
	check(c, "from_tag", str(m.from.tag, b1, sizeof b1));
	check(c, "from_display", str(m.from.display, b1, sizeof b1));
	check(c, "to_user", str(m.to.uri.user, b1, sizeof b1));
	check(c, "to_tag", str(m.to.tag, b1, sizeof b1));
	check(c, "to_scheme", scheme_names[m.to.uri.scheme]);
	check(c, "pai", num(m.npai, b2));
	check(c, "body_len", num(m.body.len, b2));
	check(c, "msg_len", num(m.msg_len, b2));
	check(c, "require", num(m.nrequire, b2));
	static const char *const srcname[] = {"num_ruri", "num_to", "num_from", "num_pai"};
	for (int s = 0; s < 4; s++) {
		char nb[CBAR_SIP_NUMBER_MAX];
		size_t nl;
		enum cbar_err ne = cbar_sip_number_text(&m, (enum cbar_sip_source)s, nb, sizeof nb, &nl);
		check(c, srcname[s], ne ? cbar_err_name(ne) : nb);
		char key[16];
		snprintf(key, sizeof key, "e164_%s", srcname[s] + 4);
		struct cbar_number n;
		if (case_expect(c->field[1], key, want, sizeof want)) {
			ne = cbar_sip_number(np, cbar_numplan_country(np, "CN", 2), &m,
			                     (enum cbar_sip_source)s, &n);
			char got[24];
			snprintf(got, sizeof got, "+%s", n.digits);
			check(c, key, ne ? cbar_err_name(ne) : got);
		}
	}

	struct cbar_sip_cfg cfg = {0};
	if (case_expect(c->field[1], "cfg", want, sizeof want)) {
		cfg.block_status = strstr(want, "603") ? 603 : 403;
		cfg.fail_open = strstr(want, "open") != NULL;
		cfg.ignore_require = strstr(want, "norequire") != NULL;
	}
	uint16_t status;
	enum cbar_sip_next next = cbar_sip_triage(&m, e, &cfg, &status);
	check(c, "next", next_names[next]);
	struct cbar_sip_reply r = {.status = status};
	if (next == CBAR_SIP_DECIDE) {
		enum cbar_sip_verdict v = CBAR_SIP_ALLOW;
		if (case_expect(c->field[1], "verdict", want, sizeof want))
			v = !strcmp(want, "block") ? CBAR_SIP_BLOCK
			    : !strcmp(want, "error") ? CBAR_SIP_ERROR
			                             : CBAR_SIP_ALLOW;
		r.status = cbar_sip_verdict_status(&cfg, v);
		r.reason = "intl-locked";
		r.reason_len = 11;
		r.rule = "block out voice to foreign line 9";
		r.rule_len = strlen(r.rule);
		r.announcement = "unlock-intl-zh";
		r.announcement_len = strlen(r.announcement);
		/* a quote, a backslash and a line break: escaped, escaped, dropped */
		r.warning = "发送\"1219\"\\到\n10086";
		r.warning_len = strlen(r.warning);
	}
	check(c, "reply", next == CBAR_SIP_DROP ? "-" : num(r.status, b2));
	if (next != CBAR_SIP_DROP) {
		static char out[70000];
		size_t olen;
		check_reply(c, &m, !e, &r, out, &olen);
		out[olen] = 0;
		for (int i = 1; i <= 5; i++) {
			char key[16];
			snprintf(key, sizeof key, i == 1 ? "has" : "has%d", i);
			if (case_expect(c->field[1], key, want, sizeof want) &&
			    !memmem(out, olen, want, unescape(want)))
				FAILF(c, "reply lacks \"%s\":\n%s\n", want, out);
		}
		if (case_expect(c->field[1], "lacks", want, sizeof want) &&
		    memmem(out, olen, want, unescape(want)))
			FAILF(c, "reply has \"%s\":\n%s\n", want, out);
	}
	/* TCP: every message that parsed, split at every byte. */
	if (!e && m.has_content_length && m.msg_len <= len)
		check_frame(c, buf, m.msg_len);
	free(buf);
}

/* Stateless: a retransmission gets the same To-tag; another branch does not. */
static void test_to_tag(void **state)
{
	(void)state;
	const char *a = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	                "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\n"
	                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n";
	const char *b = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\n"
	                "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\n"
	                "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n";
	struct cbar_sip_msg ma, mb;
	assert_int_equal(cbar_sip_parse(a, strlen(a), CBAR_SIP_DGRAM, &ma), CBAR_OK);
	assert_int_equal(cbar_sip_parse(b, strlen(b), CBAR_SIP_DGRAM, &mb), CBAR_OK);
	char ta[17], ta2[17], tb[17];
	cbar_sip_to_tag(&ma, ta);
	cbar_sip_to_tag(&ma, ta2);
	cbar_sip_to_tag(&mb, tb);
	assert_string_equal(ta, ta2);
	assert_string_not_equal(ta, tb);
}

/* TCP framing edge cases not tied to one message. */
static void test_frame(void **state)
{
	(void)state;
	size_t skip, len;
	bool ping;
	assert_int_equal(cbar_sip_frame("\r\n", 2, &skip, &len, &ping), CBAR_SIP_MORE);
	assert_int_equal(skip, 2);
	assert_false(ping);
	assert_int_equal(cbar_sip_frame("\r\n\r\n", 4, &skip, &len, &ping), CBAR_SIP_MORE);
	assert_true(ping);
	const char *neg = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n";
	assert_int_equal(cbar_sip_frame(neg, strlen(neg), &skip, &len, &ping),
	                 CBAR_SIP_CONTENT_LENGTH);
	const char *two = "OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx";
	assert_int_equal(cbar_sip_frame(two, strlen(two), &skip, &len, &ping),
	                 CBAR_SIP_CONTENT_LENGTH);
	const char *big = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
	assert_int_equal(cbar_sip_frame(big, strlen(big), &skip, &len, &ping), CBAR_SIP_TOO_BIG);
	const char *nocl = "OPTIONS sip:a@b SIP/2.0\nVia: x\n\nOPTIONS";
	assert_int_equal(cbar_sip_frame(nocl, strlen(nocl), &skip, &len, &ping), CBAR_OK);
	assert_int_equal(len, strlen(nocl) - 7);
	/* headers that never end, past the cap */
	static char junk[CBAR_SIP_MAX_MSG + 10];
	memset(junk, 'a', sizeof junk);
	assert_int_equal(cbar_sip_frame(junk, sizeof junk, &skip, &len, &ping), CBAR_SIP_TOO_BIG);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_sip CASES DIR\n");
		return 2;
	}
	dir = argv[2];
	struct cbar_diag d = {0};
	if (cbar_numplan_embedded(&np, &d)) {
		fprintf(stderr, "embedded data: %s:%u:%u: %s\n", d.file, d.line, d.column, d.msg);
		return 2;
	}
	size_t n;
	struct tcase *cases = casefile_read(argv[1], &n);
	struct CMUnitTest *tests = calloc(n + 2, sizeof *tests);
	char (*names)[96] = calloc(n, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "cases.txt:%u %.60s", cases[i].line,
		         cases[i].field[0][0] == '@' ? cases[i].field[0] : "(inline)");
		tests[i].name = names[i];
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	tests[n] = (struct CMUnitTest)cmocka_unit_test(test_to_tag);
	tests[n + 1] = (struct CMUnitTest)cmocka_unit_test(test_frame);
	int failed = _cmocka_run_group_tests("sip", tests, n + 2, NULL, NULL);
	cbar_numplan_free(np);
	return failed ? 1 : 0;
}
