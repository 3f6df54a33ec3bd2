/* callbar: keyed hashes of identity document numbers (callbar/dochash.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "callbar/dochash.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Write a new key file: O_EXCL, so two processes starting at once never
 * both write one (the loser reads the winner's). */
static enum cbar_err create_key(const char *path, struct cbar_diag *d)
{
	unsigned char k[CBAR_KEY_BYTES];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return CBAR_OK;
		return cbar_diag_set(d, CBAR_KEY, 0, 0, "%s: cannot create: %s", path,
		                     strerror(errno));
	}
	randombytes_buf(k, sizeof k);
	ssize_t w = write(fd, k, sizeof k);
	sodium_memzero(k, sizeof k);
	if (w != (ssize_t)sizeof k || fsync(fd) || close(fd)) {
		int e = errno;
		unlink(path);
		return cbar_diag_set(d, CBAR_KEY, 0, 0, "%s: cannot write: %s", path,
		                     strerror(e ? e : EIO));
	}
	return CBAR_OK;
}

enum cbar_err cbar_key_load(struct cbar_key *key, const char *path, bool create,
                            struct cbar_diag *d)
{
	enum cbar_err err;
	unsigned char buf[CBAR_KEY_BYTES * 2 + 2];
	if (sodium_init() < 0)
		return cbar_diag_set(d, CBAR_KEY, 0, 0, "libsodium failed to initialise");
	if (create && access(path, F_OK) && (err = create_key(path, d)))
		return err;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cbar_diag_set(d, CBAR_KEY, 0, 0, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return cbar_diag_set(d, CBAR_KEY, 0, 0, "%s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return cbar_diag_set(d, CBAR_KEY, 0, 0,
		                     "%s: readable or writable by others (mode %03o); "
		                     "chmod 600 it",
		                     path, (unsigned)(st.st_mode & 0777));
	}
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	err = CBAR_OK;
	if (n == CBAR_KEY_BYTES) {
		memcpy(key->k, buf, CBAR_KEY_BYTES);
	} else if (n == CBAR_KEY_BYTES * 2 ||
	           (n == CBAR_KEY_BYTES * 2 + 1 && buf[CBAR_KEY_BYTES * 2] == '\n')) {
		for (int i = 0; i < CBAR_KEY_BYTES; i++) {
			int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				err = cbar_diag_set(d, CBAR_KEY, 0, 0,
				                    "%s: 64 characters but not hex digits", path);
				break;
			}
			key->k[i] = (unsigned char)(hi << 4 | lo);
		}
	} else {
		err = cbar_diag_set(d, CBAR_KEY, 0, 0,
		                    "%s: want 32 raw bytes or 64 hex digits, found %zd bytes",
		                    path, n);
	}
	sodium_memzero(buf, sizeof buf);
	if (err)
		sodium_memzero(key->k, sizeof key->k);
	return err;
}

void cbar_key_release(struct cbar_key *key)
{
	sodium_memzero(key->k, sizeof key->k);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

void cbar_key_id(const struct cbar_key *key, char out[17])
{
	static const char label[] = "callbar key id v1";
	unsigned char h[8];
	crypto_generichash(h, sizeof h, (const unsigned char *)label, sizeof label - 1, key->k,
	                   sizeof key->k);
	hex(h, sizeof h, out);
}

void cbar_doc_hash(const struct cbar_key *key, const char *doc_type, const char *canon,
                   char out[65])
{
	unsigned char h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, key->k, sizeof key->k, sizeof h);
	crypto_generichash_update(&st, (const unsigned char *)doc_type, strlen(doc_type));
	crypto_generichash_update(&st, (const unsigned char *)":", 1);
	crypto_generichash_update(&st, (const unsigned char *)canon, strlen(canon));
	crypto_generichash_final(&st, h, sizeof h);
	sodium_memzero(&st, sizeof st);
	hex(h, sizeof h, out);
}
