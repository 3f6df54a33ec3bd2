/* callbar audit: the registry's hash-chained log of changes. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "registry.h"

static const char help[] =
	"usage: callbar audit [--since YYYY-MM-DD] [--verify] [--registry URL] [--json]\n"
	"\n"
	"List the audit log: every change to the registry, oldest first, with who\n"
	"made it, the record before and after, and the hash chain.  --since starts\n"
	"at that day (China time).\n"
	"\n"
	"  --verify          walk the chain from the first entry: every entry must\n"
	"                    hash to its recorded hash and follow the one before, no\n"
	"                    entry may be missing or moved, and every record must be\n"
	"                    as its last entry says.  Prints the number of entries and\n"
	"                    the head hash (keep it elsewhere to anchor the chain), or\n"
	"                    the first entry at fault.\n" REG_HELP_COMMON
	"\n"
	"Exit status: 0 listed or verified, 1 the chain is broken, 2 bad input or\n"
	"registry error.\n";

static int print_entry(void *arg, const struct cbar_store_audit *a)
{
	bool json = *(bool *)arg;
	char t[40];
	if (!json) {
		if (a->subscriber) /* 0: a change of no subscriber's (a token) */
			printf("%" PRId64 " %s %s %s +%" PRIu64 " #%" PRId64 "\n", a->seq,
			       cbar_reg_time_str(a->at, t, sizeof t), a->who, a->what, a->subscriber,
			       a->record);
		else
			printf("%" PRId64 " %s %s %s\n", a->seq, cbar_reg_time_str(a->at, t, sizeof t), a->who,
			       a->what);
		if (a->before[0])
			printf("  before: %s\n", a->before);
		if (a->after[0])
			printf("  after:  %s\n", a->after);
		printf("  prev %.16s... hash %.16s...\n", a->prev_hash, a->hash);
		return 0;
	}
	printf("{\"seq\":%" PRId64 ",\"at\":", a->seq);
	cbar_json_fput(stdout, cbar_reg_time_str(a->at, t, sizeof t));
	fputs(",\"who\":", stdout);
	cbar_json_fput(stdout, a->who);
	fputs(",\"what\":", stdout);
	cbar_json_fput(stdout, a->what);
	if (a->subscriber)
		printf(",\"subscriber\":\"+%" PRIu64 "\",\"record\":%" PRId64 ",\"before\":",
		       a->subscriber, a->record);
	else
		fputs(",\"subscriber\":null,\"record\":null,\"before\":", stdout);
	cbar_json_fput(stdout, a->before[0] ? a->before : NULL);
	fputs(",\"after\":", stdout);
	cbar_json_fput(stdout, a->after[0] ? a->after : NULL);
	printf(",\"prev_hash\":\"%s\",\"hash\":\"%s\"}\n", a->prev_hash, a->hash);
	return 0;
}

int cbar_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'},
		{"verify", no_argument, NULL, 'v'},
		REG_LONGOPTS,
		{0, 0, 0, 0},
	};
	struct reg r;
	int c, rc = CLI_BAD;
	bool verify = false;
	int64_t since = 0;
	cbar_reg_init(&r, "audit");
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int k = cbar_reg_option(&r, c, optarg);
		if (k < 0)
			return CLI_BAD;
		if (k)
			continue;
		switch (c) {
		case 's':
			since = cbar_reg_date_start(optarg);
			if (since < 0) {
				fprintf(stderr, "callbar audit: --since '%s': want YYYY-MM-DD\n", optarg);
				return CLI_BAD;
			}
			break;
		case 'v':
			verify = true;
			break;
		case 'h':
			fputs(help, stdout);
			return CLI_OK;
		default:
			fputs(help, stderr);
			return CLI_BAD;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "callbar audit: unexpected argument '%s'\n", argv[optind]);
		return CLI_BAD;
	}
	if (!cbar_reg_open(&r))
		goto done;
	struct cbar_diag d = {0};
	enum cbar_err e;
	if (!verify) {
		e = cbar_store_audit(r.store, since, print_entry, &r.json, &d);
		rc = e ? cbar_reg_fail(&r, e, &d) : CLI_OK;
		goto done;
	}
	int64_t n, bad;
	char head[CBAR_STORE_HASH_HEX];
	e = cbar_store_audit_verify(r.store, &n, &bad, head, &d);
	if (e && e != CBAR_AUDIT_BROKEN) {
		rc = cbar_reg_fail(&r, e, &d);
		goto done;
	}
	if (r.json) {
		printf("{\"ok\":%s,\"entries\":%" PRId64 ",", e ? "false" : "true", n);
		if (e) {
			printf("\"first_bad\":%" PRId64 ",\"error\":", bad);
			cbar_json_fput(stdout, d.msg);
			puts("}");
		} else {
			printf("\"head\":\"%s\"}\n", head);
		}
	} else if (e) {
		printf("audit chain BROKEN at %" PRId64 ": %s (%" PRId64 " entries verified before it)\n",
		       bad, d.msg, n);
	} else {
		printf("audit chain ok: %" PRId64 " entries, head %s\n", n, head);
	}
	rc = e ? CLI_BLOCK : CLI_OK;
done:
	cbar_reg_release(&r);
	return rc;
}
