#!/bin/sh
# The hook interface end to end, with test hooks standing in for the engine
# and the registry (callbar_echo, tests/daemon/hooks_echo.c): a hook's
# answer and status, its errors mapped to statuses, batch order and
# per-event errors, decision metrics and logs, registry readiness.
. "$2/lib.sh"

write_rules r.rules 4
sha=$(sha256sum r.rules | cut -d' ' -f1)
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
G=$("$CB" token create --role agent --name shop1 --tokens tok 2>/dev/null)
H="Authorization: Bearer $G"
W=$("$CB" token create --role gateway --name smsc --tokens tok 2>/dev/null)
printf '[http]\ndecide_auth = none\nbatch_max = 5\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n[log]\ndecision_log = on\n' >on.conf
start_daemon --config on.conf

EV='{"service":"voice","direction":"in","subscriber":"13805710000","peer":"0085291234567","at":"2024-05-01T12:00:00+08:00"}'
call decide 200 -d "$EV" "$U/v1/decide"
has decide body.json '"echo":{"service":"voice","direction":"in","subscriber":"+8613805710000","peer":"+85291234567","at":1714536000'
has decide body.json "\"sha256\":\"$sha\",\"version\":1"
call decide_now 200 -d '{"service":"sms","direction":"out","subscriber":"13805710000","peer":"13900000000"}' "$U/v1/decide"
has decide_now body.json '"peer":"+8613900000000"'
hasnt decide_now body.json '"at":0,'
err decide_503 503 UNAVAILABLE null -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","ingress":"fail-unavailable"}' \
	"$U/v1/decide"
has decide_503 body.json 'store down (test)'
err decide_501 501 NOT_BUILT null -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","ingress":"fail-not-built"}' \
	"$U/v1/decide"

# Batch: one answer per event, in order; a bad event gets its own error.
BAD='{"service":"voice","direction":"in","subscriber":"13805710000","peer":"abc"}'
E2='{"service":"sms","direction":"out","subscriber":"13805710000","peer":"+886912345678"}'
call batch 200 -d "[$EV,$BAD,$E2]" "$U/v1/decide/batch"
has batch body.json '{"results":[{"echo":{"service":"voice"'
has batch body.json '{"error":{"code":"NUM_CHAR","message":"[1].peer: character not allowed in a telephone number at byte 0","field":"[1].peer"}},{"echo":{"service":"sms"'
printf '%s\n%s\n\n%s\n' "$E2" "$BAD" "$EV" >b.jsonl
call batch_lines 200 --data-binary @b.jsonl "$U/v1/decide/batch"
has batch_lines hdr.txt 'Content-Type: application/x-ndjson'
[ "$(wc -l <body.json)" = 3 ] || { echo "FAIL batch_lines: want 3 lines"; cat body.json; fail=1; }
sed -n 1p body.json >l1; sed -n 2p body.json >l2; sed -n 3p body.json >l3
has batch_l1 l1 '"peer":"+886912345678"'
has batch_l2 l2 '"field":"[1].peer"'
has batch_l3 l3 '"peer":"+85291234567"'

# Registry hooks: 201 on a new unlock, the caller's name recorded, the
# document number seen but never echoed; hook errors keep their status.
call unlock 201 -X PUT -H "$H" -d \
	'{"service":"sms","level":"verified","channel":"shop","document":{"type":"resident","number":"11010519491231002X"}}' \
	"$U/v1/unlocks/13805710000"
has unlock body.json '"unlocked":"8613805710000","by":"shop1","service":"sms","channel":"shop","document_seen":true'
hasnt unlock body.json 11010519491231002X
call relock 200 -X DELETE -H "Authorization: Bearer $A" "$U/v1/unlocks/+8613805710000?direction=in&reason=fraud"
has relock body.json '"relocked":"8613805710000","by":"ops","direction":"in","reason":"fraud"'
err status_404 404 NOT_FOUND null -H "$H" "$U/v1/unlocks/13805710000"
has status_404 body.json 'no unlock records (test)'
call audit 200 -H "Authorization: Bearer $A" "$U/v1/audit?since=2024-01-01T00:00:00Z"
has audit body.json '{"limit":100,"subscriber":false,"since":true}'
err audit_503 503 UNAVAILABLE null -H "Authorization: Bearer $A" "$U/v1/audit?limit=13"
err keyword_501 501 NOT_BUILT null -H "Authorization: Bearer $W" -d '{"subscriber":"13805710000","keyword":"1219"}' "$U/v1/keyword"

# Readiness follows the registry; /metrics reports it and the decisions.
call ready 200 "$U/readyz"
has ready body.json '{"name":"registry","ok":true'
touch registry.down
err_ready() { call not_ready 503 "$U/readyz"; }
err_ready
has not_ready body.json '"ready":false'
has not_ready body.json '{"name":"registry","ok":false,"message":"registry down (test)"}'
call metrics 200 "$U/metrics"
cp body.json metrics.txt
promtool check metrics <metrics.txt >promtool.out 2>&1 || { echo "FAIL promtool:"; cat promtool.out; fail=1; }
has m_block metrics.txt 'callbar_decisions_total{verdict="block",service="voice",direction="in",rule="echo-rule"} 3'
has m_allow metrics.txt 'callbar_decisions_total{verdict="allow",service="sms",direction="out",rule="echo-rule"} 1'
has m_block_sms metrics.txt 'callbar_decisions_total{verdict="block",service="sms",direction="out",rule="echo-rule"} 2'
has m_latency metrics.txt 'callbar_decision_duration_seconds_count 8'
has m_store metrics.txt 'callbar_store_up 0'
has m_size metrics.txt 'callbar_registry_records 42'
rm registry.down
call metrics2 200 "$U/metrics"
has m_store_up body.json 'callbar_store_up 1'
# decision_log = on: decisions are logged with both numbers.
has decision_log serve.err '"msg":"decision","verdict":"block","rule":"echo-rule","service":"voice","direction":"in","subscriber":"8613805710000","peer":"85291234567"'
hasnt doc_log serve.err 11010519491231002X
stop_daemon

# decision_log = off (the default): no peer number in any log line.
printf '[http]\ndecide_auth = none\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n[log]\nlevel = debug\n' >off.conf
start_daemon --config off.conf
call decide_off 200 -d "$EV" "$U/v1/decide"
hasnt no_peer_log serve.err 85291234567
has debug_line serve.err '"msg":"request","route":"/v1/decide","method":"POST","status":200'
stop_daemon
finish
