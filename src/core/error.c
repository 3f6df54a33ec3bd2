/* callbar: error names and messages, generated from CBAR_ERRNO_MAP. */
#include <stdarg.h>
#include <stdio.h>

#include "callbar/error.h"

const char *cbar_err_name(enum cbar_err e)
{
	switch (e) {
#define CBAR__ERR_NAME(name, code, msg)                                          \
	case CBAR_##name:                                                        \
		return #name;
		CBAR_ERRNO_MAP(CBAR__ERR_NAME)
#undef CBAR__ERR_NAME
	}
	return "UNKNOWN";
}

const char *cbar_err_message(enum cbar_err e)
{
	switch (e) {
#define CBAR__ERR_MSG(name, code, msg)                                           \
	case CBAR_##name:                                                        \
		return msg;
		CBAR_ERRNO_MAP(CBAR__ERR_MSG)
#undef CBAR__ERR_MSG
	}
	return "unknown error";
}

enum cbar_err cbar_diag_set(struct cbar_diag *d, enum cbar_err e, unsigned line,
                            unsigned column, const char *fmt, ...)
{
	if (d) {
		va_list ap;
		d->line = line;
		d->column = column;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof d->msg, fmt, ap);
		va_end(ap);
	}
	return e;
}
