/*
 * callbar tests: SMPP PDUs read into events and keyword texts, driven by a
 * case file (tests/smpp/cases.txt).  Usage: test_smpp CASES
 *
 *   KIND | PDU | EXPECT
 * KIND event: PDU is a submit_sm written as fields
 *   "SRC_TON SRC DST_TON DST" (the rest zero); EXPECT subscriber=E164|-
 *   peer=E164|-|alnum, the event of a peer of direction dir= (in default).
 * KIND text: PDU is "DATA_CODING ESM_CLASS HEX" (the short message) or
 *   "DATA_CODING ESM_CLASS - HEX" (the text in message_payload); EXPECT
 *   text="UTF-8" or error=SMPP.
 * KIND concat: PDU is "DATA_CODING TTL_MS PART..." with each PART
 *   "T_MS:FROM:HEX" (a deliver_sm to 10086 with a UDH, at time T_MS);
 *   EXPECT text="UTF-8" of the last message made whole (- if none),
 *   dropped=N (entries expired or pushed out), held=N (parts kept),
 *   invalid=N.  PART "fill:N@T_MS" adds N two-part messages' first parts.
 * KIND frame: PDU is the hex of a buffer; EXPECT frame=more|pdu|bad_len
 *   (pdu_max 4096), and for a whole submit_sm status=0x.. when its body is
 *   refused (the command_status callbar answers).
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
#include "casefile.h"
#include "proto/smpp_text.h"

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

static struct cbar_numplan *np;
static uint16_t cn;

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	while (s[0] && s[1] && n < cap && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void put_cstr(uint8_t *b, size_t *n, const char *s)
{
	size_t l = strlen(s);
	memcpy(b + *n, s, l + 1);
	*n += l + 1;
}

/* A submit_sm body with these addresses, the rest zero. */
static size_t sm_body(uint8_t *b, unsigned ston, const char *src, unsigned dton, const char *dst)
{
	size_t n = 0;
	put_cstr(b, &n, "");
	b[n++] = (uint8_t)ston, b[n++] = 1;
	put_cstr(b, &n, src);
	b[n++] = (uint8_t)dton, b[n++] = 1;
	put_cstr(b, &n, dst);
	b[n++] = 0, b[n++] = 0, b[n++] = 0; /* esm_class, protocol_id, priority */
	put_cstr(b, &n, "");
	put_cstr(b, &n, "");
	b[n++] = 0, b[n++] = 0, b[n++] = 0, b[n++] = 0; /* rd, replace, dc, default id */
	b[n++] = 0;                                       /* sm_length */
	return n;
}

static void check(const struct tcase *c, const char *key, const char *got)
{
	char want[256];
	if (case_expect(c->field[2], key, want, sizeof want) && strcmp(want, got))
		FAILF(c, "%s: want \"%s\", got \"%s\"\n", key, want, got);
}

static void run_event(const struct tcase *c)
{
	char src[40], dst[40], dir[8];
	unsigned ston, dton;
	if (sscanf(c->field[1], "%u %39s %u %39s", &ston, src, &dton, dst) != 4)
		FAILF(c, "want SRC_TON SRC DST_TON DST\n");
	uint8_t b[256];
	size_t n = sm_body(b, ston, src, dton, dst);
	struct smpp_sm m;
	uint32_t st;
	if (cbar_smpp_parse_sm(SMPP_SUBMIT_SM, b, n, &m, &st))
		FAILF(c, "the PDU does not parse: 0x%x\n", st);
	enum cbar_direction d = CBAR_IN;
	if (case_expect(c->field[2], "dir", dir, sizeof dir) && !strcmp(dir, "out"))
		d = CBAR_OUT;
	struct cbar_event_ctx ec = {.np = np, .country = cn};
	struct cbar_event_in in;
	cbar_smpp_event(&in, &ec, &m, d, "intl-hub", 1655251200);
	char sub[32] = "-", peer[32] = "-";
	if (in.ev.subscriber)
		snprintf(sub, sizeof sub, "+%s", in.ev.subscriber->digits);
	if (in.ev.peer)
		snprintf(peer, sizeof peer, "+%s", in.ev.peer->digits);
	else if (in.ev.peer_alnum)
		snprintf(peer, sizeof peer, "alnum");
	check(c, "subscriber", sub);
	check(c, "peer", peer);
	if (in.ev.service != CBAR_SMS || in.ev.direction != d || !in.ev.ingress)
		FAILF(c, "service, direction or via not set\n");
}

static void run_text(const struct tcase *c)
{
	unsigned dc, esm;
	char hex[600], hex2[600] = "";
	int k = sscanf(c->field[1], "%u %u %599s %599s", &dc, &esm, hex, hex2);
	if (k < 3)
		FAILF(c, "want DATA_CODING ESM_CLASS HEX\n");
	struct smpp_sm m;
	uint8_t t[300], tl[320];
	memset(&m, 0, sizeof m);
	m.data_coding = (uint8_t)dc;
	m.esm_class = (uint8_t)esm;
	if (k == 4 && !strcmp(hex, "-")) {
		size_t n = unhex(hex2, tl + 4, sizeof tl - 4);
		tl[0] = 0x04, tl[1] = 0x24, tl[2] = (uint8_t)(n >> 8), tl[3] = (uint8_t)n;
		m.tlvs.p = tl;
		m.tlvs.len = n + 4;
	} else {
		m.short_message.p = t;
		m.short_message.len = unhex(hex, t, sizeof t);
	}
	char out[512];
	size_t len;
	enum cbar_err e = cbar_smpp_keyword_text(&m, out, sizeof out, &len);
	check(c, "error", e ? cbar_err_name(e) : "-");
	if (!e)
		check(c, "text", out);
}

static void run_concat(const struct tcase *c)
{
	static struct smpp_concat t;
	memset(&t, 0, sizeof t);
	unsigned dc;
	long long ttl;
	int at;
	if (sscanf(c->field[1], "%u %lld %n", &dc, &ttl, &at) != 2)
		FAILF(c, "want DATA_CODING TTL_MS PART...\n");
	t.ttl_ms = ttl;
	char text[512] = "-";
	unsigned held = 0, invalid = 0;
	const char *p = c->field[1] + at;
	char tok[700];
	int n;
	while (sscanf(p, "%699s%n", tok, &n) == 1) {
		p += n;
		unsigned fill;
		long long tm;
		if (sscanf(tok, "fill:%u@%lld", &fill, &tm) == 2) {
			for (unsigned i = 0; i < fill; i++) {
				char from[24];
				snprintf(from, sizeof from, "1380000%04u", i);
				uint8_t b[7] = {5, 0, 3, 1, 2, 1, 0x31};
				struct smpp_sm m, w;
				memset(&m, 0, sizeof m);
				m.esm_class = SMPP_ESM_UDHI;
				m.short_message = (struct smpp_slice){b, sizeof b};
				uint8_t buf[64];
				if (cbar_smpp_concat_add(&t, &m, from, "10086", tm, &w, buf,
				                         sizeof buf) == SMPP_CONCAT_HELD)
					held++;
			}
			continue;
		}
		char from[24], hex[600];
		if (sscanf(tok, "%lld:%23[^:]:%599s", &tm, from, hex) != 3)
			FAILF(c, "want T_MS:FROM:HEX, not %s\n", tok);
		uint8_t b[300];
		struct smpp_sm m, w;
		memset(&m, 0, sizeof m);
		m.data_coding = (uint8_t)dc;
		m.esm_class = SMPP_ESM_UDHI;
		m.short_message = (struct smpp_slice){b, unhex(hex, b, sizeof b)};
		uint8_t buf[SMPP_CONCAT_PARTS * SMPP_CONCAT_PART_MAX];
		size_t len;
		switch (cbar_smpp_concat_add(&t, &m, from, "10086", tm, &w, buf, sizeof buf)) {
		case SMPP_CONCAT_HELD:
			held++;
			break;
		case SMPP_CONCAT_INVALID:
			invalid++;
			break;
		case SMPP_CONCAT_NONE:
			w = m; /* fall through */
		case SMPP_CONCAT_WHOLE:
			if (cbar_smpp_keyword_text(&w, text, sizeof text, &len))
				snprintf(text, sizeof text, "error");
			break;
		}
	}
	char num[24];
	check(c, "text", text);
	snprintf(num, sizeof num, "%llu", (unsigned long long)t.dropped);
	check(c, "dropped", num);
	snprintf(num, sizeof num, "%u", held);
	check(c, "held", num);
	snprintf(num, sizeof num, "%u", invalid);
	check(c, "invalid", num);
}

static void run_frame(const struct tcase *c)
{
	uint8_t b[512];
	size_t n = unhex(c->field[1], b, sizeof b);
	struct smpp_hdr h;
	enum smpp_frame f = cbar_smpp_frame(b, n, 4096, &h);
	check(c, "frame", f == SMPP_FRAME_PDU ? "pdu" : f == SMPP_FRAME_MORE ? "more" : "bad_len");
	if (f == SMPP_FRAME_PDU && h.id == SMPP_SUBMIT_SM) {
		struct smpp_sm m;
		uint32_t st = 0;
		char s[16];
		cbar_smpp_parse_sm(h.id, b + 16, h.len - 16, &m, &st);
		snprintf(s, sizeof s, "0x%x", st);
		check(c, "status", s);
	}
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	if (c->nfields != 3)
		FAILF(c, "want KIND | PDU | EXPECT\n");
	if (!strcmp(c->field[0], "event"))
		run_event(c);
	else if (!strcmp(c->field[0], "text"))
		run_text(c);
	else if (!strcmp(c->field[0], "concat"))
		run_concat(c);
	else if (!strcmp(c->field[0], "frame"))
		run_frame(c);
	else
		FAILF(c, "unknown kind '%s'\n", c->field[0]);
}

/* A keyword answer longer than one message: segments of 67 UCS-2
 * characters with a concatenation header, which decode back to it. */
static void test_reply_segments(void **state)
{
	(void)state;
	char text[400];
	memset(text, 'a', 150);
	memcpy(text + 150, "\xe4\xbd\xa0\xe5\xa5\xbd", 7); /* 你好 */
	struct smpp_addr from = {0, 0, {(const uint8_t *)"10086", 5}};
	struct smpp_addr to = {2, 1, {(const uint8_t *)"13805710000", 11}};
	uint8_t buf[4096];
	size_t len;
	unsigned k = cbar_smpp_reply_pdus(&from, &to, text, 9, 100, buf, sizeof buf, &len);
	assert_int_equal(k, 3);
	size_t at = 0;
	char all[600] = "";
	for (unsigned i = 0; i < k; i++) {
		struct smpp_hdr h;
		struct smpp_sm m;
		uint32_t st;
		assert_int_equal(cbar_smpp_frame(buf + at, len - at, 4096, &h), SMPP_FRAME_PDU);
		assert_int_equal(h.seq, 100 + i);
		assert_int_equal(cbar_smpp_parse_sm(h.id, buf + at + 16, h.len - 16, &m, &st), CBAR_OK);
		assert_int_equal(m.esm_class, SMPP_ESM_UDHI);
		assert_int_equal(m.short_message.p[3], 9);
		assert_int_equal(m.short_message.p[4], 3);
		assert_int_equal(m.short_message.p[5], i + 1);
		char part[200];
		size_t n = cbar_smpp_ucs2_to_utf8(m.short_message.p + 6, m.short_message.len - 6, part,
		                                  sizeof part);
		assert_true(n > 0);
		strncat(all, part, sizeof all - strlen(all) - 1);
		at += h.len;
	}
	assert_int_equal(at, len);
	assert_string_equal(all, text);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_smpp CASES\n");
		return 2;
	}
	struct cbar_diag d = {0};
	if (cbar_numplan_embedded(&np, &d))
		return 2;
	cn = cbar_numplan_country(np, "CN", 2);
	size_t n;
	struct tcase *cases = casefile_read(argv[1], &n);
	struct CMUnitTest *tests = calloc(n + 1, sizeof *tests);
	char (*names)[64] = calloc(n, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "cases.txt:%u", cases[i].line);
		tests[i].name = names[i];
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	tests[n] = (struct CMUnitTest)cmocka_unit_test(test_reply_segments);
	int failed = _cmocka_run_group_tests("smpp", tests, n + 1, NULL, NULL);
	cbar_numplan_free(np);
	return failed ? 1 : 0;
}
