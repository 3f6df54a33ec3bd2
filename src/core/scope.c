/* callbar: service, direction, scope and decision words (scope.h). */
#include <stdio.h>
#include <string.h>

#include "callbar/scope.h"

static const char *const service_names[] = {[CBAR_VOICE] = "voice", [CBAR_SMS] = "sms"};
static const char *const direction_names[] = {[CBAR_IN] = "in", [CBAR_OUT] = "out"};
static const char *const decision_names[] = {
    [CBAR_ALLOW] = "allow", [CBAR_BLOCK] = "block", [CBAR_ERROR] = "error"};

/* The four pairs first, in the order scopes are written, then shorthands. */
static const struct {
	const char *name;
	unsigned bits;
} scope_words[] = {
    {"voice-in", CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_IN)},
    {"voice-out", CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_OUT)},
    {"sms-in", CBAR_SCOPE_BIT(CBAR_SMS, CBAR_IN)},
    {"sms-out", CBAR_SCOPE_BIT(CBAR_SMS, CBAR_OUT)},
    {"voice", CBAR_SCOPE_VOICE},
    {"sms", CBAR_SCOPE_SMS},
    {"in", CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_IN) | CBAR_SCOPE_BIT(CBAR_SMS, CBAR_IN)},
    {"out", CBAR_SCOPE_BIT(CBAR_VOICE, CBAR_OUT) | CBAR_SCOPE_BIT(CBAR_SMS, CBAR_OUT)},
    {"all", CBAR_SCOPE_ALL},
};

const char *cbar_service_name(enum cbar_service s)
{
	return (unsigned)s <= CBAR_SMS ? service_names[s] : "?";
}

const char *cbar_direction_name(enum cbar_direction d)
{
	return (unsigned)d <= CBAR_OUT ? direction_names[d] : "?";
}

const char *cbar_decision_name(enum cbar_decision d)
{
	return (unsigned)d <= CBAR_ERROR ? decision_names[d] : "error";
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(s, w, len);
}

bool cbar_service_parse(const char *s, size_t len, enum cbar_service *out)
{
	for (unsigned i = 0; i <= CBAR_SMS; i++)
		if (word_is(s, len, service_names[i])) {
			*out = (enum cbar_service)i;
			return true;
		}
	return false;
}

bool cbar_direction_parse(const char *s, size_t len, enum cbar_direction *out)
{
	for (unsigned i = 0; i <= CBAR_OUT; i++)
		if (word_is(s, len, direction_names[i])) {
			*out = (enum cbar_direction)i;
			return true;
		}
	return false;
}

char *cbar_scope_str(unsigned scope, char *buf, size_t cap)
{
	size_t n = 0;
	if (!cap)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < 4; i++)
		if (scope & scope_words[i].bits) {
			int k =
			    snprintf(buf + n, cap - n, "%s%s", n ? "," : "", scope_words[i].name);
			if (k < 0 || (size_t)k >= cap - n)
				break;
			n += (size_t)k;
		}
	if (!n)
		snprintf(buf, cap, "none");
	return buf;
}

unsigned cbar_scope_parse(const char *s, size_t len)
{
	unsigned bits = 0;
	size_t at = 0;
	if (len && s[len - 1] == ',') /* "voice," as the registry has always read it */
		len--;
	if (!len)
		return 0;
	while (at <= len) {
		const char *c = memchr(s + at, ',', len - at);
		size_t n = c ? (size_t)(c - (s + at)) : len - at;
		size_t i = 0;
		while (i < sizeof scope_words / sizeof scope_words[0] &&
		       !word_is(s + at, n, scope_words[i].name))
			i++;
		if (i == sizeof scope_words / sizeof scope_words[0])
			return 0;
		bits |= scope_words[i].bits;
		at += n + 1;
	}
	return bits;
}

const char *cbar_level_name(unsigned level)
{
	return level == CBAR_UNLOCK_VERIFIED ? "verified" : "self";
}
