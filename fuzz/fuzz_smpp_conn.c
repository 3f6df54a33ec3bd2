/*
 * callbar fuzz target: the SMPP firewall's connection handling
 * (src/net/smpp_server.c) without sockets: a peer's byte stream and the
 * home SMSC's, cut at any points and interleaved (each piece: a length
 * byte, a byte whose low bit says whose stream it continues, the bytes),
 * through framing, binds, the window, decisions on a small rule file,
 * relaying, responses matched to waiting peers, receipts and the keyword
 * service.  Nothing may crash, leak or read past a PDU.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/rules.h"
#include "net/smpp_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_text[] =
	"timezone +08:00\n"
	"zone mainland +86\n"
	"zone abroad !mainland\n"
	"emergency 110\n"
	"block in sms from alphanumeric via intl reason alnum\n"
	"announce ha zh \"\xe6\x82\xa8\" en \"Texts from abroad are barred.\"\n"
	"block in sms from abroad region CN-HA since 2022-05-07 reason ha announce ha notify\n"
	"pass all\n";

static struct cbar_numplan *np;
static struct cbar_rules *rules;

static uint32_t peer_bind(void *ctx, const char *system_id, const char *password,
                     const struct sockaddr *src, struct smpp_peer_info *peer,
                     enum smpp_bind_fail *why)
{
	(void)ctx;
	(void)src;
	if (strcmp(system_id, "hub")) {
		*why = SMPP_BF_UNKNOWN_SYSTEM_ID;
		return 0x0F;
	}
	if (strcmp(password, "pw")) {
		*why = SMPP_BF_BAD_PASSWORD;
		return 0x0E;
	}
	peer->index = 3;
	memcpy(peer->via, "intl", 5);
	peer->direction = CBAR_IN;
	peer->max_binds = 2;
	return 0;
}

static enum cbar_decision decide(void *ctx, const struct cbar_event *ev, struct cbar_verdict *v)
{
	(void)ctx;
	return cbar_decide(rules, ev, NULL, v);
}

static bool is_service(void *ctx, const char *to, size_t len)
{
	(void)ctx;
	return len == 5 && !memcmp(to, "10086", 5);
}

static void keyword(void *ctx, const char *from, const char *to, const char *text, size_t len,
                    char *reply, size_t cap)
{
	(void)ctx;
	(void)from;
	(void)to;
	/* a long answer, so it is cut into segments */
	snprintf(reply, cap, "%s: %.*s \xe6\x82\xa8\xe7\x9a\x84\xe5\x8f\xb7\xe7\xa0\x81 "
	                     "0123456789012345678901234567890123456789012345678901234567890123456789",
	         len % 2 ? "unlocked" : "unknown", (int)(len > 40 ? 40 : len), text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np) {
		struct cbar_diag d;
		if (cbar_numplan_embedded(&np, &d) ||
		    cbar_rules_compile(np, rules_text, sizeof rules_text - 1, "fuzz.rules", NULL, &d,
		                       &rules))
			abort();
	}
	struct smpp_server_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.np = np;
	cfg.country = cbar_numplan_country(np, "CN", 2);
	cfg.window = 3;
	cfg.up_window = 4;
	cfg.pdu_max = 512;
	cfg.fixed_time = 1655251200;
	cfg.fail_relay = size && (data[0] & 1);
	memcpy(cfg.notify_from, "10086", 6);
	cfg.notify_slots = 64;
	cfg.hooks = (struct smpp_hooks){.bind = peer_bind, .decide = decide, .is_service = is_service,
	                                .keyword = keyword};
	struct smpp_server *s = cbar_smpp_test_new(&cfg);
	if (!s)
		return 0;
	size_t at = 0;
	while (at + 2 <= size) {
		size_t n = data[at];
		const uint8_t *p = data + at + 1;
		size_t room = size - at - 1;
		if (n + 1 > room)
			n = room - 1;
		cbar_smpp_test_feed(s, p, n + 1);
		at += n + 2;
	}
	cbar_smpp_test_free(s);
	return 0;
}
