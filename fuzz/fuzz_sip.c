/*
 * callbar fuzz target: the SIP parser, triage, reply builder and TCP
 * framer.  Any bytes: nothing may crash, read out of bounds or loop; every
 * reply built fits its buffer and re-parses as a response with its status;
 * the framer never claims more bytes than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	static struct cbar_sip_msg m, rm;
	static char out[8192];
	enum cbar_err e = cbar_sip_parse(buf, size, size & 1 ? CBAR_SIP_STREAM : CBAR_SIP_DGRAM, &m);
	if (e && m.errat > size && e != CBAR_SIP_TOO_BIG)
		abort();
	if (!e && (m.msg_len > size || m.body.len > size))
		abort();
	static const struct cbar_sip_cfg cfg = {.block_status = 603};
	uint16_t status;
	enum cbar_sip_next next = cbar_sip_triage(&m, e, &cfg, &status);
	if (next != CBAR_SIP_DROP) {
		struct cbar_sip_reply r = {.status = status};
		if (next == CBAR_SIP_DECIDE) {
			r.status = cbar_sip_verdict_status(&cfg, (enum cbar_sip_verdict)(size % 3));
			r.reason = "x\"\\\r\ny";
			r.reason_len = 7;
			r.rule = "rule\r\nInjected: 1";
			r.rule_len = 17;
		}
		size_t len;
		/* a small cap first: refused or fitting, never past it */
		size_t cap = size % sizeof out;
		if (cbar_sip_reply_build(&m, &r, out, cap, &len) == CBAR_OK && len > cap)
			abort();
		if (cbar_sip_reply_build(&m, &r, out, sizeof out, &len) == CBAR_OK) {
			if (len > sizeof out || memmem(out, len, "\r\nInjected", 10))
				abort();
			cbar_sip_parse(out, len, CBAR_SIP_DGRAM, &rm);
			if (rm.kind != CBAR_SIP_RESPONSE || rm.status != r.status)
				abort();
		}
		char num[CBAR_SIP_NUMBER_MAX];
		for (int s = 0; s < 4; s++)
			if (cbar_sip_number_text(&m, (enum cbar_sip_source)s, num, sizeof num, &len) ==
			            CBAR_OK &&
			    len >= sizeof num)
				abort();
	}
	size_t skip, msglen;
	bool ping;
	e = cbar_sip_frame(buf, size, &skip, &msglen, &ping);
	if (skip > size || (!e && (skip + msglen > size || !msglen)))
		abort();
	return 0;
}
