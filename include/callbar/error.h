/*
 * callbar: error codes.
 *
 * One list, CBAR_ERRNO_MAP, generates the enum, the names and the messages.
 * Codes are never renumbered: a code that goes away leaves a gap.  Every
 * function that can fail returns an enum cbar_err (CBAR_OK is 0); where a
 * human needs more than the code (a file, a line, a column, the offending
 * text) the function also fills a struct cbar_diag the caller owns.
 */
#ifndef CALLBAR_ERROR_H
#define CALLBAR_ERROR_H

#include <stddef.h>

#define CBAR_ERRNO_MAP(X)                                                        \
	X(OK, 0, "success")                                                      \
	X(NOMEM, 1, "out of memory")                                             \
	X(INVAL, 2, "invalid argument")                                          \
	X(IO, 3, "input/output error")                                           \
	X(NUM_EMPTY, 10, "no digits in the number")                              \
	X(NUM_CHAR, 11, "character not allowed in a telephone number")           \
	X(NUM_TOO_SHORT, 12, "too few digits for a telephone number")            \
	X(NUM_TOO_LONG, 13, "too many digits for a telephone number")            \
	X(NUM_CC, 14, "unknown country calling code")                            \
	X(NUM_URI, 15, "malformed tel: or sip: URI")                             \
	X(NUM_URI_USER, 16, "SIP URI user part is not a telephone number")       \
	X(NUM_CONTEXT, 17, "phone-context is not a global number prefix")        \
	X(NUM_PLUS, 18, "'+' may only open the number")                          \
	X(NUM_COUNTRY, 19, "unknown country context")                            \
	X(DATA, 30, "malformed numbering data")                                  \
	X(ZONE_PREFIX, 40, "zone prefix must be '+' and 1 to 15 digits")         \
	X(ZONE_FULL, 41, "zone too large")                                       \
	X(CONFIG, 130, "malformed configuration")                                \
	X(CONFIG_KEY, 131, "unknown configuration key")                          \
	X(ADDR, 132, "malformed address: want HOST:PORT")                        \
	X(BAD_JSON, 133, "malformed JSON")                                       \
	X(UNKNOWN_FIELD, 134, "unknown field")                                   \
	X(MISSING_FIELD, 135, "missing field")                                   \
	X(BAD_TYPE, 136, "field has the wrong type")                             \
	X(BAD_VALUE, 137, "field value not allowed")                             \
	X(TOO_BIG, 138, "request too large")                                     \
	X(UNAUTHENTICATED, 139, "missing, malformed or unknown token")           \
	X(TOKEN_NAME, 140, "token name taken or malformed")                      \
	X(NOT_FOUND, 141, "no such record")                                      \
	X(NOT_BUILT, 142, "not built yet")                                       \
	X(UNAVAILABLE, 143, "service unavailable")                               \
	X(BAD_TIME, 144, "malformed ISO 8601 time")                              \
	X(HTTP, 145, "HTTP server could not start")                              \
	X(FORBIDDEN, 146, "the token's role may not do this")                    \
	X(NO_ROUTE, 147, "no such resource")                                     \
	X(METHOD, 148, "method not allowed on this resource")                    \
	X(RELOAD, 149, "the rule file failed to load; the old rules stay")

enum cbar_err {
#define CBAR__ERR_ENUM(name, code, msg) CBAR_##name = code,
	CBAR_ERRNO_MAP(CBAR__ERR_ENUM)
#undef CBAR__ERR_ENUM
};

/* "NUM_CHAR" for CBAR_NUM_CHAR; "UNKNOWN" for a code not in the list. */
const char *cbar_err_name(enum cbar_err e);

/* The message of the list above; never NULL. */
const char *cbar_err_message(enum cbar_err e);

/*
 * Where an error was found and what it says.  The caller owns the struct;
 * the callee writes file (a name the caller passed in, not copied), line and
 * column (1-based, 0 when not applicable) and a message of its own.
 */
struct cbar_diag {
	const char *file;
	unsigned line;
	unsigned column;
	char msg[240];
};

/* Set d (if not NULL) and return e, for "return cbar__fail(d, ...)". */
enum cbar_err cbar_diag_set(struct cbar_diag *d, enum cbar_err e, unsigned line,
                            unsigned column, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

#endif
