#!/bin/sh
# callbar serve: what one HTTP client may hold.  A client trickling one
# header line every half second is cut at http.header_timeout, though it
# is never silent for connection_timeout; http.per_source_limit refuses a
# source address its next connection and not the others; with the
# connections at the cap the daemon computes from its descriptor limit
# (which it raised to the hard limit at start), a reload still opens the
# rule file.  No timings: each wait is bounded far above what it waits for.
. "$2/lib.sh"
flood="$SRC/connflood.py"
write_rules r.rules 3
base='[rules]\nfile = r.rules\n[auth]\ntokens = tok\n[http]\ndecide_auth = none\n'

# wait_status FILE PATTERN: the generator's status line matches, within
# 60 seconds.
wait_status() {
	i=0
	until grep -qE "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { echo "FAIL: status never matched $2:"; cat "$1"; fail=1; return 1; }
		sleep 0.1
	done
}

# 1. The header deadline: 2 s, with 60 s of allowed silence.
printf "$base"'header_timeout = 2\nconnection_timeout = 60\n' >slow.conf
start_daemon --config slow.conf
hp=${U#http://}
python3 "$flood" slow.st --http "$hp:3" --trickle 0.5 --hold 40 &
fp=$!
# Cut by the server: long before the 40 s the generator holds them, and the
# trickle never leaves them silent for 60 s.
wait_status slow.st 'http_closed=3' || true
kill "$fp" 2>/dev/null; wait "$fp" 2>/dev/null
call deadline_healthz 200 "$U/healthz"
# A client that sends its header in time is not cut on its way.
call deadline_ok 200 -d '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}' \
	"$U/v1/decide"
stop_daemon

# 2. Per source address: 4 from 127.0.0.1, then the fifth is refused;
# another address still gets in.
printf "$base"'per_source_limit = 4\nheader_timeout = 0\n' >src.conf
start_daemon --config src.conf
hp=${U#http://}
python3 "$flood" src.st --http "$hp:4" --sources 127.0.0.1:1 --hold 60 &
fp=$!
wait_status src.st 'ready=1.*http_open=4'
got=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.1 "$U/healthz")
[ "$got" = 000 ] || { echo "FAIL per_source: a fifth connection from 127.0.0.1 got HTTP $got"; fail=1; }
call per_source_other 200 --interface 127.0.0.2 "$U/healthz"
kill "$fp"; wait "$fp" 2>/dev/null
# The four are gone once the daemon sees them close: then 127.0.0.1 is back.
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.1 "$U/healthz")" = 200 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL per_source: 127.0.0.1 never let back in"; fail=1; break; }
	sleep 0.1
done
stop_daemon

# 3. The descriptor budget: soft limit 300 and hard 600 for the daemon.  It
# raises the soft limit to 600 and caps HTTP at 600 - 256 = 344
# connections, so with every one of them taken a reload still opens the
# rule file (a cap of 1024, or the soft limit left at 300, would not).
printf "$base"'per_source_limit = 0\nheader_timeout = 0\nthreads = 4\n' >fd.conf
rm -f serve.out serve.err # not the last daemon's lines
(ulimit -S -n 300 && ulimit -H -n 600 && exec "$CB" serve --http 127.0.0.1:0 --config fd.conf \
	>serve.out 2>serve.err) &
PID=$!
i=0
until grep -q 'listening on http://' serve.out 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "FAIL: no start"; cat serve.err; exit 1; }
	sleep 0.05
done
U=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' serve.out)
hp=${U#http://}
soft=$(awk '/Max open files/ {print $4}' "/proc/$PID/limits")
[ "$soft" = 600 ] || { echo "FAIL fd_raise: soft limit $soft, want 600"; fail=1; }
has fd_cap serve.err '"connection_limit":344'
has fd_cap serve.err '"descriptor_limit":600'
# 400 connections: 344 served, the rest wait in the listen queue.
python3 "$flood" fd.st --http "$hp:400" --sources 127.0.0.2:8 --hold 120 &
fp=$!
wait_status fd.st 'ready=1'
kill -HUP "$PID"
i=0
until grep -q 'sighup' serve.err; do
	i=$((i + 1)); [ $i -gt 600 ] && break
	sleep 0.1
done
grep '"rules loaded"' serve.err | grep -q sighup ||
	{ echo "FAIL fd_reload: no reload by SIGHUP:"; cat serve.err; fail=1; }
hasnt fd_reload serve.err 'reload failed'
kill "$fp"; wait "$fp" 2>/dev/null
i=0
until [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$U/healthz")" = 200 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL fd: /healthz never answered again"; fail=1; break; }
	sleep 0.1
done
stop_daemon
finish
