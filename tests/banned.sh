#!/bin/sh
# src/banned.h refuses each banned function at compile time, and leaves
# their declarations and the safe ones (snprintf, memcpy) alone.
set -u
cc=$1 banned=$2
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
fail=0
printf '#include <string.h>\n#include <stdio.h>\nint f(char *d, const char *s) { snprintf(d, 4, "%%s", s); memcpy(d, s, 1); return 0; }\n' >"$work/ok.c"
"$cc" -include "$banned" -c "$work/ok.c" -o "$work/ok.o" || { echo "FAIL: safe calls refused"; fail=1; }
for call in 'strcpy(d, s)' 'strcat(d, s)' 'strncat(d, s, 1)' 'sprintf(d, "%s", s)' \
	'atoi(s)' 'strtok(d, s)'; do
	printf '#include <stdlib.h>\n#include <string.h>\n#include <stdio.h>\nvoid f(char *d, const char *s);\nvoid f(char *d, const char *s) { (void)%s; }\n' "$call" >"$work/bad.c"
	if "$cc" -include "$banned" -c "$work/bad.c" -o "$work/bad.o" 2>"$work/err"; then
		echo "FAIL: $call compiled"; fail=1
	elif ! grep -q 'banned_function' "$work/err"; then
		echo "FAIL: $call refused without naming the ban:"; cat "$work/err"; fail=1
	fi
done
[ $fail = 0 ] && echo "banned.h: every banned call refused"
exit $fail
