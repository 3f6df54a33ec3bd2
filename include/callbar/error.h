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
	X(OK, 0, "success")                                                     \
	X(NOMEM, 1, "out of memory")                                            \
	X(INVAL, 2, "invalid argument")                                         \
	X(IO, 3, "input/output error")                                          \
	X(NUM_EMPTY, 10, "no digits in the number")                             \
	X(NUM_CHAR, 11, "character not allowed in a telephone number")          \
	X(NUM_TOO_SHORT, 12, "too few digits for a telephone number")           \
	X(NUM_TOO_LONG, 13, "too many digits for a telephone number")           \
	X(NUM_CC, 14, "unknown country calling code")                           \
	X(NUM_URI, 15, "malformed tel: or sip: URI")                            \
	X(NUM_URI_USER, 16, "SIP URI user part is not a telephone number")      \
	X(NUM_CONTEXT, 17, "phone-context is not a global number prefix")       \
	X(NUM_PLUS, 18, "'+' may only open the number")                         \
	X(NUM_COUNTRY, 19, "unknown country context")                           \
	X(DATA, 30, "malformed numbering data")                                 \
	X(ZONE_PREFIX, 40, "zone prefix must be '+' and 1 to 15 digits")        \
	X(ZONE_FULL, 41, "zone too large")                                      \
	X(RULES_SYNTAX, 50, "syntax error in rule file")                        \
	X(RULES_NAME, 51, "unknown or duplicate name in rule file")             \
	X(RULES_VALUE, 52, "bad value in rule file")                            \
	X(RULES_DEFAULT, 53, "rule file has no default rule at its end")        \
	X(RULES_TOO_BIG, 54, "rule file too large or too complex")              \
	X(UNLOCK_SYNTAX, 55, "malformed unlock record")                         \
	X(UNLOCK_FULL, 56, "unlock set full")                                   \
	X(UNLOCK_STORE, 57, "unlock records unavailable")                       \
	X(ID_TYPE, 70, "unknown identity document type")                        \
	X(ID_LENGTH, 71, "identity document number has the wrong length")       \
	X(ID_CHAR, 72, "character not allowed in this identity document number") \
	X(ID_REGION, 73, "unknown province code in identity number")            \
	X(ID_DATE, 74, "birth date in identity number is not a real date")      \
	X(ID_FUTURE, 75, "birth date in identity number is in the future")      \
	X(ID_CHECK, 76, "identity number check character does not match")       \
	X(ID_FORMAT, 77, "document number does not match its type's format")    \
	X(KEY, 80, "hashing key file missing, unreadable or malformed")         \
	X(KEY_MISMATCH, 81, "hashing key is not the one this registry was created with") \
	X(STORE_URL, 82, "registry must be sqlite:PATH or postgres://...")      \
	X(STORE_OPEN, 83, "cannot open the registry")                           \
	X(STORE_BUSY, 84, "registry is locked by another writer")               \
	X(STORE_IO, 85, "registry storage error")                               \
	X(STORE_CORRUPT, 86, "registry is not a callbar database or is corrupt") \
	X(STORE_SCHEMA, 87, "registry schema is newer than this callbar")       \
	X(STORE_LIMIT, 88, "limit of active unlocks per identity document reached") \
	X(STORE_NOTFOUND, 89, "no active unlock for this subscriber")           \
	X(STORE_DOWN, 90, "registry server unreachable")                        \
	X(AUDIT_BROKEN, 91, "audit chain broken")                               \
	X(CSV, 92, "malformed CSV row")                                         \
	X(SIP_MORE, 100, "incomplete SIP message: more bytes needed")           \
	X(SIP_TOO_BIG, 101, "SIP message larger than callbar accepts")          \
	X(SIP_START_LINE, 102, "malformed SIP request line or status line")     \
	X(SIP_VERSION, 103, "SIP version other than SIP/2.0")                   \
	X(SIP_HEADER, 104, "malformed SIP header field")                        \
	X(SIP_MISSING, 105, "mandatory SIP header field missing")               \
	X(SIP_DUPLICATE, 106, "single-valued SIP header field repeated")        \
	X(SIP_CONTENT_LENGTH, 107, "bad Content-Length or body shorter")        \
	X(SIP_VIA, 108, "malformed Via header field")                           \
	X(SIP_TOO_MANY, 109, "more SIP header values than callbar keeps")       \
	X(SIP_URI, 110, "malformed URI in a SIP message")                       \
	X(SIP_ADDR, 111, "malformed From, To, Contact or P-Asserted-Identity")  \
	X(SIP_CSEQ, 112, "malformed CSeq")                                      \
	X(SIP_MAX_FORWARDS, 113, "malformed Max-Forwards")                      \
	X(SIP_STATUS, 114, "malformed status code in a SIP response")           \
	X(SIP_BUFFER, 115, "SIP reply does not fit the buffer")                 \
	X(SIP_NO_NUMBER, 116, "the chosen SIP header carries no number")        \
	X(SIP_CALL_ID, 117, "malformed Call-ID")                                \
	X(SIP_EMPTY, 118, "no SIP message, only keep-alive line ends")          \
	X(CONFIG, 130, "malformed configuration")                               \
	X(CONFIG_KEY, 131, "unknown configuration key")                         \
	X(ADDR, 132, "malformed address: want HOST:PORT")                       \
	X(BAD_JSON, 133, "malformed JSON")                                      \
	X(UNKNOWN_FIELD, 134, "unknown field")                                  \
	X(MISSING_FIELD, 135, "missing field")                                  \
	X(BAD_TYPE, 136, "field has the wrong type")                            \
	X(BAD_VALUE, 137, "field value not allowed")                            \
	X(TOO_BIG, 138, "request too large")                                    \
	X(UNAUTHENTICATED, 139, "missing, malformed or unknown token")          \
	X(TOKEN_NAME, 140, "token name taken or malformed")                     \
	X(NOT_FOUND, 141, "no such record")                                     \
	X(NOT_BUILT, 142, "not built yet")                                      \
	X(UNAVAILABLE, 143, "service unavailable")                              \
	X(BAD_TIME, 144, "malformed ISO 8601 time")                             \
	X(HTTP, 145, "HTTP server could not start")                             \
	X(FORBIDDEN, 146, "the token's role may not do this")                   \
	X(NO_ROUTE, 147, "no such resource")                                    \
	X(METHOD, 148, "method not allowed on this resource")                   \
	X(RELOAD, 149, "the rule file failed to load; the old rules stay")      \
	X(BAD_HEADER, 150, "HTTP header field with a NUL byte, or repeated where one is allowed") \
	X(DUP_QUERY, 151, "query argument given more than once")               \
	X(SIP_START, 160, "the SIP server could not start")                     \
	X(SNAPSHOT, 170, "unlock snapshot refused")                             \
	X(SMPP, 180, "malformed SMPP PDU")                                      \
	X(SMPP_START, 181, "the SMPP server could not start")

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
