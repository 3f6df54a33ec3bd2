/*
 * callbar serve: a growable text buffer with a hard cap (after curl's
 * dynbuf).  Ownership: buf_init() takes nothing; the bytes are the buffer's
 * until buf_steal() hands them to the caller (to free()), or buf_release()
 * frees them.  Once an append fails (memory, or the cap) the buffer is
 * marked failed, later appends do nothing and buf_steal() returns NULL.
 */
#ifndef CALLBAR_DAEMON_BUF_H
#define CALLBAR_DAEMON_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *p;
	size_t len, alloc, cap;
	bool failed;
};

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
bool buf_put(struct buf *b, const char *s, size_t len);
bool buf_puts(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* The NUL-ended bytes (length in *len), now the caller's; NULL if failed. */
char *buf_steal(struct buf *b, size_t *len);

#endif
