#!/bin/sh
# GET /v1/subscribers/{number} latency (curl, a new connection each) and
# callbar status --rules time, on a SQLite registry:
#   sh bench/status_latency.sh   (after make; uses build/callbar)
set -e
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d); cd "$W"
CB=$SRC/build/callbar
R=$SRC/etc/callbar/pilots.rules
A=$($CB token create --role agent --name a --tokens tok 2>/dev/null)
$CB unlock 15837100001 --scope sms --level self --registry sqlite:r.db --rules $R >/dev/null
$CB serve --http 127.0.0.1:0 --rules $R --registry sqlite:r.db --tokens tok >out 2>err &
P=$!
until grep -q "listening on" out 2>/dev/null; do sleep 0.05; done
U=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' out)
for i in $(seq 300); do curl -s -o /dev/null -w "%{time_total}\n" -H "Authorization: Bearer $A" $U/v1/subscribers/15837100001; done | sort -n | awk '{a[NR]=$1} END {print "GET /v1/subscribers: n="NR, "p50="a[int(NR*0.5)]*1000 "ms", "p99="a[int(NR*0.99)]*1000 "ms", "max="a[NR]*1000 "ms"}'; echo
kill $P; wait $P || true
/usr/bin/time -f "status --rules --json: %e s, %M KB" $CB status 15837100001 --registry sqlite:r.db --rules $R --json >/dev/null
cd / && rm -rf "$W"
