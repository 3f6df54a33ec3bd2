#!/bin/sh
# callbar sip-serve alone: CPU microseconds per call at a fixed sipp rate,
# to compare its options (the ACK filter, coalescing) run against run.
#   sh bench/sip_cpu.sh [BUILD_DIR] [RATE] [SECONDS] [sip-serve options...]
# e.g. sh bench/sip_cpu.sh build-rel 5000 10 --coalesce-us 200
# The traffic and data are bench/sip_kamailio.sh's (INVITE, 302 or 403,
# ACK; 100,000 unlocked numbers); CPU is utime+stime from /proc/PID/stat.
set -eu
b=${1:-build}
rate=${2:-5000}
secs=${3:-10}
[ $# -ge 3 ] && shift 3 || shift $#
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/sip_data.sh"
dir=$(mktemp -d /tmp/callbar-sipcpu-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
sip_data "$dir"
"$b/callbar" sip-serve --workers 2 --sip 127.0.0.1:0 --rules "$src/etc/callbar/pilots.rules" \
	--unlocked "$dir/unlocked.txt" "$@" >"$dir/cb.out" 2>"$dir/cb.err" &
pid=$!
port=$(wait_sip "$dir/cb.out") || { cat "$dir/cb.err"; exit 1; }
t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
(cd "$dir" && sipp "127.0.0.1:$port" -sf "$src/bench/kamailio/uac.xml" -inf "$dir/calls.csv" \
	-i 127.0.0.1 -r "$rate" -m $((rate * secs)) -l $((rate * 4)) -buff_size 4194304 -nostdin \
	-recv_timeout 4000 -timeout $((secs * 3 + 20)) >"$dir/sipp.out" 2>&1) || true
t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
ok=$(awk '/Successful call/ {v = $NF} END {print v + 0}' "$dir/sipp.out")
bad=$(awk '/Failed call/ {v = $NF} END {print v + 0}' "$dir/sipp.out")
hz=$(getconf CLK_TCK)
echo "callbar sip-serve $*: calls $ok failed $bad cpu $(echo "scale=2; ($t1 - $t0) / $hz" | bc)s" \
	"-> $(echo "scale=2; ($t1 - $t0) * 1000000 / $hz / ($ok + $bad)" | bc) us/call"
