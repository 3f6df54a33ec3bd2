#!/bin/sh
# callbar serve over SIP/UDP: CPU per INVITE of two builds (e.g. main
# before the UDP workers decided a recvmmsg() batch in one call, and after),
# alternating in the same run on the same data.  Not part of ctest.
#   sh bench/sip_batch.sh BEFORE_BUILD AFTER_BUILD [RATE] [SECONDS] [ROUNDS] [COALESCE_US] [DATA_DIR]
# e.g. sh bench/sip_batch.sh /tmp/main/build build 20000 10 3 200
# SIPP_TRANSPORT=t1 sends every call over one TCP connection (default u1:
# UDP from one socket).
# The daemon: the pilots rules, a SQLite registry of 1,000,000 random unlock
# records (made once in DATA_DIR, default /tmp/callbar-front-data; the
# pilots rules have no limits, so the runs leave it as it was), sip.coalesce_us as given (it gathers datagrams into batches);
# sipp places RATE calls/s for SECONDS (INVITE, 302 or 403, ACK) from
# bench/gen_cdr.awk's realistic records (random over the numbering plan,
# abroad and at home).  CPU: the daemon's utime+stime (/proc/PID/stat)
# across the sipp run, per call.  The load average is printed with each row.
set -eu
before=$1
after=$2
rate=${3:-20000}
secs=${4:-10}
rounds=${5:-3}
coal=${6:-200}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/sip_data.sh"
data=${7:-/tmp/callbar-front-data}
mkdir -p "$data"
front_data "$src" "$after" "$data" 20000
dir=$(mktemp -d /tmp/callbar-sipbatch-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
: >"$dir/tok"
printf '[sip]\ncoalesce_us = %s\n[log]\nlevel = warn\n' "$coal" >"$dir/c.conf"
hz=$(getconf CLK_TCK)
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, $rate calls/s for ${secs}s, coalesce_us $coal, sipp -t ${SIPP_TRANSPORT:-u1}"
run() { # NAME BUILD
	# the last daemon's lines out of the way before the next one writes
	# (the redirection happens in the child, maybe after wait_line looks)
	rm -f "$dir/out" "$dir/err"
	"$2/callbar" serve --config "$dir/c.conf" --http 127.0.0.1:0 --sip 127.0.0.1:0 \
		--rules "$src/etc/callbar/pilots.rules" --registry "sqlite:$data/reg.db" \
		--tokens "$dir/tok" >"$dir/out" 2>"$dir/err" &
	pid=$!
	wait_line "$dir/out" 'SIP on '
	port=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p' "$dir/out" | head -1)
	u0=$(awk '{print $14}' "/proc/$pid/stat") t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	(cd "$dir" && sipp "127.0.0.1:$port" -sf "$src/bench/kamailio/uac.xml" -inf "$data/calls.csv" \
		-t "${SIPP_TRANSPORT:-u1}" -i 127.0.0.1 -r "$rate" -m $((rate * secs)) -l $((rate * 4)) -buff_size 4194304 -nostdin \
		-recv_timeout 4000 -timeout $((secs * 3 + 20)) >"$dir/sipp.out" 2>&1) || true
	u1=$(awk '{print $14}' "/proc/$pid/stat") t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
	ok=$(awk '/Successful call/ {v = $NF} END {print v + 0}' "$dir/sipp.out")
	bad=$(awk '/Failed call/ {v = $NF} END {print v + 0}' "$dir/sipp.out")
	us=$(echo "scale=2; ($t1 - $t0) * 1000000 / $hz / ($ok + $bad)" | bc)
	uu=$(echo "scale=2; ($u1 - $u0) * 1000000 / $hz / ($ok + $bad)" | bc)
	echo "$1: calls $ok failed $bad cpu $(echo "scale=2; ($t1 - $t0) / $hz" | bc)s -> $us us/call (user $uu), load $(cut -d' ' -f1 /proc/loadavg)"
}
for r in $(seq "$rounds"); do
	run "round $r before" "$before"
	run "round $r after " "$after"
done
