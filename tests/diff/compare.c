/*
 * callbar differential test, the callbar side: read what the oracle
 * (oracle.cc) says libphonenumber made of each input, parse the same input
 * with callbar in the same context, and count where the two agree.
 *
 * Input lines (tab-separated, from the oracle):
 *   context input lpn_status lpn_cc lpn_nsn [form [region]]
 *
 * Every input falls in one class:
 *   agree             both accept it, same country code and national number
 *   cc_differs        both accept it, different country codes
 *   nsn_differs       both accept it, same country code, different national
 *                     numbers (split further: callbar kept a trunk prefix
 *                     libphonenumber dropped, or the other way round)
 *   callbar_rejects   libphonenumber accepts it, callbar does not (split by
 *                     callbar's error code)
 *   lpn_rejects       libphonenumber rejects it: not part of the rate (it
 *                     is counted, with how many callbar accepts)
 * The agreement rate is agree / (inputs libphonenumber accepts).
 *
 * Usage: compare [--min-rate PCT] [--min-inputs N] [--examples K] [--dump]
 *                [FILE]
 * --dump writes every disagreement to standard error, one tab-separated
 * line each (class form region context input lpn callbar), for study.
 * Exits 1 when the rate is below PCT, when there are fewer than N inputs,
 * or when a calling code of callbar's plan has no input libphonenumber
 * accepted; 2 on bad usage or input.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/error.h"
#include "callbar/number.h"

#define MAX_FIELDS 7
#define MAX_EXAMPLES 10
#define MAX_COUNTERS 8192

/* A count by name; few enough names that a linear search will do. */
struct counter {
	char key[64];
	unsigned long n;
};

struct tally {
	struct counter c[MAX_COUNTERS];
	unsigned n;
};

static struct counter *tally_get(struct tally *t, const char *key)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->c[i].key, key))
			return &t->c[i];
	if (t->n == MAX_COUNTERS) {
		fprintf(stderr, "compare: too many distinct keys\n");
		exit(2);
	}
	struct counter *c = &t->c[t->n++];
	size_t n = strnlen(key, sizeof c->key - 1); /* a longer key is cut */
	memcpy(c->key, key, n);
	c->key[n] = '\0';
	c->n = 0;
	return c;
}

static void cbar_tally_add(struct tally *t, const char *key)
{
	tally_get(t, key)->n++;
}

static int by_count(const void *a, const void *b)
{
	const struct counter *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* Examples kept per disagreement class, the first K seen. */
struct examples {
	char cls[64];
	unsigned n;
	char line[MAX_EXAMPLES][200];
};

static struct examples ex[256];
static unsigned nex;
static unsigned max_examples = 4;

static void example_add(const char *cls, const char *text)
{
	struct examples *e = NULL;
	for (unsigned i = 0; i < nex; i++)
		if (!strcmp(ex[i].cls, cls))
			e = &ex[i];
	if (!e) {
		if (nex == sizeof ex / sizeof ex[0])
			return;
		e = &ex[nex++];
		snprintf(e->cls, sizeof e->cls, "%s", cls);
		e->n = 0;
	}
	if (e->n < max_examples)
		snprintf(e->line[e->n++], sizeof e->line[0], "%s", text);
}

static const struct examples *examples_of(const char *cls)
{
	for (unsigned i = 0; i < nex; i++)
		if (!strcmp(ex[i].cls, cls))
			return &ex[i];
	return NULL;
}

static struct tally classes, by_form, by_region, forms_seen, form_acc, form_agree;

/* Split line at tabs into at most MAX_FIELDS fields; returns how many. */
static unsigned split(char *line, char **f)
{
	unsigned n = 0;
	char *p = line;
	while (n < MAX_FIELDS) {
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = 0;
		p = tab + 1;
	}
	return n;
}

/* How callbar's national number b relates to libphonenumber's a. */
static const char *nsn_relation(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (lb > la && !strcmp(b + (lb - la), a))
		return "nsn_differs:callbar_keeps_leading";
	if (la > lb && !strcmp(a + (la - lb), b))
		return "nsn_differs:callbar_drops_leading";
	return "nsn_differs:other";
}

static void usage(void)
{
	fprintf(stderr, "usage: compare [--min-rate PCT] [--min-inputs N] [--examples K] "
	                "[--dump] [FILE]\n");
	exit(2);
}

static void print_class(const char *cls, unsigned long n)
{
	char key[160];
	printf("  %-44s %8lu\n", cls, n);
	/* by form and by region, largest first */
	struct counter sub[64];
	for (int pass = 0; pass < 2; pass++) {
		struct tally *t = pass ? &by_region : &by_form;
		unsigned k = 0;
		size_t cl = strlen(cls);
		for (unsigned i = 0; i < t->n; i++)
			if (!strncmp(t->c[i].key, cls, cl) && t->c[i].key[cl] == '|') {
				if (k < sizeof sub / sizeof sub[0])
					sub[k++] = t->c[i];
			}
		qsort(sub, k, sizeof sub[0], by_count);
		printf("      %s:", pass ? "regions" : "forms");
		for (unsigned i = 0; i < k && i < 12; i++) {
			snprintf(key, sizeof key, "%s", sub[i].key + cl + 1);
			printf(" %s=%lu", key, sub[i].n);
		}
		printf("%s\n", k > 12 ? " ..." : "");
	}
	const struct examples *e = examples_of(cls);
	for (unsigned i = 0; e && i < e->n; i++)
		printf("      e.g. %s\n", e->line[i]);
}

int main(int argc, char **argv)
{
	double min_rate = 0;
	unsigned long min_inputs = 0;
	const char *path = NULL;
	bool dump = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--min-rate") && i + 1 < argc)
			min_rate = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--min-inputs") && i + 1 < argc)
			min_inputs = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--examples") && i + 1 < argc) {
			max_examples = (unsigned)strtoul(argv[++i], NULL, 10);
			if (max_examples > MAX_EXAMPLES)
				max_examples = MAX_EXAMPLES;
		} else if (!strcmp(argv[i], "--dump"))
			dump = true;
		else if (argv[i][0] == '-' && argv[i][1])
			usage();
		else if (!path)
			path = argv[i];
		else
			usage();
	}
	FILE *in = path && strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!in) {
		perror(path);
		return 2;
	}

	struct cbar_numplan *np;
	struct cbar_diag diag;
	if (cbar_numplan_embedded(&np, &diag) != CBAR_OK) {
		fprintf(stderr, "compare: embedded data: %s\n", diag.msg);
		return 2;
	}

	static bool cc_seen[1000];
	unsigned long total = 0, accepted = 0, agree = 0, lpn_rej = 0, lpn_rej_cb_ok = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long lineno = 0;
	while ((got = getline(&line, &cap, in)) > 0) {
		lineno++;
		while (got && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = 0;
		if (!got || line[0] == '#')
			continue;
		char *f[MAX_FIELDS];
		unsigned nf = split(line, f);
		if (nf < 5) {
			fprintf(stderr, "compare: line %lu: %u fields, want 5 or more\n", lineno,
			        nf);
			return 2;
		}
		const char *ctx = f[0], *input = f[1], *st = f[2], *lcc = f[3], *lnsn = f[4];
		const char *form = nf > 5 ? f[5] : "-", *region = nf > 6 ? f[6] : "-";
		total++;
		cbar_tally_add(&forms_seen, form);

		uint16_t country = cbar_numplan_country(np, ctx, strlen(ctx));
		struct cbar_number num;
		size_t at;
		enum cbar_err err = cbar_number_parse(np, country, input, strlen(input), &num, &at);

		if (strcmp(st, "OK")) {
			lpn_rej++;
			if (err == CBAR_OK)
				lpn_rej_cb_ok++;
			continue;
		}
		accepted++;
		cbar_tally_add(&form_acc, form);
		unsigned long cc = strtoul(lcc, NULL, 10);
		if (cc < 1000)
			cc_seen[cc] = true;

		char cls[64];
		if (err != CBAR_OK)
			snprintf(cls, sizeof cls, "callbar_rejects:%s", cbar_err_name(err));
		else if (num.cc != cc)
			snprintf(cls, sizeof cls, "cc_differs");
		else if (strcmp(cbar_number_national(&num), lnsn))
			snprintf(cls, sizeof cls, "%s", nsn_relation(lnsn, cbar_number_national(&num)));
		else {
			agree++;
			cbar_tally_add(&form_agree, form);
			continue;
		}
		char key[160], text[200];
		cbar_tally_add(&classes, cls);
		snprintf(key, sizeof key, "%s|%s", cls, form);
		cbar_tally_add(&by_form, key);
		snprintf(key, sizeof key, "%s|%s", cls, region);
		cbar_tally_add(&by_region, key);
		if (err == CBAR_OK)
			snprintf(text, sizeof text, "[%s] %s  lpn +%s %s  callbar +%u %s", ctx, input,
			         lcc, lnsn, (unsigned)num.cc, cbar_number_national(&num));
		else
			snprintf(text, sizeof text, "[%s] %s  lpn +%s %s  callbar %s at %zu", ctx,
			         input, lcc, lnsn, cbar_err_name(err), at);
		example_add(cls, text);
		if (dump) {
			char cb[32];
			if (err == CBAR_OK)
				snprintf(cb, sizeof cb, "+%u %s", (unsigned)num.cc,
				         cbar_number_national(&num));
			else
				snprintf(cb, sizeof cb, "%s", cbar_err_name(err));
			fprintf(stderr, "%s\t%s\t%s\t%s\t%s\t+%s %s\t%s\n", cls, form, region, ctx,
			        input, lcc, lnsn, cb);
		}
	}
	free(line);
	if (ferror(in)) {
		perror("compare: read");
		return 2;
	}
	if (in != stdin)
		fclose(in);

	/* Every calling code callbar knows should have been tried. */
	unsigned ncc = 0, missing = 0;
	char missing_list[1024] = "";
	for (unsigned cc = 1; cc < 1000; cc++) {
		char s[4];
		int k = snprintf(s, sizeof s, "%u", cc);
		if (cbar_numplan_country(np, s, (size_t)k) == CBAR_NONE)
			continue;
		ncc++;
		if (!cc_seen[cc]) {
			missing++;
			size_t l = strlen(missing_list);
			snprintf(missing_list + l, sizeof missing_list - l, " +%u", cc);
		}
	}
	cbar_numplan_free(np);

	double rate = accepted ? 100.0 * (double)agree / (double)accepted : 0;
	printf("callbar vs libphonenumber: %lu inputs in %u forms\n", total, forms_seen.n);
	printf("  libphonenumber accepts   %8lu\n", accepted);
	printf("  agree                    %8lu\n", agree);
	printf("  disagree                 %8lu\n", accepted - agree);
	printf("  libphonenumber rejects   %8lu (not rated; callbar accepts %lu of them)\n",
	       lpn_rej, lpn_rej_cb_ok);
	printf("  calling codes            %u of callbar's %u tried%s%s\n", ncc - missing, ncc,
	       missing ? ", missing:" : "", missing_list);
	printf("agreement rate: %.3f%% (threshold %.3f%%)\n", rate, min_rate);
	printf("agreement by form:\n");
	for (unsigned i = 0; i < form_acc.n; i++) {
		unsigned long a = form_acc.c[i].n, g = tally_get(&form_agree, form_acc.c[i].key)->n;
		printf("  %-16s %7lu of %7lu  %7.3f%%\n", form_acc.c[i].key, g, a,
		       100.0 * (double)g / (double)a);
	}
	if (classes.n) {
		printf("disagreements by class:\n");
		qsort(classes.c, classes.n, sizeof classes.c[0], by_count);
		for (unsigned i = 0; i < classes.n; i++)
			print_class(classes.c[i].key, classes.c[i].n);
	}

	int rc = 0;
	if (rate < min_rate) {
		printf("FAIL: agreement rate %.3f%% below %.3f%%\n", rate, min_rate);
		rc = 1;
	}
	if (total < min_inputs) {
		printf("FAIL: %lu inputs, want at least %lu\n", total, min_inputs);
		rc = 1;
	}
	if (missing) {
		printf("FAIL: %u calling codes not tried\n", missing);
		rc = 1;
	}
	return rc;
}
