/*
 * callbar fuzz target: callbar batch's records, the CDR lines it reads
 * from outside, cut by the CDR reader (src/proto/cdr.c) and decided and
 * written by the record module (src/cli/batch_decide.c), linked alone.
 * Any bytes, as CSV (a first line may be a header naming the columns) or,
 * when they begin with '{', as JSON lines, decided against a small rule file with every kind of condition,
 * with --compare against a second one.  The counts must add up to the
 * lines that were records, and nothing may crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch.h"
#include "callbar/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_text[] =
	"timezone +08:00\n"
	"zone mainland +86\n"
	"zone abroad !mainland\n"
	"emergency 110 112\n"
	"pass  any voice roaming yes reason roaming-abroad\n"
	"block in  voice from mainland via intl-gateway reason spoofed-cli\n"
	"block out any to abroad carrier cmcc region CN-ZJ since 2021-08-01 unless unlocked reason zj\n"
	"block in  sms from abroad since 2022-05-07 until 2030-01-01 unless verified reason ha\n"
	"block any sms to +44 roaming no reason uk\n"
	"pass all\n";
static const char old_text[] = "timezone +08:00\nblock in sms from !+86 reason old\npass all\n";

static struct batch b;
static struct cbar_numplan *np;
static struct cbar_rules *rules, *old;

static void setup(void)
{
	struct cbar_diag d = {0};
	if (cbar_numplan_embedded(&np, &d) ||
	    cbar_rules_compile(np, rules_text, sizeof rules_text - 1, "fuzz.rules", NULL, &d, &rules) ||
	    cbar_rules_compile(np, old_text, sizeof old_text - 1, "old.rules", NULL, &d, &old)) {
		fprintf(stderr, "fuzz_batch: setup: %s\n", d.msg);
		abort();
	}
	b.np = np;
	b.cn = cbar_numplan_country(np, "CN", 2);
	b.tz = cbar_rules_tz_offset(rules);
	b.block = IN_BLOCK;
	b.out = fopen("/dev/null", "w");
	b.ocap = OUT_BLOCK;
	b.obuf = malloc(OUT_BLOCK);
	if (!b.out || !b.obuf || !cbar_batch_ruleset_init(&b.now, rules, "fuzz.rules") ||
	    !cbar_batch_ruleset_init(&b.old, old, "old.rules") ||
	    !cbar_tally_init(&b.t, cbar_rules_count(rules), cbar_rules_count(old)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!np)
		setup();
	struct tally before = b.t;
	uint64_t c0 = before.count[0] + before.count[1] + before.count[2];
	b.jsonl = size && data[0] == '{';
	b.changed_only = size > 1 && data[1] == '{';
	b.first = true;
	b.map = NULL;
	b.line = 0;
	b.reports = 1000; /* no report lines: the fuzzer's output stays quiet */
	cbar_batch_lines(&b, (const char *)data, size);
	uint64_t c1 = b.t.count[0] + b.t.count[1] + b.t.count[2];
	if (c1 - c0 > b.line || b.on > b.ocap)
		abort(); /* more records than lines, or past the output buffer */
	return 0;
}
