/*
 * callbar batch: decide a stream of CDR events (CSV or JSON lines).
 *
 * This file is the command: its options, its files, the one-thread read
 * loop and the summary.  A record is cut into fields by proto/cdr.h and
 * decided and written by batch_decide.c; with --threads N the blocks are
 * decided on N threads (batch_threads.c), each with its own output buffer
 * and counts (batch.h), and written in input order.  Memory is constant:
 * input is read in big blocks, records are cut in place and output goes
 * through one buffer.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "callbar/civil.h"
#include "callbar/limit.h"
#include "cli.h"
#include "batch_report.h"
#include "load/numplan_load.h"
#include "load/rules_load.h"

/* Not in the help, for tests: CALLBAR_BATCH_CHUNK=BYTES in the environment
 * reads the input in blocks of that size (at least 2 * MAX_RECORD) instead
 * of IN_BLOCK, with any number of threads, to get many chunks out of a small
 * input (docs/rules.md). */
static const char help[] =
	"usage: callbar batch --rules FILE [--unlocked FILE | --registry URL]\n"
	"                     [--format csv|jsonl] [--compare OLD [--changed]]\n"
	"                     [--threads N] [--segments FILE] [--ported FILE]\n"
	"                     [--carriers FILE] [--report FILE.html] [IN [OUT]]\n"
	"\n"
	"Decide every event of a CDR file (default: standard input to standard output)\n"
	"and write each record with its verdict, rule (file:line) and reason appended.\n"
	"\n"
	"CSV: a header 'time,service,direction,subscriber,peer[,ingress]', then one\n"
	"record a line; time is epoch seconds or ISO 8601 (docs/rules.md).  A header\n"
	"may name those columns in any order among others (a CDR export as it is),\n"
	"and a 'roaming' column (yes, no, empty), 'carrier' and 'region' columns (the\n"
	"subscriber's, when the switch knows them: before the numbering data; empty:\n"
	"not known); other columns are kept as they are.\n"
	"JSON lines: one object a line with those keys (\"roaming\": true or false);\n"
	"verdict, rule and reason are added to it.\n"
	"\n"
	"Unlock records come from --unlocked FILE (NUMBER SCOPE LEVEL a line) or\n"
	"from the registry, --registry sqlite:PATH or postgres://..., read once.\n"
	"\n"
	"What-if: --compare OLD decides every event by the rule file OLD too, and\n"
	"appends old_verdict, old_rule and old_reason; --changed writes only the\n"
	"records whose verdict differs.  The summary counts the changes by old and\n"
	"new verdict and by the rule that now decides.\n"
	"\n"
	"--report FILE.html writes one self-contained HTML file (no network needed\n"
	"to open it) with plots: records by verdict per hour or day, blocks by rule,\n"
	"by the subscriber's province and carrier, and with --compare the changes\n"
	"(which rule now decides, how many subscribers would newly be barred).  Its\n"
	"numbers are the summary's.\n"
	"\n"
	"Bad records are reported on stderr with their line number (the first 20),\n"
	"written out with verdict 'error' and counted.  A summary by verdict and by\n"
	"rule goes to stderr; a progress bar too when stderr is a terminal.\n"
	"\n"
	"The operator's numbering: --segments FILE (number prefixes to carrier,\n"
	"region and city), --ported FILE (NUMBER<TAB>CARRIER), --carriers FILE, as\n"
	"callbar number reads them; the subscriber's carrier and region come from the\n"
	"ported list, else the segment table, else the built-in data.\n"
	"\n"
	"IN may be compressed with gzip or zstd (told by its first bytes, standard\n"
	"input too), and OUT is compressed when its name ends in .gz or .zst; each\n"
	"on a thread of its own.\n"
	"\n"
	"--threads N decides on N threads (1 to 256, default 1; 0: one per CPU):\n"
	"a reader cuts the input into blocks of whole lines, N threads decide them\n"
	"and the output is written in input order, the same as with one thread.\n"
	"With limits, records are read and written on N threads and decided in\n"
	"input order, so the verdicts are one thread's (docs/limits.md); JSON lines\n"
	"and --compare with an old file that has limits are decided on one thread.\n"
	"\n"
	"Limits count on the records' own times: --limit-keys N keys tracked per\n"
	"limit (default 65536), --limit-tolerance S seconds a record may be out of\n"
	"order and still count (default 5).  The summary lists the keys barred.\n"
	"\n"
	"Exit status: 0 when every record was decided, 1 when some were errors,\n"
	"2 when the run could not start or stopped (a write failed, memory ran short,\n"
	"a compressed input was cut short or corrupt: said with the records decided).\n";

static const char *const words[] = {"allow", "block", "error"};

/* A mapped input cut shorter under the batch: its pages past the new end
 * fault with SIGBUS.  Said and ended, as a failed read would be (exit 2),
 * rather than a crash; only async-signal-safe calls here. */
static void input_cut(int sig)
{
	static const char msg[] = "callbar batch: the input file was cut shorter while it was "
	                          "being read; the output is incomplete\n";
	(void)sig;
	ssize_t w = write(2, msg, sizeof msg - 1);
	(void)w;
	_exit(2);
}

/*
 * A plain input file mapped, to cut its lines where they lie with no copy
 * into blocks (read() copying was 6% of a one-thread run); NULL for
 * anything else (a pipe, a compressed input), which is read in blocks.
 * *at: where the records begin (after what the compression sniffing read).
 */
static const char *map_input(FILE *in, size_t *at, size_t *size)
{
	struct stat st;
	int fd = fileno(in);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return NULL;
	off_t pos = ftello(in);
	if (pos < 0 || pos > st.st_size)
		return NULL;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	struct sigaction sa = {.sa_handler = input_cut};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	*at = (size_t)pos;
	*size = (size_t)st.st_size;
	return m;
}

/*
 * One thread.  The input is read a block at a time and cut into lines; a
 * line that does not end in the block is moved to the front and the block
 * filled up again, unless MAX_RECORD bytes of it are there already: then
 * those bytes are its line (too long: one bad record) and the rest of it,
 * up to its '\n', is skipped.  So every line of MAX_RECORD bytes or more is
 * one bad record wherever the blocks fall, and every shorter one is read
 * whole; batch_threads.c cuts its chunks by the same rule, so that its
 * lines are these.
 */
static bool run(struct batch *b, FILE *in)
{
	char *buf = malloc(b->block + 1);
	size_t have = 0;
	bool eof = false, skip = false; /* skip: the rest of a too long line */
	if (!buf) {
		fputs("callbar batch: out of memory\n", stderr);
		return false;
	}
	while (!eof || have) {
		if (!eof) {
			size_t got = fread(buf + have, 1, b->block - have, in);
			b->bytes += got;
			have += got;
			eof = got == 0 || feof(in) || ferror(in);
		}
		size_t i = 0;
		for (;;) {
			char *nl = memchr(buf + i, '\n', have - i);
			if (skip) {
				i = nl ? (size_t)(nl - buf) + 1 : have;
				skip = !nl;
				if (skip)
					break;
				continue;
			}
			if (!nl) {
				if (!eof && have - i < MAX_RECORD)
					break;
				if (i == have)
					break;
				/* A stream that ended in an error (a cut or corrupt
				 * compressed input) leaves a piece of a record: not
				 * decided, as if it were whole. */
				if (eof && ferror(in)) {
					i = have;
					break;
				}
				/* the last line without newline, or too long */
				skip = !eof;
				nl = buf + have;
			}
			size_t len = (size_t)(nl - (buf + i));
			const char *s = buf + i;
			i = nl == buf + have ? have : (size_t)(nl - buf) + 1;
			if (cbar_batch_line(b, s, len) && b->progress && !(b->line & 0xfffff))
				cbar_batch_say_progress(b->line, b->bytes, b->total);
		}
		cbar_batch_drain(b); /* its records' lines are about to move */
		memmove(buf, buf + i, have - i);
		have -= i;
		if (eof && have == 0)
			break;
	}
	free(buf);
	return true;
}



static void print_per_rule(const struct ruleset *rs, const uint64_t *counts, const char *indent)
{
	size_t nr = cbar_rules_count(rs->rules);
	if (counts[nr])
		fprintf(stderr, "%semergency: %llu allow\n", indent, (unsigned long long)counts[nr]);
	for (size_t i = 0; i < nr; i++)
		if (counts[i])
			fprintf(stderr, "%s%s %s: %llu\n", indent, rs->rule_txt[i],
			        cbar_rules_reason(rs->rules, i) ? cbar_rules_reason(rs->rules, i) : "-",
			        (unsigned long long)counts[i]);
}

/* A count from 0 to max written in decimal: false when it is anything else. */
static bool read_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* --threads 0: one per online CPU. */
static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* The block size: IN_BLOCK, or CALLBAR_BATCH_CHUNK bytes, a testing knob
 * for many chunks out of a small input (at least 2 * MAX_RECORD, so that a
 * block always holds a whole record or the first MAX_RECORD bytes of one).
 * 0 when the knob is bad. */
static size_t block_size(void)
{
	const char *k = getenv("CALLBAR_BATCH_CHUNK");
	unsigned long v;
	if (!k || !*k)
		return IN_BLOCK;
	if (!read_count(k, 64ul << 20, &v) || v < 2 * MAX_RECORD) {
		fprintf(stderr, "callbar batch: CALLBAR_BATCH_CHUNK: want bytes from %u to %lu\n",
		        2 * MAX_RECORD, 64ul << 20);
		return 0;
	}
	return v;
}

static void summary(const struct batch *b, const char *old_path)
{
	const struct tally *t = &b->t;
	uint64_t total = t->count[0] + t->count[1] + t->count[2];
	fprintf(stderr, "batch: %llu records: %llu allow, %llu block, %llu error\n",
	        (unsigned long long)total, (unsigned long long)t->count[0],
	        (unsigned long long)t->count[1], (unsigned long long)t->count[2]);
	print_per_rule(&b->now, t->per_rule, "  ");
	if (!b->old.rules)
		return;
	uint64_t same = 0;
	for (int k = 0; k < 3; k++)
		same += t->changes[k][k];
	uint64_t decided = 0;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			decided += t->changes[i][k];
	fprintf(stderr, "compare with %s: %llu of %llu decided records change verdict\n", old_path,
	        (unsigned long long)(decided - same), (unsigned long long)decided);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			if (i != k && t->changes[i][k])
				fprintf(stderr, "  %s -> %s: %llu\n", words[i], words[k],
				        (unsigned long long)t->changes[i][k]);
	fputs("  changed, by the rule that now decides:\n", stderr);
	print_per_rule(&b->now, t->changed_by, "    ");
	fputs("  the old file's rules:\n", stderr);
	print_per_rule(&b->old, t->old_per_rule, "    ");
}

/* The keys the new file's limits barred, in the order they went over. */
static void summary_bars(const struct batch *b)
{
	if (!cbar_rules_limits(b->now.rules))
		return;
	const char *file = cbar_rules_file(b->now.rules), *base = strrchr(file, '/');
	fprintf(stderr, "limits: %zu bars\n", b->nbars);
	for (size_t i = 0; i < b->nbars && i < MAX_BARS_KEPT && b->bars; i++) {
		const struct batch_bar *x = &b->bars[i];
		char key[32], until[CBAR_CIVIL_FORMAT_MAX + 8];
		cbar_limit_key_text(x->limit, x->key, key, sizeof key);
		cbar_civil_format(x->until, b->tz, until, sizeof until);
		fprintf(stderr, "  %s:%u %s %s count %u at line %llu, barred until %s\n",
		        base ? base + 1 : file, x->limit->line, x->limit->reason ? x->limit->reason : "-",
		        key, x->count, (unsigned long long)x->line, until);
	}
}

int cbar_cmd_batch(int argc, char **argv)
{
	static const struct option opts[] = {
		{"report", required_argument, NULL, 'H'},
		{"rules", required_argument, NULL, 'r'}, {"unlocked", required_argument, NULL, 'u'},
		{"registry", required_argument, NULL, 'R'},
		{"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
		{"compare", required_argument, NULL, 'c'}, {"changed", no_argument, NULL, 'C'},
		{"threads", required_argument, NULL, 't'},
		{"segments", required_argument, NULL, 'G'}, {"ported", required_argument, NULL, 'P'},
		{"carriers", required_argument, NULL, 'K'},
		{"limit-keys", required_argument, NULL, 'k'},
		{"limit-tolerance", required_argument, NULL, 'T'},
		{0, 0, 0, 0},
	};
	struct numplan_files files = {0};
	const char *rules_path = NULL, *unlocked = NULL, *registry = NULL, *format = "csv";
	const char *old_path = NULL, *report = NULL;
	bool changed_only = false;
	unsigned long threads = 1, max_keys = CBAR_LIMIT_MAX_KEYS_DEFAULT,
	              tolerance = CBAR_LIMIT_TOLERANCE_DEFAULT;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rules_path = optarg; break;
		case 'u': unlocked = optarg; break;
		case 'R': registry = optarg; break;
		case 'f': format = optarg; break;
		case 'c': old_path = optarg; break;
		case 'C': changed_only = true; break;
		case 'G': files.segments = optarg; break;
		case 'P': files.ported = optarg; break;
		case 'K': files.carriers = optarg; break;
		case 'H': report = optarg; break;
		case 't':
			if (!read_count(optarg, MAX_THREADS, &threads)) {
				fprintf(stderr, "callbar batch: --threads '%s': want 1 to %d, or 0 for one "
				                "per CPU\n", optarg, MAX_THREADS);
				return CLI_BAD;
			}
			break;
		case 'k':
		case 'T':
			if (!read_count(optarg, c == 'k' ? 1ul << 28 : 86400,
			                c == 'k' ? &max_keys : &tolerance) ||
			    (c == 'k' && !max_keys)) {
				fprintf(stderr, "callbar batch: --%s '%s': want %s\n",
				        c == 'k' ? "limit-keys" : "limit-tolerance", optarg,
				        c == 'k' ? "1 to 268435456 keys" : "0 to 86400 seconds");
				return CLI_BAD;
			}
			break;
		case 'h': fputs(help, stdout); return CLI_OK;
		default: fputs(help, stderr); return CLI_BAD;
		}
	}
	bool jsonl = !strcmp(format, "jsonl");
	if (!rules_path || argc - optind > 2 || (!jsonl && strcmp(format, "csv"))) {
		fputs(help, stderr);
		return CLI_BAD;
	}
	if (changed_only && !old_path) {
		fputs("callbar batch: --changed goes with --compare OLD\n", stderr);
		return CLI_BAD;
	}
	if (threads == 0)
		threads = online_cpus();
	size_t block = block_size();
	if (!block)
		return CLI_BAD;
	struct batch b = {0};
	struct cbar_numplan *np = cbar_numplan_load(&files);
	struct cbar_rules *rules = NULL, *old = NULL;
	struct cbar_unlockset *us = NULL;
	struct cbar_unlock_lookup lk = {0}, old_lk = {0};
	struct cbar_limiter *lim = NULL, *old_lim = NULL;
	struct cbar_limit_counter lc, old_lc;
	FILE *in = stdin, *out = stdout, *in_file = stdin, *out_file = stdout;
	int rc = CLI_BAD;
	if (!np)
		return CLI_BAD;
	b.np = np;
	b.cn = cbar_numplan_country(np, "CN", 2);
	if (!(rules = cbar_rules_load(np, rules_path)))
		goto out;
	if (old_path && !(old = cbar_rules_load(np, old_path)))
		goto out;
	if (unlocked && registry) {
		fputs("callbar batch: --unlocked and --registry exclude each other\n", stderr);
		goto out;
	}
	if (registry && !(us = cbar_unlocks_from_registry(registry)))
		goto out;
	if (unlocked && !(us = cbar_unlocks_load(np, b.cn, unlocked, (unsigned)threads)))
		goto out;
	if (optind < argc && strcmp(argv[optind], "-") && !(in = fopen(argv[optind], "rb"))) {
		perror(argv[optind]);
		goto out;
	}
	if (optind + 1 < argc && !(out = fopen(argv[optind + 1], "wb"))) {
		perror(argv[optind + 1]);
		goto out;
	}
	/* Compressed input by its magic byte, output by its name's end: a
	 * thread each, the streams below plain (batch_io.c). */
	in_file = in;
	out_file = out;
	if (!cbar_batch_io_input(&in, optind < argc ? argv[optind] : "standard input") ||
	    (optind + 1 < argc && !cbar_batch_io_output(&out, argv[optind + 1])))
		goto out;
	b.tz = cbar_rules_tz_offset(rules);
	if (us) {
		lk = cbar_unlockset_lookup(us);
		b.lk = &lk;
	}
	/* Limits: a counting state for each file that has them (--compare
	 * counts the old file's limits on their own), and one thread. */
	struct cbar_limiter_config lcfg = {.max_keys = max_keys, .tolerance = (uint32_t)tolerance};
	if (cbar_rules_limits(rules) || (old && cbar_rules_limits(old))) {
		old_lk = lk;
		if (cbar_limiter_new(rules, &lcfg, NULL, &lim) ||
		    (old && cbar_limiter_new(old, &lcfg, NULL, &old_lim))) {
			fputs("callbar batch: out of memory for the limits' counting state\n", stderr);
			goto out;
		}
		lc = cbar_limiter_counter(lim);
		lk.limits = &lc;
		b.lk = &lk;
		if (old_lim) {
			old_lc = cbar_limiter_counter(old_lim);
			old_lk.limits = &old_lc;
			b.old_lk = &old_lk;
		}
		/* On threads the new file's limits count in input order
		 * (batch_limits.c); the old file's, and JSON lines, not yet. */
		if (threads > 1 && ((old && cbar_rules_limits(old)) || jsonl)) {
			fprintf(stderr, "callbar batch: %s, which count records in input order: "
			                "deciding on one thread\n",
			        jsonl ? "JSON lines with limits" : "the old rules have limits");
			threads = 1;
		}
	}
	b.out = out;
	b.jsonl = jsonl;
	b.block = block;
	b.first = true;
	b.ocap = OUT_BLOCK;
	b.obuf = malloc(OUT_BLOCK);
	b.changed_only = changed_only;
	b.report = report != NULL;
	/* Not in the help, for tests: each record decided alone rather than
	 * in batches, to compare the two. */
	b.single = getenv("CALLBAR_BATCH_SINGLE") && !strcmp(getenv("CALLBAR_BATCH_SINGLE"), "1");
	if (!b.obuf || !cbar_batch_ruleset_init(&b.now, rules, rules_path) ||
	    (old && !cbar_batch_ruleset_init(&b.old, old, old_path)) ||
	    !cbar_tally_init(&b.t, cbar_rules_count(rules), old ? cbar_rules_count(old) : 0)) {
		fputs("callbar batch: out of memory\n", stderr);
		goto out;
	}
	struct stat st;
	b.progress = isatty(2);
	if (!fstat(fileno(in), &st) && S_ISREG(st.st_mode))
		b.total = (uint64_t)st.st_size;
	/* A plain file is mapped, but for one thread in the tests' small
	 * blocks (CALLBAR_BATCH_CHUNK): they test run()'s block reading. */
	size_t file_at = 0, file_size = 0;
	const char *file =
	    threads > 1 || b.block == IN_BLOCK ? map_input(in, &file_at, &file_size) : NULL;
	bool ran;
	if (threads > 1) {
		/* jansson sets its hash seed on first use unless told; tell it
		 * before there are threads (its documentation's advice). */
		if (jsonl)
			json_object_seed(0);
		ran = cbar_batch_threads(&b, in, file, file_at, file_size, (unsigned)threads);
	} else {
		/* A mapped file's lines are those run() makes of it (a line of
		 * MAX_RECORD bytes or more is one bad record, the last without
		 * its newline is read too): the same output. */
		if (file) {
			b.bytes = file_at;
			cbar_batch_lines(&b, file + file_at, file_size - file_at);
		}
		ran = file || run(&b, in);
		cbar_batch_flush(&b);
	}
	if (file)
		munmap((void *)file, file_size);
	if (!ran)
		goto out;
	if (b.progress)
		fputs("\r\033[K", stderr);
	if (fflush(out) || ferror(out)) {
		perror("callbar batch: output");
		goto out;
	}
	if (!cbar_batch_io_finish(&in, &out, in_file, out_file,
	                          b.t.count[0] + b.t.count[1] + b.t.count[2]))
		goto out;
	summary(&b, old_path);
	summary_bars(&b);
	rc = b.t.count[CBAR_ERROR] ? CLI_BLOCK : CLI_OK;
	if (report && !cbar_report_write(report, &b, rules_path, old_path))
		rc = CLI_BAD; /* the records are written; the report is not */
out:
	cbar_batch_io_finish(&in, &out, in_file, out_file,
	                     b.t.count[0] + b.t.count[1] + b.t.count[2]);
	if (in && in != stdin)
		fclose(in);
	if (out && out != stdout)
		fclose(out);
	cbar_batch_ruleset_free(&b.now);
	cbar_batch_ruleset_free(&b.old);
	cbar_tally_release(&b.t);
	free(b.obuf);
	cbar_unlockset_free(us);
	free(b.bars);
	cbar_limiter_free(lim);
	cbar_limiter_free(old_lim);
	cbar_rules_free(rules);
	cbar_rules_free(old);
	cbar_numplan_free(np);
	return rc;
}

