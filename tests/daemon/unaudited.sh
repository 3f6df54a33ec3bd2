#!/bin/sh
# A registry row written behind callbar's back (no audit entry vouches for
# it) never reaches decisions: the daemon keeps blocking, logs it and
# counts it in callbar_registry_unaudited_rows_total (alerted on: etc/
# prometheus/callbar-alerts.yml, CallbarRegistryTampered).
. "$2/lib.sh"
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 not installed (tools/deps.sh)"; exit 1; }
rules="$2/../../etc/callbar/pilots.rules"
printf '[http]\ndecide_auth = none\n' >u.conf
start_daemon --config u.conf --rules "$rules" --registry "sqlite:$PWD/reg.db"
EV='{"service":"voice","direction":"in","subscriber":"13805719999","peer":"+85291234567"}'
call before 200 -d "$EV" "$U/v1/decide"
has before body.json '"verdict":"block"'
seq=$(sqlite3 reg.db 'SELECT COALESCE(MAX(seq), 0) + 1 FROM audit')
sqlite3 reg.db "INSERT INTO unlock (subscriber, scope, level, status, created, expires, channel, agent, doc_type, doc_hash, revoked_at, revoked_by, revoked_why, seq) VALUES (8613805719999, 15, 'verified', 'active', 1700000000, 0, 'shop', 'mallory', '', '', 0, '', '', $seq)" ||
	{ echo "FAIL: the hand-written row could not be inserted"; fail=1; }
# the follower looks every 250 ms: give it a few rounds
i=0
until curl -s "$U/metrics" | grep -q '^callbar_registry_unaudited_rows_total [1-9]' || [ $i -ge 40 ]; do
	i=$((i + 1)); sleep 0.1
done
call metrics 200 "$U/metrics"
has counted body.json 'callbar_registry_unaudited_rows_total 1'
call after 200 -d "$EV" "$U/v1/decide"
has after body.json '"verdict":"block"'
hasnt after body.json '"exempted_by":{'
has logged serve.err 'registry rows without a valid audit entry ignored'
stop_daemon
finish
