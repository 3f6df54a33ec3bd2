/*
 * callbar tests: reading case files.
 *
 * A case file holds one case per line, fields separated by '|' with the
 * spaces around them dropped; '#' at the start of a line begins a comment.
 * A field that must keep its spaces or hold a '|' is written in double
 * quotes with C escapes (\t, \", \\, \xNN).  The last field is usually a list
 * of key=value expectations.
 */
#ifndef CALLBAR_TEST_CASEFILE_H
#define CALLBAR_TEST_CASEFILE_H

#include <stdbool.h>
#include <stddef.h>

#define CASE_MAX_FIELDS 8

struct tcase {
	const char *file;
	unsigned line;
	unsigned nfields;
	char *field[CASE_MAX_FIELDS];
	size_t len[CASE_MAX_FIELDS];
};

/* Read every case of path; exits with a message on a malformed file. */
struct tcase *casefile_read(const char *path, size_t *n);

/* The value of key in a "k=v k2=v2" list (values without spaces, or
 * quoted), copied into buf; NULL when absent. */
const char *case_expect(const char *list, const char *key, char *buf, size_t cap);

/* explain's sentences, one a line ("line N: MATCH|no: why"), as far as
 * they fit: case_note is a cbar_explain_fn writing into a struct notes. */
struct notes {
	char text[8192];
	size_t n;
};
void case_note(void *ctx, size_t rule, unsigned line, bool matched, const char *why);

#endif
