/*
 * callbar fuzz target: the token file (token_file.c), read by
 * cbar_tok_list_parse() as the daemon and 'callbar token' read it.  Any bytes; a
 * failure must name a line of the text with a message; a list that loads
 * must hold valid names and roles, and the list written back in the file's
 * format must parse to the same entries.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/token_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The list in the file's format: NAME ROLE HEX CREATED. */
static char *written(const struct tok_list *l, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	for (size_t i = 0; i < l->n; i++) {
		char hex[2 * sizeof l->e[i].hash + 1];
		sodium_bin2hex(hex, sizeof hex, l->e[i].hash, sizeof l->e[i].hash);
		fprintf(f, "%s\t%s\t%s\t%" PRId64 "\n", l->e[i].info.name,
		        cbar_role_name(l->e[i].info.role), hex, l->e[i].info.created);
	}
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbar_diag d = {0};
	const char *text = (const char *)data;
	struct tok_list *l = cbar_tok_list_parse(text, size, &d);
	if (!l) {
		if (d.line == 0 && !strcmp(d.msg, "out of memory"))
			return 0;
		unsigned lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		if (!memchr(d.msg, 0, sizeof d.msg) || !d.msg[0] || d.line < 1 || d.line > lines)
			abort();
		return 0;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct token_info *in = &l->e[i].info;
		if (!memchr(in->name, 0, sizeof in->name) || !cbar_token_name_ok(in->name) ||
		    in->role <= ROLE_NONE || in->role > ROLE_ADMIN ||
		    cbar_role_parse(cbar_role_name(in->role)) != in->role)
			abort();
	}
	size_t n1;
	char *t1 = written(l, &n1);
	struct tok_list *l2 = cbar_tok_list_parse(t1, n1, &d);
	if (!l2 || l2->n != l->n)
		abort(); /* what a list writes does not parse back */
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].info.name, l2->e[i].info.name) ||
		    l->e[i].info.role != l2->e[i].info.role ||
		    l->e[i].info.created != l2->e[i].info.created ||
		    memcmp(l->e[i].hash, l2->e[i].hash, sizeof l->e[i].hash))
			abort();
	free(t1);
	cbar_tok_list_free(l);
	cbar_tok_list_free(l2);
	return 0;
}
