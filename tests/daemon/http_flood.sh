#!/bin/sh
# callbar serve under a descriptor flood: 5,000 idle SIP TCP connections
# (unauthenticated, as anyone can open them) and 1,000 slow HTTP clients
# each trickling a header line, spread over 127.0.0.2..127.0.0.101 so
# sip.tcp_per_source (64) and http.per_source_limit (256) do not refuse
# them.  A well-behaved client on 127.0.0.1 still gets its decision and /healthz, while every flooding
# connection is still open.  On select() the HTTP server could not use a
# descriptor past 1023, and the SIP connections had taken them all.
. "$2/lib.sh"
flood="$SRC/connflood.py"
nsip=5000 nslow=1000
hard=$(ulimit -H -n)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((nsip + nslow + 1000)) ]; then
	echo "SKIP: the hard descriptor limit ($hard) is below $((nsip + nslow + 1000))"
	exit 77
fi
# The generator holds every connection's other end.
ulimit -S -n "$hard"
write_rules r.rules 3
cat >flood.conf <<'CONF'
[http]
decide_auth = none
header_timeout = 600
[sip]
tcp_idle_timeout = 0
[rules]
file = r.rules
[registry]
url = sqlite:reg.db
[auth]
tokens = tok
CONF
start_daemon --config flood.conf --sip 127.0.0.1:0
i=0
until grep -q 'SIP on ' serve.out; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listener"; cat serve.out serve.err; exit 1; }
	sleep 0.05
done
sp=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p' serve.out)
hp=${U#http://}
python3 "$flood" flood.st --sip "127.0.0.1:$sp:$nsip" --http "$hp:$nslow" --trickle 2 \
	--sources 127.0.0.2:100 --hold 280 &
fp=$!
i=0
until grep -q 'ready=1' flood.st 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 1800 ] && { echo "FAIL: the flood never got ready"; cat flood.st; fail=1; break; }
	sleep 0.1
done
cat flood.st
EV='{"service":"voice","direction":"out","subscriber":"13805710000","peer":"+85291234567"}'
call flood_healthz 200 -m 20 "$U/healthz"
has flood_healthz body.json '{"status":"ok"}'
call flood_decide 200 -m 20 -H 'Content-Type: application/json' -d "$EV" "$U/v1/decide"
has flood_decide body.json '"verdict":"block"'
call flood_readyz 200 -m 20 "$U/readyz"
# Every flooding connection was open while the good client was served.
cat flood.st
has flood_held flood.st "sip_open=$nsip http_open=$nslow http_closed=0 failed=0"
kill "$fp"; wait "$fp" 2>/dev/null
stop_daemon
finish
