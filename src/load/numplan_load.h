/* callbar: the numbering plan a command runs with: the embedded data, with
 * an operator's tables in their place where given. */
#ifndef CALLBAR_NUMPLAN_LOAD_H
#define CALLBAR_NUMPLAN_LOAD_H

#include "callbar/number.h"
#include "file.h"

struct numplan_files {
	const char *segments; /* NULL: the embedded table */
	const char *carriers;
	const char *ported;   /* NULL: no ported-number list */
};

/* The plan, or NULL after printing what went wrong (file:line:column). */
struct cbar_numplan *cbar_numplan_load(const struct numplan_files *files);


#endif
