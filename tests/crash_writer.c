/*
 * callbar crash test, the writer: unlock subscribers START, START+1, ...
 * (+86138 followed by 8 digits) for COUNT unlocks, printing each number on
 * its own line once cbar_store_unlock() has returned CBAR_OK, i.e. once
 * the registry has acknowledged it as durable.  crash_test kills it with
 * SIGKILL at random moments.
 *   crash_writer URL START COUNT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "callbar/store.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: crash_writer URL START COUNT\n");
		return 2;
	}
	long start = atol(argv[2]), count = atol(argv[3]);
	struct cbar_store *s;
	struct cbar_diag d = {0};
	enum cbar_err e = cbar_store_open(&s, argv[1], NULL, &d);
	if (!e)
		e = cbar_store_bind_key(s, "00112233445566ff", &d);
	if (e) {
		fprintf(stderr, "crash_writer: %s\n", d.msg);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = start; i < start + count; i++) {
		char hash[65];
		/* Every third a verified unlock with its own document. */
		snprintf(hash, sizeof hash, "%064lx", (unsigned long)i);
		struct cbar_store_unlock_req r = {
			.subscriber = 8613800000000ull + (unsigned long)i,
			.scope = (unsigned)(i % 15) + 1,
			.level = i % 3 ? CBAR_STORE_SELF : CBAR_STORE_VERIFIED,
			.channel = i % 3 ? CBAR_STORE_CHANNEL_KEYWORD : CBAR_STORE_CHANNEL_SHOP,
			.agent = i % 3 ? NULL : "crash",
			.doc_type = i % 3 ? NULL : "cn-resident",
			.doc_hash = i % 3 ? NULL : hash,
			.now = (int64_t)time(NULL),
		};
		struct cbar_store_record out;
		bool changed;
		if ((e = cbar_store_unlock(s, &r, &out, &changed, &d))) {
			fprintf(stderr, "crash_writer: %ld: %s\n", i, d.msg);
			return 1;
		}
		printf("%ld\n", i);
	}
	cbar_store_free(s);
	return 0;
}
