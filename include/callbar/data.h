/*
 * callbar: the numbering data built into the binary (the tables under data/, derived
 * from libphonenumber's metadata: see data/NOTICE).
 */
#ifndef CALLBAR_DATA_H
#define CALLBAR_DATA_H

#include "callbar/error.h"
#include "callbar/number.h"

/* A new plan loaded with the embedded tables.  On success *out is the
 * caller's, to free with cbar_numplan_free(). */
enum cbar_err cbar_numplan_embedded(struct cbar_numplan **out, struct cbar_diag *d);

#endif
