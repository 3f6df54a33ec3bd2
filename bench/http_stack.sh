#!/bin/sh
# callbar's HTTP stack against nginx, in the same run on the same machine:
# wrk on nginx serving a static file (the body of /healthz) is the
# baseline; then callbar's GET /healthz (the HTTP stack alone) and POST
# /v1/decide, each as a ratio of the baseline.  With a second callbar
# binary (an earlier build) it runs that one too, so a change is measured
# before and after in one run.  At 50 connections, and at 2,000, more than
# select() can watch.  Not part of ctest.
#   sh bench/http_stack.sh [CALLBAR [BEFORE_CALLBAR]] [SECONDS]
# Needs wrk; nginx is optional (without it the ratios are after/before).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
after=${1:-build/callbar}
before=${2:-}
secs=${3:-8}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
ulimit -S -n "$(ulimit -H -n)"
dir=$(mktemp -d /tmp/callbar-httpstack-XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# nginx: two workers (the cores here), epoll, keep-alive, access log off.
ng=""
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
	mkdir -p "$dir/www" "$dir/ng"
	printf '{"status":"ok"}' >"$dir/www/healthz"
	chmod 755 "$dir" "$dir/www" # nginx's workers run as another user
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$dir/ng/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile 20000;
pid $dir/ng/nginx.pid;
error_log $dir/ng/error.log;
daemon off;
events { worker_connections 8192; use epoll; }
http {
	access_log off;
	client_body_temp_path $dir/ng;
	keepalive_requests 1000000;
	default_type application/json;
	server { listen 127.0.0.1:$port; root $dir/www; }
}
EOF
	$(command -v nginx || echo /usr/sbin/nginx) -c "$dir/ng/nginx.conf" -p "$dir/ng" &
	pids="$pids $!"
	ng="http://127.0.0.1:$port"
	sleep 0.5
fi

# start_cb NAME BINARY: a daemon with the pilots rules, decisions open.
start_cb() {
	conf="$dir/$1.conf"
	printf '[http]\nlisten = 127.0.0.1:0\ndecide_auth = none\n[rules]\nfile = %s\n[registry]\nurl = sqlite:%s/%s.db\n[auth]\ntokens = %s/tok\n[log]\nlevel = warn\n' \
		"$src/etc/callbar/pilots.rules" "$dir" "$1" "$dir" >"$conf"
	# A build that knows per_source_limit gets it off: wrk is one address.
	printf '[http]\nper_source_limit = 0\n' >>"$conf"
	"$2" serve --config "$conf" --check >/dev/null 2>&1 || sed -i '$d' "$conf"
	# CBAR_HTTP_THREADS=N: http.threads for both (default: each build's own)
	[ -z "${CBAR_HTTP_THREADS:-}" ] || printf 'threads = %s\n' "$CBAR_HTTP_THREADS" >>"$conf"
	"$2" serve --config "$conf" >"$dir/$1.out" 2>"$dir/$1.err" &
	pids="$pids $!"
	i=0
	until grep -q 'listening on http://' "$dir/$1.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || { cat "$dir/$1.err"; exit 1; }; sleep 0.05
	done
	sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$dir/$1.out"
}
ua=$(start_cb after "$after")
ub=""
[ -n "$before" ] && ub=$(start_cb before "$before")

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

# run NAME URL CONNS [LUA]: requests per second, and errors if any.
run() {
	out="$dir/$1.$3.txt"
	if [ -n "${4:-}" ]; then
		wrk -t2 -c"$3" -d"${secs}s" -s "$4" "$2" >"$out" 2>&1 || true
	else
		wrk -t2 -c"$3" -d"${secs}s" "$2" >"$out" 2>&1 || true
	fi
	r=$(awk '/Requests\/sec/ {print $2}' "$out")
	e=$(grep -h 'Socket errors\|Non-2xx' "$out" | tr -s ' ' | tr '\n' ';' || true)
	printf '%s req/s' "${r:-0}"
	[ -z "$e" ] || printf ' [%s]' "$e"
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.3f", $1 / $2; else print "-" }'; }

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'), wrk -t2 -d${secs}s"
for c in 50 2000; do
	base=""
	if [ -n "$ng" ]; then
		base=$(run nginx "$ng/healthz" $c)
		echo "c=$c nginx static file:      $base"
	fi
	for who in before after; do
		[ $who = before ] && u=$ub || u=$ua
		[ -n "$u" ] || continue
		h=$(run "$who-h" "$u/healthz" $c)
		d=$(run "$who-d" "$u" $c "$dir/decide.lua")
		eval "h_$who=\${h%% *} d_$who=\${d%% *}"
		if [ -n "$base" ]; then
			echo "c=$c callbar $who GET /healthz: $h (x$(ratio "${h%% *}" "${base%% *}") nginx)"
			echo "c=$c callbar $who POST /v1/decide: $d (x$(ratio "${d%% *}" "${base%% *}") nginx)"
		else
			echo "c=$c callbar $who GET /healthz: $h; POST /v1/decide: $d"
		fi
	done
	if [ -n "$ub" ]; then
		echo "c=$c after/before: /healthz x$(ratio "$h_after" "$h_before"), /v1/decide x$(ratio "$d_after" "$d_before")"
	fi
done
