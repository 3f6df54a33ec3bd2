#!/bin/sh
# The console's audit --verify (POST /console/api/audit-verify, supervisor):
# ok on a fresh chain, an agent refused, and an entry edited behind
# callbar's back named as the first at fault, as `callbar audit --verify`
# names it.
# usage: audit_verify.sh CALLBAR tests/daemon
. "$2/lib.sh"
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 not installed (tools/deps.sh)"; exit 1; }
write_rules r.rules 2
S=$("$CB" token create --role supervisor --name sup --tokens tok 2>/dev/null)
G=$("$CB" token create --role agent --name shop1 --tokens tok 2>/dev/null)
printf '[rules]\nfile = r.rules\n[registry]\nurl = sqlite:%s/reg.db\n[auth]\ntokens = tok\n' \
	"$PWD" >c.conf
start_daemon --config c.conf
call unlock 201 -X PUT -H "Authorization: Bearer $G" -d '{"channel":"shop"}' \
	"$U/v1/unlocks/13805710000"
call unlock2 201 -X PUT -H "Authorization: Bearer $G" -d '{"channel":"shop","service":"sms"}' \
	"$U/v1/unlocks/13805710001"
call verify_ok 200 -X POST -H "Authorization: Bearer $S" "$U/console/api/audit-verify"
has verify_ok body.json '"ok":true'
has verify_head body.json '"head":"'
call verify_agent 403 -X POST -H "Authorization: Bearer $G" "$U/console/api/audit-verify"
call state_ok 200 -H "Authorization: Bearer $S" "$U/console/api/audit-state"
has state_ok body.json '"ok":true'
# The first unlock's entry, edited in the database.
seq=$(sqlite3 reg.db "SELECT min(seq) FROM audit WHERE subscriber <> 0")
sqlite3 reg.db "UPDATE audit SET who = 'agent:mallory' WHERE seq = $seq"
call verify_broken 200 -X POST -H "Authorization: Bearer $S" "$U/console/api/audit-verify"
has verify_broken body.json '"ok":false'
has verify_broken_at body.json "\"first_bad\":$seq,"
"$CB" audit --verify --registry "sqlite:$PWD/reg.db" --json >cli.json 2>/dev/null
has cli_agrees cli.json "\"first_bad\":$seq,"
stop_daemon
exit $fail
