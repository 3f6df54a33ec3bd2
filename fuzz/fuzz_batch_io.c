/*
 * callbar fuzz target: callbar batch's compressed input (src/cli/batch_io.c),
 * the bytes of a file or of standard input as the command reads them: told
 * gzip, zstd or plain by its first bytes, decompressed on the side thread
 * into the blocks the batch reads.  Any bytes; the plain stream must end
 * (0 from fread, or an error for a bad compressed stream), the thread must
 * be joined and everything freed.  What a stream inflates to is read up to
 * 64 MiB and the rest left: the batch's own end closes the blocks early, and
 * a small input that inflates to gigabytes would only make the fuzzer slow.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0; /* fmemopen wants a buffer */
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	FILE *in = f, *out = NULL;
	if (!cbar_batch_io_input(&in, "fuzz")) {
		fclose(f);
		return 0;
	}
	static char buf[1 << 16];
	size_t got, total = 0;
	while (total < (64u << 20) && (got = fread(buf, 1, sizeof buf, in)) > 0)
		total += got;
	bool plain = in == f;
	bool ok = cbar_batch_io_finish(&in, &out, f, NULL, 0);
	/* A plain stream is read as it is, every byte of it. */
	if (plain && (!ok || total != size))
		__builtin_trap();
	fclose(f);
	return 0;
}
