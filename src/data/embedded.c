/* callbar: loading the numbering data linked in by embed.S. */
#include "callbar/data.h"

extern const char cbar__data_countries[], cbar__data_countries_end[];
extern const char cbar__data_cn_regions[], cbar__data_cn_regions_end[];
extern const char cbar__data_cn_cities[], cbar__data_cn_cities_end[];
extern const char cbar__data_cn_segments[], cbar__data_cn_segments_end[];
extern const char cbar__data_cn_carriers[], cbar__data_cn_carriers_end[];

typedef enum cbar_err (*loader)(struct cbar_numplan *, const char *, size_t, const char *,
                                struct cbar_diag *);

/* In load order: regions before cities, cities before segments. */
static const struct {
	loader load;
	const char *start, *end;
	const char *name;
} tables[] = {
	{cbar_numplan_load_countries, cbar__data_countries, cbar__data_countries_end,
	 "data/countries.tsv"},
	{cbar_numplan_load_cn_regions, cbar__data_cn_regions, cbar__data_cn_regions_end,
	 "data/cn-regions.tsv"},
	{cbar_numplan_load_cn_cities, cbar__data_cn_cities, cbar__data_cn_cities_end,
	 "data/cn-cities.tsv"},
	{cbar_numplan_load_cn_carriers, cbar__data_cn_carriers, cbar__data_cn_carriers_end,
	 "data/cn-carriers.tsv"},
	{cbar_numplan_load_cn_segments, cbar__data_cn_segments, cbar__data_cn_segments_end,
	 "data/cn-segments.tsv"},
};

enum cbar_err cbar_numplan_embedded(struct cbar_numplan **out, struct cbar_diag *d)
{
	struct cbar_numplan *np = cbar_numplan_new();
	if (!np)
		return CBAR_NOMEM;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		enum cbar_err err = tables[i].load(np, tables[i].start,
		                                   (size_t)(tables[i].end - tables[i].start),
		                                   tables[i].name, d);
		if (err) {
			cbar_numplan_free(np);
			return err;
		}
	}
	*out = np;
	return CBAR_OK;
}
