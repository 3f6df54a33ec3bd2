/* callbar: listening addresses written as HOST:PORT. */
#ifndef CALLBAR_NET_ADDR_H
#define CALLBAR_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* A network: an IPv4 or IPv6 address and the number of leading bits that
 * count. */
struct cbar__cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;   /* 0..32 or 0..128 */
	uint8_t addr[16];
};

/*
 * Parse "10.0.0.0/8", "2001:db8::/32", or an address alone (all its bits).
 * Strict, as an allow list is: a prefix longer than the address, or a bit
 * set past the prefix ("10.0.0.1/8", most likely a typing error), is
 * CBAR_ADDR; (pointer, length), no NUL needed.
 */
enum cbar_err cbar__cidr_parse(const char *s, size_t len, struct cbar__cidr *c);

/* Whether the address sa (its port ignored) is in one of the n networks
 * of list; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack
 * socket reports IPv4 peers) counts as the IPv4 address. */
bool cbar__cidr_match(const struct cbar__cidr *list, size_t n, const struct sockaddr *sa);

#endif
