#!/bin/sh
# Tokens kept in the unlock registry (auth.tokens = registry): created and
# revoked with `callbar token --registry`, known to every daemon on that
# registry within a second, stored as hashes only.
#   tokens_registry.sh CALLBAR DAEMON_TEST_DIR REGISTRY_URL ("sqlite": a file here)
. "$2/lib.sh"
reg=$3
[ "$reg" = sqlite ] && reg="sqlite:$PWD/tok.db"
rules="$2/../../etc/callbar/pilots.rules"
A=$("$CB" token create --role admin --name ops --registry "$reg" 2>create.err) ||
	{ echo "FAIL: token create: $(cat create.err)"; fail=1; }
G=$("$CB" token create --role agent --name shop-1 --registry "$reg" 2>/dev/null)
"$CB" token create --role agent --name shop-1 --registry "$reg" >/dev/null 2>dup.err &&
	{ echo "FAIL: a taken name was accepted"; fail=1; }
grep -q "a token named 'shop-1' exists" dup.err || { echo "FAIL: dup message"; cat dup.err; fail=1; }
"$CB" token list --registry "$reg" >list.txt
grep -q '^ops	admin	' list.txt && grep -q '^shop-1	agent	' list.txt ||
	{ echo "FAIL: token list:"; cat list.txt; fail=1; }

printf '[rules]\nfile = %s\n[registry]\nurl = %s\n[auth]\ntokens = registry\n' "$rules" "$reg" >t.conf
start_daemon --config t.conf
call admin_rules 200 -H "Authorization: Bearer $A" "$U/v1/rules"
call agent_reload 403 -X POST -H "Authorization: Bearer $G" "$U/v1/reload"
call nobody 401 -H "Authorization: Bearer cbt_not-a-token" "$U/v1/rules"

# A token made after the daemon started is known within a second; a revoked
# one is refused within a second.
N=$("$CB" token create --role supervisor --name night --registry "$reg" 2>/dev/null)
ok=0 n=0
while [ $n -lt 20 ]; do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $N" "$U/v1/audit")" = 200 ] &&
		{ ok=1; break; }
	sleep 0.1
	n=$((n + 1))
done
[ $ok = 1 ] || { echo "FAIL: a new token was not known within 2 s"; fail=1; }
"$CB" token revoke shop-1 --registry "$reg" >/dev/null 2>&1 || { echo "FAIL: revoke"; fail=1; }
"$CB" token revoke shop-1 --registry "$reg" >/dev/null 2>&1 && { echo "FAIL: revoked twice"; fail=1; }
ok=0 n=0
while [ $n -lt 20 ]; do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $G" "$U/v1/rules")" = 401 ] &&
		{ ok=1; break; }
	sleep 0.1
	n=$((n + 1))
done
[ $ok = 1 ] || { echo "FAIL: a revoked token was still accepted after 2 s"; fail=1; }
stop_daemon

# Only hashes are stored: no token appears in the registry's files.
case $reg in
sqlite:*)
	for t in "$A" "$G" "$N"; do
		grep -rqF -- "$t" "${reg#sqlite:}"* 2>/dev/null && { echo "FAIL: a token is stored in clear"; fail=1; }
	done
	;;
esac

# Token changes are changes of the registry: in its audit chain, by who
# made them (--by, else cli:LOGIN), and verify checks the token table
# against the chain, so a token put in behind callbar's back shows.
case $reg in
sqlite:*) sql() { sqlite3 "${reg#sqlite:}" "$1"; } ;;
*) sql() { psql -q -X -v ON_ERROR_STOP=1 "$reg" -c "$1" >/dev/null; } ;;
esac
"$CB" token create --role agent --name shop-2 --by lead-ann --registry "$reg" >/dev/null 2>&1 ||
	{ echo "FAIL: token create --by"; fail=1; }
"$CB" audit --registry "$reg" >audit.txt 2>&1 || { echo "FAIL: audit"; cat audit.txt; fail=1; }
has audit_cli audit.txt " cli:"
has audit_by audit.txt " lead-ann token-add"
has audit_text audit.txt "after:  token=shop-2 role=agent sha256="
has audit_revoke audit.txt "before: token=shop-1 role=agent sha256="
for t in "$A" "$G" "$N"; do hasnt audit_no_token audit.txt "$t"; done
"$CB" audit --verify --registry "$reg" >v.txt 2>&1 || { echo "FAIL: verify"; cat v.txt; fail=1; }
sql "INSERT INTO token (name, role, hash, created) VALUES ('rogue', 'admin', '$(printf '%064d' 0)', 0)"
"$CB" audit --verify --registry "$reg" >v.txt 2>&1 && { echo "FAIL: verify missed a rogue token"; fail=1; }
has rogue v.txt "token 'rogue' has no audit entry"
sql "DELETE FROM token WHERE name = 'rogue'"
sql "UPDATE token SET role = 'admin' WHERE name = 'shop-2'"
"$CB" audit --verify --registry "$reg" >v.txt 2>&1 && { echo "FAIL: verify missed a raised role"; fail=1; }
has raised v.txt "token 'shop-2' differs from what its last audit entry"
sql "UPDATE token SET role = 'agent' WHERE name = 'shop-2'"
sql "DELETE FROM token WHERE name = 'night'"
"$CB" audit --verify --registry "$reg" >v.txt 2>&1 && { echo "FAIL: verify missed a deleted token"; fail=1; }
has deleted v.txt "token 'night' of the audit log"
finish
