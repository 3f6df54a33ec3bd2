#!/bin/sh
# Limits in the daemon, two nodes on one registry: a Wangiri wave from one
# foreign number over HTTP, and another over SIP (sipp), is barred after the
# threshold on the node that counted it; the other node sees the bar within
# a second (it reads the registry's bars); GET /v1/bars lists it, /metrics
# counts it, the audit log has its `auto-bar` entry; after the bar's end the
# caller passes again; a bar lifted with DELETE /v1/bars/{key} or `callbar
# bars lift` is lifted on both nodes within a second (entry `bar-lift`); a
# reload keeps the counters of unchanged limits.
#   daemon_bars.sh CALLBAR DAEMON_TEST_DIR REGISTRY_URL   ("sqlite": a file here)
. "$2/lib.sh"
reg=$3
[ "$reg" = sqlite ] && reg="sqlite:$PWD/bars.db"
sc="$2/../sip/sipp"
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (tools/deps.sh)"; exit 1; }
cat >bars.rules <<'RULES'
timezone +08:00
zone abroad !+86
announce wangiri-warning en "This caller rang many numbers in a short time."
limit in voice from abroad per peer distinct subscriber 3/10m bar 1h reason wangiri announce wangiri-warning
pass all
RULES
S=$("$CB" token create --role supervisor --name sup --tokens tok 2>/dev/null)
HS="Authorization: Bearer $S"
G=$("$CB" token create --role agent --name shop --tokens tok 2>/dev/null)
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
printf '[http]\ndecide_auth = none\n[auth]\ntokens = tok\n[sip]\nlisten_in = 127.0.0.1:0\n' >a.conf
printf '[http]\ndecide_auth = none\n[auth]\ntokens = tok\n' >b.conf

# Node B first (its own files, in b/), then node A with start_daemon.
mkdir b
(cd b && exec "$CB" serve --http 127.0.0.1:0 --config ../b.conf --rules ../bars.rules \
	--registry "$reg" --tokens ../tok >serve.out 2>serve.err) &
PIDB=$!
trap 'kill -KILL $PIDB 2>/dev/null; cleanup' EXIT
i=0
until grep -qE 'listening on http://' b/serve.out 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 600 ] && { echo "FAIL: node B did not start"; cat b/serve.err; exit 1; }
	sleep 0.05
done
UB=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' b/serve.out)
start_daemon --config a.conf --rules bars.rules --registry "$reg" --tokens tok
UA=$U
i=0
until grep -q 'SIP on ' serve.out; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listener"; cat serve.out serve.err; exit 1; }
	sleep 0.05
done
sp=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p' serve.out)

T=$(date +%s)
at() { date -u -d "@$(($T + $1))" +%Y-%m-%dT%H:%M:%SZ; }
ev() { # SUBSCRIBER PEER OFFSET
	printf '{"service":"voice","direction":"in","subscriber":"%s","peer":"%s","at":"%s"}' \
		"$1" "$2" "$(at "$3")"
}

# The wave over HTTP on node A: three subscribers pass (counted), the fourth
# takes the caller over: barred, with the limit, its key, count and bar.
for n in 1 2 3; do
	call "wave_$n" 200 -d "$(ev 1380571000$n +447700900001 $n)" "$UA/v1/decide"
	has "wave_$n" body.json '"verdict":"allow"'
	has "wave_$n" body.json "\"key\":\"+447700900001\",\"count\":$n,"
done
call wave_4 200 -d "$(ev 13805710004 +447700900001 4)" "$UA/v1/decide"
has wave_4 body.json '"verdict":"block"'
has wave_4 body.json '"reason":"wangiri"'
has wave_4 body.json '"announcement_name":"wangiri-warning"'
has wave_4 body.json '"rule":"bars.rules:4"'
has wave_4 body.json "\"limit\":{\"rule\":\"bars.rules:4\",\"reason\":\"wangiri\",\"key\":\"+447700900001\",\"count\":4,\"barred_until\":\"$(at 3604)\",\"new_bar\":true}"

# within URL EVENT VERDICT: poll every 0.1 s, at most 10 times (1 s); prints
# how many polls it took.
within() {
	n=0
	while [ $n -lt 10 ]; do
		curl -s -o body.json -d "$2" "$1/v1/decide"
		grep -q "\"verdict\":\"$3\"" body.json && { echo "$n"; return 0; }
		sleep 0.1
		n=$((n + 1))
	done
	echo never
	return 1
}
# Node B counted nothing of it, and bars the caller within a second.
p=$(within "$UB" "$(ev 13805710009 +447700900001 5)" block) ||
	{ echo "FAIL: node B did not bar +447700900001 within 1 s"; cat body.json; fail=1; }
echo "HTTP wave: node B barred the caller after $p polls of 0.1 s"
has node_b body.json '"reason":"wangiri"'
call bars_list 200 -H "$HS" "$UB/v1/bars"
has bars_list body.json '"key":"+447700900001"'
has bars_list body.json '"rule":"bars.rules:4"'
has bars_list body.json '"reason":"wangiri"'
err bars_anon 401 UNAUTHENTICATED null "$UB/v1/bars"
call bars_agent 403 -H "Authorization: Bearer $G" "$UB/v1/bars"
call metrics 200 "$UA/metrics"
has metrics body.json 'callbar_limit_hits_total{limit="wangiri",result="over"} 1'
has metrics body.json 'callbar_limit_bars{limit="wangiri"} 1'
"$CB" audit --registry "$reg" >audit.txt 2>&1
has audit audit.txt 'auto-bar'
has audit audit.txt 'key=+447700900001 limit='

# A reload keeps the counters of a limit whose statement did not change:
# three calls counted before it, the fourth after it goes over.
for n in 1 2 3; do
	curl -s -o body.json -d "$(ev 1350571000$n +447700900005 $((10 + n)))" "$UA/v1/decide"
done
has before_reload body.json '"count":3,'
call reload 200 -X POST -H "Authorization: Bearer $A" "$UA/v1/reload"
call after_reload 200 -d "$(ev 13505710004 +447700900005 14)" "$UA/v1/decide"
has after_reload body.json '"verdict":"block"'
has after_reload body.json '"count":4,'

# After the bar's end (1 h after the fourth call, on the events' own time)
# the caller passes again, on both nodes, and counts from zero.
call expired_a 200 -d "$(ev 13805710001 +447700900001 3700)" "$UA/v1/decide"
has expired_a body.json '"verdict":"allow"'
has expired_a body.json '"count":1,'
call expired_b 200 -d "$(ev 13805710001 +447700900001 3700)" "$UB/v1/decide"
has expired_b body.json '"verdict":"allow"'

# The wave over SIP (direction in: the caller in From, the subscriber in
# the Request-URI), on the wall clock's time.
h=127.0.0.1
sipp_run() { # NAME SCENARIO -set ...
	name=$1 xml=$2
	shift 2
	sipp "$h:$sp" -sf "$sc/$xml.xml" -t u1 -i $h -m 1 -nostdin -recv_timeout 5000 -timeout 15 \
		-timeout_error -trace_err -error_file "$name.log" "$@" >"$name.sipp" 2>&1 ||
		{ echo "FAIL $name: sipp exit $?"; head -30 "$name.log"; fail=1; }
}
for n in 1 2 3; do
	sipp_run "sip_$n" invite_302 -set ruri "sip:1390571000$n@$h" -set from "sip:+447700900002@$h"
done
sipp_run sip_4 invite_403 -set ruri "sip:13905710004@$h" -set from "sip:+447700900002@$h" \
	-set reason 'Q.850;cause=21;text="wangiri"' -set rule "bars.rules:4"
NOW=$(( $(date +%s) - T ))
p=$(within "$UB" "$(ev 13905710009 +447700900002 $NOW)" block) ||
	{ echo "FAIL: node B did not bar the SIP wave's caller within 1 s"; fail=1; }
echo "SIP wave: node B barred the caller after $p polls of 0.1 s"

# Lifted through the API on node B (audited by the token's name): both
# nodes let the caller through within a second.
call lift 200 -X DELETE -H "$HS" "$UB/v1/bars/+447700900002"
has lift body.json '"lifted":1'
p=$(within "$UA" "$(ev 13905710008 +447700900002 $NOW)" allow) ||
	{ echo "FAIL: node A did not lift the bar within 1 s"; fail=1; }
echo "lift on node B seen by node A after $p polls of 0.1 s"
err lift_again 404 STORE_NOTFOUND null -X DELETE -H "$HS" "$UB/v1/bars/+447700900002"
"$CB" audit --registry "$reg" >audit.txt 2>&1
has audit_lift audit.txt 'sup bar-lift'

# And by the CLI: a third wave, lifted with `callbar bars lift`.
for n in 1 2 3 4; do
	curl -s -o body.json -d "$(ev 1370571000$n +447700900003 $((NOW + n)))" "$UA/v1/decide"
done
has wave3 body.json '"verdict":"block"'
# the node writes its bars to the registry each 0.25 s: wait for it (2 s at most)
n=0
until "$CB" bars list --registry "$reg" >bars.txt && grep -q '+447700900003' bars.txt; do
	n=$((n + 1)); [ $n -ge 20 ] && break
	sleep 0.1
done
has cli_list bars.txt '+447700900003 bars.rules:4 wangiri count 4'
"$CB" bars lift +447700900003 --as ops --registry "$reg" >lift.txt ||
	{ echo "FAIL: callbar bars lift"; cat lift.txt; fail=1; }
has cli_lift lift.txt 'lifted 1 bar of +447700900003'
p=$(within "$UA" "$(ev 13705710009 +447700900003 $((NOW + 6)))" allow) ||
	{ echo "FAIL: node A did not follow the CLI's lift within 1 s"; fail=1; }
"$CB" audit --verify --registry "$reg" >verify.txt 2>&1
has verify verify.txt 'audit chain ok'

# A bar row lengthened by hand (sqlite3 or psql): `audit --verify` and the
# daemon's verify name it, as they name an edited audit entry.
case $reg in
sqlite:*) tsql() { sqlite3 "${reg#sqlite:}" "$1"; } ;;
*) tsql() { psql -q -X -t -A -v ON_ERROR_STOP=1 "$reg" -c "$1"; } ;;
esac
bid=$(tsql "SELECT min(id) FROM bar WHERE bar_key = '+447700900003'")
tsql "UPDATE bar SET until = until + 86400 WHERE id = $bid" >/dev/null
"$CB" audit --verify --registry "$reg" >verify.txt 2>&1 &&
	{ echo "FAIL: verify passed a bar edited by hand"; fail=1; }
has verify_bar verify.txt "audit chain BROKEN at $bid:"
has verify_bar verify.txt "bar #$bid (key +447700900003) differs from what its auto-bar entry says"
call verify_bar_daemon 200 -X POST -H "$HS" "$UB/console/api/audit-verify"
has verify_bar_daemon body.json "\"first_bad\":$bid,"
tsql "UPDATE bar SET until = until - 86400 WHERE id = $bid" >/dev/null
"$CB" audit --verify --registry "$reg" >verify.txt 2>&1
has verify_again verify.txt 'audit chain ok'

kill -TERM $PIDB
wait $PIDB || { echo "FAIL: node B exit $?"; cat b/serve.err; fail=1; }
stop_daemon
finish
