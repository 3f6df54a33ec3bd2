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
dir=$(mktemp -d /tmp/callbar-sipcpu-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
awk 'BEGIN { for (i = 0; i < 10000; i += 2) printf "+86138057%05d all self\n", 10000 + i
	for (i = 0; i < 95000; i++) printf "+86139000%05d all self\n", i }' >"$dir/unlocked.txt"
awk 'BEGIN { print "SEQUENTIAL"; for (i = 0; i < 1000; i++) {
	s = sprintf("1380571%04d", (i * 7) % 10000)
	p = i % 5 < 3 ? sprintf("+8529123%04d", i) : sprintf("1390571%04d", i)
	print s ";" p } }' >"$dir/calls.csv"
"$b/callbar" sip-serve --workers 2 --sip 127.0.0.1:0 --rules "$src/etc/callbar/pilots.rules" \
	--unlocked "$dir/unlocked.txt" "$@" >"$dir/cb.out" 2>"$dir/cb.err" &
pid=$!
i=0
until grep -q '^sip out' "$dir/cb.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 400 ] || { cat "$dir/cb.err"; exit 1; }; sleep 0.05
done
port=$(awk '{n = split($3, a, ":"); print a[n]}' "$dir/cb.out")
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
