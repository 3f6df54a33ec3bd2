/* callbar: SMPP v3.4 PDUs (contract and why in smpp_pdu.h). */
#include <string.h>

#include "smpp_pdu.h"

static const struct {
	uint32_t id;
	const char *name;
} cmd_names[] = {
#define SMPP__NAME(name, id, text) {id, text},
    SMPP_CMD_MAP(SMPP__NAME)
#undef SMPP__NAME
};

const char *cbar_smpp_cmd_name(uint32_t id)
{
	for (size_t i = 0; i < sizeof cmd_names / sizeof cmd_names[0]; i++)
		if (cmd_names[i].id == id)
			return cmd_names[i].name;
	return NULL;
}

uint32_t cbar_smpp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void cbar_smpp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

enum smpp_frame cbar_smpp_frame(const uint8_t *buf, size_t len, uint32_t max,
                                struct smpp_hdr *h)
{
	if (len < SMPP_HEADER_LEN)
		return SMPP_FRAME_MORE;
	h->len = cbar_smpp_get32(buf);
	h->id = cbar_smpp_get32(buf + 4);
	h->status = cbar_smpp_get32(buf + 8);
	h->seq = cbar_smpp_get32(buf + 12);
	if (h->len < SMPP_HEADER_LEN || h->len > max)
		return SMPP_FRAME_BAD_LEN;
	return len >= h->len ? SMPP_FRAME_PDU : SMPP_FRAME_MORE;
}

/* ---- reading: a cursor over one body ---------------------------------- */

struct rd {
	const uint8_t *p;
	size_t len, at;
	bool bad;
};

static uint8_t rd_u8(struct rd *r)
{
	if (r->bad || r->at >= r->len) {
		r->bad = true;
		return 0;
	}
	return r->p[r->at++];
}

/* A C-octet string of at most max bytes, NUL included: the NUL must come
 * within the field's limit and within the body. */
static struct smpp_slice rd_cstr(struct rd *r, size_t max)
{
	struct smpp_slice s = {NULL, 0};
	if (r->bad)
		return s;
	size_t room = r->len - r->at;
	const uint8_t *nul = memchr(r->p + r->at, 0, room < max ? room : max);
	if (!nul) {
		r->bad = true;
		return s;
	}
	s.p = r->p + r->at;
	s.len = (size_t)(nul - s.p);
	r->at += s.len + 1;
	return s;
}

static struct smpp_slice rd_bytes(struct rd *r, size_t n)
{
	struct smpp_slice s = {NULL, 0};
	if (r->bad || r->len - r->at < n) {
		r->bad = true;
		return s;
	}
	s.p = r->p + r->at;
	s.len = n;
	r->at += n;
	return s;
}

/* The rest of the body as TLVs: tag (2), length (2), value; each must fit. */
static bool tlvs_ok(const uint8_t *p, size_t len)
{
	size_t at = 0;
	while (at < len) {
		if (len - at < 4)
			return false;
		size_t vl = (size_t)p[at + 2] << 8 | p[at + 3];
		if (len - at - 4 < vl)
			return false;
		at += 4 + vl;
	}
	return true;
}

enum cbar_err cbar_smpp_parse_bind(const uint8_t *body, size_t len, struct smpp_bind *b,
                                   uint32_t *status)
{
	struct rd r = {body, len, 0, false};
	memset(b, 0, sizeof *b);
	b->system_id = rd_cstr(&r, SMPP_SYSTEM_ID_MAX);
	b->password = rd_cstr(&r, SMPP_PASSWORD_MAX);
	b->system_type = rd_cstr(&r, SMPP_SYSTEM_TYPE_MAX);
	b->version = rd_u8(&r);
	b->ton = rd_u8(&r);
	b->npi = rd_u8(&r);
	b->address_range = rd_cstr(&r, SMPP_ADDR_RANGE_MAX);
	/* A bind has no optional parameters in v3.4; bytes after it are a
	 * length that lies. */
	if (r.bad || r.at != len) {
		*status = SMPP_RINVCMDLEN;
		return CBAR_SMPP;
	}
	return CBAR_OK;
}

enum cbar_err cbar_smpp_parse_sm(uint32_t id, const uint8_t *body, size_t len,
                                 struct smpp_sm *m, uint32_t *status)
{
	struct rd r = {body, len, 0, false};
	bool data = id == SMPP_DATA_SM;
	size_t amax = data ? SMPP_DATA_ADDR_MAX : SMPP_ADDR_MAX;
	memset(m, 0, sizeof *m);
	if (id != SMPP_SUBMIT_SM && id != SMPP_DELIVER_SM && !data) {
		*status = SMPP_RINVCMDID;
		return CBAR_SMPP;
	}
	m->service_type = rd_cstr(&r, SMPP_SERVICE_TYPE_MAX);
	m->src.ton = rd_u8(&r);
	m->src.npi = rd_u8(&r);
	m->src.addr = rd_cstr(&r, amax);
	if (r.bad) {
		*status = SMPP_RINVSRCADR;
		return CBAR_SMPP;
	}
	m->dst.ton = rd_u8(&r);
	m->dst.npi = rd_u8(&r);
	m->dst.addr = rd_cstr(&r, amax);
	if (r.bad) {
		*status = SMPP_RINVDSTADR;
		return CBAR_SMPP;
	}
	m->esm_class = rd_u8(&r);
	if (data) {
		m->registered_delivery = rd_u8(&r);
		m->data_coding = rd_u8(&r);
	} else {
		m->protocol_id = rd_u8(&r);
		m->priority = rd_u8(&r);
		m->schedule = rd_cstr(&r, SMPP_TIME_MAX);
		m->validity = rd_cstr(&r, SMPP_TIME_MAX);
		m->registered_delivery = rd_u8(&r);
		m->replace = rd_u8(&r);
		m->data_coding = rd_u8(&r);
		m->default_msg_id = rd_u8(&r);
		uint8_t sml = rd_u8(&r);
		if (sml > 254) /* sm_length is 0 to 254 */
			r.bad = true;
		m->short_message = rd_bytes(&r, sml);
	}
	if (r.bad) {
		*status = SMPP_RINVCMDLEN;
		return CBAR_SMPP;
	}
	m->tlvs.p = body + r.at;
	m->tlvs.len = len - r.at;
	if (!tlvs_ok(m->tlvs.p, m->tlvs.len)) {
		*status = SMPP_RINVOPTPARSTREAM;
		return CBAR_SMPP;
	}
	return CBAR_OK;
}

enum cbar_err cbar_smpp_parse_resp_id(const uint8_t *body, size_t len, size_t max,
                                      struct smpp_slice *id)
{
	struct rd r = {body, len, 0, false};
	id->p = body;
	id->len = 0;
	if (!len)
		return CBAR_OK;
	*id = rd_cstr(&r, max);
	if (r.bad || !tlvs_ok(body + r.at, len - r.at))
		return CBAR_SMPP;
	return CBAR_OK;
}

bool cbar_smpp_tlv_find(struct smpp_slice tlvs, uint16_t tag, struct smpp_slice *v)
{
	size_t at = 0;
	while (tlvs.len - at >= 4) {
		uint16_t t = (uint16_t)(tlvs.p[at] << 8 | tlvs.p[at + 1]);
		size_t vl = (size_t)tlvs.p[at + 2] << 8 | tlvs.p[at + 3];
		if (tlvs.len - at - 4 < vl)
			return false;
		if (t == tag) {
			v->p = tlvs.p + at + 4;
			v->len = vl;
			return true;
		}
		at += 4 + vl;
	}
	return false;
}

/* ---- writing ------------------------------------------------------------ */

void cbar_smpp_w_init(struct smpp_w *w, uint8_t *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = cap;
	w->failed = false;
}

void cbar_smpp_w_bytes(struct smpp_w *w, const void *p, size_t n)
{
	if (w->failed || w->cap - w->len < n) {
		w->failed = true;
		return;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void cbar_smpp_w_u8(struct smpp_w *w, uint8_t v)
{
	cbar_smpp_w_bytes(w, &v, 1);
}

void cbar_smpp_w_u16(struct smpp_w *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	cbar_smpp_w_bytes(w, b, 2);
}

void cbar_smpp_w_u32(struct smpp_w *w, uint32_t v)
{
	uint8_t b[4];
	cbar_smpp_put32(b, v);
	cbar_smpp_w_bytes(w, b, 4);
}

void cbar_smpp_w_cstr(struct smpp_w *w, const void *s, size_t n, size_t max)
{
	if (n >= max || (n && memchr(s, 0, n))) {
		w->failed = true;
		return;
	}
	cbar_smpp_w_bytes(w, s, n);
	cbar_smpp_w_u8(w, 0);
}

void cbar_smpp_w_begin(struct smpp_w *w, uint32_t id, uint32_t status, uint32_t seq)
{
	cbar_smpp_w_u32(w, 0);
	cbar_smpp_w_u32(w, id);
	cbar_smpp_w_u32(w, status);
	cbar_smpp_w_u32(w, seq);
}

size_t cbar_smpp_w_end(struct smpp_w *w, size_t start)
{
	if (w->failed || w->len - start < SMPP_HEADER_LEN || w->len - start > UINT32_MAX)
		return 0;
	cbar_smpp_put32(w->p + start, (uint32_t)(w->len - start));
	return w->len - start;
}

size_t cbar_smpp_write_empty(uint8_t *buf, size_t cap, uint32_t id, uint32_t status,
                             uint32_t seq)
{
	struct smpp_w w;
	cbar_smpp_w_init(&w, buf, cap);
	cbar_smpp_w_begin(&w, id, status, seq);
	return cbar_smpp_w_end(&w, 0);
}

size_t cbar_smpp_write_resp_id(uint8_t *buf, size_t cap, uint32_t id, uint32_t status,
                               uint32_t seq, const void *s, size_t n)
{
	struct smpp_w w;
	cbar_smpp_w_init(&w, buf, cap);
	cbar_smpp_w_begin(&w, id, status, seq);
	/* v3.4 (4.4.2) leaves the body of an error response out, but ESMEs
	 * such as Kannel read a message_id in every submit_sm_resp: an error
	 * carries an empty one, which both readings accept. */
	cbar_smpp_w_cstr(&w, status ? "" : s, status ? 0 : n, SMPP_MESSAGE_ID_MAX);
	return cbar_smpp_w_end(&w, 0);
}

size_t cbar_smpp_write_bind(uint8_t *buf, size_t cap, uint32_t id, uint32_t seq,
                            const char *system_id, const char *password,
                            const char *system_type)
{
	struct smpp_w w;
	cbar_smpp_w_init(&w, buf, cap);
	cbar_smpp_w_begin(&w, id, 0, seq);
	cbar_smpp_w_cstr(&w, system_id, strlen(system_id), SMPP_SYSTEM_ID_MAX);
	cbar_smpp_w_cstr(&w, password, strlen(password), SMPP_PASSWORD_MAX);
	cbar_smpp_w_cstr(&w, system_type, strlen(system_type), SMPP_SYSTEM_TYPE_MAX);
	cbar_smpp_w_u8(&w, 0x34);
	cbar_smpp_w_u8(&w, 0);
	cbar_smpp_w_u8(&w, 0);
	cbar_smpp_w_cstr(&w, "", 0, SMPP_ADDR_RANGE_MAX);
	return cbar_smpp_w_end(&w, 0);
}
