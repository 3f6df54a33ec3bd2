/*
 * callbar: a verdict as JSON, the one form every front end writes
 * (`check --json`, HTTP decide, batch JSON lines, the decision log):
 *
 *   {"verdict":"block","rule":"FILE:LINE","reason":"...",
 *    "announcement":{"zh":"...","en":"..."},"announcement_name":"...",
 *    "exempted_by":{"subscriber":"+86...","scope":"sms-in","level":"self"},
 *    "error":null}
 *
 * and, when a limit counted or barred the event (docs/rules.md, limits),
 *    "limit":{"rule":"FILE:LINE","reason":"wangiri","key":"+447911123456",
 *             "count":21,"barred_until":"2026-03-02T02:01:00Z"|null,"new_bar":true}
 * (absent otherwise, so a file without limits writes what it always did).
 *
 * rule is the rule file's name (without its folder) and the rule's line.
 * rule, reason, announcement, announcement_name and exempted_by are null
 * when the verdict has none; error is null unless the verdict is error.
 * Scopes are written as the registry writes them (callbar/scope.h).
 */
#ifndef CALLBAR_PROTO_VERDICT_JSON_H
#define CALLBAR_PROTO_VERDICT_JSON_H

#include <stdbool.h>

#include "buf.h"
#include "callbar/rules.h"

/* Which members cbar_verdict_json_members() writes. */
enum cbar_verdict_member {
	CBAR_VJ_VERDICT = 1u << 0,
	CBAR_VJ_RULE = 1u << 1,
	CBAR_VJ_REASON = 1u << 2,
	CBAR_VJ_ANNOUNCEMENT = 1u << 3, /* announcement and announcement_name */
	CBAR_VJ_EXEMPTED = 1u << 4,
	CBAR_VJ_ERROR = 1u << 5,
	CBAR_VJ_LIMIT = 1u << 6, /* only when a limit counted the event */
	CBAR_VJ_ALL = 0x7f,
};

/*
 * The object above into b.  error is the text of an error verdict when the
 * front end has a better one (a bad input's message); NULL: the verdict's
 * own (cbar_err_message(v->err)).  false when b failed (its cap, memory).
 */
bool cbar_verdict_json(struct cbar_buf *b, const struct cbar_verdict *v, const char *error);

/*
 * The chosen members alone, each preceded by a comma, with names prefixed
 * by prefix ("" or "old_"): what batch appends to a record's own object.
 */
bool cbar_verdict_json_members(struct cbar_buf *b, const struct cbar_verdict *v, const char *error,
                               unsigned members, const char *prefix);

/* A JSON string (escaped as RFC 8259 requires), or null for NULL. */
bool cbar_json_str(struct cbar_buf *b, const char *s);
bool cbar_json_strn(struct cbar_buf *b, const char *s, size_t len);

#endif
