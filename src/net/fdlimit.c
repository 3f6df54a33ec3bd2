/* callbar: raising and sharing the descriptor limit (fdlimit.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "fdlimit.h"

/* The kernel's ceiling for RLIMIT_NOFILE when the hard limit says
 * "unlimited": setting the soft limit above fs.nr_open fails. */
static rlim_t nr_open(void)
{
	unsigned long n = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	if (f) {
		if (fscanf(f, "%lu", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n ? (rlim_t)n : (rlim_t)1 << 20;
}

enum cbar_err cbar__fdlimit_raise(uint64_t *soft, struct cbar_diag *d)
{
	struct rlimit rl;
	*soft = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return cbar_diag_set(d, CBAR_IO, 0, 0, "getrlimit(RLIMIT_NOFILE): %s",
		                     strerror(errno));
	rlim_t want = rl.rlim_max == RLIM_INFINITY ? nr_open() : rl.rlim_max;
	*soft = rl.rlim_cur == RLIM_INFINITY ? (uint64_t)want : (uint64_t)rl.rlim_cur;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return CBAR_OK;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return cbar_diag_set(
		    d, CBAR_IO, 0, 0, "cannot raise the descriptor limit from %llu to %llu: %s",
		    (unsigned long long)*soft, (unsigned long long)want, strerror(errno));
	*soft = want;
	return CBAR_OK;
}

uint64_t cbar__fdlimit_soft(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	return rl.rlim_cur == RLIM_INFINITY ? (uint64_t)nr_open() : (uint64_t)rl.rlim_cur;
}

unsigned cbar__fdlimit_budget(uint64_t soft, unsigned reserve, unsigned floor)
{
	uint64_t n = soft > reserve ? soft - reserve : 0;
	if (n < floor)
		n = floor;
	return n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}
