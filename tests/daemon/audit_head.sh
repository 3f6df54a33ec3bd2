#!/bin/sh
# The registry's audit chain head is published for an outside system to
# anchor: GET /v1/audit/head (as open as /metrics), callbar_audit_head_seq,
# and a log line at start.  It is the head `callbar audit --verify` finds.
. "$2/lib.sh"

write_rules r.rules 2
G=$("$CB" token create --role agent --name shop1 --tokens tok 2>/dev/null)
REG=sqlite:var/callbar.db
start_daemon --rules r.rules --tokens tok --registry "$REG"
ZERO=0000000000000000000000000000000000000000000000000000000000000000
# A new registry may hold entries already (its key's binding).
s0=$(sed -n 's/.*"msg":"audit chain head","seq":\([0-9]*\),"hash":"[0-9a-f]\{64\}".*/\1/p' serve.err)
[ -n "$s0" ] || { echo "FAIL: no audit chain head at start"; cat serve.err; fail=1; s0=0; }
call start 200 "$U/v1/audit/head"
has start body.json "{\"seq\":$s0,\"hash\":\""
err head_query 400 UNKNOWN_FIELD x "$U/v1/audit/head?x=1"

call unlock 201 -X PUT -H "Authorization: Bearer $G" -d '{"channel":"app"}' "$U/v1/unlocks/13805710000"
call unlock_other 201 -X PUT -H "Authorization: Bearer $G" -d '{"channel":"app","service":"sms","level":"self"}' "$U/v1/unlocks/13905710000"
call head 200 "$U/v1/audit/head"
"$CB" audit --verify --registry "$REG" >verify.out 2>&1 || { echo "FAIL audit --verify"; cat verify.out; fail=1; }
seq=$(sed -n 's/^audit chain ok: \([0-9]*\) entries.*/\1/p' verify.out)
hash=$(sed -n 's/.*, head \([0-9a-f]*\)$/\1/p' verify.out)
[ "$seq" = $((s0 + 2)) ] || { echo "FAIL: audit --verify said '$(cat verify.out)'"; fail=1; }
has head body.json "{\"seq\":$seq,\"hash\":\"$hash\"}"
hasnt head_not_zero body.json "$ZERO"
call metrics 200 "$U/metrics"
has metrics body.json "callbar_audit_head_seq $seq"
stop_daemon

# With metrics_auth = on it takes a token, as /metrics does.
printf '[http]\nmetrics_auth = on\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n[registry]\nurl = %s\n' "$REG" >m.conf
start_daemon --config m.conf
has restart_log serve.err "\"msg\":\"audit chain head\",\"seq\":$seq,\"hash\":\"$hash\""
err closed 401 UNAUTHENTICATED null "$U/v1/audit/head"
call token 200 -H "Authorization: Bearer $G" "$U/v1/audit/head"
has token body.json "{\"seq\":$seq,\"hash\":\"$hash\"}"
stop_daemon
finish
