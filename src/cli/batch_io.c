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
 * Each side runs on a thread of its own.  The input side decompresses
 * straight into one of a few big blocks (IN_BLOCKS of DEC_BLOCK bytes)
 * and hands the full block to the batch, which reads it through a FILE of
 * its own (fopencookie): the one copy is the batch's fread() out of the
 * block, and the two threads meet once per DEC_BLOCK bytes, not once per
 * pipe buffer.  So the one-thread loop and the --threads reader need no
 * second code path, and the decompression overlaps the decisions on
 * another core.  (A pipe, the first way, copied every byte twice more
 * through the kernel and woke the threads every 64 KB to 1 MB.)
 *
 * gzip is inflated by ISA-L's igzip when callbar is built with it
 * (CBAR_HAVE_ISAL): several times zlib's rate, which inflates at about the
 * rate the batch decides, so that with zlib the decompression alone bounds
 * the run.  zlib stays for writing (ISA-L's deflate levels make bigger
 * files for the same time, and the output is not what bounds a run) and
 * as the inflater of a build without ISA-L.
 *
 * The output side is still a pipe: the compressor reads the plain output
 * from a pipe the batch writes into.
 *
 * Errors: a corrupt or cut input stream ends the batch's reads with an
 * error once every byte before it has been read; cbar_batch_io_finish()
 * says what was wrong and after how many records, and returns false: the
 * decisions made before are written (the batch cannot know the stream was
 * bad until it ends), and the exit status says the run failed.  SIGPIPE is
 * blocked on the side threads: a batch that stops early closes its end of
 * the output pipe, and the side's write fails with EPIPE instead of
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
#ifdef CBAR_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "batch.h"

#define ZBUF      (1u << 20) /* compressed bytes read at a time; output side: either way */
#define DEC_BLOCK (4u << 20) /* plain bytes handed to the batch at a time */
#define IN_BLOCKS 3          /* one being filled, one being read, one ready */

enum codec { PLAIN, GZIP, ZSTD };

/* The input side's blocks: a ring the decompressor fills at (tail + ready)
 * and the batch reads at tail; ready counts the full blocks.  The mutex
 * guards ready, tail, done and closed; a block's bytes belong to one side
 * at a time (the filler's until it is counted in ready, then the reader's
 * until it is given back). */
struct blocks {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *b[IN_BLOCKS];
	size_t len[IN_BLOCKS];
	unsigned tail, ready;
	size_t pos;  /* read so far of the block at tail */
	bool done;   /* the decompressor has finished (ok says how) */
	bool closed; /* the batch has stopped reading */
	/* The decompressor's block: where it writes, how much it holds. */
	unsigned char *fill;
	size_t filled;
};

struct side {
	enum codec codec;
	FILE *f;  /* the compressed stream (the caller's) */
	int fd;   /* output side: our end of the pipe */
	bool out; /* compress (else decompress) */
	int level;
	const char *name;
	pthread_t id;
	bool started;
	bool ok;       /* set by the thread */
	char err[200]; /* set by the thread when !ok: what went wrong */
	size_t head;   /* bytes already in the input buffer when decompressing starts */
	struct blocks *q; /* input side */
};

static struct side in_side, out_side;

/* The thread's error, said by cbar_batch_io_finish() (the input side's
 * with the records read by then). */
static bool fail(struct side *sd, const char *what)
{
	snprintf(sd->err, sizeof sd->err, "%s", what);
	return false;
}

/* Input side: room to decompress into, in the block being filled (a new
 * one when it is full or there is none); false when the batch has stopped
 * reading. */
static bool room(struct blocks *q, unsigned char **p, size_t *n)
{
	if (!q->fill || q->filled == DEC_BLOCK) {
		pthread_mutex_lock(&q->mu);
		if (q->fill) { /* full: hand it over */
			q->len[(q->tail + q->ready) % IN_BLOCKS] = q->filled;
			q->ready++;
			pthread_cond_broadcast(&q->cv);
		}
		while (q->ready == IN_BLOCKS && !q->closed)
			pthread_cond_wait(&q->cv, &q->mu);
		bool closed = q->closed;
		q->fill = q->b[(q->tail + q->ready) % IN_BLOCKS];
		q->filled = 0;
		pthread_mutex_unlock(&q->mu);
		if (closed)
			return false;
	}
	*p = q->fill + q->filled;
	*n = DEC_BLOCK - q->filled;
	return true;
}

/* Input side: the decompressor is done; its last block, if it holds
 * anything, goes to the batch first. */
static void finish_blocks(struct blocks *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->fill && q->filled && !q->closed) {
		q->len[(q->tail + q->ready) % IN_BLOCKS] = q->filled;
		q->ready++;
	}
	q->fill = NULL;
	q->done = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* The batch's reads: what the blocks hold, in order; at the end 0, or -1
 * (EIO) when the stream was bad, so that the reader stops as at an error. */
static ssize_t blocks_read(void *cookie, char *buf, size_t size)
{
	struct side *sd = cookie;
	struct blocks *q = sd->q;
	pthread_mutex_lock(&q->mu);
	while (!q->ready && !q->done)
		pthread_cond_wait(&q->cv, &q->mu);
	if (!q->ready) {
		pthread_mutex_unlock(&q->mu);
		if (sd->ok)
			return 0;
		errno = EIO;
		return -1;
	}
	const unsigned char *b = q->b[q->tail];
	size_t len = q->len[q->tail], pos = q->pos;
	pthread_mutex_unlock(&q->mu);
	/* The block at tail is ours until it is given back below. */
	size_t k = len - pos < size ? len - pos : size;
	memcpy(buf, b + pos, k);
	pthread_mutex_lock(&q->mu);
	q->pos += k;
	if (q->pos == len) {
		q->pos = 0;
		q->tail = (q->tail + 1) % IN_BLOCKS;
		q->ready--;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return (ssize_t)k;
}

/* The batch closed its input: a decompressor still at work stops. */
static int blocks_close(void *cookie)
{
	struct blocks *q = ((struct side *)cookie)->q;
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

/* The next piece of a gzip input, into ib: its size, or 0 at its end.
 * There *ok says whether the stream ended where a member did (a whole
 * input); a read error or a stream cut inside a member is said by fail(). */
static size_t gz_read(struct side *sd, unsigned char *ib, bool member_end, bool *ok)
{
	size_t got = fread(ib, 1, ZBUF, sd->f);
	if (!got) {
		if (ferror(sd->f))
			fail(sd, "read error");
		else if (!member_end)
			fail(sd, "gzip stream cut short");
		else
			*ok = true;
	}
	return got;
}

#ifdef CBAR_HAVE_ISAL
static const char *isal_error(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK: return "corrupt gzip data (invalid deflate block)";
	case ISAL_INVALID_SYMBOL: return "corrupt gzip data (invalid deflate symbol)";
	case ISAL_INVALID_LOOKBACK: return "corrupt gzip data (invalid distance)";
	case ISAL_INVALID_WRAPPER: return "not gzip data (bad header)";
	case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip compression method";
	case ISAL_INCORRECT_CHECKSUM: return "corrupt gzip data (checksum mismatch)";
	default: return "corrupt gzip data";
	}
}

/* gzip members one after another, as gzip itself reads them (a file made
 * with `cat a.gz b.gz`, pigz's output), inflated by ISA-L. */
static bool gunzip(struct side *sd, unsigned char *ib)
{
	struct inflate_state *z = malloc(sizeof *z);
	if (!z)
		return fail(sd, "out of memory");
	isal_inflate_init(z);
	z->crc_flag = ISAL_GZIP;
	z->next_in = ib;
	z->avail_in = (uint32_t)sd->head;
	bool ok = false, member_end = false, full = false;
	for (;;) {
		/* A full output block may leave output inside the inflater:
		 * inflate again before reading on. */
		if (!z->avail_in && !full) {
			size_t got = gz_read(sd, ib, member_end, &ok);
			if (!got)
				break;
			z->next_in = ib;
			z->avail_in = (uint32_t)got;
		}
		if (member_end) { /* another member follows */
			uint8_t *next = z->next_in;
			uint32_t avail = z->avail_in;
			isal_inflate_reset(z);
			z->crc_flag = ISAL_GZIP;
			z->next_in = next;
			z->avail_in = avail;
			member_end = false;
		}
		unsigned char *o;
		size_t n;
		if (!room(sd->q, &o, &n)) {
			ok = true; /* the batch stopped reading: its own error says why */
			break;
		}
		z->next_out = o;
		z->avail_out = (uint32_t)n;
		int rc = isal_inflate(z);
		full = !z->avail_out;
		sd->q->filled += n - z->avail_out;
		if (rc < 0) {
			fail(sd, isal_error(rc));
			break;
		}
		member_end = z->block_state == ISAL_BLOCK_FINISH;
	}
	free(z);
	return ok;
}
#else
/* gzip members one after another, as gzip itself reads them (a file made
 * with `cat a.gz b.gz`, pigz's output), inflated by zlib. */
static bool gunzip(struct side *sd, unsigned char *ib)
{
	z_stream z = {0};
	if (inflateInit2(&z, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
		return fail(sd, "out of memory");
	z.next_in = ib;
	z.avail_in = (uInt)sd->head;
	bool ok = false, member_end = false, full = false;
	for (;;) {
		/* A full output block may leave output inside zlib: inflate
		 * again before reading on. */
		if (!z.avail_in && !full) {
			size_t got = gz_read(sd, ib, member_end, &ok);
			if (!got)
				break;
			z.next_in = ib;
			z.avail_in = (uInt)got;
		}
		member_end = false;
		unsigned char *o;
		size_t n;
		if (!room(sd->q, &o, &n)) {
			ok = true; /* the batch stopped reading: its own error says why */
			break;
		}
		z.next_out = o;
		z.avail_out = (uInt)n;
		int rc = inflate(&z, Z_NO_FLUSH);
		full = !z.avail_out;
		sd->q->filled += n - z.avail_out;
		if (rc == Z_STREAM_END) {
			member_end = true;
			inflateReset(&z);
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(sd->err, sizeof sd->err, "corrupt gzip data (%s)",
			         z.msg ? z.msg : "bad deflate data");
			break;
		}
	}
	inflateEnd(&z);
	return ok;
}
#endif

static bool unzstd(struct side *sd, unsigned char *ib)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	if (!dc)
		return fail(sd, "out of memory");
	ZSTD_inBuffer in = {ib, sd->head, 0};
	size_t left = 0; /* 0: at a frame's end */
	bool ok = false, full = false;
	for (;;) {
		if (in.pos == in.size && !full) { /* (full: output may be pending) */
			size_t got = fread(ib, 1, ZBUF, sd->f);
			if (!got) {
				if (ferror(sd->f))
					fail(sd, "read error");
				else if (left)
					fail(sd, "zstd stream cut short");
				else
					ok = true;
				break;
			}
			in.size = got;
			in.pos = 0;
		}
		unsigned char *o;
		size_t n;
		if (!room(sd->q, &o, &n)) {
			ok = true;
			break;
		}
		ZSTD_outBuffer out = {o, n, 0};
		left = ZSTD_decompressStream(dc, &out, &in);
		full = out.pos == out.size;
		if (ZSTD_isError(left)) {
			fail(sd, ZSTD_getErrorName(left));
			break;
		}
		sd->q->filled += out.pos;
	}
	ZSTD_freeDCtx(dc);
	return ok;
}

static bool zip(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	z_stream z = {0};
	if (deflateInit2(&z, sd->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return fail(sd, "out of memory");
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
		fail(sd, strerror(errno ? errno : EIO));
	return ok;
}

static bool zstd(struct side *sd, unsigned char *ib, unsigned char *ob)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!cc)
		return fail(sd, "out of memory");
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
				fail(sd, ZSTD_getErrorName(left));
				ZSTD_freeCCtx(cc);
				return false;
			}
			if (ok && out.pos && fwrite(ob, 1, out.pos, sd->f) != out.pos)
				ok = false;
		} while (end ? left != 0 : in.pos < in.size);
	}
	ZSTD_freeCCtx(cc);
	if (!ok)
		fail(sd, strerror(errno ? errno : EIO));
	return ok;
}

/* An input whose first byte only looked like a format's: copied as it is,
 * the bytes already read (head) first, read straight into the blocks. */
static bool copy(struct side *sd, const unsigned char *head, size_t nh)
{
	unsigned char *o;
	size_t n;
	if (!room(sd->q, &o, &n))
		return true;
	memcpy(o, head, nh); /* a block is far bigger than the 4 bytes */
	sd->q->filled += nh;
	for (;;) {
		if (!room(sd->q, &o, &n))
			return true;
		size_t got = fread(o, 1, n, sd->f);
		sd->q->filled += got;
		if (!got)
			break;
	}
	return ferror(sd->f) ? fail(sd, "read error") : true;
}

/* Decompress when the input's first four bytes are the magic of its
 * codec; else copy it (see the top of the file). */
static bool decompress(struct side *sd, unsigned char *ib)
{
	static const unsigned char gz[] = {0x1f, 0x8b}, zs[] = {0x28, 0xb5, 0x2f, 0xfd};
	unsigned char head[4];
	size_t nh = fread(head, 1, sizeof head, sd->f);
	bool is =
	    sd->codec == GZIP ? nh >= 2 && !memcmp(head, gz, 2) : nh == 4 && !memcmp(head, zs, 4);
	if (!is)
		return copy(sd, head, nh);
	/* The codecs read from ib: put the four bytes back in front. */
	memcpy(ib, head, nh);
	sd->head = nh;
	return sd->codec == GZIP ? gunzip(sd, ib) : unzstd(sd, ib);
}

static void *side_main(void *arg)
{
	struct side *sd = arg;
	sigset_t pipe_sig;
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	unsigned char *ib = malloc(ZBUF), *ob = sd->out ? malloc(ZBUF) : NULL;
	if (!ib || (sd->out && !ob))
		sd->ok = fail(sd, "out of memory");
	else if (sd->out)
		sd->ok = sd->codec == GZIP ? zip(sd, ib, ob) : zstd(sd, ib, ob);
	else
		sd->ok = decompress(sd, ib);
	free(ib);
	free(ob);
	if (!sd->out) {
		finish_blocks(sd->q);
		return NULL;
	}
	/* An output side that failed still reads the batch's output to its
	 * end, so that the batch's writes never meet a closed pipe (SIGPIPE). */
	char sink[4096];
	for (ssize_t r = 1; r > 0 || (r < 0 && errno == EINTR);)
		r = read(sd->fd, sink, sizeof sink);
	close(sd->fd);
	return NULL;
}

static void blocks_free(struct blocks *q)
{
	if (!q)
		return;
	for (unsigned i = 0; i < IN_BLOCKS; i++)
		free(q->b[i]);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Start the input side: *fp becomes the batch's FILE on its blocks. */
static bool start_input(struct side *sd, FILE **fp)
{
	struct blocks *q = calloc(1, sizeof *q);
	if (!q)
		goto nomem;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	sd->q = q;
	for (unsigned i = 0; i < IN_BLOCKS; i++)
		if (!(q->b[i] = malloc(DEC_BLOCK)))
			goto nomem;
	cookie_io_functions_t io = {.read = blocks_read, .close = blocks_close};
	FILE *f = fopencookie(sd, "rb", io);
	if (!f)
		goto nomem;
	int e = pthread_create(&sd->id, NULL, side_main, sd);
	if (e) {
		fprintf(stderr, "callbar batch: %s: %s\n", sd->name, strerror(e));
		fclose(f);
		blocks_free(q);
		sd->q = NULL;
		return false;
	}
	sd->started = true;
	*fp = f;
	return true;
nomem:
	fprintf(stderr, "callbar batch: %s: out of memory\n", sd->name);
	blocks_free(q);
	sd->q = NULL;
	return false;
}

/* Start the output side on a pipe; *fp becomes the batch's end of it. */
static bool start_output(struct side *sd, FILE **fp)
{
	int p[2];
	if (pipe(p)) {
		perror("callbar batch: pipe");
		return false;
	}
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	sd->fd = p[0];
	int mine = p[1];
#ifdef F_SETPIPE_SZ
	fcntl(mine, F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups; a hint, may fail */
#endif
	FILE *f = fdopen(mine, "wb");
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
	return start_input(&in_side, in);
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
	return start_output(&out_side, out);
}

bool cbar_batch_io_finish(FILE **in, FILE **out, FILE *in_file, FILE *out_file, uint64_t records)
{
	bool ok = true;
	if (in_side.started) {
		fclose(*in); /* our end: a decompressor still at work stops */
		*in = in_file;
		pthread_join(in_side.id, NULL);
		if (!in_side.ok) {
			fprintf(stderr,
			        "callbar batch: %s: %s after %llu records: the output holds the "
			        "decisions up to there and no more\n",
			        in_side.name, in_side.err, (unsigned long long)records);
			ok = false;
		}
		blocks_free(in_side.q);
		in_side.q = NULL;
		in_side.started = false;
	}
	if (out_side.started) {
		if (fclose(*out))
			ok = false;
		*out = out_file;
		pthread_join(out_side.id, NULL);
		if (!out_side.ok) {
			fprintf(stderr, "callbar batch: %s: %s\n", out_side.name, out_side.err);
			ok = false;
		}
		out_side.started = false;
	}
	return ok;
}
