/*
 * callbar: a growable text buffer with a hard cap (after curl's
 * dynbuf).  Ownership: cbar_buf_init() takes nothing; the bytes are the buffer's
 * until cbar_buf_steal() hands them to the caller (to free()), or cbar_buf_release()
 * frees them.  Once an append fails (memory, or the cap) the buffer is
 * marked failed, later appends do nothing and cbar_buf_steal() returns NULL.
 */
#ifndef CALLBAR_PROTO_BUF_H
#define CALLBAR_PROTO_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct cbar_buf {
	char *p;
	size_t len, alloc, cap;
	bool failed;
};

void cbar_buf_init(struct cbar_buf *b, size_t cap);
void cbar_buf_release(struct cbar_buf *b);
bool cbar_buf_put(struct cbar_buf *b, const char *s, size_t len);
bool cbar_buf_puts(struct cbar_buf *b, const char *s);
bool cbar_buf_printf(struct cbar_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* The NUL-ended bytes (length in *len), now the caller's; NULL if failed. */
char *cbar_buf_steal(struct cbar_buf *b, size_t *len);

#endif
