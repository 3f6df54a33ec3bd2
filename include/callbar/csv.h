/*
 * callbar: reading CSV (RFC 4180), for registry import and CDR files.
 *
 * Fields are separated by commas, records end with LF or CRLF; a field in
 * double quotes may hold commas, line breaks and "" for a quote.  Bounds
 * are hard: at most CBAR_CSV_FIELDS fields of CBAR_CSV_FIELD_MAX - 1 bytes
 * each; more is an error, never a cut.  Pure: (pointer, length) in, a row
 * the caller owns out, no allocation.
 */
#ifndef CALLBAR_CSV_H
#define CALLBAR_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "callbar/error.h"

#define CBAR_CSV_FIELDS 64
#define CBAR_CSV_FIELD_MAX 256

struct cbar_csv_row {
	unsigned line; /* 1-based line the record starts on */
	unsigned n;    /* fields */
	char field[CBAR_CSV_FIELDS][CBAR_CSV_FIELD_MAX];
};

/*
 * Read the record at s[*pos..len) and advance *pos and *line (the line
 * number *pos is on, from 1).  Returns CBAR_OK with *eof false and the row,
 * or with *eof true at the end of the input; CBAR_CSV with d naming line
 * and column when the record is malformed (*pos then skips to the next
 * line, so a caller may go on).
 */
enum cbar_err cbar_csv_next(const char *s, size_t len, size_t *pos, unsigned *line,
                            struct cbar_csv_row *row, bool *eof, struct cbar_diag *d);

#endif
