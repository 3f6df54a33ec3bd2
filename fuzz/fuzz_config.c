/*
 * callbar fuzz target: the configuration file of callbar serve (config.c),
 * sip.listener lines included.  Any bytes; a failure must name a line and
 * a message; a success must leave every string NUL-ended within its field,
 * and what cbar_config_write() prints must parse back to what prints the same
 * (when the input holds no '"': values with quotes inside are printed for
 * people, not for a round trip).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *written(const struct daemon_config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	cbar_config_write(c, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct daemon_config c, c2;
	struct cbar_diag d = {0};
	cbar_config_init(&c);
	if (cbar_config_parse(&c, (const char *)data, size, &d)) {
		if (!memchr(d.msg, 0, sizeof d.msg) || !d.msg[0])
			abort();
		return 0;
	}
	if (!memchr(c.rules_file, 0, sizeof c.rules_file) ||
	    !memchr(c.registry_url, 0, sizeof c.registry_url) ||
	    !memchr(c.tls_cert, 0, sizeof c.tls_cert) || c.sip_listeners.n > CONFIG_SPECS_MAX)
		abort();
	for (unsigned i = 0; i < c.sip_listeners.n; i++)
		if (!memchr(c.sip_listeners.v[i], 0, CONFIG_SPEC_LEN))
			abort();
	if (memchr(data, '"', size))
		return 0;
	size_t n1, n2;
	char *t1 = written(&c, &n1);
	cbar_config_init(&c2);
	if (cbar_config_parse(&c2, t1, n1, &d))
		abort(); /* what it printed does not parse */
	char *t2 = written(&c2, &n2);
	if (n1 != n2 || memcmp(t1, t2, n1))
		abort();
	free(t1);
	free(t2);
	return 0;
}
