/*
 * callbar crash test: a writer (crash_writer) applies unlocks and prints
 * each once acknowledged; this kills it with SIGKILL at a random moment,
 * restarts it where it left off, and checks that every acknowledged unlock
 * is in the registry and that the audit chain verifies.
 *   crash_test WRITER URL KILLS [SEED]
 * It prints the seed (to replay a failure), the kills and the unlocks.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "callbar/store.h"

static long acked[1 << 16];
static size_t nacked;

/* Start the writer at start; *fd reads its standard output. */
static pid_t spawn(const char *writer, const char *url, long start, int *fd)
{
	int p[2];
	char a[32];
	if (pipe(p))
		return -1;
	snprintf(a, sizeof a, "%ld", start);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(writer, writer, url, a, "100000", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* Read acknowledged numbers; stop after want lines (0: until EOF). */
static long read_acks(FILE *f, long want)
{
	char line[64];
	long got = 0;
	while ((want == 0 || got < want) && fgets(line, sizeof line, f)) {
		if (nacked < sizeof acked / sizeof acked[0])
			acked[nacked++] = atol(line);
		got++;
	}
	return got;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: crash_test WRITER URL KILLS [SEED]\n");
		return 2;
	}
	const char *writer = argv[1], *url = argv[2];
	int kills = atoi(argv[3]);
	unsigned seed = argc > 4 ? (unsigned)atol(argv[4]) : (unsigned)time(NULL) ^ (unsigned)getpid();
	srand(seed);
	printf("crash_test: %s, seed %u\n", url, seed);
	if (!strncmp(url, "sqlite:", 7)) {
		char p[600];
		snprintf(p, sizeof p, "%s", url + 7);
		remove(p);
		snprintf(p, sizeof p, "%s-wal", url + 7);
		remove(p);
		snprintf(p, sizeof p, "%s-shm", url + 7);
		remove(p);
	}
	long next = 0;
	size_t checked = 0;
	int done = 0, bad = 0;
	for (int k = 0; k < kills; k++) {
		int fd;
		pid_t pid = spawn(writer, url, next, &fd);
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		FILE *f = fdopen(fd, "r");
		/* Kill after a random number of acknowledgements, plus a random
		 * delay so the kill also lands inside a transaction or commit. */
		long want = 1 + rand() % 120;
		long got = read_acks(f, want);
		if (got < want) {
			int st;
			waitpid(pid, &st, 0);
			fprintf(stderr, "crash_test: the writer stopped by itself after %ld (status %d)\n",
			        got, st);
			return 1;
		}
		struct timespec ts = {0, (long)(rand() % 3000) * 1000};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		read_acks(f, 0); /* what it printed before it died was acknowledged */
		fclose(f);
		done++;
		if (nacked)
			next = acked[nacked - 1] + 1;

		/* Every acknowledged unlock is there; the chain verifies. */
		struct cbar_store *s;
		struct cbar_diag d = {0};
		enum cbar_err e = cbar_store_open(&s, url, NULL, &d);
		if (e) {
			fprintf(stderr, "crash_test: after kill %d: open: %s\n", k + 1, d.msg);
			return 1;
		}
		for (; checked < nacked; checked++) {
			struct cbar_store_record r;
			if (cbar_store_get_active(s, 8613800000000ull + (unsigned long)acked[checked], &r,
			                          &d)) {
				fprintf(stderr, "crash_test: after kill %d: acknowledged unlock %ld is "
				                "missing: %s\n",
				        k + 1, acked[checked], d.msg);
				bad++;
			}
		}
		int64_t n, at;
		char head[CBAR_STORE_HASH_HEX];
		if ((e = cbar_store_audit_verify(s, &n, &at, head, &d))) {
			fprintf(stderr, "crash_test: after kill %d: audit: %s\n", k + 1, d.msg);
			bad++;
		}
		cbar_store_free(s);
		if (bad)
			break;
	}
	printf("crash_test: %d kills, %zu acknowledged unlocks, all present, audit chain "
	       "verified: %s\n",
	       done, nacked, bad ? "NO" : "yes");
	return bad ? 1 : 0;
}
