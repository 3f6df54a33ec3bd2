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
#include "status.h"

static const char builtin[] = "service 10086 carrier cmcc\n"
                              "service 10010 carrier cucc\n"
                              "service 10000 carrier ctcc\n"
                              "service 10099 carrier cbn\n"
                              "1219 unlock all\n"
                              "1901 relock all\n"
                              "KTGJDX unlock sms\n";

/* The replies a table without `reply` lines sends (keywords.h). */
static const char *const default_reply[KW_REPLY_COUNT] = {
    [KW_REPLY_UNLOCKED] = "您的号码已开通{what_zh}。/ {what_en} are now unlocked on your number.",
    [KW_REPLY_ALREADY_UNLOCKED] = "您的号码此前已开通{what_zh}，本次未作更改。/ {what_en} were "
                                  "already unlocked on your number; nothing has changed.",
    [KW_REPLY_RELOCKED] = "您的号码已关闭{what_zh}。/ {what_en} are now locked on your number.",
    [KW_REPLY_ALREADY_LOCKED] = "您的号码未开通{what_zh}，本次未作更改。/ {what_en} were not "
                                "unlocked on your number; nothing has changed.",
    [KW_REPLY_NOT_RESTORED] = "您的登记已记录，但不能恢复以下业务：{how_zh} / Your registration "
                              "is recorded, but it does not restore this: {how_en}",
    [KW_REPLY_UNKNOWN] = "未能识别的指令。可用指令：{keywords} / Unknown keyword. Valid "
                         "keywords: {keywords}",
    [KW_REPLY_WRONG_CARRIER] = "{to}不是您号码所属运营商的服务号码，请发送至{own}。/ {to} is not "
                               "the service number of your operator; please text {own}.",
};

static const char *const reply_names[KW_REPLY_COUNT] = {
#define KW__REPLY_NAME(name, key) [KW_REPLY_##name] = key,
    KW_REPLY_MAP(KW__REPLY_NAME)
#undef KW__REPLY_NAME
};

const char *cbar_kw_result(enum kw_reply what)
{
	return (unsigned)what < KW_REPLY_COUNT ? reply_names[what] : "?";
}

/* Blanks between words: every isspace() byte but the newline, so that
 * cbar_kw_find(), which trims isspace(), finds every keyword the table holds. */
#define KW_BLANKS " \t\r\v\f"

/* A small table of our own: split on blanks by hand, as the unlock file is. */
bool cbar_kw_table_parse(struct kw_table *t, const char *text, size_t len, struct cbar_diag *d)
{
	unsigned line = 0;
	memset(t, 0, sizeof *t);
	for (int i = 0; i < KW_REPLY_COUNT; i++)
		snprintf(t->reply[i], sizeof t->reply[i], "%s", default_reply[i]);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[KW_REPLY_MAX + 64], *save = NULL;
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
		size_t blen = strlen(buf); /* before strtok_r() cuts it */
		char *w = strtok_r(buf, KW_BLANKS, &save);
		if (!w)
			continue;
		if (!strcmp(w, "service")) {
			char *num;
			unsigned first = t->nservice;
			while ((num = strtok_r(NULL, KW_BLANKS, &save))) {
				if (!strcmp(num, "carrier")) {
					/* the carrier the numbers of this line serve */
					char *c = strtok_r(NULL, KW_BLANKS, &save);
					enum cbar_carrier cr = c ? cbar_carrier_lookup(c, strlen(c))
					                         : CBAR_CARRIER_NONE;
					if (cr == CBAR_CARRIER_NONE ||
					    strtok_r(NULL, KW_BLANKS, &save) ||
					    first == t->nservice) {
						cbar_diag_set(d, CBAR_CONFIG, line, 1,
						              "want service NUMBER... carrier "
						              "cmcc|cucc|ctcc|cbn");
						return false;
					}
					for (unsigned i = first; i < t->nservice; i++)
						t->service_carrier[i] = (uint8_t)cr;
					break;
				}
				if (t->nservice == 16 || strlen(num) >= 16) {
					cbar_diag_set(d, CBAR_CONFIG, line, 1,
					              "at most 16 service numbers of 15 digits");
					return false;
				}
				snprintf(t->service[t->nservice++], sizeof t->service[0], "%s",
				         num);
			}
			continue;
		}
		if (!strcmp(w, "reply")) {
			/* reply WHAT TEXT: the text is the rest of the line */
			char *what = strtok_r(NULL, KW_BLANKS, &save);
			char *rest = what && what + strlen(what) < buf + blen
			                 ? what + strlen(what) + 1
			                 : NULL;
			int r = -1;
			for (int i = 0; what && i < KW_REPLY_COUNT; i++)
				if (!strcmp(what, reply_names[i]))
					r = i;
			while (rest && *rest && strchr(KW_BLANKS, *rest))
				rest++;
			size_t rl = rest ? strlen(rest) : 0;
			while (rl && strchr(KW_BLANKS, rest[rl - 1]))
				rl--;
			if (r < 0 || !rl || rl >= KW_REPLY_MAX) {
				cbar_diag_set(
				    d, CBAR_CONFIG, line, 1,
				    "want reply unlocked|already-unlocked|relocked|"
				    "already-locked|not-restored|unknown|wrong-carrier TEXT "
				    "(at most %d bytes)",
				    KW_REPLY_MAX - 1);
				return false;
			}
			memcpy(t->reply[r], rest, rl);
			t->reply[r][rl] = 0;
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

/* src with each {name} of vars replaced (names not given stay as they
 * are), into msg: never more than cap bytes, always NUL-ended. */
struct var {
	const char *name, *value;
};

static void expand(const char *src, const struct var *vars, size_t nvars, char *msg, size_t cap)
{
	size_t n = 0;
	if (!cap)
		return;
	for (const char *p = src; *p && n + 1 < cap;) {
		const struct var *v = NULL;
		if (*p == '{')
			for (size_t i = 0; i < nvars; i++) {
				size_t l = strlen(vars[i].name);
				if (!strncmp(p + 1, vars[i].name, l) && p[1 + l] == '}') {
					v = &vars[i];
					break;
				}
			}
		if (!v) {
			msg[n++] = *p++;
			continue;
		}
		size_t l = strlen(v->value);
		if (l > cap - 1 - n)
			l = cap - 1 - n;
		memcpy(msg + n, v->value, l);
		n += l;
		p += strlen(v->name) + 2;
	}
	msg[n] = 0;
}

void cbar_kw_unknown_answer(const struct kw_table *t, char *msg, size_t cap)
{
	char list[64 * (KW_MAX + 2)];
	size_t n = 0;
	list[0] = 0;
	for (unsigned i = 0; i < t->n; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
		                      t->kw[i].word);
	const struct var vars[] = {{"keywords", list}};
	expand(t->reply[KW_REPLY_UNKNOWN], vars, 1, msg, cap);
}

/* The service number's index in the table, or -1. */
static int service_index(const struct kw_table *t, const char *to)
{
	for (unsigned i = 0; i < t->nservice; i++)
		if (!strcmp(t->service[i], to))
			return (int)i;
	return -1;
}

bool cbar_kw_carrier_ok(const struct kw_table *t, const char *to, unsigned sub)
{
	int i = service_index(t, to);
	return i < 0 || sub == CBAR_CARRIER_NONE || !t->service_carrier[i] ||
	       t->service_carrier[i] == sub;
}

void cbar_kw_wrong_carrier(const struct kw_table *t, const char *to, unsigned sub, char *msg,
                           size_t cap)
{
	char own[16 * 18];
	size_t n = 0;
	own[0] = 0;
	for (unsigned i = 0; i < t->nservice; i++)
		if (t->service_carrier[i] == sub || !t->service_carrier[i])
			n += (size_t)snprintf(own + n, sizeof own - n, "%s%s", n ? ", " : "",
			                      t->service[i]);
	const struct var vars[] = {{"to", to}, {"own", own}};
	expand(t->reply[KW_REPLY_WRONG_CARRIER], vars, 2, msg, cap);
}

/* What a scope lets through, in the reply's two languages: a keyword that
 * restores texts only (Hebei's KTGJDX) must not tell the subscriber that
 * calls are restored too. */
static void scope_words(unsigned scope, const char **zh, const char **en)
{
	bool voice = scope & (CBAR_STORE_VOICE_IN | CBAR_STORE_VOICE_OUT),
	     sms = scope & (CBAR_STORE_SMS_IN | CBAR_STORE_SMS_OUT);
	*zh = voice && sms ? "国际及港澳台通话和短信"
	      : voice      ? "国际及港澳台通话"
	                   : "国际及港澳台短信";
	*en = voice && sms ? "International calls and texts"
	      : voice      ? "International calls"
	                   : "International texts";
}

enum cbar_err cbar_kw_apply(struct cbar_store *st, const struct kw *k, uint64_t sub,
                            const char *why, int64_t now, enum kw_reply *what, struct cbar_diag *d)
{
	struct cbar_store_record rec;
	enum cbar_err err;
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
		*what = changed ? KW_REPLY_UNLOCKED : KW_REPLY_ALREADY_UNLOCKED;
		return CBAR_OK;
	}
	err = cbar_store_relock(st, sub, k->scope, "channel:keyword", why, now, &rec, d);
	if (err == CBAR_STORE_NOTFOUND) {
		*what = KW_REPLY_ALREADY_LOCKED;
		return CBAR_OK;
	}
	if (err)
		return err;
	*what = KW_REPLY_RELOCKED;
	return CBAR_OK;
}

void cbar_kw_reply(const struct kw_table *t, const struct kw *k, enum kw_reply what,
                   const struct cbar_status_entry *eff, bool *restored, char *msg, size_t cap)
{
	const char *zh, *en;
	scope_words(k->scope, &zh, &en);
	struct var vars[] = {{"what_zh", zh}, {"what_en", en}, {"how_zh", ""}, {"how_en", ""}};
	/* A service of the keyword's scope that the registration leaves
	 * barred: the first one's rule tells where to go instead. */
	const struct cbar_status_entry *bar = NULL;
	for (int i = 0; k->unlock && eff && !bar && i < CBAR_STATUS_ENTRIES; i++)
		if ((k->scope & CBAR_SCOPE_BIT(eff[i].service, eff[i].direction)) &&
		    eff[i].decision == CBAR_BLOCK)
			bar = &eff[i];
	if (restored)
		*restored = !bar;
	if (!bar || (unsigned)what >= KW_REPLY_COUNT) {
		expand(t->reply[(unsigned)what < KW_REPLY_COUNT ? what : KW_REPLY_UNKNOWN], vars, 4,
		       msg, cap);
		return;
	}
	const char *hz = cbar_status_text(bar->announcement, "zh"),
	           *he = cbar_status_text(bar->announcement, "en");
	vars[2].value = hz ? hz : he ? he : "";
	vars[3].value = he ? he : hz ? hz : "";
	/* Texting the keyword again changes nothing: say that first. */
	size_t n = 0;
	if (what == KW_REPLY_ALREADY_UNLOCKED) {
		expand(t->reply[what], vars, 4, msg, cap);
		n = strlen(msg);
		if (n + 1 < cap)
			msg[n++] = ' ';
	}
	expand(t->reply[KW_REPLY_NOT_RESTORED], vars, 4, msg + n, cap - n);
}
