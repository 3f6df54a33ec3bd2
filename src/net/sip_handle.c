/*
 * callbar: one SIP message in, one reply out.  No sockets, no clock, no
 * allocation: the TCP workers call it per framed message, the UDP workers
 * in its two halves (read, then reply) around one decision call for a
 * whole recvmmsg() batch, and fuzz/fuzz_sip_server.c calls it on any bytes.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "callbar/scope.h"
#include "proto/event.h"
#include "sip_server.h"

static const uint16_t status_codes[SIP_ST_COUNT] = {
#define SIP__CODE(code) [SIP_ST_##code] = code,
	SIP_STATUS_MAP(SIP__CODE)
#undef SIP__CODE
};

uint16_t cbar_sip_status_code(enum sip_status_slot s)
{
	return (unsigned)s < SIP_ST_COUNT ? status_codes[s] : 0;
}

static enum sip_status_slot status_slot(uint16_t status)
{
	for (unsigned i = 0; i < SIP_ST_OTHER; i++)
		if (status_codes[i] == status)
			return (enum sip_status_slot)i;
	return SIP_ST_OTHER;
}

void cbar_sip_listener_init(struct sip_listener *l)
{
	struct sip_listener_cfg *c = &l->cfg;
	if (!c->nsub) {
		if (c->direction == CBAR_OUT) {
			c->sub_src[0] = CBAR_SIP_SRC_PAI;
			c->sub_src[1] = CBAR_SIP_SRC_FROM;
		} else {
			c->sub_src[0] = CBAR_SIP_SRC_RURI;
			c->sub_src[1] = CBAR_SIP_SRC_TO;
		}
		c->nsub = 2;
	}
	if (!c->npeer) {
		if (c->direction == CBAR_OUT) {
			c->peer_src[0] = CBAR_SIP_SRC_RURI;
			c->npeer = 1;
		} else {
			c->peer_src[0] = CBAR_SIP_SRC_PAI;
			c->peer_src[1] = CBAR_SIP_SRC_FROM;
			c->npeer = 2;
		}
	}
	if (c->nsub > SIP_MAX_SOURCES)
		c->nsub = SIP_MAX_SOURCES;
	if (c->npeer > SIP_MAX_SOURCES)
		c->npeer = SIP_MAX_SOURCES;
	l->sip = (struct cbar_sip_cfg){
		.block_status = c->block_status == 603 ? 603 : 403,
		.fail_open = c->fail_open,
	};
}

/* Whether a and b agree on the first prefix bits. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, bytes))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

/* The address bytes of a socket address (IPv4-mapped IPv6 as IPv4). */
static const uint8_t *addr_bytes(const struct sockaddr *sa, int *family)
{
	if (sa->sa_family == AF_INET) {
		*family = AF_INET;
		return (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			*family = AF_INET;
			return a6->s6_addr + 12;
		}
		*family = AF_INET6;
		return a6->s6_addr;
	}
	*family = AF_UNSPEC;
	return NULL;
}

/* The ingress class of src: the longest matching prefix, or NULL. */
static const char *ingress_of(const struct sip_listener *l, const struct sockaddr *src)
{
	if (!src || !l->cfg.ningress)
		return NULL;
	int fam;
	const uint8_t *a = addr_bytes(src, &fam);
	if (!a)
		return NULL;
	const char *best = NULL;
	int best_len = -1;
	for (size_t i = 0; i < l->cfg.ningress; i++) {
		const struct sip_ingress *g = &l->ingress[i];
		int gfam;
		const uint8_t *b = addr_bytes((const struct sockaddr *)&g->net, &gfam);
		if (gfam == fam && (int)g->prefix > best_len && prefix_eq(a, b, g->prefix)) {
			best = g->name;
			best_len = g->prefix;
		}
	}
	return best;
}

/*
 * The text of the first source of list that carries a number, into buf.
 * CBAR_OK, or CBAR_SIP_NO_NUMBER when none does, or the error of the first
 * one present.
 */
static enum cbar_err number_text(const struct cbar_sip_msg *m, const enum cbar_sip_source *list,
                                 unsigned n, char *buf, size_t cap, size_t *len)
{
	for (unsigned i = 0; i < n; i++) {
		enum cbar_err e = cbar_sip_number_text(m, list[i], buf, cap, len);
		if (e != CBAR_SIP_NO_NUMBER)
			return e;
	}
	return CBAR_SIP_NO_NUMBER;
}

/* The event of m into in (read by the shared event module, as every front
 * end's numbers).  false with an error verdict in v when the caller ID
 * cannot be read: the decision hook is then not asked. */
static bool read_event(const struct sip_listener *l, const struct cbar_numplan *np,
                       const struct cbar_sip_msg *m, const char *buf, size_t blen,
                       const struct sockaddr *src, int64_t now, struct cbar_event_in *in,
                       struct cbar_verdict *v)
{
	const struct sip_listener_cfg *c = &l->cfg;
	const struct cbar_event_ctx ec = {.np = np, .country = c->country};
	char text[CBAR_SIP_NUMBER_MAX];
	size_t len = 0;
	cbar_event_begin(in);
	cbar_event_at(in, now);
	in->ev.service = m->method == CBAR_SIP_MESSAGE ? CBAR_SMS : CBAR_VOICE;
	in->ev.direction = c->direction;
	in->ev.roaming = c->roaming;
	/* A subscriber that cannot be read leaves the event to the engine all
	 * the same: a call to an emergency number passes whoever makes it. */
	enum cbar_err e = number_text(m, c->sub_src, c->nsub, text, sizeof text, &len);
	if (!e)
		cbar_event_subscriber(in, &ec, text, len, NULL);
	else
		in->ev.subscriber = NULL, in->sub_err = e;
	/* An incoming call's caller ID comes from the network: missing,
	 * anonymous or not a number, it is unknown (`from unknown`). */
	e = number_text(m, c->peer_src, c->npeer, text, sizeof text, &len);
	e = cbar_event_caller_id(in, &ec, e ? NULL : text, len, NULL);
	if (e) {
		*v = (struct cbar_verdict){.decision = CBAR_ERROR, .rule = -1, .exempted_rule = -1,
		                           .err = e};
		return false;
	}
	/* The switch's word on the subscriber's carrier and region (listener
	 * carrier= and region=) before the numbering data; an unknown value
	 * is the switch's mistake, and the data decides as if it were absent. */
	struct cbar_sip_str h;
	if (c->carrier_hdr[0] &&
	    cbar_sip_header_find(buf, blen, c->carrier_hdr, strlen(c->carrier_hdr), &h))
		cbar_event_carrier(in, h.p, h.len, NULL);
	if (c->region_hdr[0] &&
	    cbar_sip_header_find(buf, blen, c->region_hdr, strlen(c->region_hdr), &h))
		cbar_event_region(in, &ec, h.p, h.len, NULL);
	const char *ing = ingress_of(l, src);
	if (ing) {
		in->ev.ingress = ing;
		in->ev.ingress_len = strlen(ing);
	}
	return true;
}

/* The annc URI: the template with {name} and {lang} replaced; false when
 * it does not fit. */
static bool annc_uri(char *out, size_t cap, const char *t, const char *name, const char *lang)
{
	size_t n = 0;
	while (*t) {
		const char *v = !strncmp(t, "{name}", 6) ? name : !strncmp(t, "{lang}", 6) ? lang : NULL;
		size_t k = v ? strlen(v) : 1;
		if (n + k >= cap)
			return false;
		memcpy(out + n, v ? v : t, k);
		n += k;
		t += v ? 6 : 1;
	}
	out[n] = 0;
	return true;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

bool cbar_sip_handle_read(const struct sip_listener *l, const struct cbar_numplan *np,
                          const char *buf, size_t len, enum cbar_sip_transport tp,
                          const struct sockaddr *src, int64_t now, struct sip_pending *p,
                          struct cbar_verdict *v, struct sip_counters *c)
{
	c->received++;
	enum cbar_err pe = cbar_sip_parse(buf, len, tp, &p->m);
	if (pe)
		c->parse_errors++;
	switch (cbar_sip_triage(&p->m, pe, &l->sip, &p->status)) {
	case CBAR_SIP_DROP:
		p->step = SIP_STEP_DROP;
		return false;
	case CBAR_SIP_ANSWER:
		p->step = SIP_STEP_ANSWER;
		return false;
	case CBAR_SIP_DECIDE:
		break;
	}
	bool ask = read_event(l, np, &p->m, buf, len, src, now, &p->in, v);
	p->step = ask ? SIP_STEP_DECIDE : SIP_STEP_VERDICT;
	return ask;
}

void cbar_sip_decide_pending(const struct sip_decider *d, struct sip_pending *p, size_t n,
                             struct cbar_verdict *v)
{
	for (size_t at = 0; at < n;) {
		const struct cbar_event *ev[CBAR_DECIDE_MANY_MAX];
		size_t idx[CBAR_DECIDE_MANY_MAX], k = 0;
		for (; at < n && k < CBAR_DECIDE_MANY_MAX; at++)
			if (p[at].step == SIP_STEP_DECIDE) {
				ev[k] = &p[at].in.ev;
				idx[k++] = at;
			}
		if (k && d->decide_many) {
			struct cbar_verdict got[CBAR_DECIDE_MANY_MAX];
			d->decide_many(d->ctx, ev, k, got);
			for (size_t j = 0; j < k; j++)
				v[idx[j]] = got[j];
		} else {
			for (size_t j = 0; j < k; j++)
				v[idx[j]].decision = d->decide(d->ctx, ev[j], &v[idx[j]]);
		}
	}
}

size_t cbar_sip_handle(const struct sip_listener *l, const struct cbar_numplan *np,
                       const struct sip_decider *d, const char *buf, size_t len,
                       enum cbar_sip_transport tp, const struct sockaddr *src, int64_t now,
                       char *out, size_t cap, struct sip_counters *c)
{
	struct sip_pending p;
	struct cbar_verdict v;
	if (cbar_sip_handle_read(l, np, buf, len, tp, src, now, &p, &v, c))
		v.decision = d->decide(d->ctx, &p.in.ev, &v);
	return cbar_sip_handle_reply(l, &p, &v, out, cap, c);
}

size_t cbar_sip_handle_reply(const struct sip_listener *l, const struct sip_pending *p,
                             const struct cbar_verdict *vin, char *out, size_t cap,
                             struct sip_counters *c)
{
	uint16_t status = p->status;
	char rule[256], unlock[96], annc[512];
	struct cbar_sip_reply r = {0};
	switch (p->step) {
	case SIP_STEP_DROP:
		c->dropped++;
		return 0;
	case SIP_STEP_ANSWER:
		break;
	case SIP_STEP_DECIDE:
	case SIP_STEP_VERDICT: {
		struct cbar_verdict v = *vin;
		enum cbar_decision dec = v.decision;
		if (p->step == SIP_STEP_DECIDE && p->in.sub_err && dec != CBAR_ALLOW) {
			/* not an emergency call: the subscriber is the fault */
			v.err = p->in.sub_err;
			v.decision = dec = CBAR_ERROR;
		}
		if ((unsigned)dec > CBAR_ERROR)
			dec = CBAR_ERROR;
		c->decisions[dec]++;
		status = cbar_sip_verdict_status(&l->sip, dec == CBAR_ALLOW   ? CBAR_SIP_ALLOW
		                                          : dec == CBAR_BLOCK ? CBAR_SIP_BLOCK
		                                                              : CBAR_SIP_ERROR);
		/* A block says why; an allow too (its rule, its reason); either
		 * names the unlock record that exempted the call. */
		if (dec != CBAR_ERROR) {
			if (v.reason) {
				r.reason = v.reason;
				r.reason_len = strlen(v.reason);
			}
			if (v.file) {
				int n = snprintf(rule, sizeof rule, "%s:%u", base_name(v.file), v.line);
				if (n > 0) {
					r.rule = rule;
					r.rule_len = (size_t)n < sizeof rule ? (size_t)n : sizeof rule - 1;
				}
			}
		}
		if (dec == CBAR_BLOCK && v.announcement && v.announcement->name) {
			r.announcement = v.announcement->name;
			r.announcement_len = strlen(v.announcement->name);
		}
		/* What the caller's phone may show: the announcement in the rule
		 * file's first language (the operator's own, zh in the pilots). */
		if (dec == CBAR_BLOCK && v.announcement && v.announcement->ntexts) {
			r.warning = v.announcement->texts[0].text;
			r.warning_len = strlen(r.warning);
		}
		/* block=annc: the caller hears the announcement, from the
		 * operator's media server, rather than a tone. */
		if (dec == CBAR_BLOCK && l->cfg.block_annc && l->cfg.annc_uri && v.announcement &&
		    v.announcement->name &&
		    annc_uri(annc, sizeof annc, l->cfg.annc_uri, v.announcement->name,
		             v.announcement->ntexts ? v.announcement->texts[0].lang : "")) {
			status = 302;
			r.contact = annc;
			r.contact_len = strlen(annc);
		}
		if (v.exempted) {
			char sc[CBAR_SCOPE_TEXT_MAX];
			int n = snprintf(unlock, sizeof unlock, "+%" PRIu64 ";scope=%s;level=%s",
			                 v.exempted_by.subscriber,
			                 cbar_scope_str(v.exempted_by.scope, sc, sizeof sc),
			                 cbar_level_name(v.exempted_by.level));
			if (n > 0 && (size_t)n < sizeof unlock) {
				r.unlock = unlock;
				r.unlock_len = (size_t)n;
			}
		}
		break;
	}
	}
	r.status = status;
	size_t olen;
	if (cbar_sip_reply_build(&p->m, &r, out, cap, &olen) != CBAR_OK) {
		c->send_errors++;
		return 0;
	}
	c->answered[status_slot(status)]++;
	return olen;
}
