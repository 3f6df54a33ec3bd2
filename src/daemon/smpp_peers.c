/* callbar serve: the SMPP peers file and `callbar smpp-peer` (smpp_peers.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/smpp_pdu.h"
#include "serve.h"
#include "smpp_peers.h"

#define PEERS_LINE_MAX 1024
#define PEERS_DEFAULT "var/smpp-peers"
#define PEERS_MAX SMPP_PEERS_MAX

/* 1 to max-1 of A-Z a-z 0-9 . _ - (system ids and classes). */
static bool name_ok(const char *s, size_t n, size_t max)
{
	if (!n || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* "10.0.0.0/8,127.0.0.1" or "any" into p's allow-list. */
static bool allow_parse(struct smpp_peer *p, const char *s, size_t n)
{
	p->nallow = 0;
	if (n >= sizeof p->allow_text)
		return false;
	memcpy(p->allow_text, s, n);
	p->allow_text[n] = '\0';
	if (n == 3 && !memcmp(s, "any", 3))
		return true;
	while (n) {
		const char *c = memchr(s, ',', n);
		size_t k = c ? (size_t)(c - s) : n;
		if (p->nallow == SMPP_ALLOW_MAX || cbar__cidr_parse(s, k, &p->allow[p->nallow]))
			return false;
		p->nallow++;
		s += k + (c != NULL);
		n -= k + (c != NULL);
	}
	return p->nallow > 0;
}

static bool has_prefix(const char *w, size_t n, const char *k, const char **v, size_t *vn)
{
	size_t kl = strlen(k);
	if (n < kl || memcmp(w, k, kl))
		return false;
	*v = w + kl;
	*vn = n - kl;
	return true;
}

/* One line: SYSTEM_ID then key=value words. */
static enum cbar_err parse_line(struct smpp_peer *p, char *s, size_t len, unsigned line,
                                struct cbar_diag *d)
{
	memset(p, 0, sizeof *p);
	p->direction = CBAR_IN;
	p->binds = 1;
	size_t at = 0;
	bool first = true, have_hash = false;
	while (at < len) {
		while (at < len && (s[at] == ' ' || s[at] == '\t'))
			at++;
		size_t e = at;
		while (e < len && s[e] != ' ' && s[e] != '\t')
			e++;
		if (e == at)
			break;
		const char *w = s + at, *v;
		size_t n = e - at, vn;
		if (first) {
			if (!name_ok(w, n, sizeof p->system_id))
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
				                     "system_id: want 1 to 15 of A-Z a-z 0-9 . _ -");
			memcpy(p->system_id, w, n);
			first = false;
		} else if (has_prefix(w, n, "via=", &v, &vn)) {
			if (!name_ok(v, vn, sizeof p->via))
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
				                     "via: want 1 to 31 of A-Z a-z 0-9 . _ -");
			memcpy(p->via, v, vn);
		} else if (has_prefix(w, n, "direction=", &v, &vn)) {
			if (vn == 2 && !memcmp(v, "in", 2))
				p->direction = CBAR_IN;
			else if (vn == 3 && !memcmp(v, "out", 3))
				p->direction = CBAR_OUT;
			else
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
				                     "direction: want in or out");
		} else if (has_prefix(w, n, "binds=", &v, &vn)) {
			unsigned b = 0;
			for (size_t i = 0; i < vn && b <= 1000; i++)
				b = v[i] >= '0' && v[i] <= '9' ? b * 10 + (unsigned)(v[i] - '0') : 100000;
			if (!vn || !b || b > 1000)
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
				                     "binds: want 1 to 1000");
			p->binds = b;
		} else if (has_prefix(w, n, "allow=", &v, &vn)) {
			if (!allow_parse(p, v, vn))
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
				                     "allow: want any or CIDR[,CIDR...] (at most %d)",
				                     SMPP_ALLOW_MAX);
		} else if (has_prefix(w, n, "hash=", &v, &vn)) {
			if (vn >= sizeof p->hash || vn < 10 || memcmp(v, "$argon2id$", 10))
				return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
				                     "hash: want an Argon2id hash ($argon2id$...)");
			memcpy(p->hash, v, vn);
			have_hash = true;
		} else {
			return cbar_diag_set(d, CBAR_CONFIG, line, (unsigned)at + 1,
			                     "unknown field (via=, direction=, binds=, allow=, hash=)");
		}
		at = e;
	}
	if (first)
		return CBAR_NOT_FOUND; /* a blank line */
	if (!have_hash)
		return cbar_diag_set(d, CBAR_CONFIG, line, 0, "peer %s has no hash=", p->system_id);
	if (!p->allow_text[0])
		memcpy(p->allow_text, "any", 4);
	return CBAR_OK;
}

enum cbar_err cbar_smpp_peers_load(struct smpp_peers *p, const char *path, bool missing_ok,
                                   struct cbar_diag *d)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	randombytes_buf(p->key, sizeof p->key);
	if (d)
		d->file = path;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return CBAR_OK;
		return cbar_diag_set(d, CBAR_IO, 0, 0, "cannot open: %s", strerror(errno));
	}
	if (!(p->v = calloc(PEERS_MAX, sizeof *p->v))) {
		fclose(f);
		return cbar_diag_set(d, CBAR_NOMEM, 0, 0, "out of memory");
	}
	char buf[PEERS_LINE_MAX + 2];
	unsigned line = 0;
	enum cbar_err err = CBAR_OK;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		size_t n = strlen(buf);
		if (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		else if (!feof(f)) {
			err = cbar_diag_set(d, CBAR_CONFIG, line, 0, "line longer than %d bytes",
			                    PEERS_LINE_MAX);
			break;
		}
		if (buf[0] == '#')
			continue;
		if (p->n == PEERS_MAX) {
			err = cbar_diag_set(d, CBAR_CONFIG, line, 0, "more than %d peers", PEERS_MAX);
			break;
		}
		enum cbar_err e = parse_line(&p->v[p->n], buf, n, line, d);
		if (e == CBAR_NOT_FOUND)
			continue;
		if (e) {
			err = e;
			break;
		}
		for (unsigned i = 0; i < p->n; i++)
			if (!strcmp(p->v[i].system_id, p->v[p->n].system_id)) {
				err = cbar_diag_set(d, CBAR_CONFIG, line, 0, "peer %s listed twice",
				                    p->v[i].system_id);
				break;
			}
		if (err)
			break;
		p->n++;
	}
	fclose(f);
	if (err)
		cbar_smpp_peers_release(p);
	return err;
}

void cbar_smpp_peers_release(struct smpp_peers *p)
{
	if (p->v)
		sodium_memzero(p->v, PEERS_MAX * sizeof *p->v);
	free(p->v);
	p->v = NULL;
	p->n = 0;
	sodium_memzero(p->key, sizeof p->key);
}

static int slot_of(const struct smpp_peers *p, const char *system_id)
{
	for (unsigned i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].system_id, system_id))
			return (int)i;
	return -1;
}

enum cbar_err cbar_smpp_peers_prepare(struct smpp_peers *p, const char *path,
                                      struct smpp_peers *fresh, struct cbar_diag *d)
{
	enum cbar_err e = cbar_smpp_peers_load(fresh, path, true, d);
	if (e)
		return e;
	/* p->n changes only in commit, under the same reload: no lock. */
	unsigned need = p->n;
	for (unsigned i = 0; i < fresh->n; i++)
		if (slot_of(p, fresh->v[i].system_id) < 0)
			need++;
	if (need > PEERS_MAX) {
		cbar_smpp_peers_release(fresh);
		return cbar_diag_set(d, CBAR_CONFIG, 0, 0,
		                     "the peers in the file and the ones removed since the start "
		                     "are more than %d: restart callbar to forget the removed ones",
		                     PEERS_MAX);
	}
	return CBAR_OK;
}

void cbar_smpp_peers_commit(struct smpp_peers *p, struct smpp_peers *fresh, unsigned *added,
                            unsigned *removed, unsigned *changed)
{
	*added = *removed = *changed = 0;
	pthread_mutex_lock(&p->lock);
	if (!p->v) {
		/* The file did not exist at the start: the slots are made now,
		 * taken from fresh (allocated by its load, PEERS_MAX long). */
		if (!fresh->v)
			goto out;
		p->v = fresh->v;
		fresh->v = NULL;
		p->n = fresh->n;
		*added = p->n;
		goto out;
	}
	bool kept[PEERS_MAX] = {0};
	for (unsigned i = 0; i < p->n; i++) {
		struct smpp_peer *e = &p->v[i];
		int j = fresh->v ? slot_of(fresh, e->system_id) : -1;
		if (j < 0) {
			if (!e->gone) {
				/* Forgotten at once: its password's hash and fast check. */
				sodium_memzero(e->hash, sizeof e->hash);
				sodium_memzero(e->fast, sizeof e->fast);
				e->have_fast = false;
				e->gone = true;
				(*removed)++;
			}
			continue;
		}
		kept[j] = true;
		struct smpp_peer *f = &fresh->v[j];
		bool same_pw = !e->gone && !strcmp(e->hash, f->hash);
		if (e->gone)
			(*added)++;
		else if (!same_pw || strcmp(e->via, f->via) || e->direction != f->direction ||
		         e->binds != f->binds || strcmp(e->allow_text, f->allow_text))
			(*changed)++;
		bool have_fast = same_pw && e->have_fast;
		unsigned char fast[crypto_generichash_BYTES];
		memcpy(fast, e->fast, sizeof fast);
		*e = *f;
		e->have_fast = have_fast;
		if (have_fast)
			memcpy(e->fast, fast, sizeof fast);
		sodium_memzero(fast, sizeof fast);
	}
	for (unsigned j = 0; j < fresh->n; j++)
		if (!kept[j]) {
			p->v[p->n++] = fresh->v[j]; /* prepare checked the room */
			(*added)++;
		}
out:
	pthread_mutex_unlock(&p->lock);
	cbar_smpp_peers_release(fresh);
}

static uint32_t bind_locked(struct smpp_peers *p, const char *system_id, const char *password,
                            const struct sockaddr *src, struct smpp_peer_info *peer,
                            enum smpp_bind_fail *why);

uint32_t cbar_smpp_peers_bind(void *ctx, const char *system_id, const char *password,
                              const struct sockaddr *src, struct smpp_peer_info *peer,
                              enum smpp_bind_fail *why)
{
	struct smpp_peers *p = ctx;
	/* Held for the slow hash too: a reload waits for one bind check. */
	pthread_mutex_lock(&p->lock);
	uint32_t st = bind_locked(p, system_id, password, src, peer, why);
	pthread_mutex_unlock(&p->lock);
	return st;
}

static uint32_t bind_locked(struct smpp_peers *p, const char *system_id, const char *password,
                            const struct sockaddr *src, struct smpp_peer_info *peer,
                            enum smpp_bind_fail *why)
{
	struct smpp_peer *e = NULL;
	unsigned i;
	for (i = 0; i < p->n; i++)
		if (!p->v[i].gone && !strcmp(p->v[i].system_id, system_id)) {
			e = &p->v[i];
			break;
		}
	if (!e) {
		*why = SMPP_BF_UNKNOWN_SYSTEM_ID;
		return SMPP_RINVSYSID;
	}
	if (e->nallow && (!src || !cbar__cidr_match(e->allow, e->nallow, src))) {
		*why = SMPP_BF_ADDRESS;
		return SMPP_RBINDFAIL;
	}
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, (const unsigned char *)password, strlen(password), p->key,
	                   sizeof p->key);
	bool ok = e->have_fast && !sodium_memcmp(h, e->fast, sizeof h);
	if (!ok && !crypto_pwhash_str_verify(e->hash, password, strlen(password))) {
		ok = true;
		memcpy(e->fast, h, sizeof h);
		e->have_fast = true;
	}
	sodium_memzero(h, sizeof h);
	if (!ok) {
		*why = SMPP_BF_BAD_PASSWORD;
		return SMPP_RINVPASWD;
	}
	peer->index = i;
	snprintf(peer->via, sizeof peer->via, "%s", e->via);
	peer->direction = e->direction;
	peer->max_binds = e->binds;
	return 0;
}

/* ---- callbar smpp-peer ------------------------------------------------------ */

enum { PEER_CMD_OK = 0, PEER_CMD_BAD = 2 };

static const char help[] =
	"usage: callbar smpp-peer add SYSTEM_ID --via CLASS [--direction in|out] [--binds N]\n"
	"                         [--allow CIDR[,CIDR...]] [--peers FILE]\n"
	"       callbar smpp-peer list [--peers FILE]\n"
	"       callbar smpp-peer remove SYSTEM_ID [--peers FILE]\n"
	"\n"
	"Manage the SMPP peers that may bind to 'callbar serve --smpp' (docs/smpp.md).\n"
	"add prints the peer's new password once, on standard output (8 characters,\n"
	"SMPP's limit): only its Argon2id hash is kept.  The daemon reads the file\n"
	"at start.\n"
	"\n"
	"  --via CLASS        the ingress class of the peer's messages (the rules'\n"
	"                     `via CLASS`), e.g. intl-hub\n"
	"  --direction D      in (default): the peer sends texts to our subscribers\n"
	"                     (subscriber = destination_addr); out: from them\n"
	"  --binds N          binds the peer may hold at once (default 1)\n"
	"  --allow CIDRS      addresses it may bind from (default any)\n"
	"  --peers FILE       the peers file (default var/smpp-peers, as smpp.peers)\n"
	"\n"
	"Exit status: 0 on success, 2 on a bad argument, a taken or unknown\n"
	"system_id, or a file that cannot be read or written.\n";

static void write_peer(FILE *f, const struct smpp_peer *p)
{
	fprintf(f, "%s via=%s direction=%s binds=%u allow=%s hash=%s\n", p->system_id, p->via,
	        p->direction == CBAR_OUT ? "out" : "in", p->binds, p->allow_text, p->hash);
}

/* Write the list to path through a temporary file renamed over it (0600). */
static bool save(const char *path, const struct smpp_peers *p)
{
	char tmp[1100];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "callbar smpp-peer: %s: %s\n", tmp, strerror(errno));
		return false;
	}
	fputs("# callbar SMPP peers (callbar smpp-peer; docs/smpp.md): system_id and fields\n", f);
	for (unsigned i = 0; i < p->n; i++)
		write_peer(f, &p->v[i]);
	bool ok = !fflush(f) && !fsync(fileno(f));
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "callbar smpp-peer: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}

static void gen_password(char pw[9])
{
	/* 8 characters of 54 without look-alikes (0 O 1 l I): about 46 bits. */
	static const char alpha[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (int i = 0; i < 8; i++)
		pw[i] = alpha[randombytes_uniform(sizeof alpha - 1)];
	pw[8] = '\0';
}

int cbar_smpp_peer_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"via", required_argument, NULL, 'v'},   {"direction", required_argument, NULL, 'd'},
		{"binds", required_argument, NULL, 'b'}, {"allow", required_argument, NULL, 'a'},
		{"peers", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *via = NULL, *dir = "in", *binds = "1", *allow = "any", *path = PEERS_DEFAULT;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'v': via = optarg; break;
		case 'd': dir = optarg; break;
		case 'b': binds = optarg; break;
		case 'a': allow = optarg; break;
		case 'p': path = optarg; break;
		case 'h': fputs(help, stdout); return PEER_CMD_OK;
		default: fputs(help, stderr); return PEER_CMD_BAD;
		}
	}
	if (optind >= argc) {
		fputs(help, stderr);
		return PEER_CMD_BAD;
	}
	const char *verb = argv[optind++];
	const char *id = optind < argc ? argv[optind++] : NULL;
	if (optind < argc) {
		fprintf(stderr, "callbar smpp-peer: unexpected argument '%s'\n", argv[optind]);
		return PEER_CMD_BAD;
	}
	if (sodium_init() < 0)
		return PEER_CMD_BAD;
	struct smpp_peers p;
	struct cbar_diag d = {0};
	if (cbar_smpp_peers_load(&p, path, true, &d)) {
		fprintf(stderr, "callbar smpp-peer: %s:%u: %s\n", path, d.line, d.msg);
		return PEER_CMD_BAD;
	}
	int rc = PEER_CMD_BAD;
	if (!p.v && !(p.v = calloc(PEERS_MAX, sizeof *p.v))) {
		fputs("callbar smpp-peer: out of memory\n", stderr);
		goto out;
	}
	if (!strcmp(verb, "list") && !id) {
		for (unsigned i = 0; i < p.n; i++)
			printf("%s\tvia=%s\tdirection=%s\tbinds=%u\tallow=%s\n", p.v[i].system_id,
			       p.v[i].via, p.v[i].direction == CBAR_OUT ? "out" : "in", p.v[i].binds,
			       p.v[i].allow_text);
		rc = PEER_CMD_OK;
	} else if (!strcmp(verb, "remove") && id) {
		unsigned i;
		for (i = 0; i < p.n && strcmp(p.v[i].system_id, id); i++)
			;
		if (i == p.n) {
			fprintf(stderr, "callbar smpp-peer: no peer '%s' in %s\n", id, path);
			goto out;
		}
		p.v[i] = p.v[--p.n];
		rc = save(path, &p) ? PEER_CMD_OK : PEER_CMD_BAD;
	} else if (!strcmp(verb, "add") && id) {
		char line[PEERS_LINE_MAX], pw[9];
		if (!via) {
			fputs("callbar smpp-peer: add needs --via CLASS\n", stderr);
			goto out;
		}
		if (p.n == PEERS_MAX) {
			fprintf(stderr, "callbar smpp-peer: %s: already %d peers\n", path, PEERS_MAX);
			goto out;
		}
		for (unsigned i = 0; i < p.n; i++)
			if (!strcmp(p.v[i].system_id, id)) {
				fprintf(stderr, "callbar smpp-peer: '%s' is taken\n", id);
				goto out;
			}
		gen_password(pw);
		char hash[crypto_pwhash_STRBYTES];
		if (crypto_pwhash_str(hash, pw, 8, crypto_pwhash_OPSLIMIT_INTERACTIVE,
		                      crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
			fputs("callbar smpp-peer: out of memory hashing\n", stderr);
			goto out;
		}
		/* The new line goes through the file's own parser, so add
		 * accepts exactly what the daemon will. */
		snprintf(line, sizeof line, "%s via=%s direction=%s binds=%s allow=%s hash=%s", id, via,
		         dir, binds, allow, hash);
		struct cbar_diag ld = {0};
		if (parse_line(&p.v[p.n], line, strlen(line), 1, &ld)) {
			fprintf(stderr, "callbar smpp-peer: %s\n", ld.msg);
			goto out;
		}
		p.n++;
		if (!save(path, &p))
			goto out;
		printf("%s\n", pw);
		sodium_memzero(pw, sizeof pw);
		rc = PEER_CMD_OK;
	} else {
		fputs(help, stderr);
	}
out:
	cbar_smpp_peers_release(&p);
	return rc;
}
