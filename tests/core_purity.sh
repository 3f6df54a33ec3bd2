#!/bin/sh
# The core (src/core) decides from what it is given: no files, sockets,
# clocks, threads or environment.  This lists the undefined symbols of its
# archive and fails on any that would reach the outside world.
set -eu
lib=$1
banned='^(fopen|fdopen|freopen|open|openat|creat|read|write|pread|pwrite|close|socket|connect|bind|listen|accept|accept4|send|sendto|sendmsg|recv|recvfrom|recvmsg|time|clock_gettime|gettimeofday|clock|localtime|localtime_r|gmtime|mktime|pthread_.*|getenv|secure_getenv|system|popen|fork|exec.*|printf|fprintf|puts|fputs|fwrite|rand|random|srand)$'
bad=$(nm -u "$lib" | awk '{print $NF}' | sed 's/@.*//' | grep -E "$banned" | sort -u || true)
if [ -n "$bad" ]; then
	echo "src/core calls the outside world: $bad" >&2
	exit 1
fi
echo "core is pure: $(nm -u "$lib" | awk '{print $NF}' | sort -u | tr '\n' ' ')"
# and the layers above it include downhill only (tests/layers.sh)
sh "$(dirname "$0")/layers.sh" "$(dirname "$0")/../src"
