/*
 * callbar fuzz target: identity document numbers.  The first byte picks the
 * document type, the rest is the number; today is fixed.  The checker must
 * not crash or read out of bounds, what it accepts must check again to
 * itself, and no message may repeat the number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callbar/idcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum cbar_doc_type t = size ? (enum cbar_doc_type)(data[0] % (CBAR_DOC_COUNT + 1))
	                            : CBAR_DOC_CN_RESIDENT;
	const char *s = size ? (const char *)data + 1 : (const char *)data;
	size_t n = size ? size - 1 : 0;
	char canon[CBAR_DOC_MAX + 1], again[CBAR_DOC_MAX + 1];
	struct cbar_diag d = {0};
	enum cbar_err err = cbar_idcheck(t, s, n, 20240611, canon, &d);
	if (err) {
		if (memchr(d.msg, 0, sizeof d.msg) == NULL)
			abort();
		/* No 6 bytes of the input in a row in the message. */
		for (size_t i = 0; i + 6 <= n; i++) {
			char w[7];
			memcpy(w, s + i, 6);
			w[6] = 0;
			if (strlen(w) == 6 && strstr(d.msg, w))
				abort();
		}
		return 0;
	}
	size_t len = strlen(canon);
	if (len == 0 || len > CBAR_DOC_MAX)
		abort();
	for (size_t i = 0; i < len; i++)
		if (!((canon[i] >= '0' && canon[i] <= '9') || (canon[i] >= 'A' && canon[i] <= 'Z')))
			abort();
	if (cbar_idcheck(t, canon, len, 20240611, again, NULL) || strcmp(canon, again))
		abort();
	if ((t == CBAR_DOC_CN_RESIDENT || t == CBAR_DOC_CN_FOREIGN_PR) &&
	    (len != 18 || cbar_idcheck_gb11643(canon) != canon[17]))
		abort();
	return 0;
}
