/* callbar: keyword text messages (keywords.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "keywords.h"
#include "numplan_load.h"

static const char builtin[] =
	"service 10086 10010 10000 10099\n"
	"1219 unlock all\n"
	"1901 relock all\n"
	"KTGJDX unlock sms\n";

/* Blanks between words: every isspace() byte but the newline, so that
 * cbar_kw_find(), which trims isspace(), finds every keyword the table holds. */
#define KW_BLANKS " \t\r\v\f"

/* A small table of our own: split on blanks by hand, as the unlock file is. */
bool cbar_kw_table_parse(struct kw_table *t, const char *text, size_t len, struct cbar_diag *d)
{
	unsigned line = 0;
	memset(t, 0, sizeof *t);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[256], *save = NULL;
		line++;
		if (n >= sizeof buf) {
			cbar_diag_set(d, CBAR_CONFIG, line, 1, "line too long");
			return false;
		}
		/* A NUL would silently cut the line short. */
		if (memchr(p, 0, n)) {
			cbar_diag_set(d, CBAR_CONFIG, line, 1, "NUL byte in the line");
			return false;
		}
		memcpy(buf, p, n);
		buf[n] = 0;
		p += n + (nl != NULL);
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *w = strtok_r(buf, KW_BLANKS, &save);
		if (!w)
			continue;
		if (!strcmp(w, "service")) {
			char *num;
			while ((num = strtok_r(NULL, KW_BLANKS, &save))) {
				if (t->nservice == 16 || strlen(num) >= 16) {
					cbar_diag_set(d, CBAR_CONFIG, line, 1,
					              "at most 16 service numbers of 15 digits");
					return false;
				}
				snprintf(t->service[t->nservice++], sizeof t->service[0], "%s", num);
			}
			continue;
		}
		char *act = strtok_r(NULL, KW_BLANKS, &save);
		char *sc = strtok_r(NULL, KW_BLANKS, &save);
		char *extra = strtok_r(NULL, KW_BLANKS, &save);
		if (!act || !sc || extra || strlen(w) >= KW_MAX || t->n == 64) {
			cbar_diag_set(d, CBAR_CONFIG, line, 1,
			              "want KEYWORD unlock|relock SCOPE (at most 64 keywords of %d "
			              "bytes)",
			              KW_MAX - 1);
			return false;
		}
		struct kw *k = &t->kw[t->n];
		if (!strcmp(act, "unlock"))
			k->unlock = true;
		else if (strcmp(act, "relock")) {
			cbar_diag_set(d, CBAR_CONFIG, line, 1, "action '%s': want unlock or relock",
			              act);
			return false;
		}
		if (!(k->scope = cbar_store_scope_parse(sc))) {
			cbar_diag_set(d, CBAR_CONFIG, line, 1,
			              "scope '%s': want voice, sms, in, out, all...", sc);
			return false;
		}
		snprintf(k->word, sizeof k->word, "%s", w);
		t->n++;
	}
	if (!t->n || !t->nservice) {
		cbar_diag_set(d, CBAR_CONFIG, line, 0, "no keywords or no service line");
		return false;
	}
	return true;
}

bool cbar_kw_table_load(struct kw_table *t, const char *file, struct cbar_diag *d)
{
	if (!file && !access(KW_DEFAULT_FILE, F_OK))
		file = KW_DEFAULT_FILE;
	return cbar_kw_table_load_given(t, file, d);
}

bool cbar_kw_table_load_given(struct kw_table *t, const char *file, struct cbar_diag *d)
{
	char *text = NULL;
	size_t len;
	if (d)
		d->file = file ? file : "built-in keyword table";
	if (file && !(text = cbar_file_read(file, 1 << 20, &len))) {
		cbar_diag_set(d, CBAR_IO, 0, 0, "%s", strerror(errno));
		return false;
	}
	bool ok = text ? cbar_kw_table_parse(t, text, len, d)
	               : cbar_kw_table_parse(t, builtin, sizeof builtin - 1, d);
	free(text);
	return ok;
}

bool cbar_kw_is_service(const struct kw_table *t, const char *to)
{
	for (unsigned i = 0; i < t->nservice; i++)
		if (!strcmp(t->service[i], to))
			return true;
	return false;
}

const struct kw *cbar_kw_find(const struct kw_table *t, const char *text)
{
	size_t b = 0, e = strlen(text);
	while (b < e && isspace((unsigned char)text[b]))
		b++;
	while (e > b && isspace((unsigned char)text[e - 1]))
		e--;
	if (e - b >= KW_MAX)
		return NULL;
	char word[KW_MAX];
	memcpy(word, text + b, e - b);
	word[e - b] = 0;
	for (unsigned i = 0; i < t->n; i++)
		if (!strcasecmp(t->kw[i].word, word))
			return &t->kw[i];
	return NULL;
}

void cbar_kw_unknown_answer(const struct kw_table *t, char *msg, size_t cap)
{
	char sc[64];
	size_t n = (size_t)snprintf(msg, cap, "未能识别的指令。可用指令 / Unknown keyword. Valid "
	                                      "keywords:");
	for (unsigned i = 0; i < t->n && n < cap; i++)
		n += (size_t)snprintf(msg + n, cap - n, " %s (%s %s)%s", t->kw[i].word,
		                      t->kw[i].unlock ? "开通/unlock" : "关闭/relock",
		                      cbar_store_scope_str(t->kw[i].scope, sc, sizeof sc),
		                      i + 1 < t->n ? "," : "");
}

/* What a scope lets through, in the reply's two languages: a keyword that
 * restores texts only (Hebei's KTGJDX) must not tell the subscriber that
 * calls are restored too. */
static void scope_words(unsigned scope, const char **zh, const char **en)
{
	bool voice = scope & (CBAR_STORE_VOICE_IN | CBAR_STORE_VOICE_OUT),
	     sms = scope & (CBAR_STORE_SMS_IN | CBAR_STORE_SMS_OUT);
	*zh = voice && sms ? "国际及港澳台通话和短信" : voice ? "国际及港澳台通话" : "国际及港澳台短信";
	*en = voice && sms ? "International calls and texts" : voice ? "International calls"
	                                                          : "International texts";
}

enum cbar_err cbar_kw_apply(struct cbar_store *st, const struct kw *k, uint64_t sub,
                       const char *why, int64_t now, const char **result, char *msg,
                       size_t cap, struct cbar_diag *d)
{
	char sc[64];
	struct cbar_store_record rec;
	enum cbar_err err;
	const char *zh, *en;
	cbar_store_scope_str(k->scope, sc, sizeof sc);
	scope_words(k->scope, &zh, &en);
	if (k->unlock) {
		struct cbar_store_unlock_req req = {
			.subscriber = sub,
			.scope = k->scope,
			.level = CBAR_STORE_SELF,
			.channel = CBAR_STORE_CHANNEL_KEYWORD,
			.now = now,
		};
		bool changed;
		if ((err = cbar_store_unlock(st, &req, &rec, &changed, d)))
			return err;
		snprintf(msg, cap, "您的号码已开通%s (%s)。/ %s are now unlocked on your number (%s).",
		         zh, sc, en, sc);
		*result = changed ? "unlocked" : "already-unlocked";
		return CBAR_OK;
	}
	err = cbar_store_relock(st, sub, k->scope, "channel:keyword", why, now, &rec, d);
	if (err == CBAR_STORE_NOTFOUND) {
		snprintf(msg, cap, "您的号码未开通%s。/ %s are not unlocked on your number.", zh,
		         en);
		*result = "already-locked";
		return CBAR_OK;
	}
	if (err)
		return err;
	snprintf(msg, cap, "您的号码已关闭%s (%s)。/ %s are now locked on your number (%s).", zh, sc,
	         en, sc);
	*result = "relocked";
	return CBAR_OK;
}
