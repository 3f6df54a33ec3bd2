/* callbar number: normalise and classify numbers. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/number.h"
#include "cli.h"
#include "load/numplan_load.h"

static const char help[] =
	"usage: callbar number [--country CC] [--json] [--segments FILE]\n"
	"                      [--carriers FILE] [--ported FILE] [NUMBER...]\n"
	"\n"
	"Normalise each NUMBER to E.164 and classify it; with no NUMBER, read one\n"
	"per line from standard input.\n"
	"\n"
	"  --country CC      the country the numbers are written in, as an ISO 3166\n"
	"                    code (CN, HK, US...) or a calling code (86); default CN.\n"
	"                    It decides the international prefix (00 in CN), the\n"
	"                    national prefix (0 in CN) and the emergency numbers.\n"
	"  --json            one JSON object per line instead of plain text\n"
	"  --segments FILE   an operator's table of Chinese number prefixes to\n"
	"                    cities, replacing the built-in partial one\n"
	"  --carriers FILE   an operator's table of prefixes to original carriers\n"
	"  --ported FILE     an operator's list of ported numbers: NUMBER<TAB>CARRIER;\n"
	"                    their carrier is the current one, not the original\n"
	"\n"
	"Accepted forms (docs/numbering.md has them all, with the rejections):\n"
	"  +852 9123 4567   00852-9123-4567   (0571) 8888 8888   13805710000\n"
	"  +86 138 0571 0000   8613805710000   tel:+852-9123-4567\n"
	"  tel:91234567;phone-context=+852   sip:+85291234567@gw.example;user=phone\n"
	"\n"
	"Plain output, one line per input:\n"
	"  INPUT<TAB>+E164 cc=86 national=... country=CN region=CN-ZJ carrier=cmcc\n"
	"  emergency=no city=...    (unknown where the data does not say)\n"
	"  INPUT<TAB>error: MESSAGE at byte N\n"
	"JSON keys: input, e164 (with +), country_code, national, country, region\n"
	"(ISO 3166-2:CN code or null), region_name_zh, region_name_en, city_zh,\n"
	"city_en, carrier (cmcc, cucc, ctcc, cbn or null), ported, emergency, short,\n"
	"error\n"
	"(null or a message), error_code, error_at.\n"
	"\n"
	"Exit status: 0 when every input parsed, 2 otherwise.\n";

static void print_plain(const struct cbar_numplan *np, const char *in,
                        const struct cbar_number *n)
{
	const char *reg = cbar_numplan_region_code(np, n->region);
	const char *car = cbar_carrier_key(n->carrier);
	const char *ctry = cbar_numplan_country_id(np, n->country);
	const char *city = cbar_numplan_city_name_en(np, n->city);
	printf("%s\t+%s cc=%u national=%s country=%s region=%s carrier=%s emergency=%s", in,
	       n->digits, n->cc, cbar_number_national(n), ctry ? ctry : "unknown",
	       reg ? reg : "unknown", car ? car : "unknown",
	       n->flags & CBAR_NUM_EMERGENCY ? "yes" : "no");
	if (reg)
		printf(" region_name=%s/%s", cbar_numplan_region_name_en(np, n->region),
		       cbar_numplan_region_name_zh(np, n->region));
	if (city)
		printf(" city=\"%s\"", city);
	if (n->flags & CBAR_NUM_SHORT)
		fputs(" short=yes", stdout);
	if (n->flags & CBAR_NUM_PORTED)
		fputs(" ported=yes", stdout);
	putchar('\n');
}

static void print_json(const struct cbar_numplan *np, const char *in,
                       const struct cbar_number *n, enum cbar_err err, size_t at)
{
	fputs("{\"input\":", stdout);
	cbar_json_fput(stdout, in);
	if (err) {
		fputs(",\"e164\":null,\"country_code\":null,\"national\":null,\"country\":null,"
		      "\"region\":null,\"region_name_zh\":null,\"region_name_en\":null,"
		      "\"city_zh\":null,\"city_en\":null,\"carrier\":null,\"ported\":false,"
		      "\"emergency\":false,"
		      "\"short\":false,\"error\":",
		      stdout);
		cbar_json_fput(stdout, cbar_err_message(err));
		fputs(",\"error_code\":", stdout);
		cbar_json_fput(stdout, cbar_err_name(err));
		printf(",\"error_at\":%zu}\n", at);
		return;
	}
	printf(",\"e164\":\"+%s\",\"country_code\":%u,\"national\":\"%s\",\"country\":", n->digits,
	       n->cc, cbar_number_national(n));
	cbar_json_fput(stdout, cbar_numplan_country_id(np, n->country));
	fputs(",\"region\":", stdout);
	cbar_json_fput(stdout, cbar_numplan_region_code(np, n->region));
	fputs(",\"region_name_zh\":", stdout);
	cbar_json_fput(stdout, cbar_numplan_region_name_zh(np, n->region));
	fputs(",\"region_name_en\":", stdout);
	cbar_json_fput(stdout, cbar_numplan_region_name_en(np, n->region));
	fputs(",\"city_zh\":", stdout);
	cbar_json_fput(stdout, cbar_numplan_city_name_zh(np, n->city));
	fputs(",\"city_en\":", stdout);
	cbar_json_fput(stdout, cbar_numplan_city_name_en(np, n->city));
	fputs(",\"carrier\":", stdout);
	cbar_json_fput(stdout, cbar_carrier_key(n->carrier));
	printf(",\"ported\":%s,\"emergency\":%s,\"short\":%s,\"error\":null,"
	       "\"error_code\":null,\"error_at\":null}\n",
	       n->flags & CBAR_NUM_PORTED ? "true" : "false",
	       n->flags & CBAR_NUM_EMERGENCY ? "true" : "false",
	       n->flags & CBAR_NUM_SHORT ? "true" : "false");
}

static bool one(const struct cbar_numplan *np, uint16_t ctx, const char *in, size_t len,
                bool json)
{
	struct cbar_number n;
	size_t at = 0;
	enum cbar_err err = cbar_number_parse(np, ctx, in, len, &n, &at);
	if (json)
		print_json(np, in, &n, err, at);
	else if (err)
		printf("%s\terror: %s at byte %zu\n", in, cbar_err_message(err), at);
	else
		print_plain(np, in, &n);
	return err == CBAR_OK;
}

int cbar_cmd_number(int argc, char **argv)
{
	static const struct option opts[] = {
		{"country", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
		{"segments", required_argument, NULL, 's'}, {"carriers", required_argument, NULL, 'r'},
		{"ported", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},          {0, 0, 0, 0},
	};
	const char *country = "CN";
	struct numplan_files files = {0};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			country = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			files.segments = optarg;
			break;
		case 'r':
			files.carriers = optarg;
			break;
		case 'p':
			files.ported = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return CLI_OK;
		default:
			fputs(help, stderr);
			return CLI_BAD;
		}
	}
	struct cbar_numplan *np = cbar_numplan_load(&files);
	if (!np)
		return CLI_BAD;
	uint16_t ctx = cbar_numplan_country(np, country, strlen(country));
	if (ctx == CBAR_NONE) {
		fprintf(stderr, "callbar number: unknown country '%s' (an ISO 3166 code such as CN, "
		                "or a calling code such as 86)\n",
		        country);
		cbar_numplan_free(np);
		return CLI_BAD;
	}
	bool all_ok = true;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			all_ok &= one(np, ctx, argv[i], strlen(argv[i]), json);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, stdin)) >= 0) {
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = 0;
			all_ok &= one(np, ctx, line, (size_t)n, json);
		}
		free(line);
	}
	cbar_numplan_free(np);
	return all_ok ? CLI_OK : CLI_BAD;
}
