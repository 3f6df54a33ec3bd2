/* callbar: the unlock set's local snapshot file (unlock_snapshot.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unlock_snapshot.h"

#define HEAD   256
#define TRAIL  16
#define BUCKET 64
#define BOM    0x0102030405060708ull
#define CHUNK  (64u << 20)

static const char magic[8] = "CBARSNAP", end_magic[8] = "CBAREND";

/* ---- the checksum: four lanes of multiply and rotate --------------------- */

#define P1 0x9e3779b185ebca87ull
#define P2 0xc2b2ae3d27d4eb4full

struct sum {
	uint64_t v[4];
	uint64_t len;
};

static uint64_t rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

static void sum_init(struct sum *s)
{
	s->v[0] = P1 + P2;
	s->v[1] = P2;
	s->v[2] = 0;
	s->v[3] = 0 - P1;
	s->len = 0;
}

/* n is a multiple of 32: the header and every chunk of buckets are. */
static void sum_add(struct sum *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3], w[4];
	for (size_t i = 0; i + 32 <= n; i += 32) {
		memcpy(w, b + i, 32);
		v0 = rotl(v0 + w[0] * P2, 31) * P1;
		v1 = rotl(v1 + w[1] * P2, 31) * P1;
		v2 = rotl(v2 + w[2] * P2, 31) * P1;
		v3 = rotl(v3 + w[3] * P2, 31) * P1;
	}
	s->v[0] = v0;
	s->v[1] = v1;
	s->v[2] = v2;
	s->v[3] = v3;
	s->len += n;
}

static uint64_t sum_end(const struct sum *s)
{
	uint64_t h = rotl(s->v[0], 1) + rotl(s->v[1], 7) + rotl(s->v[2], 12) + rotl(s->v[3], 18);
	h ^= s->len;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	return h;
}

uint64_t cbar__snapshot_checksum(const void *p, size_t n)
{
	struct sum s;
	sum_init(&s);
	sum_add(&s, p, n & ~(size_t)31);
	return sum_end(&s);
}

/* ---- identity ------------------------------------------------------------ */

enum cbar_err cbar_unlock_snapshot_id_of(struct cbar_store *s, int64_t seq, const char *key_id,
                                         struct cbar_unlock_snapshot_id *id, struct cbar_diag *d)
{
	enum cbar_err err;
	memset(id, 0, sizeof *id);
	id->seq = seq;
	snprintf(id->key_id, sizeof id->key_id, "%s", key_id ? key_id : "");
	if ((err = cbar_store_entry_hash(s, 1, id->registry, d)))
		return err;
	return seq > 0 ? cbar_store_entry_hash(s, seq, id->at_hash, d) : CBAR_OK;
}

/* A hex field of the header: n bytes, zero-padded; "" reads back. */
static void put_text(unsigned char *h, size_t off, size_t n, const char *s)
{
	size_t l = strlen(s);
	memcpy(h + off, s, l < n ? l : n);
}

static void get_text(const unsigned char *h, size_t off, size_t n, char *out)
{
	memcpy(out, h + off, n);
	out[n] = '\0';
}

static void put64(unsigned char *h, size_t off, uint64_t v)
{
	memcpy(h + off, &v, 8);
}

static uint64_t get64(const unsigned char *h, size_t off)
{
	uint64_t v;
	memcpy(&v, h + off, 8);
	return v;
}

/* ---- writing --------------------------------------------------------------- */

static enum cbar_err write_all(int fd, const void *p, size_t n, const char *path,
                               struct cbar_diag *d)
{
	const char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n > CHUNK ? CHUNK : n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot write %s: %s", path,
			                     w < 0 ? strerror(errno) : "short write");
		b += w;
		n -= (size_t)w;
	}
	return CBAR_OK;
}

enum cbar_err cbar_unlock_snapshot_write(const char *path, const struct cbar_unlockset *set,
                                         const struct cbar_unlock_snapshot_id *id,
                                         struct cbar_diag *d)
{
	char tmp[1100];
	size_t bytes, nb;
	const unsigned char *img = cbar__unlockset_image(set, &bytes, &nb);
	unsigned char h[HEAD] = {0}, t[TRAIL] = {0};
	uint32_t version = CBAR_SNAPSHOT_VERSION, hsize = HEAD;
	enum cbar_err err;
	if (d)
		d->file = path;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "snapshot path too long");
	memcpy(h, magic, 8);
	memcpy(h + 8, &version, 4);
	memcpy(h + 12, &hsize, 4);
	put64(h, 16, BOM);
	put64(h, 24, (uint64_t)id->seq);
	put64(h, 32, cbar_unlockset_count(set));
	put64(h, 40, nb);
	put64(h, 48, BUCKET);
	put_text(h, 56, 64, id->registry);
	put_text(h, 120, 64, id->at_hash);
	put_text(h, 184, 16, id->key_id);
	put64(h, 200, (uint64_t)time(NULL));
	struct sum s;
	sum_init(&s);
	sum_add(&s, h, HEAD);
	sum_add(&s, img, bytes);
	put64(t, 0, sum_end(&s));
	memcpy(t + 8, end_magic, 8);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot create %s: %s", tmp,
		                     strerror(errno));
	if ((err = write_all(fd, h, HEAD, tmp, d)) || (err = write_all(fd, img, bytes, tmp, d)) ||
	    (err = write_all(fd, t, TRAIL, tmp, d)))
		goto fail;
	if (fsync(fd)) {
		err = cbar_diag_set(d, CBAR_IO, 0, 0, "cannot sync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path)) {
		err = cbar_diag_set(d, CBAR_IO, 0, 0, "cannot rename %s to %s: %s", tmp, path,
		                    strerror(errno));
		goto fail;
	}
	return CBAR_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

/* ---- reading --------------------------------------------------------------- */

static enum cbar_err read_all(int fd, void *p, size_t n, struct cbar_diag *d)
{
	char *b = p;
	while (n) {
		ssize_t r = read(fd, b, n > CHUNK ? CHUNK : n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot read: %s", strerror(errno));
		if (r == 0)
			return cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0, "truncated while reading");
		b += r;
		n -= (size_t)r;
	}
	return CBAR_OK;
}

enum cbar_err cbar_unlock_snapshot_read(const char *path, struct cbar_unlock_snapshot_id *id,
                                        struct cbar_unlockset **out, struct cbar_diag *d)
{
	unsigned char h[HEAD], t[TRAIL];
	unsigned char *img = NULL;
	uint32_t version, hsize;
	enum cbar_err err;
	struct stat st;
	*out = NULL;
	memset(id, 0, sizeof *id);
	if (d)
		d->file = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st)) {
		err = cbar_diag_set(d, CBAR_IO, 0, 0, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size < HEAD + TRAIL) {
		err = cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                    "truncated: %jd bytes, shorter than a header and trailer",
		                    (intmax_t)st.st_size);
		goto fail;
	}
	if ((err = read_all(fd, h, HEAD, d)))
		goto fail;
	memcpy(&version, h + 8, 4);
	memcpy(&hsize, h + 12, 4);
	if (memcmp(h, magic, 8)) {
		err =
		    cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0, "not a callbar unlock snapshot (magic)");
		goto fail;
	}
	if (version != CBAR_SNAPSHOT_VERSION || hsize != HEAD) {
		err = cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                    "format version %" PRIu32 " (header %" PRIu32
		                    " bytes); this callbar reads version %d",
		                    version, hsize, CBAR_SNAPSHOT_VERSION);
		goto fail;
	}
	if (get64(h, 16) != BOM || get64(h, 48) != BUCKET) {
		err = cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                    "written on a machine of another byte order or table layout");
		goto fail;
	}
	uint64_t n = get64(h, 32), nb = get64(h, 40);
	if (nb == 0 || nb > ((uint64_t)st.st_size - HEAD - TRAIL) / BUCKET ||
	    (uint64_t)st.st_size != HEAD + nb * BUCKET + TRAIL) {
		err = cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                    "truncated or extended: %jd bytes, the header says %" PRIu64
		                    " buckets (%" PRIu64 " bytes)",
		                    (intmax_t)st.st_size, nb,
		                    nb > UINT64_MAX / BUCKET - 1 ? 0 : HEAD + nb * BUCKET + TRAIL);
		goto fail;
	}
	id->seq = (int64_t)get64(h, 24);
	get_text(h, 56, 64, id->registry);
	get_text(h, 120, 64, id->at_hash);
	get_text(h, 184, 16, id->key_id);
	if (!(img = cbar__unlockset_image_alloc((size_t)nb))) {
		err = cbar_diag_set(d, CBAR_NOMEM, 0, 0, "no memory for %" PRIu64 " buckets", nb);
		goto fail;
	}
	struct sum s;
	sum_init(&s);
	sum_add(&s, h, HEAD);
	/* Read and sum a chunk at a time, while it is in the cache. */
	for (size_t off = 0, total = (size_t)nb * BUCKET; off < total; off += CHUNK) {
		size_t k = total - off > CHUNK ? CHUNK : total - off;
		if ((err = read_all(fd, img + off, k, d)))
			goto fail;
		sum_add(&s, img + off, k);
	}
	if ((err = read_all(fd, t, TRAIL, d)))
		goto fail;
	if (memcmp(t + 8, end_magic, 8) || get64(t, 0) != sum_end(&s)) {
		err =
		    cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0, "checksum mismatch: the file is damaged");
		goto fail;
	}
	if (cbar__unlockset_adopt(img, (size_t)nb, (size_t)n, out)) {
		err = cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                    "records do not match the header's count %" PRIu64, n);
		goto fail;
	}
	close(fd);
	return CBAR_OK;
fail:
	free(img);
	close(fd);
	return err;
}

enum cbar_err cbar_unlock_snapshot_check(struct cbar_store *s, const char *key_id,
                                         const struct cbar_unlock_snapshot_id *id,
                                         struct cbar_diag *d)
{
	char first[CBAR_STORE_HASH_HEX], at[CBAR_STORE_HASH_HEX];
	int64_t head = 0;
	enum cbar_err err;
	if (!key_id)
		key_id = "";
	if ((err = cbar_store_entry_hash(s, 1, first, d)))
		return err;
	if (strcmp(first, id->registry))
		return cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                     "made from another registry (its audit entry 1 is %.16s, this "
		                     "registry's %.16s)",
		                     id->registry[0] ? id->registry : "none",
		                     first[0] ? first : "none");
	if (strcmp(key_id, id->key_id))
		return cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                     "made with another document key (id %s, this node's %s)",
		                     id->key_id[0] ? id->key_id : "none",
		                     key_id[0] ? key_id : "none");
	if ((err = cbar_store_chain_head(s, &head, NULL, d)))
		return err;
	if (id->seq < 0 || id->seq > head)
		return cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
		                     "at change %" PRId64
		                     ", past this registry's last change %" PRId64
		                     " (a registry restored from a backup?)",
		                     id->seq, head);
	if (id->seq > 0) {
		if ((err = cbar_store_entry_hash(s, id->seq, at, d)))
			return err;
		if (strcmp(at, id->at_hash))
			return cbar_diag_set(d, CBAR_SNAPSHOT, 0, 0,
			                     "this registry's history differs at change %" PRId64,
			                     id->seq);
	}
	return CBAR_OK;
}
