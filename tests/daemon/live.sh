#!/bin/sh
# An unlock made by `callbar unlock` in another process, or through the API,
# governs the running daemon's decisions within a second; a relock too.
#   live.sh CALLBAR DAEMON_TEST_DIR REGISTRY_URL
# REGISTRY_URL "sqlite" means a SQLite file in the test's folder.
. "$2/lib.sh"
reg=$3
[ "$reg" = sqlite ] && reg="sqlite:$PWD/live.db"
rules="$2/../../etc/callbar/pilots.rules"
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
printf '[http]\ndecide_auth = none\n[auth]\ntokens = tok\n' >live.conf
start_daemon --config live.conf --rules "$rules" --registry "$reg"
HA="Authorization: Bearer $A"

# Zhejiang, China Mobile: texts from abroad are barred unless unlocked.
EV='{"service":"sms","direction":"in","subscriber":"13905710000","peer":"+85291234567","at":"2022-06-01T12:00:00+08:00"}'
call locked 200 -d "$EV" "$U/v1/decide"
has locked body.json '"verdict":"block"'
has locked body.json '"reason":"zj-cmcc-intl-sms-in"'

# within(): poll the decision every 0.1 s, at most 10 times (1 s), until it
# says $1; prints how many polls it took.
within() {
	n=0
	while [ $n -lt 10 ]; do
		curl -s -o body.json -d "$EV" "$U/v1/decide"
		grep -q "\"verdict\":\"$1\"" body.json && { echo "$n"; return 0; }
		sleep 0.1
		n=$((n + 1))
	done
	echo "never"
	return 1
}

"$CB" unlock 13905710000 --level self --scope sms --registry "$reg" >/dev/null 2>unlock.err ||
	{ echo "FAIL: callbar unlock: $(cat unlock.err)"; fail=1; }
p=$(within allow) || { echo "FAIL: the unlock did not govern decisions within 1 s"; fail=1; }
echo "unlock by another process seen after $p polls of 0.1 s"
has unlocked body.json '"exempted_by":{"subscriber":"+8613905710000"'

call relock 200 -X DELETE -H "$HA" "$U/v1/unlocks/13905710000?reason=test"
p=$(within block) || { echo "FAIL: the relock did not govern decisions within 1 s"; fail=1; }
echo "relock through the API seen after $p polls"

call unlock_api 201 -X PUT -H "$HA" -d '{"channel":"app","service":"sms"}' "$U/v1/unlocks/13905710000"
p=$(within allow) || { echo "FAIL: the API unlock did not govern decisions within 1 s"; fail=1; }
echo "unlock through the API seen after $p polls"

call metrics 200 "$U/metrics"
has metrics body.json 'callbar_registry_records'
has metrics body.json 'callbar_store_up 1'
call readyz 200 "$U/readyz"
has readyz body.json '"name":"registry","ok":true'
stop_daemon
finish
