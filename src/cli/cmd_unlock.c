/* callbar unlock, callbar relock: change a subscriber's unlock record. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "callbar/idcheck.h"
#include "cli.h"
#include "registry.h"

static const char unlock_help[] =
	"usage: callbar unlock NUMBER [--level verified|self] [--scope SCOPE]\n"
	"                      [--doc-type TYPE --doc NUMBER|-] [--agent NAME]\n"
	"                      [--expires YYYY-MM-DD] [--channel shop|keyword|api]\n"
	"                      [--registry URL] [--key FILE] [--json]\n"
	"\n"
	"Unlock international calls and texts for a subscriber NUMBER (any written\n"
	"form, read in the CN context, stored as E.164).\n"
	"\n"
	"  --level LEVEL     verified: an identity document checked in person (needs\n"
	"                    --doc-type, --doc and --agent); self: the subscriber's\n"
	"                    own word (keyword, app).  Default: verified with --doc,\n"
	"                    else self.\n"
	"  --scope SCOPE     comma-separated: voice, sms (both directions), voice-in,\n"
	"                    voice-out, sms-in, sms-out, in, out, all (default all)\n"
	"  --doc-type TYPE   cn-resident, cn-foreign-pr, cn-passport, hkmo-permit,\n"
	"                    tw-permit, hkmo-home, tw-compatriot, passport\n"
	"  --doc NUMBER      the document number, checked, then kept only as a keyed\n"
	"                    hash; '-' reads it from standard input (keeps it out\n"
	"                    of the process list)\n"
	"  --agent NAME      who checked the document\n"
	"  --expires DATE    the unlock ends after this day (China time); default never\n"
	"  --channel CH      shop (default with --agent), keyword, api (default)\n" REG_HELP_COMMON
	"\n"
	"An unlock while one is active supersedes it: scopes are joined, the higher\n"
	"level kept.  An identity document may back at most --max-per-id active\n"
	"unlocks on other numbers.\n"
	"\n"
	"Exit status: 0 unlocked (or already unlocked), 2 bad input or registry error.\n";

static const char relock_help[] =
	"usage: callbar relock NUMBER --agent NAME --why TEXT [--scope SCOPE]\n"
	"                      [--registry URL] [--json]\n"
	"\n"
	"Lock a subscriber's line again: the active unlock is marked revoked (never\n"
	"deleted), by NAME, for TEXT.  With --scope only that part is relocked and\n"
	"the rest stays unlocked in a new record.\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0 relocked, 2 bad input, nothing unlocked, or registry error.\n";

/* Read one line (the document number) from standard input into buf. */
static bool read_secret(char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, stdin))
		return false;
	buf[strcspn(buf, "\r\n")] = 0;
	return true;
}

int cbar_cmd_unlock(int argc, char **argv)
{
	static const struct option opts[] = {
		{"level", required_argument, NULL, 'l'},   {"scope", required_argument, NULL, 's'},
		{"doc-type", required_argument, NULL, 't'}, {"doc", required_argument, NULL, 'd'},
		{"agent", required_argument, NULL, 'a'},   {"expires", required_argument, NULL, 'e'},
		{"channel", required_argument, NULL, 'c'}, REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	struct cbar_key key;
	bool have_key = false;
	const char *level_s = NULL, *scope_s = "all", *doc_type_s = NULL, *agent = NULL,
	           *expires_s = NULL, *channel_s = NULL;
	char doc[128] = "";
	bool doc_given = false;
	int c, rc = CLI_BAD;

	cbar_reg_init(&r, "unlock");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			goto wipe;
		if (k)
			continue;
		switch (c) {
		case 'l': level_s = optarg; break;
		case 's': scope_s = optarg; break;
		case 't': doc_type_s = optarg; break;
		case 'a': agent = optarg; break;
		case 'e': expires_s = optarg; break;
		case 'c': channel_s = optarg; break;
		case 'd':
			doc_given = true;
			if (strcmp(optarg, "-")) {
				snprintf(doc, sizeof doc, "%s", optarg);
				/* Out of the process list as soon as we can. */
				sodium_memzero(optarg, strlen(optarg));
			} else if (!read_secret(doc, sizeof doc)) {
				fputs("callbar unlock: --doc -: no line on standard input\n", stderr);
				goto wipe;
			}
			break;
		case 'h':
			fputs(unlock_help, stdout);
			rc = CLI_OK;
			goto wipe;
		default:
			fputs(unlock_help, stderr);
			goto wipe;
		}
	}
	if (optind != argc - 1) {
		fputs("callbar unlock: want exactly one NUMBER\n", stderr);
		goto wipe;
	}
	struct cbar_store_unlock_req req = {0};
	int64_t now = (int64_t)time(NULL);
	req.now = now;
	req.scope = cbar_store_scope_parse(scope_s);
	if (!req.scope) {
		fprintf(stderr, "callbar unlock: --scope '%s': want voice, sms, voice-in, voice-out, "
		                "sms-in, sms-out, in, out or all, comma-separated\n",
		        scope_s);
		goto wipe;
	}
	req.level = level_s ? cbar_store_level_parse(level_s)
	                    : doc_given ? CBAR_STORE_VERIFIED : CBAR_STORE_SELF;
	if (!req.level) {
		fprintf(stderr, "callbar unlock: --level '%s': want verified or self\n", level_s);
		goto wipe;
	}
	req.channel = channel_s ? cbar_store_channel_parse(channel_s)
	                        : agent ? CBAR_STORE_CHANNEL_SHOP : CBAR_STORE_CHANNEL_API;
	if (!req.channel || req.channel == CBAR_STORE_CHANNEL_IMPORT) {
		fprintf(stderr, "callbar unlock: --channel '%s': want shop, keyword or api\n",
		        channel_s);
		goto wipe;
	}
	if (expires_s) {
		req.expires = cbar_reg_date_end(expires_s);
		if (req.expires < 0) {
			fprintf(stderr, "callbar unlock: --expires '%s': want a date, YYYY-MM-DD\n",
			        expires_s);
			goto wipe;
		}
		if (req.expires <= now) {
			fprintf(stderr, "callbar unlock: --expires %s is already past\n", expires_s);
			goto wipe;
		}
	}
	if (req.level == CBAR_STORE_VERIFIED && (!doc_given || !doc_type_s || !agent || !*agent)) {
		fputs("callbar unlock: a verified unlock needs --doc-type, --doc and --agent\n",
		      stderr);
		goto wipe;
	}
	if (doc_given != (doc_type_s != NULL)) {
		fputs("callbar unlock: --doc and --doc-type go together\n", stderr);
		goto wipe;
	}
	if (agent && strlen(agent) >= CBAR_STORE_NAME_MAX) {
		fprintf(stderr, "callbar unlock: --agent: at most %d bytes\n", CBAR_STORE_NAME_MAX - 1);
		goto wipe;
	}
	req.agent = agent;
	char canon[CBAR_DOC_MAX + 1], hash[65];
	if (doc_given) {
		enum cbar_doc_type t = cbar_doc_lookup(doc_type_s, strlen(doc_type_s));
		struct cbar_diag d = {0};
		if (!t) {
			fprintf(stderr, "callbar unlock: --doc-type '%s': want one of cn-resident, "
			                "cn-foreign-pr, cn-passport, hkmo-permit, tw-permit, hkmo-home, "
			                "tw-compatriot, passport\n",
			        doc_type_s);
			goto wipe;
		}
		enum cbar_err e = cbar_idcheck(t, doc, strlen(doc), cbar_reg_today(now), canon, &d);
		if (e) {
			/* The message names the rule, never the number. */
			fprintf(stderr, "callbar unlock: --doc: %s: %s\n", cbar_err_message(e), d.msg);
			goto wipe;
		}
		req.doc_type = cbar_doc_key(t);
	}
	if (!cbar_reg_open(&r) || !cbar_reg_number(&r, argv[optind], &req.subscriber))
		goto done;
	if (doc_given) {
		if (!cbar_reg_key(&r, &key))
			goto done;
		have_key = true;
		cbar_doc_hash(&key, req.doc_type, canon, hash);
		req.doc_hash = hash;
	}
	struct cbar_store_record rec;
	bool changed;
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_unlock(r.store, &req, &rec, &changed, &d);
	if (e) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	if (r.json) {
		printf("{\"result\":\"%s\",\"record\":", changed ? "unlocked" : "already-unlocked");
		cbar_reg_json_record(stdout, &rec);
		puts("}");
	} else {
		fputs(changed ? "unlocked " : "already unlocked ", stdout);
		cbar_reg_print_record(stdout, &rec);
	}
	rc = CLI_OK;
done:
	cbar_reg_release(&r);
	if (have_key)
		cbar_key_release(&key);
	sodium_memzero(canon, sizeof canon);
wipe:
	sodium_memzero(doc, sizeof doc);
	return rc;
}

int cbar_cmd_relock(int argc, char **argv)
{
	static const struct option opts[] = {
		{"scope", required_argument, NULL, 's'},
		{"agent", required_argument, NULL, 'a'},
		{"why", required_argument, NULL, 'w'},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	const char *scope_s = "all", *agent = NULL, *why = NULL;
	int c;
	cbar_reg_init(&r, "relock");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case 's': scope_s = optarg; break;
		case 'a': agent = optarg; break;
		case 'w': why = optarg; break;
		case 'h':
			fputs(relock_help, stdout);
			return CLI_OK;
		default:
			fputs(relock_help, stderr);
			return CLI_BAD;
		}
	}
	if (optind != argc - 1) {
		fputs("callbar relock: want exactly one NUMBER\n", stderr);
		return CLI_BAD;
	}
	unsigned scope = cbar_store_scope_parse(scope_s);
	if (!scope) {
		fprintf(stderr, "callbar relock: --scope '%s': want voice, sms, voice-in, voice-out, "
		                "sms-in, sms-out, in, out or all\n",
		        scope_s);
		return CLI_BAD;
	}
	if (!agent || !*agent || !why || !*why) {
		fputs("callbar relock: --agent NAME and --why TEXT are required\n", stderr);
		return CLI_BAD;
	}
	if (strlen(agent) >= CBAR_STORE_NAME_MAX - 8 || strlen(why) >= CBAR_STORE_WHY_MAX) {
		fprintf(stderr, "callbar relock: --agent at most %d bytes, --why at most %d\n",
		        CBAR_STORE_NAME_MAX - 9, CBAR_STORE_WHY_MAX - 1);
		return CLI_BAD;
	}
	uint64_t sub;
	int rc = CLI_BAD;
	if (!cbar_reg_open(&r) || !cbar_reg_number(&r, argv[optind], &sub))
		goto done;
	char who[CBAR_STORE_NAME_MAX];
	snprintf(who, sizeof who, "agent:%s", agent);
	struct cbar_store_record rest;
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_relock(r.store, sub, scope, who, why, (int64_t)time(NULL),
	                                    &rest, &d);
	if (e) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	if (r.json) {
		printf("{\"result\":\"relocked\",\"subscriber\":\"+%" PRIu64 "\",\"remaining\":", sub);
		if (rest.id)
			cbar_reg_json_record(stdout, &rest);
		else
			fputs("null", stdout);
		puts("}");
	} else {
		printf("relocked +%" PRIu64 "\n", sub);
		if (rest.id) {
			fputs("still unlocked ", stdout);
			cbar_reg_print_record(stdout, &rest);
		}
	}
	rc = CLI_OK;
done:
	cbar_reg_release(&r);
	return rc;
}
