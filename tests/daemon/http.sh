#!/bin/sh
# callbar serve over HTTP: every route, every error shape, decisions and
# the registry routes for real (rules r.rules, a SQLite registry in this
# folder), promtool on /metrics.
. "$2/lib.sh"

write_rules r.rules 3
cat >small.conf <<'CONF'
[http]
body_max = 300
batch_max = 3
decide_auth = token
[rules]
file = r.rules
[registry]
url = sqlite:reg/callbar.db
[auth]
tokens = tok
[keywords]
file = kw.conf
CONF
# The keyword table of keywords.file: the built-in keywords and one of our own.
printf 'service 10086\n1219 unlock all\n1901 relock all\nKTGJDX unlock sms\nOPENSMS unlock sms\n' >kw.conf
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
S=$("$CB" token create --role supervisor --name sup --tokens tok 2>/dev/null)
G=$("$CB" token create --role agent --name shop1 --tokens tok 2>/dev/null)
W=$("$CB" token create --role gateway --name smsc --tokens tok 2>/dev/null)
start_daemon --config small.conf
HA="Authorization: Bearer $A"
HS="Authorization: Bearer $S"
HG="Authorization: Bearer $G"
HW="Authorization: Bearer $W"
J="Content-Type: application/json"

call healthz 200 "$U/healthz"
has healthz body.json '{"status":"ok"}'
call head_healthz 200 -I "$U/healthz"
call readyz 200 "$U/readyz"
has readyz body.json '"ready":true'
has readyz body.json '"name":"rules","ok":true'

call rules 200 -H "$HG" "$U/v1/rules"
sha=$(sha256sum r.rules | cut -d' ' -f1)
has rules body.json "\"sha256\":\"$sha\""
has rules body.json '"version":1'
has rules body.json '"rules":2'
has rules body.json '"lines":3'
has rules body.json '"file":"r.rules"'
has rules body.json '"loaded_at":"20'

# Routing errors.
err unknown_route 404 NO_ROUTE null "$U/nope"
err unknown_v1 404 NO_ROUTE null "$U/v1/unlocks"
err wrong_method 405 METHOD null -X DELETE "$U/healthz"
has wrong_method hdr.txt 'Allow: GET'
err wrong_method_decide 405 METHOD null -X GET -H "$HA" "$U/v1/decide"
has wrong_method_decide hdr.txt 'Allow: POST'

# Decisions on r.rules: calls out to abroad are barred (rule r2), the rest
# passes.  The answer is `callbar check --json`'s.
EV='{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+852 9123 4567"}'
call decide_allow 200 -H "$HG" -H "$J" -d "$EV" "$U/v1/decide"
has decide_allow body.json '"verdict":"allow"'
has decide_allow body.json '"rule":"r.rules:3"'
has decide_allow body.json '"exempted_by":null'
BL='{"service":"voice","direction":"out","subscriber":"13805710000","peer":"0085291234567","at":"2024-05-01T12:00:00+08:00","ingress":"intl-gateway"}'
call decide_block 200 -H "$HG" -d "$BL" "$U/v1/decide"
has decide_block body.json '"verdict":"block"'
has decide_block body.json '"rule":"r.rules:2"'
has decide_block body.json '"reason":"r2"'
call decide_emergency 200 -H "$HG" -d \
	'{"service":"voice","direction":"out","subscriber":"13805710000","peer":"112"}' "$U/v1/decide"
has decide_emergency body.json '"verdict":"allow"'
has decide_emergency body.json '"reason":"emergency"'
# Request errors, each naming its field.
err bad_json 400 BAD_JSON null -H "$HG" -d '{"service":' "$U/v1/decide"
has bad_json body.json 'line 1 column'
err not_object 400 BAD_TYPE null -H "$HG" -d '[1,2]' "$U/v1/decide"
err empty_body 400 BAD_JSON null -H "$HG" -X POST "$U/v1/decide"
err unknown_field 400 UNKNOWN_FIELD colour -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","colour":"red"}' \
	"$U/v1/decide"
err missing_field 400 MISSING_FIELD peer -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000"}' "$U/v1/decide"
err bad_service 400 BAD_VALUE service -H "$HG" -d \
	'{"service":"fax","direction":"in","subscriber":"13805710000","peer":"+85291234567"}' \
	"$U/v1/decide"
err any_not_event 400 BAD_VALUE direction -H "$HG" -d \
	'{"service":"voice","direction":"any","subscriber":"13805710000","peer":"+85291234567"}' \
	"$U/v1/decide"
err bad_type 400 BAD_TYPE subscriber -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":13805710000,"peer":"+85291234567"}' \
	"$U/v1/decide"
err bad_peer 400 NUM_CHAR peer -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000","peer":"abc"}' "$U/v1/decide"
err bad_subscriber 400 NUM_TOO_SHORT subscriber -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":"1","peer":"+85291234567"}' "$U/v1/decide"
err bad_time 400 BAD_TIME at -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","at":"2024-02-30T00:00:00Z"}' \
	"$U/v1/decide"
err bad_ingress 400 BAD_VALUE ingress -H "$HG" -d \
	'{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","ingress":"a b"}' \
	"$U/v1/decide"
err dup_key 400 BAD_JSON null -H "$HG" -d \
	'{"service":"voice","service":"sms","direction":"in","subscriber":"13805710000","peer":"+85291234567"}' \
	"$U/v1/decide"
# Oversize: declared, and streamed without a length.
big=$(printf '%0400d' 0)
err too_big 413 TOO_BIG null -H "$HG" -d "{\"pad\":\"$big\"}" "$U/v1/decide"
printf '{"pad":"%s"}' "$big" >big.json
err too_big_chunked 413 TOO_BIG null -H "$HG" -H 'Transfer-Encoding: chunked' -H 'Expect:' \
	--data-binary @big.json "$U/v1/decide"

# Batch: array and JSON lines; per-event errors are not the whole answer.
call batch 200 -H "$HG" -d "[$EV,$BL]" "$U/v1/decide/batch"
tr -d ' \n' <body.json | grep -q '"verdict":"allow".*"verdict":"block"' ||
	{ echo "FAIL batch: answers not in order:"; cat body.json; fail=1; }
# a bad event in the middle gets its own error, in its place; a bad
# subscriber calling 110 is still an emergency call (allowed)
BAD='{"service":"voice","direction":"in","subscriber":"13805710000","peer":"abc"}'
E110='{"service":"voice","direction":"out","subscriber":"anonymous","peer":"110"}'
call batch_mixed 200 -H "$HG" -d "[$BAD,$E110]" "$U/v1/decide/batch"
has batch_mixed body.json '{"error":{"code":"NUM_CHAR","message":"[0].peer: character not allowed in a telephone number at byte 0","field":"[0].peer"}}'
tr -d ' \n' <body.json | grep -q '"field":"\[0\].peer".*"verdict":"allow".*"reason":"emergency"' ||
	{ echo "FAIL batch_mixed: answers not in order:"; cat body.json; fail=1; }
printf '%s\n%s\n' "$BL" "$EV" >ev.jsonl
call batch_lines 200 -H "$HG" -H 'Content-Type: application/x-ndjson' \
	--data-binary @ev.jsonl "$U/v1/decide/batch"
[ "$(wc -l <body.json)" = 2 ] && head -1 body.json | grep -q '"verdict":"block"' &&
	tail -1 body.json | grep -q '"verdict":"allow"' ||
	{ echo "FAIL batch_lines: want two lines, block then allow:"; cat body.json; fail=1; }
err batch_too_many 413 TOO_BIG null -H "$HG" -d '[{},{},{},{}]' "$U/v1/decide/batch"
printf '{}\n{}\n\n{}\n{}\n' >four.jsonl
err batch_lines_too_many 413 TOO_BIG null -H "$HG" --data-binary @four.jsonl "$U/v1/decide/batch"
err batch_bad_json 400 BAD_JSON null -H "$HG" -d '[{"service":' "$U/v1/decide/batch"
err batch_empty 400 BAD_JSON null -H "$HG" --data-binary @/dev/null "$U/v1/decide/batch"

# Registry routes, on the SQLite registry of small.conf.
UN='{"service":"sms","direction":"in","level":"verified","channel":"shop","document":{"type":"cn-resident","number":"11010519491231002X"}}'
call unlock 201 -X PUT -H "$HG" -d "$UN" "$U/v1/unlocks/13805710000"
has unlock body.json '"subscriber":"+8613805710000"'
has unlock body.json '"level":"verified"'
has unlock body.json '"document":"cn-resident"'
has unlock body.json '"agent":"shop1"'
hasnt unlock_no_doc body.json 11010519491231002X
call unlock_again 200 -X PUT -H "$HG" -d "$UN" "$U/v1/unlocks/+8613805710000"
err unlock_doc_type 400 BAD_VALUE null -X PUT -H "$HG" \
	-d '{"channel":"shop","level":"verified","document":{"type":"library-card","number":"1"}}' \
	"$U/v1/unlocks/13805710000"
err unlock_doc_check 400 ID_CHECK null -X PUT -H "$HG" \
	-d '{"channel":"shop","level":"verified","document":{"type":"cn-resident","number":"110105194912310021"}}' \
	"$U/v1/unlocks/13805710000"
hasnt doc_check_not_echoed body.json 110105194912310021
call unlock_self 201 -X PUT -H "$HG" -d '{"channel":"app","service":"voice"}' \
	"$U/v1/unlocks/13905710000"
err unlock_bad_number 400 NUM_CHAR number -X PUT -H "$HG" -d '{"channel":"app"}' \
	"$U/v1/unlocks/12ab"
err unlock_verified_nodoc 400 MISSING_FIELD document -X PUT -H "$HG" \
	-d '{"channel":"shop","level":"verified"}' "$U/v1/unlocks/13805710000"
err unlock_doc_field 400 UNKNOWN_FIELD document.photo -X PUT -H "$HG" \
	-d '{"channel":"shop","document":{"type":"resident","number":"1","photo":"x"}}' \
	"$U/v1/unlocks/13805710000"
err unlock_doc_bad 400 BAD_VALUE document.number -X PUT -H "$HG" \
	-d '{"channel":"shop","document":{"type":"resident","number":"11010519491231002X!"}}' \
	"$U/v1/unlocks/13805710000"
# A refused document number is never echoed, nor logged.
hasnt doc_not_echoed body.json 11010519491231002X
call status 200 -H "$HG" "$U/v1/unlocks/13805710000"
has status body.json '"active":{'
has status body.json '"history":['
hasnt status_no_doc body.json 11010519491231002X
err status_none 404 NOT_FOUND null -H "$HG" "$U/v1/unlocks/13705710000"
err status_query 400 UNKNOWN_FIELD verbose -H "$HG" "$U/v1/unlocks/13805710000?verbose=1"
err relock_agent 403 FORBIDDEN null -X DELETE -H "$HG" "$U/v1/unlocks/13805710000?service=sms&reason=fraud"
call relock 200 -X DELETE -H "$HS" "$U/v1/unlocks/13805710000?service=sms&reason=fraud"
has relock body.json '"relocked":true'
has relock body.json '"active":null'
err relock_none 404 NOT_FOUND null -X DELETE -H "$HS" "$U/v1/unlocks/13805710000?reason=again"
err relock_bad 400 BAD_VALUE direction -X DELETE -H "$HS" "$U/v1/unlocks/13805710000?direction=up"
call audit 200 -H "$HS" "$U/v1/audit?subscriber=13805710000&since=2024-01-01T00:00:00Z&limit=10"
has audit body.json '"what":"unlock"'
has audit body.json '"what":"relock"'
hasnt audit_other body.json '+8613905710000'
hasnt audit_no_doc body.json 11010519491231002X
err audit_agent 403 FORBIDDEN null -H "$HG" "$U/v1/audit"
err audit_limit 400 BAD_VALUE limit -H "$HS" "$U/v1/audit?limit=0"
err audit_since 400 BAD_TIME since -H "$HS" "$U/v1/audit?since=yesterday"
err audit_number 400 NUM_CHAR subscriber -H "$HS" "$U/v1/audit?subscriber=x"
call keyword 200 -H "$HW" -d '{"subscriber":"13705710000","keyword":"1219"}' "$U/v1/keyword"
has keyword body.json '"result":"unlocked"'
has keyword body.json '"subscriber":"+8613705710000"'
call keyword_unknown 200 -H "$HW" -d '{"subscriber":"13705710000","keyword":"hello"}' "$U/v1/keyword"
has keyword_unknown body.json '"result":"unknown-keyword"'
has keyword_unknown body.json 'KTGJDX'
call keyword_file 200 -H "$HW" -d '{"subscriber":"13705710009","keyword":"opensms"}' "$U/v1/keyword"
has keyword_file body.json '"result":"unlocked"'
has keyword_file body.json 'International texts are now unlocked'
call keyword_status 200 -H "$HG" "$U/v1/unlocks/13705710000"
has keyword_status body.json '"channel":"keyword"'
err keyword_missing 400 MISSING_FIELD keyword -H "$HW" -d '{"subscriber":"13805710000"}' \
	"$U/v1/keyword"

# /metrics: valid exposition format, and it counted what happened above.
call metrics 200 "$U/metrics"
has metrics hdr.txt 'Content-Type: text/plain; version=0.0.4'
cp body.json metrics.txt
promtool check metrics <metrics.txt >promtool.out 2>&1 || {
	echo "FAIL promtool:"; cat promtool.out; fail=1
}
has metrics metrics.txt 'callbar_http_requests_total{route="/v1/decide",method="POST",status="200"} 3'
has metrics metrics.txt 'callbar_decisions_total{verdict="block",service="voice",direction="out",rule="r2",front="http"}'
has metrics metrics.txt 'callbar_http_requests_total{route="unmatched",method="other",status="404"} 2'
has metrics metrics.txt 'callbar_http_requests_total{route="/v1/decide/batch",method="POST",status="413"} 2'
has metrics metrics.txt "callbar_rules_info{sha256=\"$sha\"} 1"
has metrics metrics.txt 'callbar_rules_version 1'
has metrics metrics.txt 'callbar_rules_active 2'
has metrics metrics.txt 'callbar_reloads_total{result="ok"} 1'
has metrics metrics.txt 'callbar_reloads_total{result="failed"} 0'
has metrics metrics.txt 'callbar_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 2'
has metrics metrics.txt '# TYPE callbar_decisions_total counter'
has metrics metrics.txt '# TYPE callbar_decision_duration_seconds histogram'

# Ambiguous requests: 400 with the error shape, and the connection closed.
# A NUL in Authorization used to cut the token short ("valid\0junk" was
# the valid token); a second Authorization or Content-Length, or a query
# argument given twice, left the choice of which one counts to chance.
hp=${U#http://}
printf 'GET /v1/rules HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\000junk\r\n\r\n' "$G" |
	python3 "$SRC/rawhttp.py" "$hp" >nul.txt
has nul_auth nul.txt 'HTTP/1.1 400'
has nul_auth nul.txt '"code":"BAD_HEADER"'
has nul_auth nul.txt 'Connection: close'
hasnt nul_auth nul.txt '"sha256"'
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\000b\r\n\r\n' |
	python3 "$SRC/rawhttp.py" "$hp" >nul2.txt
has nul_other nul2.txt '"code":"BAD_HEADER"'
err two_auth 400 BAD_HEADER null -H "$HG" -H "Authorization: Bearer x" "$U/v1/rules"
has two_auth body.json 'Authorization'
hasnt two_auth body.json '"sha256"'
err two_auth_same 400 BAD_HEADER null -H "$HG" -H "$HG" "$U/v1/rules"
printf 'POST /v1/decide HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: %d\r\nContent-Length: 2\r\n\r\n%s' \
	"$HG" "${#EV}" "$EV" | python3 "$SRC/rawhttp.py" "$hp" >cl.txt
has two_length cl.txt 'HTTP/1.1 400'
has two_length cl.txt '"code":"BAD_HEADER"'
has two_length cl.txt 'Content-Length'
hasnt two_length cl.txt '"verdict"'
printf 'POST /v1/decide HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	"$HG" "${#EV}" | python3 "$SRC/rawhttp.py" "$hp" >te.txt
has length_and_chunked te.txt '"code":"BAD_HEADER"'
printf 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' | python3 "$SRC/rawhttp.py" "$hp" >host.txt
has two_host host.txt '"code":"BAD_HEADER"'
# A NUL in a value that is not the last header is found too; a plain
# request with many headers (some empty or padded) passes.
printf 'GET /v1/rules HTTP/1.1\r\nAuthorization: Bearer %s\000x\r\nHost: x\r\n\r\n' "$G" |
	python3 "$SRC/rawhttp.py" "$hp" >nul3.txt
has nul_first nul3.txt '"code":"BAD_HEADER"'
has nul_first nul3.txt 'Authorization'
call many_headers 200 -H "$HG" -H 'X-A: 1' -H 'X-B:' -H 'X-C:   spaced  ' -H 'Accept: */*' \
	"$U/v1/rules"
err dup_query 400 DUP_QUERY limit -H "$HS" "$U/v1/audit?limit=1&limit=2"
err dup_query_delete 400 DUP_QUERY reason -X DELETE -H "$HS" \
	"$U/v1/unlocks/13805710000?reason=a&service=sms&reason=b"
err nul_query 400 BAD_VALUE reason -X DELETE -H "$HS" "$U/v1/unlocks/13805710000?reason=a%00b"
q=$(seq 1 40 | sed 's/.*/a&=1/' | paste -sd'&')
err many_query 400 BAD_VALUE null -H "$HS" "$U/v1/audit?$q"
# and what is not ambiguous still passes
call one_query 200 -H "$HS" "$U/v1/audit?limit=1"
call healthz_after 200 "$U/healthz"

# The logs are JSON lines and hold no number, document or token.
hasnt log_doc serve.err 11010519491231002X
hasnt log_peer serve.err 91234567
hasnt log_token serve.err "$A"
while IFS= read -r line; do
	case $line in
	'{"ts":"'*'","level":"'*'","msg":"'*'}') ;;
	*) echo "FAIL log line is not JSON: $line"; fail=1 ;;
	esac
done <serve.err
stop_daemon

# decide_auth = none: decisions need no token; everything else still does.
printf '[http]\ndecide_auth = none\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n' >open.conf
start_daemon --config open.conf
call open_decide 200 -d "$EV" "$U/v1/decide"
has open_decide body.json '"verdict":"allow"'
call open_batch 200 -d "[$EV]" "$U/v1/decide/batch"
err open_unlock 401 UNAUTHENTICATED null -X PUT -d '{"channel":"app"}' "$U/v1/unlocks/13805710000"
stop_daemon

# "roaming": the rules' roaming condition, from the request
cp "$SRC/../rules/roaming.rules" ro.rules
printf '[http]\ndecide_auth = none\n[rules]\nfile = ro.rules\n[auth]\ntokens = tok\n' >ro.conf
start_daemon --config ro.conf
RE='"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","at":"2023-01-01T00:00:00Z"'
call roaming_yes 200 -d "{$RE,\"roaming\":true}" "$U/v1/decide"
has roaming_yes body.json '"verdict":"allow","rule":"ro.rules:6","reason":"roaming-abroad"'
call roaming_no 200 -d "{$RE,\"roaming\":false}" "$U/v1/decide"
has roaming_no body.json '"verdict":"block","rule":"ro.rules:7"'
err roaming_type 400 BAD_TYPE roaming -d "{$RE,\"roaming\":\"yes\"}" "$U/v1/decide"
stop_daemon
finish
