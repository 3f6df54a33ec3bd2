#!/bin/sh
# callbar serve over HTTP: decisions per second (POST /v1/decide with the
# pilots rules and a SQLite registry) against GET /healthz on the same
# daemon in the same run (the HTTP stack alone), with wrk (Debian's wrk).
# Not part of ctest.
#   sh bench/http_decide.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -eu
b=${1:-build}
secs=${2:-10}
conns=${3:-32}
src=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
dir=$(mktemp -d /tmp/callbar-http-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
printf '[http]\nlisten = 127.0.0.1:0\ndecide_auth = none\nthreads = 2\n[rules]\nfile = %s\n[registry]\nurl = sqlite:%s/reg.db\n[auth]\ntokens = %s/tok\n[log]\nlevel = warn\n' \
	"$src/etc/callbar/pilots.rules" "$dir" "$dir" >"$dir/c.conf"
"$b/callbar" serve --config "$dir/c.conf" >"$dir/out" 2>"$dir/err" &
pid=$!
i=0
until grep -q 'listening on http://' "$dir/out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$dir/err"; exit 1; }; sleep 0.05
done
u=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$dir/out")
# Events cycle over subscribers of the pilot provinces and peers abroad and
# at home, so the answers mix allow and block.
cat >"$dir/decide.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local subs = {"13805710000", "13905710001", "15003710002", "18608510003", "18979100004"}
local peers = {"+85291234567", "+12025550100", "13900000000", "+886912345678"}
local svc = {"voice", "sms"}
local dir = {"in", "out"}
local n = 0
request = function()
	n = n + 1
	local body = string.format('{"service":"%s","direction":"%s","subscriber":"%s","peer":"%s"}',
		svc[n % 2 + 1], dir[math.floor(n / 2) % 2 + 1], subs[n % 5 + 1], peers[n % 4 + 1])
	return wrk.format(nil, "/v1/decide", nil, body)
end
LUA
rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'), wrk -t2 -c$conns -d${secs}s"
for round in 1 2; do
	wrk -t2 -c"$conns" -d"${secs}s" "$u/healthz" >"$dir/h$round.txt"
	wrk -t2 -c"$conns" -d"${secs}s" -s "$dir/decide.lua" "$u" >"$dir/d$round.txt"
	h=$(rate "$dir/h$round.txt") d=$(rate "$dir/d$round.txt")
	lat=$(awk '/Latency/ {print $2}' "$dir/d$round.txt")
	echo "round $round: GET /healthz $h req/s, POST /v1/decide $d req/s (mean latency $lat), ratio $(echo "scale=3; $d / $h" | bc)"
done
non2xx=$(grep -h 'Non-2xx' "$dir"/d*.txt || true)
[ -z "$non2xx" ] || echo "decide: $non2xx"
