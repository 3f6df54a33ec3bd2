/* callbar: keyword texts, SMPP events and keyword replies (smpp_text.h). */
#include <stdio.h>
#include <string.h>

#include "smpp_text.h"

/* GSM 03.38 default alphabet to Unicode; 0x1B is the escape to the
 * extension table (gsm_ext). */
static const uint16_t gsm_basic[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A,
    0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9,
    0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00A0, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020,
    0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B,
    0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036,
    0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x00A1, 0x0041,
    0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C,
    0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x0061, 0x0062,
    0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D,
    0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078,
    0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0};

static uint16_t gsm_ext(uint8_t c)
{
	switch (c) {
	case 0x0A: return 0x000C;
	case 0x14: return 0x005E;
	case 0x28: return 0x007B;
	case 0x29: return 0x007D;
	case 0x2F: return 0x005C;
	case 0x3C: return 0x005B;
	case 0x3D: return 0x007E;
	case 0x3E: return 0x005D;
	case 0x40: return 0x007C;
	case 0x65: return 0x20AC;
	default: return 0x0020; /* an unknown escape reads as a space (03.38) */
	}
}

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

/* One code point as UTF-8, full-width forms folded to ASCII first. */
static void put_cp(struct out *o, uint32_t cp)
{
	if (!cp)
		return; /* a NUL means nothing in a text, and would cut it short */
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		cp -= 0xFF01 - 0x21;
	else if (cp == 0x3000)
		cp = ' ';
	uint8_t b[4];
	size_t n;
	if (cp < 0x80)
		b[0] = (uint8_t)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
	else if (cp < 0x10000)
		b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
		b[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
	else
		b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)),
		n = 4;
	if (o->cap - o->len <= n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, b, n);
	o->len += n;
}

enum cbar_err cbar_smpp_keyword_text(const struct smpp_sm *m, char *out, size_t cap,
                                     size_t *len)
{
	struct smpp_slice t = m->short_message, pl;
	if (cbar_smpp_tlv_find(m->tlvs, SMPP_TLV_MESSAGE_PAYLOAD, &pl))
		t = pl;
	*len = 0;
	if (!cap)
		return CBAR_SMPP;
	out[0] = '\0';
	if (m->esm_class & SMPP_ESM_UDHI) {
		/* The user data header: its length, then itself; skipped. */
		size_t h = t.len ? (size_t)t.p[0] + 1 : 1;
		if (h > t.len)
			return CBAR_SMPP;
		t.p += h;
		t.len -= h;
	}
	struct out o = {out, 0, cap, false};
	switch (m->data_coding) {
	case 0: /* GSM 03.38, one septet an octet as SMPP carries it */
		for (size_t i = 0; i < t.len; i++) {
			uint8_t c = t.p[i] & 0x7F;
			if (c == 0x1B && i + 1 < t.len)
				put_cp(&o, gsm_ext(t.p[++i] & 0x7F));
			else
				put_cp(&o, gsm_basic[c]);
		}
		break;
	case 1: /* IA5 */
	case 3: /* Latin-1 */
		for (size_t i = 0; i < t.len; i++)
			put_cp(&o, m->data_coding == 1 ? (uint32_t)(t.p[i] & 0x7F) : t.p[i]);
		break;
	case 8: /* UCS-2; a surrogate pair read as UTF-16 */
		if (t.len % 2)
			return CBAR_SMPP;
		for (size_t i = 0; i + 1 < t.len; i += 2) {
			uint32_t u = (uint32_t)t.p[i] << 8 | t.p[i + 1];
			if (u >= 0xD800 && u < 0xDC00 && i + 3 < t.len) {
				uint32_t l = (uint32_t)t.p[i + 2] << 8 | t.p[i + 3];
				if (l >= 0xDC00 && l < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
					i += 2;
				}
			}
			if (u >= 0xD800 && u < 0xE000)
				u = 0xFFFD;
			put_cp(&o, u);
		}
		break;
	default:
		return CBAR_SMPP;
	}
	if (o.full)
		return CBAR_SMPP;
	out[o.len] = '\0';
	*len = o.len;
	return CBAR_OK;
}

void cbar_smpp_addr_text(const struct smpp_addr *a, char *out, size_t cap, bool *alnum)
{
	*alnum = a->ton == 5;
	if (!cap)
		return;
	if (*alnum) {
		out[0] = '\0';
		return;
	}
	/* International: the digits are the full number without its '+'. */
	bool plus = a->ton == 1 && a->addr.len && a->addr.p[0] != '+';
	snprintf(out, cap, "%s%.*s", plus ? "+" : "", (int)a->addr.len, (const char *)a->addr.p);
}

void cbar_smpp_event(struct cbar_event_in *in, const struct cbar_event_ctx *c,
                     const struct smpp_sm *m, enum cbar_direction dir, const char *via,
                     int64_t now)
{
	const struct smpp_addr *sub = dir == CBAR_IN ? &m->dst : &m->src;
	const struct smpp_addr *peer = dir == CBAR_IN ? &m->src : &m->dst;
	char t[SMPP_DATA_ADDR_MAX + 2];
	bool alnum;
	cbar_event_begin(in);
	cbar_event_at(in, now);
	in->ev.service = CBAR_SMS;
	in->ev.direction = dir;
	cbar_smpp_addr_text(sub, t, sizeof t, &alnum);
	if (alnum || !t[0])
		cbar_event_no_subscriber(in, NULL);
	else
		cbar_event_subscriber(in, c, t, strlen(t), NULL);
	cbar_smpp_addr_text(peer, t, sizeof t, &alnum);
	if (alnum) {
		/* A sender's name (PAYPAL): no number, no country; the rules
		 * match it with `from alphanumeric`. */
		in->ev.peer = NULL;
		in->ev.peer_alnum = true;
	} else if (cbar_event_caller_id(in, c, t[0] ? t : NULL, strlen(t), NULL)) {
		in->ev.peer = NULL;
	}
	if (via && via[0])
		cbar_event_ingress(in, via, strlen(via), NULL);
}

/* The next code point of UTF-8 s (len bytes from *i), U+FFFD for a bad
 * sequence. */
static uint32_t utf8_next(const char *s, size_t len, size_t *i)
{
	const uint8_t *p = (const uint8_t *)s;
	uint8_t c = p[(*i)++];
	if (c < 0x80)
		return c;
	unsigned n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
	if (!n || *i + n > len)
		return 0xFFFD;
	uint32_t cp = c & (0x3F >> n);
	for (unsigned k = 0; k < n; k++) {
		if ((p[*i] & 0xC0) != 0x80)
			return 0xFFFD;
		cp = cp << 6 | (p[(*i)++] & 0x3F);
	}
	return cp;
}

#define UNITS_MAX 4096

/* The UTF-16 units of the segment at `at`: per, or one less so that a
 * surrogate pair is never cut; at least 1 so the count always moves. */
static size_t seg_len(const uint16_t *u, size_t nu, size_t at, size_t per)
{
	size_t n = nu - at < per ? nu - at : per;
	if (n == per && at + n < nu && u[at + n - 1] >= 0xD800 && u[at + n - 1] < 0xDC00)
		n--;
	return n ? n : (at < nu ? 1 : 0);
}
unsigned cbar_smpp_reply_pdus(const struct smpp_addr *from, const struct smpp_addr *to,
                              const char *text, uint8_t ref, uint32_t seq, uint8_t *buf,
                              size_t cap, size_t *len)
{
	static _Thread_local uint16_t u[UNITS_MAX];
	size_t nu = 0, tl = strlen(text);
	for (size_t i = 0; i < tl && nu + 2 <= UNITS_MAX;) {
		uint32_t cp = utf8_next(text, tl, &i);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[nu++] = (uint16_t)(0xD800 + (cp >> 10));
			u[nu++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
		} else {
			u[nu++] = (uint16_t)cp;
		}
	}
	/* One message holds 70 UCS-2 characters; with the concatenation
	 * header (6 octets) 67. */
	size_t per = nu <= 70 ? 70 : 67, total = 0;
	for (size_t at = 0; at < nu || !total; total++)
		at += seg_len(u, nu, at, per);
	if (total > 255)
		return 0;
	struct smpp_w w;
	cbar_smpp_w_init(&w, buf, cap);
	size_t at = 0;
	for (size_t k = 0; k < total; k++) {
		size_t n = seg_len(u, nu, at, per);
		size_t start = w.len;
		cbar_smpp_w_begin(&w, SMPP_SUBMIT_SM, 0, seq + (uint32_t)k);
		cbar_smpp_w_cstr(&w, "", 0, SMPP_SERVICE_TYPE_MAX);
		cbar_smpp_w_u8(&w, from->ton);
		cbar_smpp_w_u8(&w, from->npi);
		cbar_smpp_w_cstr(&w, from->addr.p, from->addr.len, SMPP_ADDR_MAX);
		cbar_smpp_w_u8(&w, to->ton);
		cbar_smpp_w_u8(&w, to->npi);
		cbar_smpp_w_cstr(&w, to->addr.p, to->addr.len, SMPP_ADDR_MAX);
		cbar_smpp_w_u8(&w, total > 1 ? SMPP_ESM_UDHI : 0);
		cbar_smpp_w_u8(&w, 0); /* protocol_id */
		cbar_smpp_w_u8(&w, 0); /* priority */
		cbar_smpp_w_cstr(&w, "", 0, SMPP_TIME_MAX);
		cbar_smpp_w_cstr(&w, "", 0, SMPP_TIME_MAX);
		cbar_smpp_w_u8(&w, 0); /* registered_delivery */
		cbar_smpp_w_u8(&w, 0); /* replace_if_present */
		cbar_smpp_w_u8(&w, 8); /* UCS-2 */
		cbar_smpp_w_u8(&w, 0);
		cbar_smpp_w_u8(&w, (uint8_t)(n * 2 + (total > 1 ? 6 : 0)));
		if (total > 1) {
			const uint8_t udh[6] = {5, 0, 3, ref, (uint8_t)total, (uint8_t)(k + 1)};
			cbar_smpp_w_bytes(&w, udh, sizeof udh);
		}
		for (size_t i = 0; i < n; i++)
			cbar_smpp_w_u16(&w, u[at + i]);
		if (!cbar_smpp_w_end(&w, start))
			return 0;
		at += n;
	}
	*len = w.len;
	return (unsigned)total;
}

size_t cbar_smpp_ucs2_to_utf8(const uint8_t *p, size_t n, char *outp, size_t cap)
{
	struct smpp_sm m;
	memset(&m, 0, sizeof m);
	m.data_coding = 8;
	m.short_message.p = p;
	m.short_message.len = n;
	size_t len = 0;
	if (cbar_smpp_keyword_text(&m, outp, cap, &len))
		return 0;
	return len;
}

/* ---- concatenated keyword texts ------------------------------------------------ */

void cbar_smpp_concat_expire(struct smpp_concat *t, int64_t now_ms)
{
	for (size_t i = 0; i < SMPP_CONCAT_SLOTS; i++) {
		struct smpp_concat_entry *e = &t->e[i];
		if (e->used && now_ms - e->t_ms >= t->ttl_ms) {
			e->used = false;
			t->dropped++;
		}
	}
}

/* The concatenation element of a UDH (the first one, 0x00 or 0x08), and
 * the text after the header; false when there is none. */
static bool udh_concat(struct smpp_slice t, uint16_t *ref, uint8_t *total, uint8_t *seq,
                       struct smpp_slice *rest, bool *bad)
{
	*bad = false;
	if (!t.len || (size_t)t.p[0] + 1 > t.len) {
		*bad = true;
		return false;
	}
	size_t h = (size_t)t.p[0] + 1;
	rest->p = t.p + h;
	rest->len = t.len - h;
	bool found = false;
	for (size_t i = 1; i + 1 < h;) {
		uint8_t iei = t.p[i], l = t.p[i + 1];
		if (i + 2 + l > h) {
			*bad = true;
			return false;
		}
		const uint8_t *v = t.p + i + 2;
		if (!found && iei == 0x00 && l == 3) {
			*ref = v[0], *total = v[1], *seq = v[2];
			found = true;
		} else if (!found && iei == 0x08 && l == 4) {
			*ref = (uint16_t)(v[0] << 8 | v[1]), *total = v[2], *seq = v[3];
			found = true;
		}
		i += 2 + (size_t)l;
	}
	return found;
}

enum smpp_concat_res cbar_smpp_concat_add(struct smpp_concat *t, const struct smpp_sm *m,
                                          const char *from, const char *to, int64_t now_ms,
                                          struct smpp_sm *whole, uint8_t *buf, size_t cap)
{
	if (!(m->esm_class & SMPP_ESM_UDHI))
		return SMPP_CONCAT_NONE;
	struct smpp_slice txt = m->short_message, pl, rest;
	if (cbar_smpp_tlv_find(m->tlvs, SMPP_TLV_MESSAGE_PAYLOAD, &pl))
		txt = pl;
	uint16_t ref = 0;
	uint8_t total = 0, seq = 0;
	bool bad;
	if (!udh_concat(txt, &ref, &total, &seq, &rest, &bad))
		return bad ? SMPP_CONCAT_INVALID : SMPP_CONCAT_NONE;
	if (total == 1 && seq == 1)
		return SMPP_CONCAT_NONE; /* a message of one part: read as it is */
	if (!total || total > SMPP_CONCAT_PARTS || !seq || seq > total ||
	    rest.len > SMPP_CONCAT_PART_MAX || strlen(from) >= sizeof t->e[0].from ||
	    strlen(to) >= sizeof t->e[0].to)
		return SMPP_CONCAT_INVALID;
	cbar_smpp_concat_expire(t, now_ms);
	struct smpp_concat_entry *e = NULL, *free_e = NULL, *oldest = NULL;
	for (size_t i = 0; i < SMPP_CONCAT_SLOTS; i++) {
		struct smpp_concat_entry *x = &t->e[i];
		if (!x->used) {
			if (!free_e)
				free_e = x;
			continue;
		}
		if (x->ref == ref && !strcmp(x->from, from) && !strcmp(x->to, to)) {
			e = x;
			break;
		}
		if (!oldest || x->t_ms < oldest->t_ms)
			oldest = x;
	}
	/* A part that does not agree with its entry (another count or coding)
	 * starts it again: the old parts cannot make a whole any more. */
	if (e && (e->total != total || e->data_coding != m->data_coding)) {
		e->used = false;
		t->dropped++;
		free_e = e;
		e = NULL;
	}
	if (!e) {
		if (!free_e) {
			/* The table is full: the oldest waiting message goes. */
			free_e = oldest;
			t->dropped++;
		}
		e = free_e;
		memset(e, 0, sizeof *e);
		e->used = true;
		snprintf(e->from, sizeof e->from, "%s", from);
		snprintf(e->to, sizeof e->to, "%s", to);
		e->ref = ref;
		e->total = total;
		e->data_coding = m->data_coding;
		e->t_ms = now_ms;
	}
	unsigned k = seq - 1u;
	if (!e->got[k]) {
		e->got[k] = true;
		e->have++;
	}
	memcpy(e->part[k], rest.p, rest.len);
	e->len[k] = (uint16_t)rest.len;
	if (e->have < e->total)
		return SMPP_CONCAT_HELD;
	size_t n = 0;
	for (unsigned i = 0; i < e->total; i++) {
		if (n + e->len[i] > cap) {
			e->used = false;
			t->dropped++;
			return SMPP_CONCAT_INVALID;
		}
		memcpy(buf + n, e->part[i], e->len[i]);
		n += e->len[i];
	}
	e->used = false;
	*whole = *m;
	whole->esm_class = (uint8_t)(m->esm_class & ~SMPP_ESM_UDHI);
	whole->short_message = (struct smpp_slice){buf, n};
	whole->tlvs = (struct smpp_slice){NULL, 0};
	return SMPP_CONCAT_WHOLE;
}
