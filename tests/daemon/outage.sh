#!/bin/sh
# The registry goes away under a running daemon (a private PostgreSQL
# server, stopped and started again): decisions go on with the last copy,
# /readyz and callbar_store_up say the registry is down, and when it comes
# back the daemon reconnects and catches up.
#   outage.sh CALLBAR DAEMON_TEST_DIR
. "$2/lib.sh"
pgsh="$2/../pg.sh"
pgdir=/tmp/callbar-pg-outage-$$
port=$((40000 + $$ % 10000))
sh "$pgsh" start "$pgdir" "$port" >pg.log 2>&1 || { echo "FAIL: PostgreSQL did not start"; cat pg.log; exit 1; }
trap 'sh "$pgsh" stop "$pgdir" >/dev/null 2>&1' EXIT
reg="postgresql:///callbar_live?host=$pgdir&port=$port&user=postgres"
rules="$2/../../etc/callbar/pilots.rules"
printf '[http]\ndecide_auth = none\n[auth]\ntokens = tok\n' >o.conf
start_daemon --config o.conf --rules "$rules" --registry "$reg"

ev() { # SUBSCRIBER: a text from Hong Kong in June 2022
	printf '{"service":"sms","direction":"in","subscriber":"%s","peer":"+85291234567","at":"2022-06-01T12:00:00+08:00"}' "$1"
}
# until_ok N CMD...: retry CMD every 0.1 s, at most N times.
until_ok() {
	n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
verdict_is() { # SUBSCRIBER VERDICT
	curl -s -o body.json -d "$(ev "$1")" "$U/v1/decide" && grep -q "\"verdict\":\"$2\"" body.json
}
ready_is() { # CODE
	[ "$(curl -s -o ready.json -w '%{http_code}' "$U/readyz")" = "$1" ]
}

"$CB" unlock 13905710000 --level self --scope sms --registry "$reg" >/dev/null 2>&1 ||
	{ echo "FAIL: unlock"; fail=1; }
until_ok 10 verdict_is 13905710000 allow || { echo "FAIL: unlock not seen"; fail=1; }

sh "$pgsh" pause "$pgdir" >>pg.log 2>&1
until_ok 50 ready_is 503 || { echo "FAIL: /readyz still 200 with the registry down"; cat ready.json; fail=1; }
has readyz_down ready.json '"name":"registry","ok":false'
call metrics_down 200 "$U/metrics"
has metrics_down body.json 'callbar_store_up 0'
# Decisions go on, on the last copy: the unlock still holds, the rest is barred.
verdict_is 13905710000 allow || { echo "FAIL: decision lost the last copy"; cat body.json; fail=1; }
verdict_is 13705710000 block || { echo "FAIL: a locked line passed"; cat body.json; fail=1; }
# Registry routes say the registry is unavailable.
call status_down 503 "$U/v1/unlocks/13905710000" -H "Authorization: Bearer $("$CB" token create --role admin --name o --tokens tok 2>/dev/null)"

sh "$pgsh" resume "$pgdir" "$port" >>pg.log 2>&1 || { echo "FAIL: PostgreSQL did not resume"; cat pg.log; }
until_ok 50 ready_is 200 || { echo "FAIL: /readyz did not recover"; cat ready.json; fail=1; }
"$CB" unlock 13705710000 --level self --scope sms --registry "$reg" >/dev/null 2>&1 ||
	{ echo "FAIL: unlock after the outage"; fail=1; }
until_ok 10 verdict_is 13705710000 allow || { echo "FAIL: change after the outage not followed"; fail=1; }
call metrics_up 200 "$U/metrics"
has metrics_up body.json 'callbar_store_up 1'
stop_daemon
finish
