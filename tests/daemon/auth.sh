#!/bin/sh
# Tokens and roles: callbar token create/list/revoke, and what each role may
# do (agent < supervisor < admin; gateway apart, keywords only).  Refusals
# are 401/403 JSON errors that never say whether a token or a name exists.
# The token file is believed only when no one else may write it, and a
# file that is broken or not to be believed lets no token in.
. "$2/lib.sh"

write_rules r.rules 2
tk() { "$CB" token "$@" --tokens tok; }

# The command: create prints the token once; only its hash is kept.
A=$(tk create --role admin --name ops 2>create.err) || { echo "FAIL create admin"; fail=1; }
has create_msg create.err "created 'ops' (admin)"
S=$(tk create --role supervisor --name sup 2>/dev/null)
G=$(tk create --role agent --name shop1 2>/dev/null)
G2=$(tk create --role agent --name shop2 2>/dev/null)
W=$(tk create --role gateway --name smsc 2>gw.err) || { echo "FAIL create gateway"; fail=1; }
has create_gateway gw.err "created 'smsc' (gateway)"
case $A in cbt_???????????????????????????????????????????) ;; *) echo "FAIL token shape: $A"; fail=1 ;; esac
[ "$A" != "$S" ] || { echo "FAIL tokens repeat"; fail=1; }
hasnt file_no_token tok "$A"
has file_hash tok "$(printf %s "$A" | sha256sum | cut -d' ' -f1)"
[ "$(stat -c %a tok)" = 600 ] || { echo "FAIL token file mode $(stat -c %a tok)"; fail=1; }
tk list >list.out || { echo "FAIL list"; fail=1; }
has list list.out "ops	admin	20"
has list list.out "sup	supervisor	"
has list list.out "shop1	agent	"
has list list.out "smsc	gateway	"
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

# agent: read rules, unlock, status, decide; not keyword, relock, audit, reload.
call agent_rules 200 -H "$(bearer "$G")" "$U/v1/rules"
call agent_decide 200 -H "$(bearer "$G")" -d "$EV" "$U/v1/decide"
has agent_decide body.json '"verdict":'
call agent_unlock 201 -X PUT -H "$(bearer "$G")" -d '{"channel":"app"}' "$U/v1/unlocks/13805710000"
call agent_status 200 -H "$(bearer "$G")" "$U/v1/unlocks/13805710000"
# The keyword route is the SMS centre's: a relock keyword from an agent
# would relock anyone, which DELETE does not let an agent do.
err agent_keyword 403 FORBIDDEN null -H "$(bearer "$G")" -d '{"subscriber":"13805710000","keyword":"1219"}' "$U/v1/keyword"
has agent_keyword body.json 'needs the role gateway'
err agent_keyword_relock 403 FORBIDDEN null -H "$(bearer "$G")" -d '{"subscriber":"13805710000","keyword":"1901"}' "$U/v1/keyword"
call agent_still_unlocked 200 -H "$(bearer "$G")" "$U/v1/unlocks/13805710000"
has agent_still_unlocked body.json '"active":{'
hasnt keyword_not_logged serve.err '"msg":"keyword"'
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
err sup_keyword 403 FORBIDDEN null -H "$(bearer "$S")" -d '{"subscriber":"13805710000","keyword":"1901"}' "$U/v1/keyword"
err admin_keyword 403 FORBIDDEN null -H "$(bearer "$A")" -d '{"subscriber":"13805710000","keyword":"1901"}' "$U/v1/keyword"
# gateway: keywords, each one logged (subscriber, keyword, result, token);
# nothing else.
call gw_relock 200 -H "$(bearer "$W")" -d '{"subscriber":"13805710000","keyword":"1901"}' "$U/v1/keyword"
has gw_relock body.json '"result":"relocked"'
has gw_relock_log serve.err '"msg":"keyword","subscriber":"8613805710000","keyword":"1901","result":"relocked","by":"smsc"'
call gw_unlock 200 -H "$(bearer "$W")" -d '{"subscriber":"13805710000","keyword":"1219"}' "$U/v1/keyword"
has gw_unlock body.json '"result":"unlocked"'
has gw_unlock_log serve.err '"msg":"keyword","subscriber":"8613805710000","keyword":"1219","result":"unlocked","by":"smsc"'
call gw_unknown 200 -H "$(bearer "$W")" -d '{"subscriber":"13805710000","keyword":"MEETME8PM"}' "$U/v1/keyword"
has gw_unknown body.json '"result":"unknown-keyword"'
has gw_unknown_log serve.err '"keyword":"","result":"unknown-keyword","by":"smsc"'
hasnt gw_unknown_text serve.err MEETME8PM
for r in "rules" "audit" "unlocks/13805710000"; do
	err "gw_get_$r" 403 FORBIDDEN null -H "$(bearer "$W")" "$U/v1/$r"
done
err gw_decide 403 FORBIDDEN null -H "$(bearer "$W")" -d "$EV" "$U/v1/decide"
err gw_batch 403 FORBIDDEN null -H "$(bearer "$W")" -d "$EV" "$U/v1/decide/batch"
err gw_unlock_put 403 FORBIDDEN null -X PUT -H "$(bearer "$W")" -d '{"channel":"app"}' "$U/v1/unlocks/13805710000"
err gw_relock_delete 403 FORBIDDEN null -X DELETE -H "$(bearer "$W")" "$U/v1/unlocks/13805710000"
err gw_reload 403 FORBIDDEN null -X POST -H "$(bearer "$W")" "$U/v1/reload"

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
hasnt log_tokens serve.err "$G"

# A token file broken by hand fails closed: an edit that removes shop1 and
# breaks a line lets no token in (shop1 least of all) until the file
# parses again, and /readyz says why.
call ready_good 200 "$U/readyz"
has ready_good body.json '"name":"tokens","ok":true'
cp tok tok.good
grep -v '^shop1	' tok.good >tok.edit
{ cat tok.edit; echo "garbage line"; } >tok
err broken_removed 401 UNAUTHENTICATED null -H "$(bearer "$G")" "$U/v1/rules"
err broken_admin 401 UNAUTHENTICATED null -H "$(bearer "$A")" "$U/v1/rules"
call broken_ready 503 "$U/readyz"
has broken_ready body.json '"name":"tokens","ok":false'
has broken_ready body.json 'no token is accepted'
has broken_ready body.json 'want NAME<TAB>ROLE'
has broken_log serve.err '"msg":"token file refused: no token is accepted until it is good"'
cat tok.edit >tok
call fixed_admin 200 -H "$(bearer "$A")" "$U/v1/rules"
err fixed_removed 401 UNAUTHENTICATED null -H "$(bearer "$G")" "$U/v1/rules"
call fixed_ready 200 "$U/readyz"
has fixed_log serve.err '"msg":"token file good again; its tokens are accepted"'

# Whoever may write the token file may grant any role.  Made writable by
# all, with an admin line added by hand: no token is accepted, the new one
# least of all, until the mode is put right.
X=cbt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-43)
chmod 666 tok
printf 'intruder\tadmin\t%s\t0\n' "$(printf %s "$X" | sha256sum | cut -d' ' -f1)" >>tok
err world_intruder 401 UNAUTHENTICATED null -X POST -H "$(bearer "$X")" "$U/v1/reload"
err world_admin 401 UNAUTHENTICATED null -H "$(bearer "$A")" "$U/v1/rules"
call world_ready 503 "$U/readyz"
has world_ready body.json 'writable by others (mode 666)'
tk list >/dev/null 2>world_cli.err && { echo "FAIL callbar token list read a world-writable file"; fail=1; }
has world_cli world_cli.err 'writable by others'
cat tok.edit >tok
chmod 620 tok
err group_admin 401 UNAUTHENTICATED null -H "$(bearer "$A")" "$U/v1/rules"
chmod 600 tok
call mode_fixed 200 -H "$(bearer "$A")" "$U/v1/rules"
err mode_fixed_intruder 401 UNAUTHENTICATED null -X POST -H "$(bearer "$X")" "$U/v1/reload"
if [ "$(id -u)" = 0 ]; then
	chown 65534 tok
	err owner_admin 401 UNAUTHENTICATED null -H "$(bearer "$A")" "$U/v1/rules"
	call owner_ready 503 "$U/readyz"
	has owner_ready body.json 'owned by uid 65534, neither root nor this user'
	chown 0 tok
	call owner_fixed 200 -H "$(bearer "$A")" "$U/v1/rules"
fi
stop_daemon

# The daemon does not start on a token file it cannot believe or parse.
refused() { # NAME MESSAGE
	"$CB" serve --http 127.0.0.1:0 --rules r.rules --tokens tok >refused.out 2>refused.err &
	RP=$!
	# A daemon that starts anyway is stopped, not waited for.
	i=0
	while kill -0 $RP 2>/dev/null && ! grep -q 'listening on' refused.out; do
		i=$((i + 1)); [ $i -gt 600 ] && break
		sleep 0.05
	done
	grep -q 'listening on' refused.out && kill -TERM $RP
	wait $RP
	got=$?
	[ $got = 2 ] || { echo "FAIL $1: exit $got, want 2"; cat refused.err; fail=1; }
	has "$1" refused.err "$2"
	hasnt "$1_listening" refused.out 'listening on'
}
chmod 602 tok
refused start_world_writable 'writable by others (mode 602)'
chmod 600 tok
cp tok tok.edit
echo "garbage line" >>tok
refused start_malformed 'want NAME<TAB>ROLE<TAB>SHA256-HEX<TAB>CREATED'
cp tok.edit tok
if [ "$(id -u)" = 0 ]; then
	chown 65534 tok
	refused start_owner 'owned by uid 65534'
	chown 0 tok
fi

# metrics_auth = on: /metrics needs a token too.
printf '[http]\nmetrics_auth = on\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n' >m.conf
start_daemon --config m.conf
err metrics_closed 401 UNAUTHENTICATED null "$U/metrics"
call metrics_token 200 -H "$(bearer "$S")" "$U/metrics"
err metrics_gateway 403 FORBIDDEN null -H "$(bearer "$W")" "$U/metrics"
stop_daemon
finish
