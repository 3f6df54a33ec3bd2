/*
 * callbar: reading a file an operator edits, one way: whole, bounded,
 * NUL-ended.  Every loader (rule files and their lists, numbering tables,
 * keywords, unlock files, imports) reads through it.
 */
#ifndef CALLBAR_LOAD_FILE_H
#define CALLBAR_LOAD_FILE_H

#include <stddef.h>

#include "callbar/error.h"

/* Rule files and the list files they name are at most this big: the same
 * for `lint`, `check`, `batch` and a daemon's reload. */
#define CBAR_RULES_FILE_MAX (256u << 20)

/*
 * The bytes of path (at most max), with a NUL after them; the caller frees
 * the buffer.  NULL with errno set (EFBIG past max, EIO on a read error,
 * ENOMEM, or open's) when it cannot be read.
 */
char *cbar_file_read(const char *path, size_t max, size_t *len);

#endif
