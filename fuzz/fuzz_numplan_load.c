/*
 * callbar fuzz target: the numbering tables an operator loads (--segments,
 * --carriers, --ported) and the other tables of the same formats.  The
 * first byte chooses the table, the rest is its text, loaded into a plan
 * that already holds the built-in tables that must come before it.
 *
 * A failure must name a line of the text and a column, and leave the plan
 * as it was (every name and a set of probe numbers answer as before).  A
 * success must give lookups within bounds: every country and region found
 * again by its code, every city named, and a number under a listed prefix
 * gets a city (segments) or a carrier (carriers), a listed ported number
 * its carrier and the ported flag.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "callbar/number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The built-in tables, linked in by embed.S (src/data/embedded.c). */
extern const char cbar__data_countries[], cbar__data_countries_end[];
extern const char cbar__data_cn_regions[], cbar__data_cn_regions_end[];
extern const char cbar__data_cn_cities[], cbar__data_cn_cities_end[];
extern const char cbar__data_cn_carriers[], cbar__data_cn_carriers_end[];

typedef enum cbar_err (*loader)(struct cbar_numplan *, const char *, size_t, const char *,
                                struct cbar_diag *);

enum table { T_COUNTRIES, T_REGIONS, T_CITIES, T_SEGMENTS, T_CARRIERS, T_PORTED, T_COUNT };

static const loader loaders[T_COUNT] = {
    cbar_numplan_load_countries,   cbar_numplan_load_cn_regions,  cbar_numplan_load_cn_cities,
    cbar_numplan_load_cn_segments, cbar_numplan_load_cn_carriers, cbar_numplan_load_cn_ported,
};

static const char name[] = "fuzz.tsv";

/* A few segments of our own, so that a failed load has a table to keep. */
static const char base_segments[] = "1380571\t1\n139\t2\n10\t1\n";

static const char *const probes[] = {
    "+8613805710000", "+8613912345678", "+861088888888",  "+8618600000000",
    "+85291234567",   "+12025550123",   "+447911123456",  "13805712345",
    "057188888888",   "+8617012345678", "+8619912345678", "110",
};

static void must(enum cbar_err err)
{
	if (err)
		abort();
}

static void load_builtin(struct cbar_numplan *np, loader f, const char *s, const char *e)
{
	must(f(np, s, (size_t)(e - s), "built-in", NULL));
}

/* A plan holding the tables a table of kind t is loaded after. */
static struct cbar_numplan *base_plan(enum table t)
{
	struct cbar_numplan *np = cbar_numplan_new();
	if (!np)
		abort();
	if (t > T_COUNTRIES)
		load_builtin(np, cbar_numplan_load_countries, cbar__data_countries,
		             cbar__data_countries_end);
	if (t > T_REGIONS)
		load_builtin(np, cbar_numplan_load_cn_regions, cbar__data_cn_regions,
		             cbar__data_cn_regions_end);
	if (t > T_CITIES) {
		load_builtin(np, cbar_numplan_load_cn_cities, cbar__data_cn_cities,
		             cbar__data_cn_cities_end);
		load_builtin(np, cbar_numplan_load_cn_carriers, cbar__data_cn_carriers,
		             cbar__data_cn_carriers_end);
		must(cbar_numplan_load_cn_segments(np, base_segments, sizeof base_segments - 1,
		                                   "built-in", NULL));
	}
	return np;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	if (!s)
		return mix(h, 0xfeed);
	for (; *s; s++)
		h = mix(h, (unsigned char)*s);
	return mix(h, 0x100);
}

static uint16_t cn(const struct cbar_numplan *np)
{
	return cbar_numplan_country(np, "CN", 2);
}

/* Checks one parsed number against the plan's bounds. */
static void check_number(const struct cbar_numplan *np, const struct cbar_number *n)
{
	if (n->carrier >= CBAR_CARRIER_COUNT)
		abort();
	if (n->city != CBAR_NONE &&
	    (!cbar_numplan_city_name_zh(np, n->city) || !cbar_numplan_city_name_en(np, n->city) ||
	     n->region == CBAR_NONE))
		abort();
	if (n->region != CBAR_NONE && !cbar_numplan_region_code(np, n->region))
		abort();
	if (n->country != CBAR_NONE && !cbar_numplan_country_id(np, n->country))
		abort();
}

/* What the plan answers, as one number: equal before and after a failed
 * load, or the load changed the plan. */
static uint64_t fingerprint(const struct cbar_numplan *np)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (unsigned i = 0; i < 1024; i++)
		h = mix_str(h, cbar_numplan_country_id(np, (uint16_t)i));
	for (unsigned i = 0; i < 256; i++) {
		h = mix_str(h, cbar_numplan_region_code(np, (uint8_t)i));
		h = mix_str(h, cbar_numplan_region_name_en(np, (uint8_t)i));
	}
	for (unsigned i = 0; i < 2048; i++)
		h = mix_str(h, cbar_numplan_city_name_zh(np, (uint16_t)i));
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		struct cbar_number n;
		enum cbar_err err =
		    cbar_number_parse(np, cn(np), probes[i], strlen(probes[i]), &n, NULL);
		h = mix(h, (uint64_t)err);
		if (!err) {
			check_number(np, &n);
			h = mix(h, n.e164);
			h = mix(h, (uint64_t)n.flags << 40 | (uint64_t)n.carrier << 32 |
			               (uint64_t)n.region << 16 | n.city);
			h = mix(h, n.country);
		}
	}
	return h;
}

/* The first tab-separated field of each line loaded (not a comment). */
struct field {
	const char *s;
	size_t n;
	const char *rest; /* the second field */
	size_t rn;
};

static bool next_field(const char **p, const char *end, struct field *f)
{
	while (*p < end) {
		const char *s = *p, *e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
		*p = e < end ? e + 1 : e;
		if (e > s && e[-1] == '\r')
			e--;
		if (s == e || *s == '#')
			continue;
		const char *t = memchr(s, '\t', (size_t)(e - s));
		if (!t)
			abort(); /* a loaded line has two fields */
		f->s = s;
		f->n = (size_t)(t - s);
		f->rest = t + 1;
		f->rn = (size_t)(e - t - 1);
		return true;
	}
	return false;
}

/* A number under a listed prefix gets the prefix table's value. */
static void check_prefixes(const struct cbar_numplan *np, const char *text, size_t len,
                           bool carrier)
{
	struct field f;
	for (const char *p = text; next_field(&p, text + len, &f);) {
		for (unsigned total = 10; total <= 11; total++) {
			for (char pad = '0'; pad <= '9'; pad += 9) {
				char num[3 + 12] = "+86";
				memcpy(num + 3, f.s, f.n);
				memset(num + 3 + f.n, pad, total - f.n);
				struct cbar_number n;
				if (cbar_number_parse(np, cn(np), num, 3 + total, &n, NULL))
					continue;
				check_number(np, &n);
				const char *nsn = cbar_number_national(&n);
				if (n.cc != 86 || strlen(nsn) < 7 || strncmp(nsn, f.s, f.n))
					continue;
				if (carrier ? n.carrier == CBAR_CARRIER_NONE : n.city == CBAR_NONE)
					abort();
			}
		}
	}
}

static void check_ported(const struct cbar_numplan *np, const char *text, size_t len)
{
	struct field f;
	for (const char *p = text; next_field(&p, text + len, &f);) {
		if (f.n > 3 && f.s[0] == '+') {
			f.s += 3;
			f.n -= 3;
		}
		char num[3 + 12] = "+86";
		memcpy(num + 3, f.s, f.n);
		struct cbar_number n;
		if (cbar_number_parse(np, cn(np), num, 3 + f.n, &n, NULL))
			continue;
		check_number(np, &n);
		if (n.cc == 86 && !strncmp(cbar_number_national(&n), f.s, f.n) &&
		    strlen(cbar_number_national(&n)) == f.n &&
		    (!(n.flags & CBAR_NUM_PORTED) || n.carrier == CBAR_CARRIER_NONE))
			abort();
	}
	/* A number the text does not hold is not ported. */
	static const char other[] = "13805710000";
	struct cbar_number n;
	if (!memmem(text, len, other, sizeof other - 1) &&
	    !cbar_number_parse(np, cn(np), other, sizeof other - 1, &n, NULL) &&
	    (n.flags & CBAR_NUM_PORTED))
		abort();
}

static void check_loaded(const struct cbar_numplan *np, enum table t, const char *text, size_t len)
{
	(void)fingerprint(np); /* the probes' bounds */
	switch (t) {
	case T_COUNTRIES:
		for (unsigned i = 1; i <= UINT16_MAX; i++) {
			const char *id = cbar_numplan_country_id(np, (uint16_t)i);
			if (!id)
				break;
			uint16_t j = cbar_numplan_country(np, id, strlen(id));
			if (j == CBAR_NONE || strcasecmp(cbar_numplan_country_id(np, j), id))
				abort();
		}
		break;
	case T_REGIONS:
		for (unsigned i = 1; i <= UINT8_MAX; i++) {
			const char *code = cbar_numplan_region_code(np, (uint8_t)i);
			if (!code)
				break;
			if (!cbar_numplan_region_name_zh(np, (uint8_t)i) ||
			    !cbar_numplan_region_name_en(np, (uint8_t)i))
				abort();
			uint8_t j = cbar_numplan_region(np, code, strlen(code));
			if (j == CBAR_NONE || strcasecmp(cbar_numplan_region_code(np, j), code))
				abort();
		}
		break;
	case T_CITIES:
		for (unsigned i = 1; i <= UINT16_MAX; i++) {
			const char *zh = cbar_numplan_city_name_zh(np, (uint16_t)i);
			if (!zh)
				break;
			if (!cbar_numplan_city_name_en(np, (uint16_t)i))
				abort();
		}
		break;
	case T_SEGMENTS:
	case T_CARRIERS:
		check_prefixes(np, text, len, t == T_CARRIERS);
		break;
	case T_PORTED:
		check_ported(np, text, len);
		break;
	case T_COUNT:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One base plan per table, kept while loads fail (which must leave it
	 * as it was) and built again after a load that changed it. */
	static struct cbar_numplan *base[T_COUNT];
	static uint64_t before[T_COUNT];
	if (!size)
		return 0;
	enum table t = (enum table)(data[0] % T_COUNT);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	if (!base[t]) {
		base[t] = base_plan(t);
		before[t] = fingerprint(base[t]);
	}
	struct cbar_numplan *np = base[t];
	struct cbar_diag d = {0};
	enum cbar_err err = loaders[t](np, text, len, name, &d);
	if (err == CBAR_NOMEM) {
		/* nothing to check */
	} else if (err) {
		unsigned lines = 1;
		for (size_t i = 0; i < len; i++)
			lines += text[i] == '\n';
		/* Line 0 only for an empty text ("no countries"). */
		if (err != CBAR_DATA || (d.line < 1 && len) || d.line > lines || d.column < 1 ||
		    !memchr(d.msg, 0, sizeof d.msg) || !d.msg[0] || d.file != name)
			abort();
		if (fingerprint(np) != before[t])
			abort(); /* a failed load changed the plan */
	} else {
		check_loaded(np, t, text, len);
		cbar_numplan_free(np);
		base[t] = NULL;
	}
	return 0;
}
