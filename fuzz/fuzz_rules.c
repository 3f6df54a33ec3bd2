/*
 * callbar fuzz target: the rule compiler.  Any bytes as a rule file (list
 * files named in it read as a small fixed list); the compiler must not
 * crash, leak or read out of bounds, a failure must come with a line inside
 * the text and no snapshot, and a snapshot must decide a few events (an
 * unknown peer among them) the same way by the fast path and by the
 * explaining slow path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/limit.h"
#include "callbar/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cbar_numplan *np;

static enum cbar_err load(void *ctx, const char *rule_file, const char *path, size_t pathlen,
                          char **text, size_t *len, struct cbar_diag *d)
{
	static const char list[] = "# fuzz list\n+85291234567\n+8617000\n";
	(void)ctx;
	(void)rule_file;
	if (pathlen && path[0] == 'x')
		return cbar_diag_set(d, CBAR_IO, 0, 0, "no such file");
	if (!(*text = malloc(sizeof list)))
		return CBAR_NOMEM;
	memcpy(*text, list, sizeof list);
	*len = sizeof list - 1;
	return CBAR_OK;
}

static enum cbar_err find(void *ctx, uint64_t sub, struct cbar_unlock *out, size_t cap,
                          size_t *n)
{
	(void)ctx;
	*n = 0;
	if (cap && sub % 2) {
		out[0] = (struct cbar_unlock){.subscriber = sub, .scope = CBAR_SCOPE_ALL,
		                              .level = (uint8_t)(sub % 4 == 1 ? 1 : 2), .active = 1};
		*n = 1;
	}
	return CBAR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np && cbar_numplan_embedded(&np, NULL))
		abort();
	struct cbar_rules_loader loader = {load, NULL};
	struct cbar_diag d;
	struct cbar_rules *r = (struct cbar_rules *)&d;
	unsigned lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	enum cbar_err err = cbar_rules_compile(np, (const char *)data, size, "fuzz.rules", &loader,
	                                       &d, &r);
	if (err) {
		if (r || d.line > lines || !memchr(d.msg, 0, sizeof d.msg))
			abort();
		return 0;
	}
	cbar_rules_lint(r, NULL, NULL);
	static const char *subs[] = {"13805710000", "13805710001", "15837100003", "18985100002"};
	/* NULL: an unknown peer */
	static const char *peers[] = {"+85291234567", "17000123456", "+12025550100", "110",
	                              "13812345678", "+447911123456", NULL};
	enum { NSUB = 4, NPEER = sizeof peers / sizeof peers[0] };
	uint16_t cn = cbar_numplan_country(np, "CN", 2);
	/* Limits count on twin states (decide on one, explain on the other),
	 * with few keys so that keys are evicted. */
	struct cbar_limiter *la = NULL, *lb = NULL;
	struct cbar_limiter_config lc = {.max_keys = 16, .tolerance = 5};
	if (cbar_limiter_new(r, &lc, NULL, &la) || cbar_limiter_new(r, &lc, NULL, &lb))
		abort();
	struct cbar_limit_counter ca = cbar_limiter_counter(la), cb = cbar_limiter_counter(lb);
	struct cbar_unlock_lookup lk = {.find = find, .limits = &ca}, lk2 = {.find = find, .limits = &cb};
	for (unsigned i = 0; i < NSUB * NPEER * 4; i++) {
		struct cbar_number sub, peer;
		const char *s = subs[i % NSUB], *p = peers[(i / NSUB) % NPEER];
		if (cbar_number_parse(np, cn, s, strlen(s), &sub, NULL) ||
		    (p && cbar_number_parse(np, cn, p, strlen(p), &peer, NULL)))
			abort();
		struct cbar_event ev = {.time = 1600000000 + (int64_t)i * 4000000,
		                        .service = (enum cbar_service)(i / (NSUB * NPEER) % 2),
		                        .direction = (enum cbar_direction)(i / (NSUB * NPEER * 2) % 2),
		                        .subscriber = &sub,
		                        .peer = p ? &peer : NULL,
		                        .ingress = i % 3 ? NULL : "intl-gateway",
		                        .ingress_len = 12,
		                        .peer_invalid = !p && i % 2};
		if (i % 5 == 0 && p) /* the caller is the callee */
			ev.peer = ev.direction == CBAR_IN ? &sub : ev.peer;
		if (cbar_rules_limits(r)) /* windows of minutes, a little out of order */
			ev.time = 1600000000 + (int64_t)(i / (NSUB * NPEER)) * 4000000 + (int64_t)(i % 7) * 30;
		struct cbar_verdict a, b;
		enum cbar_decision x = cbar_decide(r, &ev, &lk, &a);
		enum cbar_decision y = cbar_explain(r, &ev, &lk2, NULL, NULL, &b);
		if (x != y || x == CBAR_ERROR || a.rule != b.rule || a.exempted != b.exempted ||
		    a.limit_count != b.limit_count || a.limit_bar_until != b.limit_bar_until)
			abort();
	}
	cbar_limiter_free(la);
	cbar_limiter_free(lb);
	cbar_rules_free(r);
	return 0;
}
