/*
 * callbar: a CDR record's fields (cdr.h).  The fixed layout is the hot
 * path of `callbar batch`: it is cut in one pass over the line.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cdr.h"

static const char *const map_names[CBAR_CDR_FIELDS] = {
	[CBAR_CDR_TIME] = "time",           [CBAR_CDR_SERVICE] = "service",
	[CBAR_CDR_DIRECTION] = "direction", [CBAR_CDR_SUBSCRIBER] = "subscriber",
	[CBAR_CDR_PEER] = "peer",           [CBAR_CDR_INGRESS] = "ingress",
	[CBAR_CDR_ROAMING] = "roaming",     [CBAR_CDR_CARRIER] = "carrier",
	[CBAR_CDR_REGION] = "region",
};

bool cbar_cdr_header(const char *s, size_t len, struct cbar_cdr_map *m)
{
	memset(m, 0, sizeof *m);
	for (int k = 0; k < CBAR_CDR_FIELDS; k++)
		m->col[k] = -1;
	size_t i = 0;
	for (int c = 0; i <= len && c < CBAR_CDR_COLUMNS_MAX; c++) {
		size_t j = i;
		while (j < len && s[j] != ',')
			j++;
		for (int k = 0; k < CBAR_CDR_FIELDS; k++)
			if (m->col[k] < 0 && strlen(map_names[k]) == j - i &&
			    !memcmp(s + i, map_names[k], j - i))
				m->col[k] = c;
		m->ncols = c + 1;
		i = j + 1;
	}
	for (int k = 0; k <= CBAR_CDR_PEER; k++)
		if (m->col[k] < 0)
			return false;
	/* The fixed layout keeps the fast cut. */
	m->custom = m->col[CBAR_CDR_ROAMING] >= 0 || m->col[CBAR_CDR_CARRIER] >= 0 ||
	            m->col[CBAR_CDR_REGION] >= 0 || m->ncols > 6 ||
	            (m->ncols == 6 && m->col[CBAR_CDR_INGRESS] != CBAR_CDR_INGRESS);
	for (int k = 0; k <= CBAR_CDR_PEER; k++)
		m->custom = m->custom || m->col[k] != k;
	return true;
}

const char *cbar_cdr_fixed(const char *s, size_t len, const char **f, size_t *n, size_t *nf)
{
	/* One pass over the bytes, eight at a time: a word with a comma in it
	 * has a zero byte after XOR with ",,,,,,,," (the classic has-zero-byte
	 * test), and the lowest set bit of the mask is the first comma.
	 * Fields are short, so a memchr call per field costs more.  Past six
	 * fields the rest is one more: too many either way. */
	const char *start = s;
	size_t i = 0, k = 0;
	while (i + 8 <= len && k < 6) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		w ^= 0x2c2c2c2c2c2c2c2cull;
		uint64_t m = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
		while (m && k < 6) {
			size_t at = i + (size_t)(__builtin_ctzll(m) >> 3);
			f[k] = start;
			n[k++] = (size_t)(s + at - start);
			start = s + at + 1;
			m &= m - 1;
		}
		i += 8;
	}
	for (; i < len && k < 6; i++)
		if (s[i] == ',') {
			f[k] = start;
			n[k++] = (size_t)(s + i - start);
			start = s + i + 1;
		}
	f[k] = start;
	n[k++] = (size_t)(s + len - start);
	*nf = k;
	return k < 5 || k > 6 ? "want 5 or 6 fields: time,service,direction,subscriber,peer[,ingress]"
	                      : NULL;
}

const char *cbar_cdr_mapped(const struct cbar_cdr_map *m, const char *s, size_t len,
                            const char **f, size_t *n)
{
	const char *col[CBAR_CDR_COLUMNS_MAX];
	size_t cl[CBAR_CDR_COLUMNS_MAX];
	int nc = 0;
	size_t i = 0;
	while (nc < m->ncols) {
		const char *c = memchr(s + i, ',', len - i);
		size_t j = c ? (size_t)(c - s) : len;
		col[nc] = s + i;
		cl[nc++] = j - i;
		if (!c)
			break;
		i = j + 1;
	}
	if (nc != m->ncols)
		return "fewer fields than the header names";
	for (int k = 0; k < CBAR_CDR_FIELDS; k++) {
		f[k] = m->col[k] >= 0 ? col[m->col[k]] : "";
		n[k] = m->col[k] >= 0 ? cl[m->col[k]] : 0;
	}
	return NULL;
}

const char *cbar_cdr_json(const char *s, size_t len, json_t **obj, const char **f, size_t *n,
                          struct cbar_cdr_json_text *tx)
{
	static const char *const keys[] = {"time", "service", "direction", "subscriber", "peer",
	                                   "ingress"};
	json_error_t je;
	json_t *o = json_loadb(s, len, 0, &je);
	*obj = o;
	if (!o || !json_is_object(o)) {
		snprintf(tx->msg, sizeof tx->msg, "not a JSON object: %s",
		         o ? "another value" : je.text);
		return tx->msg;
	}
	for (int i = 0; i <= CBAR_CDR_INGRESS; i++) {
		json_t *x = json_object_get(o, keys[i]);
		if (i == CBAR_CDR_TIME && json_is_integer(x)) {
			n[i] = (size_t)snprintf(tx->time, sizeof tx->time, "%lld",
			                        (long long)json_integer_value(x));
			f[i] = tx->time;
		} else if (json_is_string(x)) {
			f[i] = json_string_value(x);
			n[i] = json_string_length(x);
		} else if ((i == CBAR_CDR_INGRESS || i == CBAR_CDR_SUBSCRIBER) && !x) {
			/* No subscriber is an empty one: the record is still decided,
			 * since a call to an emergency number passes whoever calls. */
			f[i] = "";
			n[i] = 0;
		} else {
			snprintf(tx->msg, sizeof tx->msg, "key '%s' missing or not a string", keys[i]);
			return tx->msg;
		}
	}
	json_t *rm = json_object_get(o, "roaming");
	f[CBAR_CDR_ROAMING] = !rm ? "" : json_is_true(rm) ? "yes" : "no";
	n[CBAR_CDR_ROAMING] = strlen(f[CBAR_CDR_ROAMING]);
	if (rm && !json_is_boolean(rm))
		return "key 'roaming' not true or false";
	for (int i = CBAR_CDR_CARRIER; i <= CBAR_CDR_REGION; i++) {
		json_t *x = json_object_get(o, map_names[i]);
		if (x && !json_is_string(x)) {
			snprintf(tx->msg, sizeof tx->msg, "key '%s' not a string", map_names[i]);
			return tx->msg;
		}
		f[i] = x ? json_string_value(x) : "";
		n[i] = x ? json_string_length(x) : 0;
	}
	return NULL;
}
