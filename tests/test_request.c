/*
 * callbar tests: HTTP/JSON request bodies, driven by request/cases.txt.
 *
 * Each case: KIND | BODY | EXPECTATIONS.  KIND is decide, unlock, keyword,
 * batch or time (BODY is then an ISO 8601 text).  Expectations: error=CODE
 * (an error.h name, or OK) and field=NAME (the field the error names, "-"
 * for none); for an accepted body, values: service, direction, subscriber,
 * peer (E.164 digits), at (UTC seconds), ingress, level, channel, doc,
 * expires, keyword, sub_error and sub_field (a subscriber that could not be
 * read, and the body still decided); for a batch, events=N and errors=N.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/request.h"
#include "callbar/data.h"
#include "casefile.h"

static struct cbar_numplan *np;
static uint16_t cn;
/* The cases live until exit (static, so leak checkers see them held). */
static struct tcase *cases;
static struct CMUnitTest *tests;
static char (*names)[160];

#define FAILF(c, ...)                                                            \
	do {                                                                     \
		print_error("%s:%u: ", (c)->file, (c)->line);                    \
		print_error(__VA_ARGS__);                                        \
		fail();                                                          \
	} while (0)

static void want(const struct tcase *c, const char *key, const char *got)
{
	char buf[128];
	if (case_expect(c->field[2], key, buf, sizeof buf) && strcmp(buf, got))
		FAILF(c, "%s: want %s, got %s\n", key, buf, got);
}

static void want_int(const struct tcase *c, const char *key, long long got)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%lld", got);
	want(c, key, tmp);
}

struct batch_count {
	size_t events, errors;
};

static void count(void *arg, size_t i, const struct decide_req *ev, const struct req_error *e)
{
	struct batch_count *b = arg;
	(void)i, (void)ev;
	b->events++;
	b->errors += e != NULL;
}

static void run_case(void **state)
{
	const struct tcase *c = *state;
	if (c->nfields != 3)
		FAILF(c, "want 3 fields: KIND | BODY | EXPECTATIONS\n");
	const char *kind = c->field[0], *body = c->field[1];
	size_t len = c->len[1];
	struct req_error e = {0};
	enum cbar_err err = CBAR_INVAL;
	static const char *const svc[] = {"voice", "sms", "any"};
	static const char *const dir[] = {"in", "out", "any"};

	if (!strcmp(kind, "decide")) {
		struct decide_req r;
		/* the rule file's zone does not matter: a body's time has one */
		struct cbar_event_ctx ec = {.np = np, .country = cn, .tz = 8 * 3600};
		if (!(err = cbar_req_decide_parse(&ec, body, len, &r, &e))) {
			want(c, "service", svc[r.in.ev.service]);
			want(c, "direction", dir[r.in.ev.direction]);
			want(c, "subscriber", r.in.sub.digits);
			want(c, "peer", r.in.peer.digits);
			want_int(c, "at", r.has_at ? r.in.ev.time : -1);
			want(c, "ingress", r.ingress);
			want_int(c, "roaming", r.in.ev.roaming);
			want_int(c, "carrier", r.in.ev.carrier);
			want_int(c, "region", r.in.ev.region);
			want(c, "sub_error", r.in.sub_err ? cbar_err_name(r.in.sub_err) : "OK");
			want(c, "sub_field", r.in.sub_err ? r.sub_error.field : "-");
		}
	} else if (!strcmp(kind, "unlock")) {
		struct unlock_req r;
		if (!(err = cbar_req_unlock_parse(np, cn, body, len, &r, &e))) {
			want(c, "service", svc[r.service]);
			want(c, "direction", dir[r.direction]);
			want(c, "level", r.level == REQ_LEVEL_VERIFIED ? "verified" : "self");
			want(c, "channel", r.channel);
			want(c, "doc", r.has_document ? r.doc_type : "-");
			want_int(c, "expires", r.has_expires ? r.expires : -1);
			cbar_unlock_req_wipe(&r);
			if (r.doc_number[0])
				FAILF(c, "document number not wiped\n");
		}
	} else if (!strcmp(kind, "keyword")) {
		struct keyword_req r;
		if (!(err = cbar_req_keyword_parse(np, cn, body, len, &r, &e))) {
			want(c, "subscriber", r.subscriber.digits);
			want(c, "keyword", r.keyword);
		}
	} else if (!strcmp(kind, "batch")) {
		struct batch_count b = {0};
		bool lines;
		struct cbar_event_ctx ec = {.np = np, .country = cn, .tz = 8 * 3600};
		if (!(err = cbar_req_batch_parse(&ec, body, len, 3, count, &b, &lines, &e))) {
			want_int(c, "events", (long long)b.events);
			want_int(c, "errors", (long long)b.errors);
			want(c, "lines", lines ? "yes" : "no");
		}
	} else if (!strcmp(kind, "time")) {
		int64_t t = 0;
		if (!(err = cbar_time_read(body, len, 8 * 3600, CBAR_TIME_ZONED, &t)))
			want_int(c, "at", t);
	} else {
		FAILF(c, "unknown kind %s\n", kind);
	}
	want(c, "error", err ? cbar_err_name(err) : "OK");
	if (err && e.code && e.code != err)
		FAILF(c, "returned %s but e.code is %s\n", cbar_err_name(err), cbar_err_name(e.code));
	if (err && strcmp(kind, "time"))
		want(c, "field", e.field[0] ? e.field : "-");
	if (err && strcmp(kind, "time") && !e.message[0])
		FAILF(c, "an error without a message\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_request CASES\n");
		return 2;
	}
	struct cbar_diag d = {0};
	if (cbar_numplan_embedded(&np, &d)) {
		fprintf(stderr, "embedded data: %s:%u:%u: %s\n", d.file, d.line, d.column, d.msg);
		return 2;
	}
	cn = cbar_numplan_country(np, "CN", 2);
	size_t n;
	cases = casefile_read(argv[1], &n);
	tests = calloc(n, sizeof *tests);
	names = calloc(n, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "cases.txt:%u %s", cases[i].line,
		         cases[i].nfields > 0 ? cases[i].field[0] : "");
		tests[i].name = names[i];
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	int failed = _cmocka_run_group_tests("request", tests, n, NULL, NULL);
	cbar_numplan_free(np);
	return failed ? 1 : 0;
}
