/* callbar: a verdict as JSON (contract in verdict_json.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "callbar/civil.h"
#include "callbar/scope.h"
#include "verdict_json.h"

bool cbar_json_strn(struct cbar_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (!s)
		return cbar_buf_put(b, "null", 4);
	cbar_buf_put(b, "\"", 1);
	size_t run = 0; /* bytes that need no escape, written at once */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6] = {'\\', 'u', '0', '0', 0, 0};
		switch (ch) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			if (ch < 0x20 || ch == 0x7f) {
				u[4] = hex[ch >> 4];
				u[5] = hex[ch & 15];
			}
		}
		if (!esc && !u[4]) {
			run++;
			continue;
		}
		cbar_buf_put(b, s + i - run, run);
		run = 0;
		if (esc)
			cbar_buf_puts(b, esc);
		else
			cbar_buf_put(b, u, sizeof u);
	}
	cbar_buf_put(b, s + len - run, run);
	return cbar_buf_put(b, "\"", 1);
}

bool cbar_json_str(struct cbar_buf *b, const char *s)
{
	return cbar_json_strn(b, s, s ? strlen(s) : 0);
}

static void name(struct cbar_buf *b, bool *first, const char *prefix, const char *n)
{
	if (!*first)
		cbar_buf_put(b, ",", 1);
	*first = false;
	cbar_buf_printf(b, "\"%s%s\":", prefix, n);
}

static bool members(struct cbar_buf *b, const struct cbar_verdict *v, const char *error, unsigned m,
                    const char *prefix, bool first)
{
	if (m & CBAR_VJ_VERDICT) {
		name(b, &first, prefix, "verdict");
		cbar_json_str(b, cbar_decision_name(v->decision));
	}
	if (m & CBAR_VJ_RULE) {
		name(b, &first, prefix, "rule");
		if (v->file) {
			/* The file's name without its folder: the same in every front
			 * end whatever path a deployment gives it. */
			const char *base = strrchr(v->file, '/');
			char rule[512];
			int n = snprintf(rule, sizeof rule, "%s:%u", base ? base + 1 : v->file,
			                 v->line);
			cbar_json_strn(b, rule,
			               n < 0                     ? 0
			               : (size_t)n < sizeof rule ? (size_t)n
			                                         : sizeof rule - 1);
		} else {
			cbar_buf_puts(b, "null");
		}
	}
	if (m & CBAR_VJ_REASON) {
		name(b, &first, prefix, "reason");
		cbar_json_str(b, v->reason);
	}
	if (m & CBAR_VJ_ANNOUNCEMENT) {
		name(b, &first, prefix, "announcement");
		if (v->announcement) {
			cbar_buf_put(b, "{", 1);
			for (size_t i = 0; i < v->announcement->ntexts; i++) {
				if (i)
					cbar_buf_put(b, ",", 1);
				cbar_json_str(b, v->announcement->texts[i].lang);
				cbar_buf_put(b, ":", 1);
				cbar_json_str(b, v->announcement->texts[i].text);
			}
			cbar_buf_put(b, "}", 1);
		} else {
			cbar_buf_puts(b, "null");
		}
		name(b, &first, prefix, "announcement_name");
		cbar_json_str(b, v->announcement ? v->announcement->name : NULL);
	}
	if (m & CBAR_VJ_EXEMPTED) {
		name(b, &first, prefix, "exempted_by");
		if (v->exempted) {
			char sc[CBAR_SCOPE_TEXT_MAX];
			cbar_buf_printf(b,
			                "{\"subscriber\":\"+%" PRIu64
			                "\",\"scope\":\"%s\",\"level\":\"%s\"}",
			                v->exempted_by.subscriber,
			                cbar_scope_str(v->exempted_by.scope, sc, sizeof sc),
			                cbar_level_name(v->exempted_by.level));
		} else {
			cbar_buf_puts(b, "null");
		}
	}
	if ((m & CBAR_VJ_LIMIT) && v->limit) {
		char key[32], until[CBAR_CIVIL_FORMAT_MAX + 8];
		const char *base = v->file ? strrchr(v->file, '/') : NULL;
		name(b, &first, prefix, "limit");
		cbar_buf_printf(b, "{\"rule\":");
		char rule[512];
		int n = snprintf(rule, sizeof rule, "%s:%u",
		                 base ? base + 1 : v->file ? v->file : "-", v->limit->line);
		cbar_json_strn(b, rule, n < 0 ? 0 : (size_t)n < sizeof rule ? (size_t)n : sizeof rule - 1);
		cbar_buf_puts(b, ",\"reason\":");
		cbar_json_str(b, v->limit->reason);
		cbar_buf_printf(b, ",\"key\":\"%s\",\"count\":%u,\"barred_until\":",
		                cbar_limit_key_text(v->limit, v->limit_key, key, sizeof key),
		                v->limit_count);
		if (v->limit_bar_until && cbar_civil_format(v->limit_bar_until, 0, until, sizeof until))
			cbar_json_str(b, until);
		else
			cbar_buf_puts(b, "null");
		cbar_buf_printf(b, ",\"new_bar\":%s}", v->limit_new_bar ? "true" : "false");
	}
	if (m & CBAR_VJ_ERROR) {
		name(b, &first, prefix, "error");
		cbar_json_str(b, error                       ? error
		                 : v->decision == CBAR_ERROR ? cbar_err_message(v->err)
		                                             : NULL);
	}
	return !b->failed;
}

bool cbar_verdict_json(struct cbar_buf *b, const struct cbar_verdict *v, const char *error)
{
	cbar_buf_put(b, "{", 1);
	members(b, v, error, CBAR_VJ_ALL, "", true);
	return cbar_buf_put(b, "}", 1);
}

bool cbar_verdict_json_members(struct cbar_buf *b, const struct cbar_verdict *v, const char *error,
                               unsigned m, const char *prefix)
{
	return members(b, v, error, m, prefix, false);
}
