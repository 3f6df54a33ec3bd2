/*
 * callbar fuzz target: the SMPP v3.4 codec (src/proto/smpp_pdu.c) and the
 * keyword texts and events read from its PDUs (src/proto/smpp_text.c).
 * Any bytes: framing, every body parser, the TLV walk, the keyword text
 * decoder and the event reader must stay inside the input (ASan sees any
 * read past it: the body is copied to a buffer of exactly its size); a
 * slice a parser returns lies inside the body; a keyword reply written
 * from the decoded text parses back as submit_sm PDUs whose UCS-2 decodes
 * to what was written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "proto/smpp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cbar_numplan *np;
static uint16_t cn;

static void inside(struct smpp_slice s, const uint8_t *b, size_t n)
{
	if (s.len && (s.p < b || s.p + s.len > b + n))
		abort();
}

static void check_sm(uint32_t id, const uint8_t *b, size_t n)
{
	struct smpp_sm m;
	uint32_t st = 0;
	if (cbar_smpp_parse_sm(id, b, n, &m, &st)) {
		if (!st)
			abort(); /* a failure always says which status to answer */
		return;
	}
	inside(m.src.addr, b, n);
	inside(m.dst.addr, b, n);
	inside(m.short_message, b, n);
	inside(m.tlvs, b, n);
	struct smpp_slice v;
	if (cbar_smpp_tlv_find(m.tlvs, SMPP_TLV_MESSAGE_PAYLOAD, &v))
		inside(v, b, n);
	struct cbar_event_ctx ec = {.np = np, .country = cn};
	struct cbar_event_in in;
	cbar_smpp_event(&in, &ec, &m, (m.esm_class & 1) ? CBAR_OUT : CBAR_IN, "intl-hub", 1655251200);
	if (in.ev.peer_alnum && in.ev.peer)
		abort();
	char text[600];
	size_t tl;
	if (cbar_smpp_keyword_text(&m, text, sizeof text, &tl))
		return;
	if (tl >= sizeof text || text[tl] || strlen(text) != tl)
		abort();
	/* The answer: segments that parse back and decode to the text. */
	static uint8_t out[1 << 16];
	size_t len = 0;
	unsigned k = cbar_smpp_reply_pdus(&m.dst, &m.src, text, 7, 1, out, sizeof out, &len);
	if (!k || m.dst.addr.len >= SMPP_ADDR_MAX || m.src.addr.len >= SMPP_ADDR_MAX)
		return;
	char back[1200];
	size_t at = 0, bl = 0;
	for (unsigned i = 0; i < k; i++) {
		struct smpp_hdr h;
		struct smpp_sm r;
		if (cbar_smpp_frame(out + at, len - at, 1u << 16, &h) != SMPP_FRAME_PDU ||
		    h.id != SMPP_SUBMIT_SM ||
		    cbar_smpp_parse_sm(h.id, out + at + 16, h.len - 16, &r, &st) || r.data_coding != 8)
			abort();
		struct smpp_slice t = r.short_message;
		if (k > 1) {
			if (t.len < 6 || t.p[0] != 5 || t.p[4] != k || t.p[5] != i + 1)
				abort();
			t.p += 6, t.len -= 6;
		}
		size_t n8 = cbar_smpp_ucs2_to_utf8(t.p, t.len, back + bl, sizeof back - bl);
		bl += n8;
		at += h.len;
	}
	if (at != len)
		abort();
	/* U+FFFD, folded full-width forms and control text may differ; ASCII
	 * text must come back whole */
	bool ascii = true;
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)text[i] >= 0x80)
			ascii = false;
	if (ascii && (bl != tl || memcmp(back, text, tl)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np) {
		struct cbar_diag d;
		if (cbar_numplan_embedded(&np, &d))
			abort();
		cn = cbar_numplan_country(np, "CN", 2);
	}
	struct smpp_hdr h;
	enum smpp_frame f = cbar_smpp_frame(data, size, 1u << 16, &h);
	if (f == SMPP_FRAME_PDU && h.len > size)
		abort();
	/* The body alone, in a buffer of its own size. */
	size_t n = f == SMPP_FRAME_PDU ? h.len - 16 : size > 16 ? size - 16 : 0;
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return 0;
	memcpy(b, data + (size > 16 ? 16 : size), n);
	struct smpp_bind bd;
	uint32_t st;
	if (!cbar_smpp_parse_bind(b, n, &bd, &st)) {
		inside(bd.system_id, b, n);
		inside(bd.password, b, n);
		if (bd.system_id.len >= SMPP_SYSTEM_ID_MAX || bd.password.len >= SMPP_PASSWORD_MAX)
			abort();
	}
	struct smpp_slice id;
	if (!cbar_smpp_parse_resp_id(b, n, SMPP_MESSAGE_ID_MAX, &id))
		inside(id, b, n);
	check_sm(SMPP_SUBMIT_SM, b, n);
	check_sm(SMPP_DELIVER_SM, b, n);
	check_sm(SMPP_DATA_SM, b, n);
	free(b);
	return 0;
}
