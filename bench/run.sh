#!/bin/sh
# callbar benchmarks: run every benchmark of a build directory.  Each prints
# its result as a ratio against a baseline measured in the same run.
#   sh bench/run.sh [BUILD_DIR]
set -eu
b=${1:-build}
cmake --build "$b" --target bench_number bench_sip >/dev/null
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
taskset -c 0 "$b/bench/bench_number" 2>/dev/null || "$b/bench/bench_number"
taskset -c 0 "$b/bench/bench_sip" 2>/dev/null || "$b/bench/bench_sip"
