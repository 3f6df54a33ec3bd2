/* callbar: names of the original carriers of Chinese mobile numbers. */
#include <string.h>
#include <strings.h>

#include "callbar/number.h"

static const struct {
	const char *key, *zh, *en;
} carriers[] = {
#define CBAR__CARRIER_ROW(name, k, z, e) [CBAR_CARRIER_##name] = {k, z, e},
	CBAR_CARRIER_MAP(CBAR__CARRIER_ROW)
#undef CBAR__CARRIER_ROW
};

/* Other spellings a rule file or a data table may use. */
static const struct {
	const char *alias;
	enum cbar_carrier c;
} aliases[] = {
	{"china-mobile", CBAR_CARRIER_CMCC},   {"mobile", CBAR_CARRIER_CMCC},
	{"移动", CBAR_CARRIER_CMCC},           {"china-unicom", CBAR_CARRIER_CUCC},
	{"unicom", CBAR_CARRIER_CUCC},         {"联通", CBAR_CARRIER_CUCC},
	{"china-telecom", CBAR_CARRIER_CTCC},  {"telecom", CBAR_CARRIER_CTCC},
	{"电信", CBAR_CARRIER_CTCC},           {"china-broadnet", CBAR_CARRIER_CBN},
	{"broadnet", CBAR_CARRIER_CBN},        {"广电", CBAR_CARRIER_CBN},
};

const char *cbar_carrier_key(enum cbar_carrier c)
{
	return c > CBAR_CARRIER_NONE && c < CBAR_CARRIER_COUNT ? carriers[c].key : NULL;
}

const char *cbar_carrier_name_zh(enum cbar_carrier c)
{
	return c > CBAR_CARRIER_NONE && c < CBAR_CARRIER_COUNT ? carriers[c].zh : NULL;
}

const char *cbar_carrier_name_en(enum cbar_carrier c)
{
	return c > CBAR_CARRIER_NONE && c < CBAR_CARRIER_COUNT ? carriers[c].en : NULL;
}

static bool same(const char *a, const char *s, size_t len)
{
	return strlen(a) == len && !strncasecmp(a, s, len);
}

enum cbar_carrier cbar_carrier_lookup(const char *s, size_t len)
{
	for (int c = CBAR_CARRIER_NONE + 1; c < CBAR_CARRIER_COUNT; c++)
		if (same(carriers[c].key, s, len) || same(carriers[c].zh, s, len) ||
		    same(carriers[c].en, s, len))
			return (enum cbar_carrier)c;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (same(aliases[i].alias, s, len))
			return aliases[i].c;
	return CBAR_CARRIER_NONE;
}
