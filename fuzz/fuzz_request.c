/*
 * callbar fuzz target: HTTP/JSON request bodies (src/proto/request.c).  The
 * first byte picks the parser (decide event, unlock body, keyword, batch,
 * ISO 8601 time); the rest is the body.  Parsers must not crash, read out
 * of bounds or leak, and what they accept must hold its invariants; what
 * they refuse must say why (a code and a message).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/request.h"
#include "callbar/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cbar_numplan *np;
static uint16_t cn;

static void check_number(const struct cbar_number *n)
{
	if (n->ndigits < 3 || n->ndigits > CBAR_E164_MAX || strlen(n->digits) != n->ndigits)
		abort();
}

static void check_error(enum cbar_err err, const struct req_error *e)
{
	if (e->code != err || !e->message[0] || !memchr(e->field, '\0', sizeof e->field))
		abort();
}

/* A read event: its numbers sane where read; an unread subscriber has its
 * error, an unknown peer is only an incoming one's. */
static void check_event(const struct decide_req *r)
{
	const struct cbar_event *ev = &r->in.ev;
	if (ev->subscriber ? ev->subscriber != &r->in.sub || r->in.sub_err
	                   : !r->in.sub_err || r->sub_error.code != r->in.sub_err ||
	                             !r->sub_error.message[0])
		abort();
	if (ev->peer ? ev->peer != &r->in.peer : ev->direction != CBAR_IN)
		abort();
	if (ev->subscriber)
		check_number(ev->subscriber);
	if (ev->peer)
		check_number(ev->peer);
}

static void each(void *arg, size_t i, const struct decide_req *ev, const struct req_error *e)
{
	size_t *next = arg;
	if (i != (*next)++ || (ev == NULL) == (e == NULL))
		abort();
	if (ev) {
		check_event(ev);
	} else if (!e->code || !e->message[0]) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np) {
		if (cbar_numplan_embedded(&np, NULL))
			abort();
		cn = cbar_numplan_country(np, "CN", 2);
	}
	if (size == 0)
		return 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	struct req_error e;
	enum cbar_err err;
	switch (data[0] % 5) {
	case 0: {
		struct decide_req r;
		struct cbar_event_ctx ec = {.np = np, .country = cn, .tz = 8 * 3600};
		if ((err = cbar_req_decide_parse(&ec, body, len, &r, &e)))
			check_error(err, &e);
		else if (r.in.ev.service > CBAR_SMS || r.in.ev.direction > CBAR_OUT)
			abort();
		else
			check_event(&r);
		break;
	}
	case 1: {
		struct unlock_req r;
		if ((err = cbar_req_unlock_parse(np, cn, body, len, &r, &e))) {
			check_error(err, &e);
			if (r.doc_number[0]) /* wiped on failure */
				abort();
		} else {
			if (r.service > REQ_ANY || r.direction > REQ_ANY ||
			    (r.level != REQ_LEVEL_SELF && r.level != REQ_LEVEL_VERIFIED) ||
			    (r.level == REQ_LEVEL_VERIFIED && !r.has_document) || !r.channel[0])
				abort();
			cbar_unlock_req_wipe(&r);
		}
		break;
	}
	case 2: {
		struct keyword_req r;
		if ((err = cbar_req_keyword_parse(np, cn, body, len, &r, &e)))
			check_error(err, &e);
		else
			check_number(&r.subscriber);
		break;
	}
	case 3: {
		size_t next = 0;
		bool lines;
		struct cbar_event_ctx ec = {.np = np, .country = cn, .tz = 8 * 3600};
		if ((err = cbar_req_batch_parse(&ec, body, len, 50, each, &next, &lines, &e)))
			check_error(err, &e);
		else if (next > 50)
			abort();
		break;
	}
	case 4: {
		int64_t t;
		/* every form, a zoneless time in +08:00 */
		if (!cbar_time_read(body, len, 8 * 3600, ~0u, &t) && (t < -1000000000000000000LL))
			abort();
		break;
	}
	}
	return 0;
}
