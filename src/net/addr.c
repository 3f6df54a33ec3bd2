/* callbar: HOST:PORT addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

enum cbar_err cbar__addr_parse(const char *s, size_t len, struct sockaddr_storage *ss,
                               socklen_t *sslen)
{
	char host[64];
	size_t hlen, i;
	const char *port;
	size_t plen;
	bool v6 = false;

	memset(ss, 0, sizeof *ss);
	if (len == 0)
		return CBAR_ADDR;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || (size_t)(close - s) + 1 >= len || close[1] != ':')
			return CBAR_ADDR;
		hlen = (size_t)(close - s) - 1;
		if (hlen == 0 || hlen >= sizeof host)
			return CBAR_ADDR;
		memcpy(host, s + 1, hlen);
		port = close + 2;
		v6 = true;
	} else {
		const char *colon = NULL;
		for (i = 0; i < len; i++)
			if (s[i] == ':')
				colon = s + i;
		if (!colon)
			return CBAR_ADDR;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof host)
			return CBAR_ADDR;
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	plen = len - (size_t)(port - s);
	/* The port: 1 to 5 digits, at most 65535. */
	if (plen == 0 || plen > 5)
		return CBAR_ADDR;
	unsigned long p = 0;
	for (i = 0; i < plen; i++) {
		if (port[i] < '0' || port[i] > '9')
			return CBAR_ADDR;
		p = p * 10 + (unsigned long)(port[i] - '0');
	}
	if (p > 65535)
		return CBAR_ADDR;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return CBAR_ADDR;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		*sslen = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return CBAR_ADDR;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		*sslen = sizeof *a;
	}
	return CBAR_OK;
}

void cbar__addr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		snprintf(buf, cap, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
		snprintf(buf, cap, "%s:%u", host, ntohs(a->sin_port));
	}
}

enum cbar_err cbar__cidr_parse(const char *s, size_t len, struct cbar__cidr *c)
{
	char host[64];
	const char *slash = memchr(s, '/', len);
	size_t hlen = slash ? (size_t)(slash - s) : len;
	memset(c, 0, sizeof *c);
	if (hlen == 0 || hlen >= sizeof host)
		return CBAR_ADDR;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		c->bits = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		c->bits = 128;
	} else {
		return CBAR_ADDR;
	}
	if (slash) {
		/* 1 to 3 digits, at most the address's length */
		const char *d = slash + 1;
		size_t dl = len - hlen - 1;
		unsigned b = 0;
		if (dl == 0 || dl > 3)
			return CBAR_ADDR;
		for (size_t i = 0; i < dl; i++) {
			if (d[i] < '0' || d[i] > '9')
				return CBAR_ADDR;
			b = b * 10 + (unsigned)(d[i] - '0');
		}
		if (b > c->bits)
			return CBAR_ADDR;
		c->bits = (uint8_t)b;
	}
	for (unsigned i = c->bits; i < (c->family == AF_INET ? 32u : 128u); i++)
		if (c->addr[i / 8] & (0x80u >> (i % 8)))
			return CBAR_ADDR;
	return CBAR_OK;
}

bool cbar__cidr_match(const struct cbar__cidr *list, size_t n, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint8_t fam;
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		fam = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		fam = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
		a = fam == AF_INET ? a6->s6_addr + 12 : a6->s6_addr;
	} else {
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		const struct cbar__cidr *c = &list[k];
		if (c->family != fam)
			continue;
		unsigned full = c->bits / 8, rest = c->bits % 8;
		if (memcmp(a, c->addr, full))
			continue;
		if (rest && ((a[full] ^ c->addr[full]) & (0xffu << (8 - rest)) & 0xffu))
			continue;
		return true;
	}
	return false;
}
