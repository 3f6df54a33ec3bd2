/*
 * callbar benchmark: the floor under `callbar batch`.  The awk baseline's
 * simplified decision (bench/batch.sh: block when the peer is written +CC
 * with CC not 86 and "+86" + subscriber is not in the unlocked set) as a
 * tight C loop: big reads, lines cut with memchr, the subscriber's digits
 * to an integer and one probe of an open-addressing set, the line and
 * ",verdict" copied out.  No numbering, no rules: what one core does per
 * record before any real decision is made, to put the awk ratio in
 * perspective.  With --batch, the records are cut 32 at a time and the
 * probes of those that need one prefetched before the first is read (the
 * fastest a loop of random lookups goes): the floor's floor.
 *   batch_floor [--batch] UNLOCKED_FILE CSV > /dev/null
 * prints "records seconds M/s blocked" on stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (4u << 20)

static uint64_t *set;
static size_t mask;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static void add(uint64_t v)
{
	size_t i = mix(v) & mask;
	while (set[i] && set[i] != v)
		i = (i + 1) & mask;
	set[i] = v;
}

static int has(uint64_t v)
{
	size_t i = mix(v) & mask;
	while (set[i]) {
		if (set[i] == v)
			return 1;
		i = (i + 1) & mask;
	}
	return 0;
}

/* Digits to an integer; 0 when something else is in them. */
static uint64_t digits(const char *s, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

/* A record cut, its probe key, whether the decision needs the probe. */
struct rec {
	const char *s;
	size_t len;
	uint64_t key;
	int probe;
};
#define QN 32

static void cut(struct rec *r)
{
	/* fields 4 and 5: subscriber, peer */
	const char *s = r->s, *f[5] = {s};
	size_t k = 1, len = r->len;
	for (size_t j = 0; j < len && k < 5; j++)
		if (s[j] == ',')
			f[k++] = s + j + 1;
	const char *sub = f[3], *peer = f[4];
	size_t sl = (size_t)(peer - 1 - sub), pl = (size_t)(s + len - peer);
	uint64_t key = 86;
	for (size_t j = 0; j < sl; j++)
		key = key * 10 + (uint64_t)(sub[j] - '0');
	r->key = key;
	r->probe = pl > 3 && peer[0] == '+' && !(peer[1] == '8' && peer[2] == '6');
}

static void finish_recs(const struct rec *q, size_t nq, char *out, size_t *on, uint64_t *blocked)
{
	for (size_t i = 0; i < nq; i++) {
		int block = q[i].probe && !has(q[i].key);
		*blocked += (uint64_t)block;
		memcpy(out + *on, q[i].s, q[i].len);
		*on += q[i].len;
		memcpy(out + *on, block ? ",block\n" : ",allow\n", 7);
		*on += 7;
	}
}

int main(int argc, char **argv)
{
	int batch = argc == 4 && !strcmp(argv[1], "--batch");
	argv += batch;
	argc -= batch;
	if (argc != 3) {
		fprintf(stderr, "usage: batch_floor [--batch] UNLOCKED_FILE CSV > OUT\n");
		return 2;
	}
	FILE *u = fopen(argv[1], "r"), *in = fopen(argv[2], "rb");
	if (!u || !in) {
		perror("open");
		return 2;
	}
	char line[256];
	size_t lines = 0, cap = 1024;
	while (fgets(line, sizeof line, u))
		lines++;
	while (cap < 2 * lines) /* half full at most: short probes, a small table */
		cap *= 2;
	set = calloc(cap, sizeof *set);
	mask = cap - 1;
	rewind(u);
	while (fgets(line, sizeof line, u)) /* "+8613805710000 all self" */
		if (line[0] == '+')
			add(digits(line + 1, strcspn(line + 1, " \n")));
	fclose(u);
	char *buf = malloc(BLOCK + 1), *out = malloc(2 * BLOCK);
	size_t have = 0, on = 0;
	uint64_t n = 0, blocked = 0;
	struct rec q[QN];
	size_t nq = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		size_t got = fread(buf + have, 1, BLOCK - have, in);
		have += got;
		if (!have)
			break;
		size_t i = 0;
		for (;;) {
			char *nl = memchr(buf + i, '\n', have - i);
			if (!nl && got)
				break;
			size_t len = nl ? (size_t)(nl - (buf + i)) : have - i;
			const char *s = buf + i;
			i += len + (nl != NULL);
			if (len && s[0] != 't') { /* not the header */
				struct rec *r = &q[nq++];
				r->s = s;
				r->len = len;
				cut(r);
				if (batch && r->probe)
					__builtin_prefetch(&set[mix(r->key) & mask]);
				if (nq == QN || !batch) {
					finish_recs(q, nq, out, &on, &blocked);
					n += nq;
					nq = 0;
				}
			}
			if (!nl || i >= have)
				break;
		}
		finish_recs(q, nq, out, &on, &blocked); /* their lines are about to move */
		n += nq;
		nq = 0;
		if (on > BLOCK) {
			fwrite(out, 1, on, stdout);
			on = 0;
		}
		memmove(buf, buf + i, have - i);
		have -= i;
		if (!got && !have)
			break;
		if (!got) /* a last line without newline was handled above */
			break;
	}
	fwrite(out, 1, on, stdout);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "%llu %.3f %.2f %llu\n", (unsigned long long)n, secs, (double)n / secs / 1e6,
	        (unsigned long long)blocked);
	fclose(in);
	free(buf);
	free(out);
	free(set);
	return 0;
}
