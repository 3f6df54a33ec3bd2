/*
 * callbar fuzz target: the SIP server's per-message path without sockets
 * (src/net/sip_handle.c): parse, triage, numbers from the configured
 * headers, the event, a decision by cbar_decide() on a small compiled rule
 * snapshot with an unlock set, the reply.  Any bytes: nothing may crash or
 * read out of bounds; a reply always fits its buffer, re-parses as a
 * response, and the same bytes always get the same reply (retransmissions).
 * The input's first byte picks the direction, transport, block status and
 * fail mode, so every listener configuration is reached.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/rules.h"
#include "net/sip_server.h"
#include "store/unlockset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_text[] =
	"timezone +08:00\n"
	"zone mainland +86\n"
	"zone abroad !mainland\n"
	"emergency 110\n"
	"announce unlock zh \"\xe8\xa7\xa3\xe9\x94\x81\" en \"unlock\"\n"
	"block out voice to abroad carrier cmcc region CN-ZJ since 2022-05-01 unless unlocked "
	"reason zj-out announce unlock\n"
	"block in  any   from mainland via gw reason spoofed\n"
	"block in  sms   from abroad since 2021-08-10 unless verified reason sms-in\n"
	"pass all\n";

static const char unlocks_text[] = "+8613805710001 all self\n+8613905710001 sms verified\n";

static struct cbar_numplan *np;
static struct cbar_rules *rules;
static struct cbar_unlockset *us;
static struct cbar_unlock_lookup lk;

static enum cbar_decision decide(void *ctx, const struct cbar_event *ev, struct cbar_verdict *v)
{
	(void)ctx;
	return cbar_decide(rules, ev, &lk, v);
}

static void init(void)
{
	struct cbar_diag d;
	uint16_t cn;
	if (cbar_numplan_embedded(&np, &d))
		abort();
	cn = cbar_numplan_country(np, "CN", 2);
	if (cbar_rules_compile(np, rules_text, sizeof rules_text - 1, "fuzz.rules", NULL, &d, &rules))
		abort();
	if (!(us = cbar_unlockset_new(4)) ||
	    cbar_unlockset_load(us, np, cn, unlocks_text, sizeof unlocks_text - 1, "fuzz", &d))
		abort();
	lk = cbar_unlockset_lookup(us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[CBAR_SIP_MAX_MSG + 8192], out2[sizeof out];
	static struct cbar_sip_msg rm;
	static struct sip_ingress ing = {.prefix = 8, .name = "gw"};
	if (!np) {
		init();
		struct sockaddr_in *n4 = (void *)&ing.net;
		n4->sin_family = AF_INET;
		n4->sin_addr.s_addr = htonl(0x0a000000);
	}
	if (!size)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	struct sip_listener l = {
		.cfg = {.direction = sel & 1 ? CBAR_IN : CBAR_OUT,
		        .block_status = sel & 2 ? 603 : 403,
		        .fail_open = sel & 4,
		        .country = cbar_numplan_country(np, "CN", 2),
		        .ingress = &ing,
		        .ningress = 1,
		        .block_annc = sel & 32,
		        .annc_uri = sel & 64 ? "sip:annc@ms.example;play=file:///{name}-{lang}.wav" : NULL},
		.ingress = &ing,
	};
	/* the carrier and region header fields, looked up in the message */
	if (sel & 128) {
		memcpy(l.cfg.carrier_hdr, "X-Carrier", 10);
		memcpy(l.cfg.region_hdr, "x-region", 9);
	}
	cbar_sip_listener_init(&l);
	struct sockaddr_in src = {.sin_family = AF_INET,
	                          .sin_addr.s_addr = htonl(sel & 8 ? 0x0a010203 : 0x7f000001)};
	struct sip_decider d = {.decide = decide};
	enum cbar_sip_transport tp = sel & 16 ? CBAR_SIP_STREAM : CBAR_SIP_DGRAM;
	struct sip_counters c = {0};
	int64_t now = 1655251200; /* 2022-06-15 */
	const char *buf = (const char *)data;
	/* a small cap: nothing past it, ever */
	size_t cap = sel & 32 ? 64 : sizeof out;
	size_t n = cbar_sip_handle(&l, np, &d, buf, size, tp, (const struct sockaddr *)&src, now, out, cap,
	                      &c);
	if (n > cap)
		abort();
	if (cap != sizeof out)
		return 0;
	size_t n2 = cbar_sip_handle(&l, np, &d, buf, size, tp, (const struct sockaddr *)&src, now, out2,
	                       sizeof out2, &c);
	if (n != n2 || memcmp(out, out2, n))
		abort();
	if (c.received != 2 || c.parse_errors % 2)
		abort();
	if (n) {
		/* a reply to a request that lacked headers lacks them too, so
		 * it may not parse whole: its status line always does */
		cbar_sip_parse(out, n, CBAR_SIP_DGRAM, &rm);
		if (rm.kind != CBAR_SIP_RESPONSE)
			abort();
		if (c.decisions[CBAR_BLOCK] && rm.status != (sel & 2 ? 603 : 403))
			abort();
		if (c.decisions[CBAR_ERROR] && rm.status != (sel & 4 ? 302 : 500))
			abort();
	}
	return 0;
}
