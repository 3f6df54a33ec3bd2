/* callbar serve: configuration file and keys (format in config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"
#include "net/sip_server.h"
#include "config.h"

/* K_LISTENER: a repeatable sip.listener line (struct config_specs). */
/* K_STR_OPT: a string that may be empty (a feature left off). */
enum key_type { K_STR, K_STR_OPT, K_URL, K_ADDR, K_ADDR_OPT, K_UINT, K_BOOL, K_ENUM, K_LISTENER };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;   /* offsetof in struct daemon_config */
	size_t size;  /* of a K_STR/K_ADDR field */
	unsigned min, max;       /* K_UINT bounds */
	const char *const *names; /* K_ENUM values, index is the value */
};

static const char *const decide_auth_names[] = {"token", "none", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const sip_block_names[] = {"403", "603", NULL};
static const char *const sip_fail_names[] = {"302", "500", NULL};
static const char *const smpp_fail_names[] = {"reject", "relay", NULL};

#define F(field) offsetof(struct daemon_config, field), sizeof(((struct daemon_config *)0)->field)

/* Every key of the file; docs/config.md documents each one. */
static const struct key keys[] = {
	{.section = "http", .name = "listen", .type = K_ADDR, F(http_listen)},
	{.section = "http", .name = "threads", .type = K_UINT, F(http_threads), .min = 0, .max = 256},
	{.section = "http", .name = "body_max", .type = K_UINT, F(body_max), .min = 256,
	 .max = 64u << 20},
	{.section = "http", .name = "batch_max", .type = K_UINT, F(batch_max), .min = 1,
	 .max = 100000},
	{.section = "http", .name = "connection_timeout", .type = K_UINT, F(conn_timeout),
	 .min = 1, .max = 3600},
	{.section = "http", .name = "header_timeout", .type = K_UINT, F(header_timeout), .min = 0,
	 .max = 3600},
	{.section = "http", .name = "per_source_limit", .type = K_UINT, F(per_source), .min = 0,
	 .max = 1000000},
	{.section = "http", .name = "drain_timeout", .type = K_UINT, F(drain_timeout), .min = 0,
	 .max = 3600},
	{.section = "http", .name = "decide_auth", .type = K_ENUM, F(decide_auth),
	 .names = decide_auth_names},
	{.section = "http", .name = "metrics_auth", .type = K_BOOL, F(metrics_auth)},
	{.section = "http", .name = "tls_cert", .type = K_STR_OPT, F(tls_cert)},
	{.section = "http", .name = "tls_key", .type = K_STR_OPT, F(tls_key)},
	{.section = "rules", .name = "file", .type = K_STR, F(rules_file)},
	{.section = "rules", .name = "country", .type = K_STR, F(country)},
	{.section = "numbering", .name = "segments", .type = K_STR_OPT, F(num_segments)},
	{.section = "numbering", .name = "carriers", .type = K_STR_OPT, F(num_carriers)},
	{.section = "numbering", .name = "ported", .type = K_STR_OPT, F(num_ported)},
	{.section = "registry", .name = "url", .type = K_URL, F(registry_url)},
	{.section = "registry", .name = "snapshot", .type = K_STR_OPT, F(registry_snapshot)},
	{.section = "registry", .name = "read_url", .type = K_URL, F(registry_read_url)},
	{.section = "sip", .name = "listen", .type = K_ADDR_OPT, F(sip_listen)},
	{.section = "sip", .name = "listen_in", .type = K_ADDR_OPT, F(sip_listen_in)},
	{.section = "sip", .name = "block_status", .type = K_ENUM, F(sip_block),
	 .names = sip_block_names},
	{.section = "sip", .name = "fail_mode", .type = K_ENUM, F(sip_fail), .names = sip_fail_names},
	{.section = "sip", .name = "ingress", .type = K_STR_OPT, F(sip_ingress)},
	{.section = "sip", .name = "coalesce_us", .type = K_UINT, F(sip_coalesce_us), .min = 0,
	 .max = 1000},
	{.section = "sip", .name = "ack_filter", .type = K_BOOL, F(sip_ack_filter)},
	{.section = "sip", .name = "tcp_idle_timeout", .type = K_UINT, F(sip_tcp_idle), .min = 0,
	 .max = 86400},
	{.section = "sip", .name = "tcp_per_source", .type = K_UINT, F(sip_tcp_per_source),
	 .min = 1, .max = 65535},
	{.section = "sip", .name = "listener", .type = K_LISTENER, F(sip_listeners)},
	{.section = "sip", .name = "annc_uri", .type = K_STR_OPT, F(sip_annc_uri)},
	{.section = "keywords", .name = "file", .type = K_STR_OPT, F(keywords_file)},
	{.section = "auth", .name = "tokens", .type = K_STR, F(tokens_file)},
	{.section = "console", .name = "enabled", .type = K_BOOL, F(console)},
	{.section = "console", .name = "idle_timeout", .type = K_UINT, F(console_idle), .min = 60,
	 .max = 86400},
	{.section = "console", .name = "lifetime", .type = K_UINT, F(console_life), .min = 300,
	 .max = 604800},
	{.section = "log", .name = "level", .type = K_ENUM, F(log_level), .names = level_names},
	{.section = "log", .name = "decision_log", .type = K_BOOL, F(decision_log)},
	{.section = "log", .name = "decision_file", .type = K_STR_OPT, F(decision_file)},
	{.section = "log", .name = "decision_group", .type = K_STR_OPT, F(decision_group)},
	{.section = "log", .name = "decision_retention_days", .type = K_UINT, F(decision_days),
	 .min = 1, .max = 3650},
	{.section = "smpp", .name = "listen", .type = K_ADDR_OPT, F(smpp_listen)},
	{.section = "smpp", .name = "peers", .type = K_STR, F(smpp_peers)},
	{.section = "smpp", .name = "upstream", .type = K_ADDR_OPT, F(smpp_upstream)},
	{.section = "smpp", .name = "upstream_system_id", .type = K_STR_OPT, F(smpp_up_system_id)},
	{.section = "smpp", .name = "upstream_password", .type = K_STR_OPT, F(smpp_up_password)},
	{.section = "smpp", .name = "upstream_system_type", .type = K_STR_OPT,
	 F(smpp_up_system_type)},
	{.section = "smpp", .name = "upstream_binds", .type = K_UINT, F(smpp_up_binds), .min = 1,
	 .max = 64},
	{.section = "smpp", .name = "upstream_window", .type = K_UINT, F(smpp_up_window), .min = 1,
	 .max = 10000},
	{.section = "smpp", .name = "upstream_timeout", .type = K_UINT, F(smpp_up_timeout),
	 .min = 1, .max = 3600},
	{.section = "smpp", .name = "window", .type = K_UINT, F(smpp_window), .min = 1,
	 .max = 10000},
	{.section = "smpp", .name = "pdu_max", .type = K_UINT, F(smpp_pdu_max), .min = 64,
	 .max = 65536},
	{.section = "smpp", .name = "enquire_link", .type = K_UINT, F(smpp_enquire), .min = 0,
	 .max = 3600},
	{.section = "smpp", .name = "max_connections", .type = K_UINT, F(smpp_max_conns),
	 .min = 1, .max = 60000},
	{.section = "smpp", .name = "block_status", .type = K_STR, F(smpp_block_status)},
	{.section = "smpp", .name = "fail_mode", .type = K_ENUM, F(smpp_fail),
	 .names = smpp_fail_names},
	{.section = "smpp", .name = "receipt_hold", .type = K_UINT, F(smpp_receipt_hold),
	 .min = 1, .max = 604800},
	{.section = "smpp", .name = "receipt_hold_max", .type = K_UINT, F(smpp_receipt_hold_max),
	 .min = 1, .max = 1000000},
	{.section = "smpp", .name = "notify_from", .type = K_STR_OPT, F(smpp_notify_from)},
	{.section = "smpp", .name = "notify_period", .type = K_UINT, F(smpp_notify_period),
	 .min = 1, .max = 31536000},
	{.section = "smpp", .name = "notify_slots", .type = K_UINT, F(smpp_notify_slots),
	 .min = 64, .max = 1u << 24},
	{.section = "smpp", .name = "concat_wait", .type = K_UINT, F(smpp_concat_wait), .min = 1,
	 .max = 600},
	{.section = "limits", .name = "max_keys", .type = K_UINT, F(limits_max_keys), .min = 8,
	 .max = 1u << 28},
	{.section = "limits", .name = "tolerance", .type = K_UINT, F(limits_tolerance), .min = 0,
	 .max = 86400},
};

void cbar_config_init(struct daemon_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->http_listen, sizeof c->http_listen, "%s", "127.0.0.1:8080");
	c->http_threads = 0; /* one per core, at least 4 (http.h) */
	c->body_max = 1u << 20;
	c->batch_max = 1000;
	c->conn_timeout = 30;
	c->header_timeout = 10;
	c->per_source = 256;
	c->drain_timeout = 30;
	c->decide_auth = DECIDE_AUTH_TOKEN;
	c->console = true;
	c->console_idle = 900;    /* SESSION_IDLE_S */
	c->console_life = 28800;  /* SESSION_LIFE_S */
	snprintf(c->rules_file, sizeof c->rules_file, "%s", "etc/callbar/pilots.rules");
	snprintf(c->registry_url, sizeof c->registry_url, "%s", "sqlite:var/callbar.db");
	snprintf(c->tokens_file, sizeof c->tokens_file, "%s", "var/tokens");
	snprintf(c->country, sizeof c->country, "%s", "CN");
	c->log_level = LOG_LV_INFO;
	c->sip_ack_filter = true;
	c->sip_tcp_idle = 120;
	c->sip_tcp_per_source = 64;
	c->sip_fail = 1; /* 500, as sip-serve: docs/sip.md "Fail mode" says why */
	c->decision_days = 30;
	snprintf(c->smpp_peers, sizeof c->smpp_peers, "%s", "var/smpp-peers");
	snprintf(c->smpp_block_status, sizeof c->smpp_block_status, "%s", "0x66");
	c->smpp_up_binds = 1;
	c->smpp_up_window = 100;
	c->smpp_up_timeout = 30;
	c->smpp_window = 100;
	c->smpp_pdu_max = 4096;
	c->smpp_enquire = 30;
	c->smpp_max_conns = 1024;
	c->smpp_receipt_hold = 600;
	c->smpp_receipt_hold_max = 10000;
	c->smpp_notify_period = 86400;
	c->smpp_notify_slots = 65536;
	c->smpp_concat_wait = 30;
	c->limits_max_keys = 65536;
	c->limits_tolerance = 5;
}

static const struct key *find_key(const char *section, size_t slen, const char *name,
                                  size_t nlen)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i].section) == slen && !memcmp(keys[i].section, section, slen) &&
		    strlen(keys[i].name) == nlen && !memcmp(keys[i].name, name, nlen))
			return &keys[i];
	return NULL;
}

static bool known_section(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i].section) == len && !memcmp(keys[i].section, s, len))
			return true;
	return false;
}

/* Store value (NUL-ended, already unquoted) into the field of k. */
static enum cbar_err set_value(struct daemon_config *c, const struct key *k, const char *v,
                               unsigned line, struct cbar_diag *d)
{
	char *field = (char *)c + k->off;
	size_t vlen = strlen(v);

	switch (k->type) {
	case K_ADDR_OPT:
		if (vlen == 0) {
			field[0] = '\0';
			return CBAR_OK;
		}
		/* fall through */
	case K_ADDR: {
		struct sockaddr_storage ss;
		socklen_t sl;
		if (cbar__addr_parse(v, vlen, &ss, &sl))
			return cbar_diag_set(d, CBAR_ADDR, line, 0,
			                     "%s.%s: '%s' is not a numeric HOST:PORT (127.0.0.1:8080, "
			                     "[::1]:8080)",
			                     k->section, k->name, v);
	}
		/* fall through */
	case K_URL:
		if (k->type == K_URL && strncmp(v, "sqlite:", 7) && strncmp(v, "postgresql://", 13) &&
		    strncmp(v, "postgres://", 11))
			return cbar_diag_set(d, CBAR_CONFIG, line, 0,
			                     "%s.%s: '%s' is not sqlite:PATH or postgresql://...",
			                     k->section, k->name, v);
		/* fall through */
	case K_STR:
	case K_STR_OPT:
		if (vlen == 0 && (k->type == K_STR || k->type == K_URL))
			return cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: empty value",
			                     k->section, k->name);
		if (vlen >= k->size)
			return cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: longer than %zu bytes",
			                     k->section, k->name, k->size - 1);
		memcpy(field, v, vlen + 1);
		return CBAR_OK;
	case K_UINT: {
		unsigned long long n = 0;
		if (vlen == 0 || vlen > 10)
			goto bad_uint;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				goto bad_uint;
			n = n * 10 + (unsigned)(v[i] - '0');
		}
		if (n < k->min || n > k->max)
			goto bad_uint;
		*(unsigned *)(void *)field = (unsigned)n;
		return CBAR_OK;
	bad_uint:
		return cbar_diag_set(d, CBAR_CONFIG, line, 0,
		                     "%s.%s: '%s' is not a whole number from %u to %u", k->section,
		                     k->name, v, k->min, k->max);
	}
	case K_BOOL:
		if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
			*(bool *)(void *)field = true;
		else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
			*(bool *)(void *)field = false;
		else
			return cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: '%s' is not on or off",
			                     k->section, k->name, v);
		return CBAR_OK;
	case K_LISTENER: {
		struct config_specs *cs = (struct config_specs *)(void *)field;
		struct sip_listener_cfg l;
		struct sip_ingress ing[CONFIG_SPECS_MAX];
		size_t ning = 0;
		if (cs->n == CONFIG_SPECS_MAX)
			return cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: more than %d lines",
			                     k->section, k->name, CONFIG_SPECS_MAX);
		if (vlen >= CONFIG_SPEC_LEN)
			return cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: longer than %d bytes",
			                     k->section, k->name, CONFIG_SPEC_LEN - 1);
		struct cbar_diag ld = {0};
		if (cbar_sip_listener_spec(v, vlen, &l, ing, CONFIG_SPECS_MAX, &ning, &ld)) {
			enum cbar_err e = cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: %s", k->section,
			                                k->name, ld.msg);
			if (d)
				d->column = ld.column - 1; /* added to the value's column */
			return e;
		}
		memcpy(cs->v[cs->n++], v, vlen + 1);
		return CBAR_OK;
	}
	case K_ENUM:
		for (unsigned i = 0; k->names[i]; i++)
			if (!strcmp(v, k->names[i])) {
				*(unsigned *)(void *)field = i;
				return CBAR_OK;
			}
		{
			char want[128] = "";
			size_t wn = 0;
			for (unsigned i = 0; k->names[i] && wn < sizeof want; i++) {
				int n = snprintf(want + wn, sizeof want - wn, "%s%s", i ? "|" : "",
				                 k->names[i]);
				wn += n > 0 ? (size_t)n : 0;
			}
			return cbar_diag_set(d, CBAR_CONFIG, line, 0, "%s.%s: '%s' is not one of %s",
			                     k->section, k->name, v, want);
		}
	}
	return CBAR_INVAL;
}

enum cbar_err cbar_config_set(struct daemon_config *c, const char *key, const char *value,
                         struct cbar_diag *d)
{
	const char *dot = strchr(key, '.');
	const struct key *k = dot ? find_key(key, (size_t)(dot - key), dot + 1, strlen(dot + 1))
	                          : NULL;
	if (!k)
		return cbar_diag_set(d, CBAR_CONFIG_KEY, 0, 0, "unknown key '%s'", key);
	return set_value(c, k, value, 0, d);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line (without its '\n'), in the section sec (updated by headers). */
static enum cbar_err parse_line(struct daemon_config *c, char *s, size_t len, unsigned line,
                                char *sec, size_t seccap, struct cbar_diag *d)
{
	size_t i = 0, e = len;
	while (i < e && is_space(s[i]))
		i++;
	if (i == e || s[i] == '#')
		return CBAR_OK;
	if (memchr(s, '\0', len))
		return cbar_diag_set(d, CBAR_CONFIG, line, 0, "NUL byte in the line");
	if (s[i] == '[') {
		char *close = memchr(s + i, ']', e - i);
		if (!close)
			return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)i + 1,
			                     "section header without ']'");
		size_t nlen = (size_t)(close - s) - i - 1;
		for (size_t j = (size_t)(close - s) + 1; j < e; j++)
			if (!is_space(s[j]))
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)j + 1,
				                     "text after the section header");
		if (!known_section(s + i + 1, nlen) || nlen >= seccap)
			return cbar_diag_set(d, CBAR_CONFIG_KEY, line, (unsigned)i + 2,
			                     "unknown section '[%.*s]'", (int)(nlen > 40 ? 40 : nlen),
			                     s + i + 1);
		memcpy(sec, s + i + 1, nlen);
		sec[nlen] = '\0';
		return CBAR_OK;
	}
	char *eq = memchr(s + i, '=', e - i);
	if (!eq)
		return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)i + 1, "want 'key = value'");
	size_t ke = (size_t)(eq - s);
	while (ke > i && is_space(s[ke - 1]))
		ke--;
	if (!sec[0])
		return cbar_diag_set(d, CBAR_CONFIG_KEY, line, (unsigned)i + 1,
		                     "key '%.*s' before any [section]", (int)(ke - i > 40 ? 40 : ke - i),
		                     s + i);
	const struct key *k = find_key(sec, strlen(sec), s + i, ke - i);
	if (!k)
		return cbar_diag_set(d, CBAR_CONFIG_KEY, line, (unsigned)i + 1,
		                     "unknown key '%.*s' in [%s]", (int)(ke - i > 40 ? 40 : ke - i),
		                     s + i, sec);
	size_t v = (size_t)(eq - s) + 1;
	while (v < e && is_space(s[v]))
		v++;
	char val[CONFIG_PATH_MAX + 1];
	size_t n = 0;
	bool quoted = v < e && s[v] == '"';
	if (quoted) {
		size_t j = v + 1;
		while (j < e && s[j] != '"') {
			if (n + 1 >= sizeof val)
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)v + 1,
				                     "value too long");
			val[n++] = s[j++];
		}
		if (j == e)
			return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)v + 1,
			                     "quoted value without its closing '\"'");
		for (j++; j < e; j++)
			if (!is_space(s[j]) && s[j] != '#')
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)j + 1,
				                     "text after the quoted value");
			else if (s[j] == '#')
				break;
	} else {
		/* Unquoted: up to a '#' comment, trailing spaces dropped. */
		size_t ve = v;
		while (ve < e && s[ve] != '#')
			ve++;
		while (ve > v && is_space(s[ve - 1]))
			ve--;
		if (ve - v >= sizeof val)
			return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)v + 1, "value too long");
		memcpy(val, s + v, ve - v);
		n = ve - v;
	}
	val[n] = '\0';
	enum cbar_err err = set_value(c, k, val, line, d);
	if (err && d) /* a listener line's error points into the value */
		d->column = (k->type == K_LISTENER ? d->column : 0) + (unsigned)v + 1 +
		            (k->type == K_LISTENER && quoted);
	return err;
}

/* A configuration file is small; anything bigger is a mistake. */
#define CONFIG_FILE_MAX (1u << 20)

enum cbar_err cbar_config_load(struct daemon_config *c, const char *path, struct cbar_diag *d)
{
	if (d)
		d->file = path;
	FILE *f = fopen(path, "rb");
	if (!f)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot open: %s", strerror(errno));
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	}
	size_t len = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	bool rerr = ferror(f);
	fclose(f);
	enum cbar_err err = CBAR_OK;
	if (rerr) {
		err = cbar_diag_set(d, CBAR_IO, 0, 0, "read error");
		goto done;
	}
	if (len > CONFIG_FILE_MAX) {
		err = cbar_diag_set(d, CBAR_CONFIG, 0, 0, "larger than %u bytes", CONFIG_FILE_MAX);
		goto done;
	}
	err = cbar_config_parse(c, buf, len, d);
done:
	free(buf);
	return err;
}

enum cbar_err cbar_config_parse(struct daemon_config *c, const char *buf, size_t len,
                           struct cbar_diag *d)
{
	char sec[32] = "", *copy = malloc(len + 1); /* parse_line() works in place */
	enum cbar_err err = CBAR_OK;
	if (!copy)
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	unsigned line = 1;
	for (size_t at = 0; at < len; line++) {
		char *nl = memchr(copy + at, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - (copy + at)) : len - at;
		err = parse_line(c, copy + at, ll, line, sec, sizeof sec, d);
		if (err)
			break;
		at += ll + 1;
	}
	free(copy);
	return err;
}

const char *cbar_config_url_redact(const char *url, char *out, size_t cap)
{
	/* scheme://[user[:password]@]host[:port][/path][?query]: the
	 * authority ends at the first '/', '?' or '#', its userinfo at the
	 * last '@' inside it; "password=" is looked for in the query only.
	 * Redacting twice gives what redacting once did. */
	const char *scheme = strstr(url, "://");
	const char *auth = scheme ? scheme + 3 : url;
	size_t alen = scheme ? strcspn(auth, "/?#") : 0;
	const char *at = alen ? memrchr(auth, '@', alen) : NULL;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	const char *query = scheme ? strchr(auth + alen, '?') : NULL;
	size_t o = 0;
	if (!cap)
		return out;
	for (const char *p = url; *p && o + 1 < cap; p++) {
		if (colon && p == colon + 1) { /* the userinfo's password */
			for (const char *r = "***"; *r && o + 1 < cap; r++)
				out[o++] = *r;
			p = at - 1;
			continue;
		}
		if (query && p > query && (p[-1] == '?' || p[-1] == '&') &&
		    !strncmp(p, "password=", 9)) {
			for (const char *r = "password=***"; *r && o + 1 < cap; r++)
				out[o++] = *r;
			while (p[1] && p[1] != '&' && p[1] != '#')
				p++;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

void cbar_config_write(const struct daemon_config *c, FILE *f)
{
	const char *sec = "";
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		const char *field = (const char *)c + k->off;
		if (strcmp(sec, k->section)) {
			fprintf(f, "%s[%s]\n", *sec ? "\n" : "", k->section);
			sec = k->section;
		}
		if (k->type == K_LISTENER) {
			const struct config_specs *cs = (const void *)field;
			for (unsigned j = 0; j < cs->n; j++)
				fprintf(f, "%s = \"%s\"\n", k->name, cs->v[j]);
			continue;
		}
		if (k->type == K_URL && !field[0]) { /* an optional URL not set: said so */
			fprintf(f, "# %s: not set\n", k->name);
			continue;
		}
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case K_URL: {
			char r[CONFIG_PATH_MAX];
			fprintf(f, "\"%s\"\n", cbar_config_url_redact(field, r, sizeof r));
			break;
		}
		case K_STR:
		case K_STR_OPT:
		case K_ADDR:
		case K_ADDR_OPT:
			/* a password (smpp.upstream_password) is never printed */
			fprintf(f, "\"%s\"\n", strstr(k->name, "password") && field[0] ? "***" : field);
			break;
		case K_UINT:
			fprintf(f, "%u\n", *(const unsigned *)(const void *)field);
			break;
		case K_BOOL:
			fprintf(f, "%s\n", *(const bool *)(const void *)field ? "on" : "off");
			break;
		case K_ENUM:
			fprintf(f, "%s\n", k->names[*(const unsigned *)(const void *)field]);
			break;
		case K_LISTENER:
			break;
		}
	}
}
