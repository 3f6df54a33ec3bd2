/*
 * callbar batch: compressed input and output (batch.h).
 *
 * A CDR export usually comes compressed.  The input is looked at before
 * anything reads it: a stream that begins with gzip's magic (1f 8b) or
 * zstd's (28 b5 2f fd) is decompressed.  Only one byte can be peeked
 * (getc, ungetc: the one byte of push-back C guarantees, so that standard
 * input from a pipe works as a file does): a stream whose first byte is
 * 0x1f or 0x28 goes to the thread, which reads the rest of the magic and
 * copies the stream as it is when it is not one (no record begins with
 * either byte, but a bad one may).  An output whose name ends in .gz or
 * .zst is compressed.
 *
 * Each side runs on a thread of its own, joined to the unchanged reading
 * and writing code by a pipe: the decompressor reads the compressed stream
 * and writes plain bytes into the pipe, which the batch reads as its FILE;
 * the compressor reads the plain output from a pipe the batch writes.  So
 * the one-thread loop and the --threads reader need no second code path,
 * and the (de)compression overlaps the decisions on another core.  A pipe
 * copies every byte once more, a few hundredths of a second per 100 MB,
 * far less than the (de)compression itself.
 *
 * Errors: a corrupt or cut stream is said on stderr by the side's thread,
 * and cbar_batch_io_finish() returns false; the decisions made before are
 * written (the batch cannot know the stream was bad until it ends).
 * SIGPIPE is blocked on the side threads: a batch that stops early closes
 * its end of the pipe, and the side's write fails with EPIPE instead of
 * killing the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "batch.h"

#define ZBUF (1u << 17) /* compressed bytes read or written at a time */

enum codec { PLAIN, GZIP, ZSTD };

struct side {
	enum codec codec;
	FILE *f;  /* the compressed stream (the caller's) */
	int fd;   /* our end of the pipe */
	bool out; /* compress (else decompress) */
	int level;
	const char *name;
	pthread_t id;
	bool started;
	bool ok;     /* set by the thread */
	size_t head; /* bytes already in the input buffer when decompressing starts */
};

static struct side in_side, out_side;

/* Write all of n bytes to fd; false on an error (EPIPE: the batch stopped). */
static bool put_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

static void say(const struct side *sd, const char *what)
{
	fprintf(stderr, "callbar batch: %s: %s\n", sd->name, what);
}

/* gzip members one after another, as gzip itself reads them (a file made
 * with `cat a.gz b.gz`, pigz's output). */
static bool gunzip(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	z_stream z = {0};
	if (inflateInit2(&z, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
		return say(sd, "out of memory"), false;
	z.next_in = ib;
	z.avail_in = (uInt)sd->head;
	bool ok = false, member_end = false, full = false;
	for (;;) {
		/* A full output buffer may leave output inside zlib: inflate
		 * again before reading on. */
		if (!z.avail_in && !full) {
			size_t got = fread(ib, 1, ZBUF, sd->f);
			if (!got) {
				if (ferror(sd->f))
					say(sd, "read error");
				else if (!member_end)
					say(sd, "gzip stream cut short");
				else
					ok = true;
				break;
			}
			z.next_in = ib;
			z.avail_in = (uInt)got;
		}
		member_end = false;
		z.next_out = ob;
		z.avail_out = ZBUF;
		int rc = inflate(&z, Z_NO_FLUSH);
		full = !z.avail_out;
		if (!put_all(sd->fd, ob, ZBUF - z.avail_out)) {
			ok = true; /* the batch stopped reading: its own error says why */
			break;
		}
		if (rc == Z_STREAM_END) {
			member_end = true;
			inflateReset(&z);
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			say(sd, z.msg ? z.msg : "corrupt gzip data");
			break;
		}
	}
	inflateEnd(&z);
	return ok;
}

static bool unzstd(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	if (!dc)
		return say(sd, "out of memory"), false;
	ZSTD_inBuffer in = {ib, sd->head, 0};
	size_t left = 0; /* 0: at a frame's end */
	bool ok = false, full = false;
	for (;;) {
		if (in.pos == in.size && !full) { /* (full: output may be pending) */
			size_t got = fread(ib, 1, ZBUF, sd->f);
			if (!got) {
				if (ferror(sd->f))
					say(sd, "read error");
				else if (left)
					say(sd, "zstd stream cut short");
				else
					ok = true;
				break;
			}
			in.size = got;
			in.pos = 0;
		}
		ZSTD_outBuffer out = {ob, ZBUF, 0};
		left = ZSTD_decompressStream(dc, &out, &in);
		full = out.pos == out.size;
		if (ZSTD_isError(left)) {
			say(sd, ZSTD_getErrorName(left));
			break;
		}
		if (!put_all(sd->fd, ob, out.pos)) {
			ok = true;
			break;
		}
	}
	ZSTD_freeDCtx(dc);
	return ok;
}

static bool zip(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	z_stream z = {0};
	if (deflateInit2(&z, sd->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return say(sd, "out of memory"), false;
	bool ok = true;
	for (int flush = Z_NO_FLUSH; flush != Z_FINISH;) {
		ssize_t got = read(sd->fd, ib, ZBUF);
		if (got < 0 && errno == EINTR)
			continue;
		flush = got <= 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ib;
		z.avail_in = got > 0 ? (uInt)got : 0;
		do {
			z.next_out = ob;
			z.avail_out = ZBUF;
			deflate(&z, flush);
			size_t n = ZBUF - z.avail_out;
			if (ok && n && fwrite(ob, 1, n, sd->f) != n)
				ok = false;
		} while (!z.avail_out);
	}
	deflateEnd(&z);
	if (!ok)
		say(sd, strerror(errno ? errno : EIO));
	return ok;
}

static bool zstd(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!cc)
		return say(sd, "out of memory"), false;
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, sd->level);
	bool ok = true;
	for (bool end = false; !end;) {
		ssize_t got = read(sd->fd, ib, ZBUF);
		if (got < 0 && errno == EINTR)
			continue;
		end = got <= 0;
		ZSTD_inBuffer in = {ib, got > 0 ? (size_t)got : 0, 0};
		size_t left;
		do {
			ZSTD_outBuffer out = {ob, ZBUF, 0};
			left =
			    ZSTD_compressStream2(cc, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left)) {
				say(sd, ZSTD_getErrorName(left));
				ZSTD_freeCCtx(cc);
				return false;
			}
			if (ok && out.pos && fwrite(ob, 1, out.pos, sd->f) != out.pos)
				ok = false;
		} while (end ? left != 0 : in.pos < in.size);
	}
	ZSTD_freeCCtx(cc);
	if (!ok)
		say(sd, strerror(errno ? errno : EIO));
	return ok;
}

/* An input whose first byte only looked like a format's: copied as it is,
 * the bytes already read (head) first. */
static bool copy(struct side *sd, const unsigned char *head, size_t nh, unsigned char *ib)
{
	if (!put_all(sd->fd, head, nh))
		return true;
	for (;;) {
		size_t got = fread(ib, 1, ZBUF, sd->f);
		if (!got)
			break;
		if (!put_all(sd->fd, ib, got))
			return true;
	}
	if (ferror(sd->f))
		say(sd, "read error");
	return !ferror(sd->f);
}

/* Decompress when the input's first four bytes are the magic of its
 * codec; else copy it (see the top of the file). */
static bool decompress(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	static const unsigned char gz[] = {0x1f, 0x8b}, zs[] = {0x28, 0xb5, 0x2f, 0xfd};
	unsigned char head[4];
	size_t nh = fread(head, 1, sizeof head, sd->f);
	bool is =
	    sd->codec == GZIP ? nh >= 2 && !memcmp(head, gz, 2) : nh == 4 && !memcmp(head, zs, 4);
	if (!is)
		return copy(sd, head, nh, ib);
	/* The codecs read from ib: put the four bytes back in front. */
	memcpy(ib, head, nh);
	sd->head = nh;
	return sd->codec == GZIP ? gunzip(sd, ib, ob) : unzstd(sd, ib, ob);
}

static void *side_main(void *arg)
{
	struct side *sd = arg;
	sigset_t pipe_sig;
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	unsigned char *ib = malloc(ZBUF), *ob = malloc(ZBUF);
	if (!ib || !ob)
		say(sd, "out of memory");
	else if (sd->out)
		sd->ok = sd->codec == GZIP ? zip(sd, ib, ob) : zstd(sd, ib, ob);
	else
		sd->ok = decompress(sd, ib, ob);
	free(ib);
	free(ob);
	/* An output side that failed still reads the batch's output to its
	 * end, so that the batch's writes never meet a closed pipe (SIGPIPE). */
	char sink[4096];
	for (ssize_t r = 1; sd->out && (r > 0 || (r < 0 && errno == EINTR));)
		r = read(sd->fd, sink, sizeof sink);
	close(sd->fd);
	return NULL;
}

/* Start sd on a pipe; *fp becomes the batch's end of it. */
static bool start(struct side *sd, FILE **fp)
{
	int p[2];
	if (pipe(p)) {
		perror("callbar batch: pipe");
		return false;
	}
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	sd->fd = sd->out ? p[0] : p[1];
	int mine = sd->out ? p[1] : p[0];
#ifdef F_SETPIPE_SZ
	fcntl(mine, F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups; a hint, may fail */
#endif
	FILE *f = fdopen(mine, sd->out ? "wb" : "rb");
	int e = 0;
	if (!f || (e = pthread_create(&sd->id, NULL, side_main, sd))) {
		fprintf(stderr, "callbar batch: %s: %s\n", sd->name, strerror(f ? e : errno));
		if (f)
			fclose(f);
		else
			close(mine);
		close(sd->fd);
		return false;
	}
	sd->started = true;
	*fp = f;
	return true;
}

bool cbar_batch_io_input(FILE **in, const char *name)
{
	int c = getc(*in);
	if (c == EOF)
		return true; /* empty (or unreadable: the reader says) */
	if (ungetc(c, *in) == EOF)
		return false;
	if (c != 0x1f && c != 0x28)
		return true;
	in_side = (struct side){.codec = c == 0x1f ? GZIP : ZSTD, .f = *in, .name = name};
	return start(&in_side, in);
}

bool cbar_batch_io_output(FILE **out, const char *name)
{
	size_t n = strlen(name);
	enum codec k = n > 3 && !strcmp(name + n - 3, ".gz")    ? GZIP
	               : n > 4 && !strcmp(name + n - 4, ".zst") ? ZSTD
	                                                        : PLAIN;
	if (k == PLAIN)
		return true;
	/* Fast levels: the output is several times the input, and compressing
	 * it should not be what bounds the batch. */
	out_side = (struct side){.codec = k, .f = *out, .out = true, .level = 1, .name = name};
	return start(&out_side, out);
}

bool cbar_batch_io_finish(FILE **in, FILE **out, FILE *in_file, FILE *out_file)
{
	bool ok = true;
	if (in_side.started) {
		fclose(*in); /* our end: a decompressor still writing gets EPIPE */
		*in = in_file;
		pthread_join(in_side.id, NULL);
		ok = in_side.ok;
		in_side.started = false;
	}
	if (out_side.started) {
		if (fclose(*out))
			ok = false;
		*out = out_file;
		pthread_join(out_side.id, NULL);
		ok = ok && out_side.ok;
		out_side.started = false;
	}
	return ok;
}
