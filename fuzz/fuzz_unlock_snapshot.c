/*
 * callbar fuzz target: the unlock snapshot file (store/unlock_snapshot.h),
 * read by cbar_unlock_snapshot_read() as the daemon reads it at start.
 * Any bytes, written to a file as they are and again with the trailer's
 * checksum made right (so the fuzzer gets past it to the fields and the
 * records).  A refusal must say why; a set that is accepted must answer
 * lookups of every record it holds, finish every lookup (a damaged table
 * must not make one loop) and hold as many records as it says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/unlock_snapshot.h"
#include "store/unlockview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	size_t n;
};

static int count_one(void *arg, const struct cbar_unlock *u)
{
	(void)u;
	((struct count *)arg)->n++;
	return 0;
}

static int find_back(void *arg, const struct cbar_unlock *u)
{
	struct cbar_unlock out[64];
	size_t n = 0;
	cbar_unlockset_find(arg, u->subscriber, out, 64, &n);
	if (!n)
		abort(); /* a record the set holds and cannot find */
	return 0;
}

static void try_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	struct cbar_unlock_snapshot_id id;
	struct cbar_unlockset *s = NULL;
	struct cbar_diag d = {0};
	enum cbar_err err = cbar_unlock_snapshot_read(path, &id, &s, &d);
	if (err) {
		if (s || !d.msg[0])
			abort();
		return;
	}
	struct count c = {0};
	cbar_unlockset_foreach(s, count_one, &c);
	if (c.n != cbar_unlockset_count(s))
		abort();
	/* Records placed where a lookup does not look are possible in a
	 * crafted table; what must hold is that lookups end.  Then a lookup of
	 * each record after the set is rebuilt (merge) finds it. */
	struct cbar_unlock out[8];
	size_t n;
	for (uint64_t k = 1; k < 64; k++)
		cbar_unlockset_find(s, 8613800000000 + k, out, 8, &n);
	struct cbar_unlockset *m = NULL;
	if (!cbar_unlockset_merge(NULL, s, &m)) {
		cbar_unlockset_foreach(m, find_back, m);
		cbar_unlockset_free(m);
	}
	cbar_unlockset_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/cbar_fuzz_snapshot.%ld", (long)getpid());
	try_file(path, data, size);
	if (size >= 256 + 16 && (size - 16) % 32 == 0 && size < (64u << 20)) {
		uint8_t *fixed = malloc(size);
		if (fixed) {
			memcpy(fixed, data, size);
			uint64_t sum = cbar__snapshot_checksum(fixed, size - 16);
			memcpy(fixed + size - 16, &sum, 8);
			memcpy(fixed + size - 8, "CBAREND", 8);
			try_file(path, fixed, size);
			free(fixed);
		}
	}
	unlink(path);
	return 0;
}
