#!/bin/sh
# callbar benchmarks: run every benchmark of a build directory, one core.
# Each prints its result as a ratio against a baseline measured in the same
# run.  bench/batch.sh (callbar batch over a 1 GB CSV, and
# bench_decide_real on that file's events) takes minutes and is run by hand; so is bench/sip_kamailio.sh (sip-serve against Kamailio under
# sipp, CPU per call and highest rate), and bench/replay.sh (a synthetic
# day through three nodes over HTTP and SIP, docs/capacity.md).
#   sh bench/run.sh [BUILD_DIR]
set -eu
b=${1:-build}
benches="bench_number bench_rules bench_sip"
cmake --build "$b" --target $benches >/dev/null
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for x in $benches; do
	taskset -c 0 "$b/bench/$x" 2>/dev/null || "$b/bench/$x"
done
# The registry: 10 million records from SQLite into memory, and durable
# unlocks per second on SQLite and on a private PostgreSQL server.
cmake --build "$b" --target bench_registry >/dev/null
pgdir=/tmp/callbar-pg-bench-$$
bdir=$(mktemp -d)
if sh tests/pg.sh start "$pgdir" 45999 >/dev/null 2>&1; then
	"$b/bench/bench_registry" "$bdir" "${CBAR_BENCH_RECORDS:-10000000}" \
	    "postgresql:///callbar?host=$pgdir&port=45999&user=postgres" || true
	sh tests/pg.sh stop "$pgdir" >/dev/null 2>&1
else
	"$b/bench/bench_registry" "$bdir" "${CBAR_BENCH_RECORDS:-10000000}" || true
fi
rm -rf "$bdir"
