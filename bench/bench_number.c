/*
 * callbar benchmark: normalise-and-classify throughput on one core.
 *
 * Baseline: strtoull over the digits of the same numbers (the least any
 * parser must do).  Candidate: cbar_number_parse over the numbers as
 * written in CDRs and signalling: a mix of +E.164, national mobile, the
 * 00 international prefix and spaced forms, Chinese numbers classified by
 * segment.  Goal: at least 20 million numbers per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/data.h"
#include "callbar/number.h"
#include "harness.h"

#define NNUM (1u << 16) /* distinct inputs, cycled */

struct input {
	char text[32];
	size_t len;
	char digits[20];
};

static struct input *inputs;
static struct cbar_numplan *np;
static uint16_t cn;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t run_strtoull(void *arg, size_t n)
{
	(void)arg;
	uint64_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc += strtoull(inputs[i & (NNUM - 1)].digits, NULL, 10);
	return acc;
}

static uint64_t run_parse(void *arg, size_t n)
{
	(void)arg;
	uint64_t acc = 0;
	struct cbar_number num;
	for (size_t i = 0; i < n; i++) {
		const struct input *in = &inputs[i & (NNUM - 1)];
		if (cbar_number_parse(np, cn, in->text, in->len, &num, NULL) == CBAR_OK)
			acc += num.e164 + num.region + num.carrier;
	}
	return acc;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 9;
	if (cbar_numplan_embedded(&np, NULL))
		return 1;
	cn = cbar_numplan_country(np, "CN", 2);
	inputs = calloc(NNUM, sizeof *inputs);
	static const char *mobile[] = {"138", "139", "150", "186", "189", "133", "177", "199"};
	uint64_t seed = 0x9e3779b97f4a7c15u;
	for (unsigned i = 0; i < NNUM; i++) {
		struct input *in = &inputs[i];
		uint64_t r = xorshift(&seed);
		unsigned sub = (unsigned)(r % 100000000u);
		const char *seg = mobile[(r >> 32) % 8];
		switch ((r >> 40) % 5) {
		case 0: /* +E.164, the form switches send */
			snprintf(in->text, sizeof in->text, "+86%s%08u", seg, sub);
			break;
		case 1: /* national mobile */
			snprintf(in->text, sizeof in->text, "%s%08u", seg, sub);
			break;
		case 2: /* international prefix, Hong Kong */
			snprintf(in->text, sizeof in->text, "00852%08u", sub);
			break;
		case 3: /* written with spaces */
			snprintf(in->text, sizeof in->text, "+86 %s %04u %04u", seg, sub / 10000,
			         sub % 10000);
			break;
		default: /* fixed line with trunk prefix */
			snprintf(in->text, sizeof in->text, "0571%08u", sub);
			break;
		}
		in->len = strlen(in->text);
		size_t k = 0;
		for (const char *p = in->text; *p; p++)
			if (*p >= '0' && *p <= '9')
				in->digits[k++] = *p;
		in->digits[k] = 0;
	}
	struct bench_result r =
		bench_compare("number", run_strtoull, NULL, run_parse, NULL, n, rounds);
	bench_report("normalise+classify", "num", &r,
	             r.cand_rate >= 20e6 ? "goal 20 M/s: met" : "goal 20 M/s: NOT met");
	free(inputs);
	cbar_numplan_free(np);
	return 0;
}
