/*
 * callbar fuzz target: the CSV reader (registry import).  Any bytes; every
 * record is read to the end, the cursor must always move forward and stay
 * inside the input, and every field must be NUL-ended within its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cbar_csv_row row;
	const char *s = (const char *)data;
	size_t pos = 0;
	unsigned line = 1;
	bool eof = false;
	while (!eof) {
		size_t before = pos;
		struct cbar_diag d = {0};
		enum cbar_err e = cbar_csv_next(s, size, &pos, &line, &row, &eof, &d);
		if (pos > size || (!eof && pos == before && before < size))
			abort();
		if (e)
			continue;
		if (eof)
			break;
		if (row.n < 1 || row.n > CBAR_CSV_FIELDS)
			abort();
		for (unsigned i = 0; i < row.n; i++)
			if (!memchr(row.field[i], 0, CBAR_CSV_FIELD_MAX))
				abort();
	}
	return 0;
}
