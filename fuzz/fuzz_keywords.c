/*
 * callbar fuzz target: the keyword table (keywords.conf, --keywords FILE),
 * read by cbar_kw_table_parse() as cbar_kw_table_load() does.  Any bytes; a failure
 * must name a line of the text with a message; a table that loads must
 * hold NUL-ended words and service numbers, find every keyword again by
 * its word (also in other case and with blanks around), recognise every
 * service number, hold scopes that print and parse back, and answer an
 * unknown keyword within the buffer it is given.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load/keywords.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kw_table t;
	struct cbar_diag d = {0};
	const char *text = (const char *)data;
	if (!cbar_kw_table_parse(&t, text, size, &d)) {
		unsigned lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		if (!memchr(d.msg, 0, sizeof d.msg) || !d.msg[0] || d.line > lines)
			abort();
		/* Only "no keywords or no service line" is about the whole text. */
		if (d.line < 1 && (t.n && t.nservice))
			abort();
		return 0;
	}
	if (!t.n || t.n > 64 || !t.nservice || t.nservice > 16)
		abort();
	for (unsigned i = 0; i < t.nservice; i++) {
		if (!memchr(t.service[i], 0, sizeof t.service[i]) || !t.service[i][0] ||
		    !cbar_kw_is_service(&t, t.service[i]))
			abort();
	}
	for (unsigned i = 0; i < t.n; i++) {
		const struct kw *k = &t.kw[i];
		if (!memchr(k->word, 0, sizeof k->word) || !k->word[0] || !k->scope)
			abort();
		char spaced[KW_MAX + 4];
		snprintf(spaced, sizeof spaced, " %s\t", k->word);
		for (char *c = spaced; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		const struct kw *found = cbar_kw_find(&t, spaced);
		if (!found || strcasecmp(found->word, k->word))
			abort();
		char sc[64];
		if (cbar_store_scope_parse(cbar_store_scope_str(k->scope, sc, sizeof sc)) !=
		    k->scope)
			abort();
	}
	for (unsigned i = 0; i < t.nservice; i++)
		if (t.service_carrier[i] >= CBAR_CARRIER_COUNT)
			abort();
	for (int i = 0; i < KW_REPLY_COUNT; i++)
		if (!memchr(t.reply[i], 0, sizeof t.reply[i]) || !t.reply[i][0])
			abort();
	char small[40], big[8192];
	cbar_kw_unknown_answer(&t, small, sizeof small);
	cbar_kw_unknown_answer(&t, big, sizeof big);
	if (!memchr(small, 0, sizeof small) || !memchr(big, 0, sizeof big))
		abort();
	/* Every reply, with and without a rule still barring, within its buffer. */
	static const struct cbar_text tx[] = {{"zh", "去营业厅"}, {"en", "visit a shop {how_en}"}};
	static const struct cbar_announcement an = {"a", tx, 2};
	struct cbar_status_entry eff[CBAR_STATUS_ENTRIES] = {{0}};
	for (int i = 0; i < CBAR_STATUS_ENTRIES; i++) {
		eff[i].service = i < 2 ? CBAR_VOICE : CBAR_SMS;
		eff[i].direction = i % 2 ? CBAR_OUT : CBAR_IN;
		eff[i].decision = CBAR_BLOCK;
		eff[i].announcement = &an;
	}
	for (int w = 0; w < KW_REPLY_COUNT; w++) {
		bool restored;
		cbar_kw_reply(&t, &t.kw[0], (enum kw_reply)w, eff, &restored, small, sizeof small);
		cbar_kw_reply(&t, &t.kw[0], (enum kw_reply)w, NULL, NULL, big, sizeof big);
		if (!memchr(small, 0, sizeof small) || !memchr(big, 0, sizeof big))
			abort();
	}
	cbar_kw_wrong_carrier(&t, t.service[0], CBAR_CARRIER_CMCC, small, sizeof small);
	if (!memchr(small, 0, sizeof small))
		abort();
	return 0;
}
