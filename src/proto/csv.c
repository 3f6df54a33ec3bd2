/* callbar: reading CSV (callbar/csv.h). */
#include <string.h>

#include "callbar/csv.h"

/* Skip to just after the next line end (or the end), counting lines. */
static void skip_line(const char *s, size_t len, size_t *pos, unsigned *line)
{
	while (*pos < len && s[*pos] != '\n')
		(*pos)++;
	if (*pos < len) {
		(*pos)++;
		(*line)++;
	}
}

enum cbar_err cbar_csv_next(const char *s, size_t len, size_t *pos, unsigned *line,
                            struct cbar_csv_row *row, bool *eof, struct cbar_diag *d)
{
	size_t p = *pos;
	unsigned ln = *line, start_line = *line;
	size_t line_start = p;
	*eof = p >= len;
	row->n = 0;
	row->line = ln;
	if (*eof)
		return CBAR_OK;
	for (;;) {
		if (row->n == CBAR_CSV_FIELDS) {
			enum cbar_err e = cbar_diag_set(d, CBAR_CSV, start_line,
			                                (unsigned)(p - line_start) + 1,
			                                "more than %d fields", CBAR_CSV_FIELDS);
			skip_line(s, len, pos, line);
			return e;
		}
		char *f = row->field[row->n++];
		size_t n = 0;
		bool quoted = p < len && s[p] == '"';
		if (quoted) {
			size_t open = p++;
			for (;;) {
				if (p >= len) {
					*pos = len;
					return cbar_diag_set(d, CBAR_CSV, start_line,
					                     (unsigned)(open - line_start) + 1,
					                     "quoted field never closed");
				}
				if (s[p] == '"') {
					if (p + 1 < len && s[p + 1] == '"') {
						p++;
					} else {
						p++;
						break;
					}
				} else if (s[p] == '\n') {
					ln++;
				}
				if (n + 1 >= CBAR_CSV_FIELD_MAX)
					goto toolong;
				f[n++] = s[p++];
			}
			if (p < len && s[p] != ',' && s[p] != '\n' && !(s[p] == '\r' && p + 1 < len && s[p + 1] == '\n') &&
			    !(s[p] == '\r' && p + 1 == len)) {
				enum cbar_err e = cbar_diag_set(d, CBAR_CSV, ln,
				                                (unsigned)(p - line_start) + 1,
				                                "text after a closing quote");
				*line = ln;
				*pos = p;
				skip_line(s, len, pos, line);
				return e;
			}
		} else {
			while (p < len && s[p] != ',' && s[p] != '\n') {
				if (s[p] == '"') {
					enum cbar_err e = cbar_diag_set(d, CBAR_CSV, ln,
					                                (unsigned)(p - line_start) + 1,
					                                "quote inside an unquoted field");
					*pos = p;
					skip_line(s, len, pos, line);
					return e;
				}
				if (s[p] == '\r' && (p + 1 == len || s[p + 1] == '\n')) {
					p++;
					continue;
				}
				if (n + 1 >= CBAR_CSV_FIELD_MAX)
					goto toolong;
				f[n++] = s[p++];
			}
		}
		f[n] = 0;
		if (p < len && s[p] == '\r')
			p++;
		if (p >= len) {
			*pos = p;
			*line = ln;
			return CBAR_OK;
		}
		if (s[p] == '\n') {
			*pos = p + 1;
			*line = ln + 1;
			return CBAR_OK;
		}
		p++; /* the comma */
	}
toolong:
	{
		enum cbar_err e = cbar_diag_set(d, CBAR_CSV, start_line, (unsigned)row->n,
		                                "field %u longer than %d bytes", row->n,
		                                CBAR_CSV_FIELD_MAX - 1);
		*pos = p;
		*line = ln;
		skip_line(s, len, pos, line);
		return e;
	}
}
