/* callbar serve: capped growable buffer (contract in buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void cbar_buf_init(struct cbar_buf *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
}

void cbar_buf_release(struct cbar_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static bool reserve(struct cbar_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (more > b->cap || b->len + more + 1 > b->cap) {
		b->failed = true;
		return false;
	}
	if (b->len + more + 1 <= b->alloc)
		return true;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < b->len + more + 1)
		n *= 2;
	if (n > b->cap)
		n = b->cap;
	char *p = realloc(b->p, n);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->alloc = n;
	return true;
}

bool cbar_buf_put(struct cbar_buf *b, const char *s, size_t len)
{
	if (!reserve(b, len))
		return false;
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
	return true;
}

bool cbar_buf_puts(struct cbar_buf *b, const char *s)
{
	return cbar_buf_put(b, s, strlen(s));
}

bool cbar_buf_printf(struct cbar_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return false;
	}
	if ((size_t)n < sizeof small)
		return cbar_buf_put(b, small, (size_t)n);
	if (!reserve(b, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

char *cbar_buf_steal(struct cbar_buf *b, size_t *len)
{
	if (b->failed || !reserve(b, 0)) {
		cbar_buf_release(b);
		return NULL;
	}
	char *p = b->p;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof *b);
	return p;
}
