#!/bin/sh
# Tokens and roles: callbar token create/list/revoke, and what each role may
# do (agent < supervisor < admin).  Refusals are 401/403 JSON errors that
# never say whether a token or a name exists.
. "$2/lib.sh"

write_rules r.rules 2
tk() { "$CB" token "$@" --tokens tok; }

# The command: create prints the token once; only its hash is kept.
A=$(tk create --role admin --name ops 2>create.err) || { echo "FAIL create admin"; fail=1; }
has create_msg create.err "created 'ops' (admin)"
S=$(tk create --role supervisor --name sup 2>/dev/null)
G=$(tk create --role agent --name shop1 2>/dev/null)
G2=$(tk create --role agent --name shop2 2>/dev/null)
case $A in cbt_???????????????????????????????????????????) ;; *) echo "FAIL token shape: $A"; fail=1 ;; esac
[ "$A" != "$S" ] || { echo "FAIL tokens repeat"; fail=1; }
hasnt file_no_token tok "$A"
has file_hash tok "$(printf %s "$A" | sha256sum | cut -d' ' -f1)"
[ "$(stat -c %a tok)" = 600 ] || { echo "FAIL token file mode $(stat -c %a tok)"; fail=1; }
tk list >list.out || { echo "FAIL list"; fail=1; }
has list list.out "ops	admin	20"
has list list.out "sup	supervisor	"
has list list.out "shop1	agent	"
hasnt list_no_token list.out "$A"
tk create --role admin --name ops >/dev/null 2>dup.err && { echo "FAIL duplicate name accepted"; fail=1; }
has dup dup.err "a token named 'ops' exists"
tk create --role root --name x >/dev/null 2>role.err && { echo "FAIL bad role accepted"; fail=1; }
tk create --role agent --name 'bad name' >/dev/null 2>&1 && { echo "FAIL bad name accepted"; fail=1; }
tk create --role agent >/dev/null 2>&1 && { echo "FAIL create without name"; fail=1; }
tk revoke nobody 2>rev.err && { echo "FAIL revoke of an unknown name"; fail=1; }
has revoke_unknown rev.err "no token named 'nobody'"
tk frobnicate >/dev/null 2>&1 && { echo "FAIL unknown verb"; fail=1; }

# Ten commands at once lose nobody's line (they take PATH.lock in turn).
for i in 0 1 2 3 4 5 6 7 8 9; do tk create --role agent --name "par$i" >"par$i.tok" 2>/dev/null & done
wait
tk list >par.out
[ "$(grep -c '^par[0-9]	agent	' par.out)" = 10 ] || { echo "FAIL parallel creates:"; cat par.out; fail=1; }
for i in 0 1 2 3 4 5 6 7 8 9; do tk revoke "par$i" || fail=1; done

start_daemon --rules r.rules --tokens tok
EV='{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}'
bearer() { echo "Authorization: Bearer $1"; }

# No token, a malformed header, an unknown token: the same 401.
err no_token 401 UNAUTHENTICATED null "$U/v1/rules"
has no_token hdr.txt 'WWW-Authenticate: Bearer'
cp body.json e1.json
err basic 401 UNAUTHENTICATED null -H "Authorization: Basic b3BzOm9wcw==" "$U/v1/rules"
cmp -s body.json e1.json || { echo "FAIL 401 answers differ"; fail=1; }
err unknown_token 401 UNAUTHENTICATED null -H "$(bearer cbt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)" "$U/v1/rules"
cmp -s body.json e1.json || { echo "FAIL 401 answers differ"; fail=1; }
err empty_token 401 UNAUTHENTICATED null -H "Authorization: Bearer " "$U/v1/rules"
err decide_needs_token 401 UNAUTHENTICATED null -d "$EV" "$U/v1/decide"
# Open routes.
call healthz_open 200 "$U/healthz"
call metrics_open 200 "$U/metrics"

# agent: read rules, unlock, status, keyword, decide; not relock, audit, reload.
call agent_rules 200 -H "$(bearer "$G")" "$U/v1/rules"
call agent_decide 200 -H "$(bearer "$G")" -d "$EV" "$U/v1/decide"
has agent_decide body.json '"verdict":'
call agent_unlock 201 -X PUT -H "$(bearer "$G")" -d '{"channel":"app"}' "$U/v1/unlocks/13805710000"
call agent_status 200 -H "$(bearer "$G")" "$U/v1/unlocks/13805710000"
call agent_keyword 200 -H "$(bearer "$G")" -d '{"subscriber":"13805710000","keyword":"1219"}' "$U/v1/keyword"
err agent_relock 403 FORBIDDEN null -X DELETE -H "$(bearer "$G")" "$U/v1/unlocks/13805710000"
has agent_relock body.json 'supervisor'
err agent_audit 403 FORBIDDEN null -H "$(bearer "$G")" "$U/v1/audit"
err agent_reload 403 FORBIDDEN null -X POST -H "$(bearer "$G")" "$U/v1/reload"
# supervisor: also relock and audit; not reload.
call sup_relock 200 -X DELETE -H "$(bearer "$S")" "$U/v1/unlocks/13805710000"
call sup_audit 200 -H "$(bearer "$S")" "$U/v1/audit"
has sup_audit body.json '"what":"relock"'
call sup_unlock 201 -X PUT -H "$(bearer "$S")" -d '{"channel":"shop"}' "$U/v1/unlocks/13805710000"
err sup_reload 403 FORBIDDEN null -X POST -H "$(bearer "$S")" "$U/v1/reload"
has sup_reload body.json 'admin'
# admin: everything.
call admin_reload 200 -X POST -H "$(bearer "$A")" "$U/v1/reload"
has admin_reload body.json '"reloaded":true'
call admin_audit 200 -H "$(bearer "$A")" "$U/v1/audit"

# A token created or revoked while the daemon runs counts at once.
call shop2_before 200 -H "$(bearer "$G2")" "$U/v1/rules"
tk revoke shop2 || { echo "FAIL revoke"; fail=1; }
err shop2_revoked 401 UNAUTHENTICATED null -H "$(bearer "$G2")" "$U/v1/rules"
call shop1_still 200 -H "$(bearer "$G")" "$U/v1/rules"
N=$(tk create --role supervisor --name night 2>/dev/null)
call night_new 200 -H "$(bearer "$N")" "$U/v1/audit"
tk list >list2.out
hasnt list_revoked list2.out shop2
has list_new list2.out "night	supervisor"
# A token file broken by hand keeps the tokens that were good.
cp tok tok.good
echo "garbage line" >>tok
call broken_file_keeps 200 -H "$(bearer "$G")" "$U/v1/rules"
cp tok.good tok
hasnt log_tokens serve.err "$G"
stop_daemon

# metrics_auth = on: /metrics needs a token too.
printf '[http]\nmetrics_auth = on\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n' >m.conf
start_daemon --config m.conf
err metrics_closed 401 UNAUTHENTICATED null "$U/metrics"
call metrics_token 200 -H "$(bearer "$G")" "$U/metrics"
stop_daemon
finish
