#!/bin/sh
# callbar serve over HTTP: CPU per item of POST /v1/decide/batch for two
# builds (e.g. main, deciding each item on its own, and after, deciding
# the items in chunks of 64 with one engine call), alternating in the same
# run on the same data, with wrk (Debian's wrk).  Not part of ctest.
#   sh bench/http_batch.sh BEFORE_BUILD AFTER_BUILD [ITEMS] [SECONDS] [ROUNDS] [DATA_DIR]
# e.g. sh bench/http_batch.sh /tmp/main/build build 100 10 3
# The daemon: 2 HTTP threads, the pilots rules, a SQLite registry of
# 1,000,000 random unlock records (bench/sip_data.sh's front_data, made
# once in DATA_DIR, default /tmp/callbar-front-data).  The bodies: JSON
# arrays of ITEMS events each, bench/gen_cdr.awk's realistic records
# (random over the numbering plan, voice and SMS, in and out, times
# unsorted), cycled by wrk (2 threads, 8 connections).  CPU: the daemon's
# utime+stime (/proc/PID/stat) across the wrk run, per item.
set -eu
before=$1
after=$2
items=${3:-100}
secs=${4:-10}
rounds=${5:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/sip_data.sh"
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
data=${6:-/tmp/callbar-front-data}
mkdir -p "$data"
front_data "$src" "$after" "$data" 20000
dir=$(mktemp -d /tmp/callbar-httpbatch-XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
: >"$dir/tok"
printf '[http]\ndecide_auth = none\nthreads = 2\n[log]\nlevel = warn\n' >"$dir/c.conf"
# One body a line: ITEMS records each, a time without a zone given the
# rule file's (+08:00).
awk -F, -v k="$items" 'NR > 1 {
	t = length($1) == 19 ? $1 "+08:00" : $1
	e = sprintf("{\"service\":\"%s\",\"direction\":\"%s\",\"subscriber\":\"%s\",\"peer\":\"%s\",\"at\":\"%s\"}", $2, $3, $4, $5, t)
	b = b (n ? "," : "") e
	if (++n == k) { print "[" b "]"; b = ""; n = 0 }
}' "$data/cdr.csv" >"$dir/bodies.txt"
cat >"$dir/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
for line in io.lines("$dir/bodies.txt") do bodies[#bodies + 1] = line end
local n = 0
request = function()
	n = n + 1
	return wrk.format(nil, "/v1/decide/batch", nil, bodies[n % #bodies + 1])
end
LUA
hz=$(getconf CLK_TCK)
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, $(wc -l <"$dir/bodies.txt") bodies of $items items, wrk -t2 -c8 -d${secs}s"
run() { # NAME BUILD
	# the last daemon's lines out of the way before the next one writes
	# (the redirection happens in the child, maybe after wait_line looks)
	rm -f "$dir/out" "$dir/err"
	"$2/callbar" serve --config "$dir/c.conf" --http 127.0.0.1:0 \
		--rules "$src/etc/callbar/pilots.rules" --registry "sqlite:$data/reg.db" \
		--tokens "$dir/tok" >"$dir/out" 2>"$dir/err" &
	pid=$!
	wait_line "$dir/out" 'listening on http://'
	u=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$dir/out")
	u0=$(awk '{print $14}' "/proc/$pid/stat") t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	wrk -t2 -c8 -d"${secs}s" -s "$dir/batch.lua" "$u" >"$dir/wrk.txt" 2>&1
	kill -0 "$pid" 2>/dev/null || { echo "$1: the daemon is gone:"; tail -5 "$dir/err"; cat "$dir/wrk.txt"; }
	u1=$(awk '{print $14}' "/proc/$pid/stat") t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
	req=$(awk '/requests in/ {print $1}' "$dir/wrk.txt")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk.txt")
	us=$(echo "scale=3; ($t1 - $t0) * 1000000 / $hz / ($req * $items)" | bc)
	uu=$(echo "scale=3; ($u1 - $u0) * 1000000 / $hz / ($req * $items)" | bc)
	echo "$1: $req requests ($((req * items)) items${non2xx:+, $non2xx non-2xx}) cpu $(echo "scale=2; ($t1 - $t0) / $hz" | bc)s -> $us us/item (user $uu), load $(cut -d' ' -f1 /proc/loadavg)"
}
for r in $(seq "$rounds"); do
	run "round $r before" "$before"
	run "round $r after " "$after"
done
