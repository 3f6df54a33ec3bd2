/* callbar: listening addresses written as HOST:PORT. */
#ifndef CALLBAR_NET_ADDR_H
#define CALLBAR_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "callbar/error.h"

/*
 * Parse "127.0.0.1:8080", "[::1]:8080" or "0.0.0.0:0" (port 0: the kernel
 * picks one).  Only numeric addresses are accepted: a daemon that resolves
 * names at start depends on DNS being up.  s is (pointer, length); on
 * failure returns CBAR_ADDR and *ss is unspecified.
 */
enum cbar_err cbar__addr_parse(const char *s, size_t len, struct sockaddr_storage *ss,
                               socklen_t *sslen);

/* "127.0.0.1:8080" or "[::1]:8080" into buf (cap bytes). */
void cbar__addr_format(const struct sockaddr *sa, char *buf, size_t cap);

#endif
