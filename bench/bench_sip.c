/*
 * callbar benchmark: SIP parse + triage + reply per INVITE, on one core.
 *
 * Baseline: memchr over the same bytes for every LF (counting the lines),
 * the least any SIP parser must do, since it has to find each line.
 * Candidate: cbar_sip_parse, cbar_sip_triage, cbar_sip_number_text for the
 * Request-URI and From, and cbar_sip_reply_build of the 302 into a buffer:
 * everything a UDP worker does per INVITE except the rule decision and the
 * number normalisation (bench_number measures that).  Inputs: INVITEs as a
 * softswitch sends them (compact and long forms, 1 to 4 Vias, SDP body),
 * each number different.  Goal: at least 1 million INVITEs per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/sip.h"
#include "harness.h"

#define NMSG 1024u /* distinct messages, cycled */

struct input {
	char text[1400];
	size_t len;
};

static struct input *inputs;

static uint64_t run_memchr(void *arg, size_t n)
{
	(void)arg;
	uint64_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct input *in = &inputs[i & (NMSG - 1)];
		const char *p = in->text, *e = p + in->len;
		while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
			acc++;
			p++;
		}
	}
	return acc;
}

static uint64_t run_sip(void *arg, size_t n)
{
	(void)arg;
	static struct cbar_sip_msg m;
	static char out[2048];
	static const struct cbar_sip_cfg cfg = {.block_status = 403};
	uint64_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct input *in = &inputs[i & (NMSG - 1)];
		enum cbar_err e = cbar_sip_parse(in->text, in->len, CBAR_SIP_DGRAM, &m);
		uint16_t status;
		if (cbar_sip_triage(&m, e, &cfg, &status) != CBAR_SIP_DECIDE)
			continue;
		char a[CBAR_SIP_NUMBER_MAX], b[CBAR_SIP_NUMBER_MAX];
		size_t al, bl, len;
		cbar_sip_number_text(&m, CBAR_SIP_SRC_RURI, a, sizeof a, &al);
		cbar_sip_number_text(&m, CBAR_SIP_SRC_FROM, b, sizeof b, &bl);
		struct cbar_sip_reply r = {.status = cbar_sip_verdict_status(&cfg, CBAR_SIP_ALLOW)};
		if (cbar_sip_reply_build(&m, &r, out, sizeof out, &len) == CBAR_OK)
			acc += len + al + bl + (unsigned char)out[len - 5];
	}
	return acc;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 400000;
	int rounds = argc > 2 ? atoi(argv[2]) : 9;
	inputs = calloc(NMSG, sizeof *inputs);
	static const char sdp[] = "v=0\r\no=- 2890844526 2890844526 IN IP4 10.1.2.3\r\ns=-\r\n"
	                          "c=IN IP4 10.1.2.3\r\nt=0 0\r\nm=audio 49170 RTP/AVP 8 0 101\r\n"
	                          "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
	                          "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";
	for (unsigned i = 0; i < NMSG; i++) {
		struct input *in = &inputs[i];
		unsigned sub = 10000000u + i * 7919u % 90000000u;
		char vias[400] = "";
		for (unsigned v = 0; v <= i % 4; v++) {
			char one[100];
			snprintf(one, sizeof one, "%s: SIP/2.0/UDP 10.%u.0.%u:5060;branch=z9hG4bK%08x%u\r\n",
			         v & 1 ? "v" : "Via", v, i & 255, i * 2654435761u, v);
			strcat(vias, one);
		}
		int len = snprintf(
			in->text, sizeof in->text,
			"INVITE sip:+852%08u@gw.example.net;user=phone SIP/2.0\r\n%s"
			"Max-Forwards: 69\r\n"
			"%s: \"Caller\" <sip:+86138%08u@ims.example.cn;user=phone>;tag=%x\r\n"
			"%s: <sip:+852%08u@gw.example.net;user=phone>\r\n"
			"%s: %08x-%u@10.0.0.1\r\nCSeq: %u INVITE\r\n"
			"Contact: <sip:+86138%08u@10.0.0.1:5060>\r\n"
			"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE\r\n"
			"Supported: 100rel, timer\r\nContent-Type: application/sdp\r\n"
			"Content-Length: %zu\r\n\r\n%s",
			sub, vias, i & 1 ? "f" : "From", sub, i * 31u, i & 1 ? "t" : "To", sub,
			i & 2 ? "i" : "Call-ID", i * 2246822519u, i, i + 1, sub, sizeof sdp - 1, sdp);
		in->len = (size_t)len;
	}
	struct bench_result r = bench_compare("sip", run_memchr, NULL, run_sip, NULL, n, rounds);
	bench_report("parse+triage+302 per INVITE", "msg", &r,
	             r.cand_rate >= 1e6 ? "goal 1 M/s: met" : "goal 1 M/s: NOT met");
	free(inputs);
	return 0;
}
