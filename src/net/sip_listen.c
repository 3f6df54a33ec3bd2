/*
 * callbar: a SIP listener from its one-line description (sip_server.h,
 * docs/sip.md "Listeners"), as the config file's `sip.listener` and
 * sip-serve's `--listener` write it:
 *
 *   ADDR:PORT [direction=out|in] [transport=udp|tcp|udp,tcp]
 *             [subscriber=SRC[,SRC...]] [peer=SRC[,SRC...]] [via=CIDR=NAME]...
 *             [block=403|603] [fail=302|500] [roaming=yes|no]
 *             [carrier=HEADER] [region=HEADER]
 *             [allow=CIDR[,CIDR...]]...
 *
 * SRC is ruri, to, from or pai, tried in the order written.  Words are
 * separated by spaces or tabs; each option at most once, but via as often
 * as there are classes and allow as often as wanted (its networks add up).
 * Hand-written: a dozen words of our own syntax.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "sip_server.h"

static const struct {
	const char *name;
	enum cbar_sip_source src;
} source_names[] = {
    {"ruri", CBAR_SIP_SRC_RURI},
    {"to", CBAR_SIP_SRC_TO},
    {"from", CBAR_SIP_SRC_FROM},
    {"pai", CBAR_SIP_SRC_PAI},
};

static bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(w, lit, n);
}

/* "pai,from" into src[] (at most SIP_MAX_SOURCES, no repeats). */
static bool sources(const char *v, size_t n, enum cbar_sip_source *src, unsigned *count)
{
	unsigned k = 0;
	size_t i = 0;
	if (!n)
		return false;
	while (i <= n) {
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		size_t s;
		for (s = 0; s < sizeof source_names / sizeof source_names[0]; s++)
			if (word_is(v + i, j - i, source_names[s].name))
				break;
		if (s == sizeof source_names / sizeof source_names[0] || k == SIP_MAX_SOURCES)
			return false;
		for (unsigned q = 0; q < k; q++)
			if (src[q] == source_names[s].src)
				return false;
		src[k++] = source_names[s].src;
		i = j + 1;
	}
	*count = k;
	return true;
}

/* "10.1.0.0/16=intl-gateway" (no /: a host); false when malformed. */
bool cbar_sip_ingress_parse(const char *s0, size_t len, struct sip_ingress *g)
{
	memset(g, 0, sizeof *g);
	char s[160];
	if (len >= sizeof s)
		return false;
	memcpy(s, s0, len);
	s[len] = 0;
	const char *eq = strchr(s, '=');
	if (!eq || !eq[1] || strlen(eq + 1) >= sizeof g->name)
		return false;
	char net[64];
	size_t nl = (size_t)(eq - s);
	if (nl >= sizeof net)
		return false;
	memcpy(net, s, nl);
	net[nl] = 0;
	char *slash = strchr(net, '/');
	long bits = -1;
	if (slash) {
		char *end;
		*slash = 0;
		bits = strtol(slash + 1, &end, 10);
		if (*end || slash[1] == 0 || bits < 0)
			return false;
	}
	struct sockaddr_in *a4 = (void *)&g->net;
	struct sockaddr_in6 *a6 = (void *)&g->net;
	if (inet_pton(AF_INET, net, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		if (bits > 32)
			return false;
		g->prefix = (uint8_t)(bits < 0 ? 32 : bits);
	} else if (inet_pton(AF_INET6, net, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		if (bits > 128)
			return false;
		g->prefix = (uint8_t)(bits < 0 ? 128 : bits);
	} else {
		return false;
	}
	memcpy(g->name, eq + 1, strlen(eq + 1) + 1); /* fits: checked above */
	return true;
}

/* "10.0.0.0/8,192.0.2.1" appended to l->allow; false with a message. */
static bool allow_list(const char *v, size_t n, struct sip_listener_cfg *l, char *err,
                       size_t errcap)
{
	size_t i = 0;
	if (!n) {
		snprintf(err, errcap, "allow: want CIDR[,CIDR...] (10.0.0.0/8,2001:db8::/32)");
		return false;
	}
	while (i <= n) {
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		if (l->nallow == SIP_ALLOW_MAX) {
			snprintf(err, errcap, "allow: more than %d networks", SIP_ALLOW_MAX);
			return false;
		}
		if (cbar__cidr_parse(v + i, j - i, &l->allow[l->nallow])) {
			snprintf(
			    err, errcap,
			    "allow: '%.*s' is not a network (10.0.0.0/8, 192.0.2.1, 2001:db8::/32; "
			    "no bit set past the prefix)",
			    (int)(j - i > 48 ? 48 : j - i), v + i);
			return false;
		}
		l->nallow++;
		i = j + 1;
	}
	return true;
}

static bool listener_spec(const char *s, size_t len, struct sip_listener_cfg *l,
                          struct sip_ingress *ing, size_t cap, size_t *ning, char *err,
                          size_t errcap, size_t *errat)
{
	size_t i = 0, first_via = *ning;
	bool seen_dir = false, seen_tp = false, seen_sub = false, seen_peer = false;
	bool seen_block = false, seen_fail = false, seen_roaming = false;
	memset(l, 0, sizeof *l);
	l->direction = CBAR_OUT;
	l->transports = SIP_UDP | SIP_TCP;
	unsigned w;
	for (w = 0;; w++) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		size_t b = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		const char *v = s + b;
		size_t n = i - b;
		*errat = b;
		if (w == 0) {
			socklen_t al;
			if (cbar__addr_parse(v, n, &l->addr, &al)) {
				snprintf(err, errcap, "'%.*s' is not a numeric ADDR:PORT",
				         (int)(n > 64 ? 64 : n), v);
				return false;
			}
			continue;
		}
		const char *eq = memchr(v, '=', n);
		if (!eq) {
			snprintf(err, errcap,
			         "'%.*s': want NAME=VALUE (direction, transport, "
			         "subscriber, peer, via, block, fail, roaming, carrier, region, allow)",
			         (int)(n > 64 ? 64 : n), v);
			return false;
		}
		size_t kn = (size_t)(eq - v), vn = n - kn - 1;
		const char *val = eq + 1;
		bool *seen = NULL, ok = false;
		if (word_is(v, kn, "direction")) {
			seen = &seen_dir;
			ok = word_is(val, vn, "out") || word_is(val, vn, "in");
			l->direction = word_is(val, vn, "in") ? CBAR_IN : CBAR_OUT;
			if (!ok)
				snprintf(err, errcap, "direction: want out or in");
		} else if (word_is(v, kn, "transport")) {
			seen = &seen_tp;
			ok = true;
			if (word_is(val, vn, "udp"))
				l->transports = SIP_UDP;
			else if (word_is(val, vn, "tcp"))
				l->transports = SIP_TCP;
			else if (word_is(val, vn, "udp,tcp") || word_is(val, vn, "tcp,udp"))
				l->transports = SIP_UDP | SIP_TCP;
			else
				ok = false;
			if (!ok)
				snprintf(err, errcap, "transport: want udp, tcp or udp,tcp");
		} else if (word_is(v, kn, "subscriber") || word_is(v, kn, "peer")) {
			bool sub = v[0] == 's';
			seen = sub ? &seen_sub : &seen_peer;
			ok = sub ? sources(val, vn, l->sub_src, &l->nsub)
			         : sources(val, vn, l->peer_src, &l->npeer);
			if (!ok)
				snprintf(
				    err, errcap,
				    "%s: want up to %d of ruri, to, from, pai, comma-separated, "
				    "each once",
				    sub ? "subscriber" : "peer", SIP_MAX_SOURCES);
		} else if (word_is(v, kn, "block")) {
			seen = &seen_block;
			ok = word_is(val, vn, "403") || word_is(val, vn, "603") ||
			     word_is(val, vn, "annc");
			l->block_status = word_is(val, vn, "603") ? 603 : 403;
			l->block_annc = word_is(val, vn, "annc");
			l->given |= SIP_GIVEN_BLOCK;
			if (!ok)
				snprintf(err, errcap, "block: want 403, 603 or annc");
		} else if (word_is(v, kn, "fail")) {
			seen = &seen_fail;
			ok = word_is(val, vn, "302") || word_is(val, vn, "500");
			l->fail_open = word_is(val, vn, "302");
			l->given |= SIP_GIVEN_FAIL;
			if (!ok)
				snprintf(err, errcap, "fail: want 302 or 500");
		} else if (word_is(v, kn, "roaming")) {
			/* a trunk that carries only roamers' traffic (or none) */
			seen = &seen_roaming;
			ok = word_is(val, vn, "yes") || word_is(val, vn, "no");
			l->roaming = word_is(val, vn, "yes") ? CBAR_ROAMING_YES : CBAR_ROAMING_NO;
			if (!ok)
				snprintf(err, errcap, "roaming: want yes or no");
		} else if (word_is(v, kn, "carrier") || word_is(v, kn, "region")) {
			char *h = v[0] == 'c' ? l->carrier_hdr : l->region_hdr;
			ok = vn && vn < SIP_HDR_NAME_MAX && !h[0];
			for (size_t k = 0; ok && k < vn; k++)
				ok = isalnum((unsigned char)val[k]) || strchr("-.!%*_+`'~", val[k]);
			if (ok)
				memcpy(h, val, vn), h[vn] = 0;
			else
				snprintf(err, errcap, "%.*s: want a header field name (a token, once)",
				         (int)kn, v);
		} else if (word_is(v, kn, "allow")) {
			ok = allow_list(val, vn, l, err, errcap);
		} else if (word_is(v, kn, "via")) {
			ok = *ning < cap && cbar_sip_ingress_parse(val, vn, &ing[*ning]);
			if (ok)
				(*ning)++;
			else if (*ning == cap)
				snprintf(err, errcap, "via: more than %zu ingress classes", cap);
			else
				snprintf(err, errcap,
				         "via: want CIDR=NAME (10.1.0.0/16=intl-gateway)");
		} else {
			snprintf(err, errcap,
			         "unknown option '%.*s' (direction, transport, subscriber, "
			         "peer, via, block, fail, roaming, carrier, region, allow)",
			         (int)(kn > 32 ? 32 : kn), v);
			return false;
		}
		if (!ok)
			return false;
		if (seen) {
			if (*seen) {
				snprintf(err, errcap, "'%.*s' given twice", (int)kn, v);
				return false;
			}
			*seen = true;
		}
	}
	if (w == 0) {
		*errat = 0;
		snprintf(err, errcap, "empty: want ADDR:PORT [direction=out|in] ...");
		return false;
	}
	if (*ning > first_via) {
		l->ingress = ing + first_via;
		l->ningress = *ning - first_via;
	}
	return true;
}

void cbar_sip_listener_defaults(struct sip_listener_cfg *l, uint16_t block_status, bool fail_open,
                           uint16_t country, const struct sip_ingress *ing, size_t ning)
{
	if (!(l->given & SIP_GIVEN_BLOCK))
		l->block_status = block_status;
	if (!(l->given & SIP_GIVEN_FAIL))
		l->fail_open = fail_open;
	l->country = country;
	if (!l->ningress) { /* no via of its own */
		l->ingress = ing;
		l->ningress = ning;
	}
}

enum cbar_err cbar_sip_listener_spec(const char *s, size_t len, struct sip_listener_cfg *l,
                                struct sip_ingress *ing, size_t cap, size_t *ning,
                                struct cbar_diag *d)
{
	char msg[sizeof d->msg];
	size_t at = 0;
	if (listener_spec(s, len, l, ing, cap, ning, msg, sizeof msg, &at))
		return CBAR_OK;
	return cbar_diag_set(d, CBAR_CONFIG, 0, (unsigned)at + 1, "%s", msg);
}
