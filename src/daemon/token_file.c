/*
 * callbar: the token store as a text file (interface in token_store.h).
 *
 * One token a line: NAME <TAB> ROLE <TAB> SHA-256 of the token (hex) <TAB>
 * created (UTC seconds); '#' lines are comments.  Changes are written to a
 * temporary file and renamed over the old one while holding an flock() on
 * PATH.lock, so two 'callbar token' commands never lose each other's lines
 * and the daemon never reads half a file.  The daemon keeps the parsed list
 * in a snapshot slot and reads the file again when its inode, size,
 * owner, mode or change times changed.
 *
 * Whoever may write the file may grant any role, so it is read only when
 * it is a regular file owned by root or by the user reading it, and
 * writable by no one else.  A file that fails that check or does not parse
 * fails closed: the daemon accepts no token at all (and says why in
 * /readyz) until the file is good again; keeping the list read before
 * would keep a token alive that the broken edit meant to remove.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "slot.h"
#include "token_list.h"
#include "token_store.h"

#define TOKENS_MAX 10000
#define TOKEN_FILE_MAX (4u << 20)


struct tok_file {
	char *path;
	char *lockpath;
	struct cbar_snapshot_slot slot; /* struct tok_list */
	pthread_mutex_t reload;         /* one reader of the file at a time */
};

static const char *const role_names[] = {
	[ROLE_NONE] = "none",   [ROLE_AGENT] = "agent",     [ROLE_SUPERVISOR] = "supervisor",
	[ROLE_ADMIN] = "admin", [ROLE_GATEWAY] = "gateway",
};
#define NROLES (sizeof role_names / sizeof role_names[0])

const char *cbar_role_name(enum role r)
{
	return (unsigned)r < NROLES ? role_names[r] : "none";
}

enum role cbar_role_parse(const char *s)
{
	for (unsigned i = 1; i < NROLES; i++)
		if (!strcmp(s, role_names[i]))
			return (enum role)i;
	return ROLE_NONE;
}

/* The gateway's token sits on the SMS centre, a machine; were it ranked
 * among the people's roles it would either get their routes or give them
 * its own (a keyword relocks anyone), so it matches only itself. */
bool cbar_role_allows(enum role have, enum role need)
{
	if (have == ROLE_GATEWAY || need == ROLE_GATEWAY)
		return have == need;
	return have != ROLE_NONE && have >= need;
}

bool cbar_token_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '@'))
			return false;
	}
	return true;
}

void cbar_tok_list_free(void *p)
{
	struct tok_list *l = p;
	if (l) {
		sodium_memzero(l->e, l->n * sizeof *l->e);
		free(l->e);
		free(l);
	}
}

/* Parse the file's text into a new list; d names the bad line. */
static struct tok_list *list_parse(char *text, size_t len, struct cbar_diag *d)
{
	struct tok_list *l = calloc(1, sizeof *l);
	if (!l) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		return NULL;
	}
	unsigned line = 1;
	for (size_t at = 0; at < len; line++) {
		char *s = text + at, *nl = memchr(s, '\n', len - at);
		size_t ll = nl ? (size_t)(nl - s) : len - at;
		at += ll + 1;
		if (ll == 0 || s[0] == '#')
			continue;
		s[ll] = '\0';
		char *f[4], *save = NULL;
		unsigned nf = 0;
		for (char *t = strtok_r(s, "\t", &save); t && nf < 4; t = strtok_r(NULL, "\t", &save))
			f[nf++] = t;
		struct tok_entry e = {0};
		size_t hl = 0;
		if (nf != 4 || !cbar_token_name_ok(f[0]) || (e.info.role = cbar_role_parse(f[1])) == ROLE_NONE ||
		    strlen(f[2]) != 2 * sizeof e.hash ||
		    sodium_hex2bin(e.hash, sizeof e.hash, f[2], strlen(f[2]), NULL, &hl, NULL) ||
		    hl != sizeof e.hash) {
			cbar_diag_set(d, CBAR_INVAL, line, 0,
			              "want NAME<TAB>ROLE<TAB>SHA256-HEX<TAB>CREATED");
			goto fail;
		}
		snprintf(e.info.name, sizeof e.info.name, "%s", f[0]);
		e.info.created = strtoll(f[3], NULL, 10);
		if (l->n == TOKENS_MAX) {
			cbar_diag_set(d, CBAR_TOO_BIG, line, 0, "more than %u tokens", TOKENS_MAX);
			goto fail;
		}
		if (!(l->n & (l->n + 1))) { /* grow at 0, 1, 3, 7, ... */
			struct tok_entry *ne = realloc(l->e, (2 * l->n + 1) * sizeof *ne);
			if (!ne) {
				cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
				goto fail;
			}
			l->e = ne;
		}
		l->e[l->n++] = e;
	}
	return l;
fail:
	cbar_tok_list_free(l);
	return NULL;
}

/* CBAR_OK when the file st describes may be believed: a regular file, owned
 * by root or by this process's user, writable by its owner only.  (The
 * document key is held to more: readable by its owner only.  A token file
 * keeps only hashes of random tokens, so reading it gives nothing away.) */
static enum cbar_err file_trusted(const struct stat *st, struct cbar_diag *d)
{
	if (!S_ISREG(st->st_mode))
		return cbar_diag_set(d, CBAR_CONFIG, 0, 0, "not a regular file");
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return cbar_diag_set(d, CBAR_CONFIG, 0, 0,
		                     "owned by uid %u, neither root nor this user (uid %u); "
		                     "chown it",
		                     (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & 022)
		return cbar_diag_set(d, CBAR_CONFIG, 0, 0,
		                     "writable by others (mode %03o): anyone could grant a role; "
		                     "chmod 600 it",
		                     (unsigned)(st->st_mode & 0777));
	return CBAR_OK;
}

/* Read and parse path; a missing file is an empty list.  st gets the
 * file's identity (zero when missing).  A file file_trusted() refuses is
 * not read. */
static struct tok_list *list_read(const char *path, struct stat *st, struct cbar_diag *d)
{
	memset(st, 0, sizeof *st);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return list_parse(NULL, 0, d);
		cbar_diag_set(d, CBAR_IO, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	struct tok_list *l = NULL;
	if (fstat(fd, st) || st->st_size > (off_t)TOKEN_FILE_MAX) {
		cbar_diag_set(d, CBAR_TOO_BIG, 0, 0, "unreadable or larger than %u bytes",
		              TOKEN_FILE_MAX);
		goto done;
	}
	if (file_trusted(st, d))
		goto done;
	if (!(buf = malloc((size_t)st->st_size + 1))) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		goto done;
	}
	while (len < (size_t)st->st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st->st_size - len);
		if (n <= 0) {
			cbar_diag_set(d, CBAR_IO, 0, 0, "read error");
			goto done;
		}
		len += (size_t)n;
	}
	l = list_parse(buf, len, d);
done:
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	close(fd);
	return l;
}

/* The change time moves with chmod and chown as well as with writes: a
 * file made writable by others is looked at again at once, and so is one
 * put right. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether the published list was read from the file st describes. */
static bool is_fresh(struct tok_file *tf, const struct stat *st)
{
	cbar_slot_read_begin();
	const struct tok_list *l = cbar_slot_get(&tf->slot);
	bool fresh = l && same_file(st, &l->st);
	cbar_slot_read_end();
	return fresh;
}

/* Whether the published list is one a bad file left empty. */
static bool published_bad(struct tok_file *tf)
{
	cbar_slot_read_begin();
	const struct tok_list *l = cbar_slot_get(&tf->slot);
	bool bad = l && l->bad[0];
	cbar_slot_read_end();
	return bad;
}

/* Read the file again when it changed since the list was read.  A file
 * that fails replaces the list with an empty one that says why (it is not
 * read again until it changes); out of memory even for that empties the
 * slot, which no token matches either. */
static void refresh(struct tok_file *tf)
{
	struct stat st;
	if (stat(tf->path, &st))
		memset(&st, 0, sizeof st);
	if (is_fresh(tf, &st))
		return;
	pthread_mutex_lock(&tf->reload);
	if (!is_fresh(tf, &st)) { /* another thread may have read it meanwhile */
		struct cbar_diag d = {0};
		struct stat now;
		bool was_bad = published_bad(tf);
		struct tok_list *l = list_read(tf->path, &now, &d);
		if (l) {
			l->st = now;
			if (was_bad)
				cbar_log_line(LOG_LV_INFO,
				         "token file good again; its tokens are accepted",
				         "{s:s,s:I}", "file", tf->path, "tokens", (json_int_t)l->n);
		} else if ((l = calloc(1, sizeof *l))) {
			l->st = st;
			if (d.line)
				snprintf(l->bad, sizeof l->bad, "token file %s:%u: %s", tf->path,
				         d.line, d.msg);
			else
				snprintf(l->bad, sizeof l->bad, "token file %s: %s", tf->path,
				         d.msg);
			cbar_log_line(LOG_LV_ERROR,
			         "token file refused: no token is accepted until it is good",
			         "{s:s,s:i,s:s}", "file", tf->path, "line", d.line, "error", d.msg);
		}
		if (l && cbar_slot_swap(&tf->slot, l, cbar_tok_list_free)) {
			cbar_tok_list_free(l);
			l = NULL;
		}
		if (!l)
			cbar_slot_swap(&tf->slot, NULL, cbar_tok_list_free);
	}
	pthread_mutex_unlock(&tf->reload);
}

/* CBAR_OK when the file's tokens are in use; else why none is accepted. */
static enum cbar_err tf_ready(void *ctx, struct cbar_diag *d)
{
	struct tok_file *tf = ctx;
	refresh(tf);
	cbar_slot_read_begin();
	const struct tok_list *l = cbar_slot_get(&tf->slot);
	enum cbar_err err = CBAR_OK;
	if (!l)
		err = cbar_diag_set(d, CBAR_NOMEM, 0, 0, "token file %s: out of memory", tf->path);
	else if (l->bad[0])
		err = cbar_diag_set(d, CBAR_CONFIG, 0, 0, "%s; no token is accepted", l->bad);
	cbar_slot_read_end();
	return err;
}

static enum cbar_err tf_verify(void *ctx, const char *token, size_t len, struct token_info *who)
{
	struct tok_file *tf = ctx;
	if (len == 0 || len > TOKEN_TEXT_MAX)
		return CBAR_UNAUTHENTICATED;
	refresh(tf);
	cbar_slot_read_begin();
	enum cbar_err err = cbar_tok_list_find(cbar_slot_get(&tf->slot), token, len, who);
	cbar_slot_read_end();
	return err;
}

enum cbar_err cbar_tok_list_find(const struct tok_list *l, const char *token, size_t len,
                            struct token_info *who)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)token, len);
	size_t idx = 0;
	unsigned found = 0;
	/* Every entry compared, no early exit, no branch on a match. */
	for (size_t i = 0; l && i < l->n; i++) {
		unsigned eq = (unsigned)(sodium_memcmp(h, l->e[i].hash, sizeof h) == 0);
		size_t m = (size_t)0 - (size_t)eq;
		idx = (idx & ~m) | (i & m);
		found |= eq;
	}
	if (found && who)
		*who = l->e[idx].info;
	return found ? CBAR_OK : CBAR_UNAUTHENTICATED;
}

void cbar_token_generate(char token[TOKEN_TEXT_MAX], char hex[2 * crypto_hash_sha256_BYTES + 1])
{
	unsigned char raw[32], h[crypto_hash_sha256_BYTES];
	randombytes_buf(raw, sizeof raw);
	memcpy(token, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
	sodium_bin2base64(token + sizeof TOKEN_PREFIX - 1, TOKEN_TEXT_MAX - (sizeof TOKEN_PREFIX - 1),
	                  raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof h);
}

/* Write list l (plus an extra line, when not NULL) to path via a rename. */
static enum cbar_err list_write(const char *path, const struct tok_list *l, const char *skip,
                                const char *extra, struct cbar_diag *d)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot create %s: %s", tmp, strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	}
	fputs("# callbar tokens: NAME<TAB>ROLE<TAB>SHA-256 of the token<TAB>created\n"
	      "# Written by 'callbar token'; the tokens themselves are not kept.\n",
	      f);
	for (size_t i = 0; i < l->n; i++) {
		if (skip && !strcmp(l->e[i].info.name, skip))
			continue;
		char hex[2 * crypto_hash_sha256_BYTES + 1];
		sodium_bin2hex(hex, sizeof hex, l->e[i].hash, sizeof l->e[i].hash);
		fprintf(f, "%s\t%s\t%s\t%lld\n", l->e[i].info.name, cbar_role_name(l->e[i].info.role), hex,
		        (long long)l->e[i].info.created);
	}
	if (extra)
		fputs(extra, f);
	bool bad = fflush(f) || fsync(fileno(f));
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path)) {
		int e = errno;
		unlink(tmp);
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot write %s: %s", path, strerror(e));
	}
	return CBAR_OK;
}

/* Take the lock file for a change; -1 with d set on failure. */
static int lock_take(const struct tok_file *tf, struct cbar_diag *d)
{
	int fd = open(tf->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		cbar_diag_set(d, CBAR_IO, 0, 0, "cannot lock %s: %s", tf->lockpath, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static enum cbar_err tf_create(void *ctx, const char *name, enum role role,
                               char token[TOKEN_TEXT_MAX], struct cbar_diag *d)
{
	struct tok_file *tf = ctx;
	if (!cbar_token_name_ok(name))
		return cbar_diag_set(d, CBAR_TOKEN_NAME, 0, 0,
		                     "a name is 1 to %u of A-Z a-z 0-9 . _ - @", TOKEN_NAME_MAX);
	if (role == ROLE_NONE)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0,
		                     "role must be agent, supervisor, admin or gateway");
	int lk = lock_take(tf, d);
	if (lk < 0)
		return CBAR_IO;
	enum cbar_err err;
	struct stat st;
	struct tok_list *l = list_read(tf->path, &st, d);
	if (!l) {
		err = CBAR_IO;
		goto done;
	}
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].info.name, name)) {
			err = cbar_diag_set(d, CBAR_TOKEN_NAME, 0, 0, "a token named '%s' exists", name);
			goto done;
		}
	char hex[2 * crypto_hash_sha256_BYTES + 1], line[256];
	cbar_token_generate(token, hex);
	snprintf(line, sizeof line, "%s\t%s\t%s\t%lld\n", name, cbar_role_name(role), hex,
	         (long long)time(NULL));
	err = list_write(tf->path, l, NULL, line, d);
	if (err)
		sodium_memzero(token, TOKEN_TEXT_MAX);
done:
	cbar_tok_list_free(l);
	close(lk);
	return err;
}

static enum cbar_err tf_list(void *ctx, void (*each)(void *arg, const struct token_info *t),
                             void *arg, struct cbar_diag *d)
{
	struct tok_file *tf = ctx;
	struct stat st;
	struct tok_list *l = list_read(tf->path, &st, d);
	if (!l)
		return CBAR_IO;
	for (size_t i = 0; i < l->n; i++)
		each(arg, &l->e[i].info);
	cbar_tok_list_free(l);
	return CBAR_OK;
}

static enum cbar_err tf_revoke(void *ctx, const char *name, struct cbar_diag *d)
{
	struct tok_file *tf = ctx;
	int lk = lock_take(tf, d);
	if (lk < 0)
		return CBAR_IO;
	enum cbar_err err = CBAR_NOT_FOUND;
	struct stat st;
	struct tok_list *l = list_read(tf->path, &st, d);
	if (!l)
		err = CBAR_IO;
	for (size_t i = 0; l && i < l->n; i++)
		if (!strcmp(l->e[i].info.name, name))
			err = CBAR_OK;
	if (err == CBAR_NOT_FOUND)
		cbar_diag_set(d, CBAR_NOT_FOUND, 0, 0, "no token named '%s'", name);
	else if (!err)
		err = list_write(tf->path, l, name, NULL, d);
	cbar_tok_list_free(l);
	close(lk);
	return err;
}

static void tf_release(void *ctx)
{
	struct tok_file *tf = ctx;
	cbar_slot_release(&tf->slot);
	pthread_mutex_destroy(&tf->reload);
	free(tf->path);
	free(tf->lockpath);
	free(tf);
}

static const struct token_store_ops file_ops = {
	.verify = tf_verify,
	.create = tf_create,
	.list = tf_list,
	.revoke = tf_revoke,
	.ready = tf_ready,
	.release = tf_release,
};

enum cbar_err cbar_token_file_open(struct token_store *ts, const char *path, struct cbar_diag *d)
{
	if (d)
		d->file = path;
	if (sodium_init() < 0)
		return cbar_diag_set(d, CBAR_INVAL, 0, 0, "libsodium failed to start");
	struct tok_file *tf = calloc(1, sizeof *tf);
	size_t n = strlen(path) + 6;
	if (!tf || !(tf->path = strdup(path)) || !(tf->lockpath = malloc(n))) {
		if (tf)
			free(tf->path);
		free(tf);
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	}
	snprintf(tf->lockpath, n, "%s.lock", path);
	cbar_slot_init(&tf->slot);
	pthread_mutex_init(&tf->reload, NULL);
	ts->ops = &file_ops;
	ts->ctx = tf;
	return CBAR_OK;
}

/* The list of a token file's text, which is left as it is: list_parse() on
 * a copy (it writes NULs into its text, and one byte past the end), for
 * the fuzz target and whoever holds text that is not a file. */
struct tok_list *cbar_tok_list_parse(const char *text, size_t len, struct cbar_diag *d)
{
	char *buf = malloc(len + 1);
	if (!buf) {
		cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
		return NULL;
	}
	if (len)
		memcpy(buf, text, len);
	struct tok_list *l = list_parse(buf, len, d);
	sodium_memzero(buf, len);
	free(buf);
	return l;
}
