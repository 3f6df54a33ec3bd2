/* callbar keyword: a subscriber's text message to a service number, e.g.
 * "1219" to 10086, unlocks (or relocks) their line at level self. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "numplan_load.h"
#include "registry.h"

#define KW_MAX 32
#define KW_DEFAULT_FILE "etc/callbar/keywords.conf"

static const char builtin[] =
	"service 10086 10010 10000 10099\n"
	"1219 unlock all\n"
	"1901 relock all\n"
	"KTGJDX unlock sms\n";

static const char help[] =
	"usage: callbar keyword --subscriber NUMBER --to SERVICE --text TEXT\n"
	"                       [--keywords FILE] [--registry URL] [--json]\n"
	"\n"
	"Act on a text message a subscriber sent to a service number: a keyword\n"
	"of the table unlocks or relocks their line (level self, channel keyword);\n"
	"anything else is answered with the list of valid keywords.  Prints the\n"
	"answer to send back.\n"
	"\n"
	"  --keywords FILE   the keyword table (format: etc/callbar/keywords.conf);\n"
	"                    default " KW_DEFAULT_FILE " when it exists, else the\n"
	"                    built-in table (1219 unlock, 1901 relock, KTGJDX sms)\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0 answered (unknown keywords too), 2 bad input (SERVICE is not\n"
	"a service number of the table, a bad table) or registry error.\n";

struct kw {
	char word[KW_MAX];
	bool unlock;
	unsigned scope;
};

struct table {
	struct kw kw[64];
	unsigned n;
	char service[16][16];
	unsigned nservice;
};

static bool load_table(const char *text, const char *name, struct table *t)
{
	unsigned line = 0;
	memset(t, 0, sizeof *t);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char buf[256], *save = NULL;
		line++;
		if (n >= sizeof buf) {
			fprintf(stderr, "callbar keyword: %s:%u: line too long\n", name, line);
			return false;
		}
		memcpy(buf, p, n);
		buf[n] = 0;
		p += n + (nl != NULL);
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *w = strtok_r(buf, " \t\r", &save);
		if (!w)
			continue;
		if (!strcmp(w, "service")) {
			char *num;
			while ((num = strtok_r(NULL, " \t\r", &save))) {
				if (t->nservice == 16 || strlen(num) >= 16) {
					fprintf(stderr, "callbar keyword: %s:%u: at most 16 service numbers "
					                "of 15 digits\n",
					        name, line);
					return false;
				}
				strcpy(t->service[t->nservice++], num);
			}
			continue;
		}
		char *act = strtok_r(NULL, " \t\r", &save), *sc = strtok_r(NULL, " \t\r", &save);
		char *extra = strtok_r(NULL, " \t\r", &save);
		if (!act || !sc || extra || strlen(w) >= KW_MAX || t->n == 64) {
			fprintf(stderr, "callbar keyword: %s:%u: want KEYWORD unlock|relock SCOPE (at "
			                "most 64 keywords of %d bytes)\n",
			        name, line, KW_MAX - 1);
			return false;
		}
		struct kw *k = &t->kw[t->n];
		if (!strcmp(act, "unlock"))
			k->unlock = true;
		else if (strcmp(act, "relock")) {
			fprintf(stderr, "callbar keyword: %s:%u: action '%s': want unlock or relock\n",
			        name, line, act);
			return false;
		}
		if (!(k->scope = cbar_store_scope_parse(sc))) {
			fprintf(stderr, "callbar keyword: %s:%u: scope '%s': want voice, sms, in, out, "
			                "all...\n",
			        name, line, sc);
			return false;
		}
		strcpy(k->word, w);
		t->n++;
	}
	if (!t->n || !t->nservice) {
		fprintf(stderr, "callbar keyword: %s: no keywords or no service line\n", name);
		return false;
	}
	return true;
}

static void answer(bool json, const char *result, const char *text, uint64_t sub)
{
	if (json) {
		printf("{\"subscriber\":\"+%" PRIu64 "\",\"result\":", sub);
		json_str(stdout, result);
		fputs(",\"answer\":", stdout);
		json_str(stdout, text);
		puts("}");
	} else {
		printf("%s\n", text);
	}
}

int cmd_keyword(int argc, char **argv)
{
	static const struct option opts[] = {
		{"subscriber", required_argument, NULL, 's'},
		{"to", required_argument, NULL, 't'},
		{"text", required_argument, NULL, 'x'},
		{"keywords", required_argument, NULL, 'k'},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	const char *subs = NULL, *to = NULL, *text = NULL, *file = NULL;
	int c, rc = CLI_BAD;
	reg_init(&r, "keyword");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case 's': subs = optarg; break;
		case 't': to = optarg; break;
		case 'x': text = optarg; break;
		case 'k': file = optarg; break;
		case 'h':
			fputs(help, stdout);
			return CLI_OK;
		default:
			fputs(help, stderr);
			return CLI_BAD;
		}
	}
	if (!subs || !to || !text || optind != argc) {
		fputs("callbar keyword: want --subscriber NUMBER --to SERVICE --text TEXT\n", stderr);
		return CLI_BAD;
	}
	static struct table t;
	char *ftext = NULL;
	const char *name = "built-in table";
	size_t flen;
	if (!file && !access(KW_DEFAULT_FILE, F_OK))
		file = KW_DEFAULT_FILE;
	if (file) {
		if (!(ftext = read_file(file, 1 << 20, &flen))) {
			fprintf(stderr, "callbar keyword: %s: %s\n", file, strerror(errno));
			return CLI_BAD;
		}
		name = file;
	}
	bool ok = load_table(ftext ? ftext : builtin, name, &t);
	free(ftext);
	if (!ok)
		return CLI_BAD;
	unsigned i;
	for (i = 0; i < t.nservice && strcmp(t.service[i], to); i++)
		;
	if (i == t.nservice) {
		fprintf(stderr, "callbar keyword: --to %s is not a service number of the keyword "
		                "table\n",
		        to);
		return CLI_BAD;
	}
	/* The keyword: the text less spaces around it, any case. */
	char word[KW_MAX] = "";
	size_t b = 0, e = strlen(text);
	while (b < e && isspace((unsigned char)text[b]))
		b++;
	while (e > b && isspace((unsigned char)text[e - 1]))
		e--;
	const struct kw *k = NULL;
	if (e - b < KW_MAX) {
		memcpy(word, text + b, e - b);
		word[e - b] = 0;
		for (i = 0; i < t.n && !k; i++)
			if (!strcasecmp(t.kw[i].word, word))
				k = &t.kw[i];
	}
	uint64_t sub;
	if (!reg_open(&r) || !reg_number(&r, subs, &sub))
		goto done;
	char msg[1024], sc[64];
	if (!k) {
		size_t n = (size_t)snprintf(msg, sizeof msg,
		                            "未能识别的指令。可用指令 / Unknown keyword. Valid "
		                            "keywords:");
		for (i = 0; i < t.n && n < sizeof msg; i++)
			n += (size_t)snprintf(msg + n, sizeof msg - n, " %s (%s %s)%s", t.kw[i].word,
			                      t.kw[i].unlock ? "开通/unlock" : "关闭/relock",
			                      cbar_store_scope_str(t.kw[i].scope, sc, sizeof sc),
			                      i + 1 < t.n ? "," : "");
		answer(r.json, "unknown-keyword", msg, sub);
		rc = CLI_OK;
		goto done;
	}
	struct cbar_diag d = {0};
	struct cbar_store_record rec;
	int64_t now = (int64_t)time(NULL);
	enum cbar_err err;
	cbar_store_scope_str(k->scope, sc, sizeof sc);
	if (k->unlock) {
		struct cbar_store_unlock_req req = {
			.subscriber = sub,
			.scope = k->scope,
			.level = CBAR_STORE_SELF,
			.channel = CBAR_STORE_CHANNEL_KEYWORD,
			.now = now,
		};
		bool changed;
		if ((err = cbar_store_unlock(r.store, &req, &rec, &changed, &d))) {
			rc = reg_fail(&r, err, &d);
			goto done;
		}
		snprintf(msg, sizeof msg,
		         "您的号码已开通国际及港澳台通信 (%s)。/ International calls and texts are now "
		         "unlocked on your number (%s).",
		         sc, sc);
		answer(r.json, changed ? "unlocked" : "already-unlocked", msg, sub);
	} else {
		char why[64];
		snprintf(why, sizeof why, "keyword %s to %s", k->word, to);
		err = cbar_store_relock(r.store, sub, k->scope, "channel:keyword", why, now, &rec, &d);
		if (err == CBAR_STORE_NOTFOUND) {
			answer(r.json, "already-locked",
			       "您的号码未开通国际及港澳台通信。/ International calls and texts are "
			       "not unlocked on your number.",
			       sub);
			rc = CLI_OK;
			goto done;
		}
		if (err) {
			rc = reg_fail(&r, err, &d);
			goto done;
		}
		snprintf(msg, sizeof msg,
		         "您的号码已关闭国际及港澳台通信 (%s)。/ International calls and texts are now "
		         "locked on your number (%s).",
		         sc, sc);
		answer(r.json, "relocked", msg, sub);
	}
	rc = CLI_OK;
done:
	reg_release(&r);
	return rc;
}
