#!/bin/sh
# A body that is not JSON is 400 BAD_JSON with its line and column, and the
# answer never quotes the body: a truncated unlock would otherwise send the
# identity document number back (and into whatever logs the answer).
. "$2/lib.sh"

write_rules r.rules 2
G=$("$CB" token create --role agent --name shop1 --tokens tok 2>/dev/null)
HG="Authorization: Bearer $G"
DOC=11010519491231002X
start_daemon --rules r.rules --tokens tok

# bad NAME ROUTE-ARGS... with the body on standard input: 400 BAD_JSON,
# where it is, and not a digit of the document number.
bad() {
	name=$1
	shift
	err "$name" 400 BAD_JSON null -H "$HG" --data-binary @- "$@"
	has "$name" body.json '"message":"line '
	hasnt "$name" body.json "$DOC"
	hasnt "$name" body.json 1101051949
}
U1="$U/v1/unlocks/13805710000"
printf '{"channel":"shop","level":"verified","document":{"type":"cn-resident","number":"%s' \
	"$DOC" | bad truncated -X PUT "$U1"
printf '{"channel":"shop","level":"verified","document":{"type":"cn-resident","number":"%s"' \
	"$DOC" | bad unclosed -X PUT "$U1"
printf '{"channel":"shop","document":{"type":"cn-resident","number":"%s\\q"}}' \
	"$DOC" | bad bad_escape -X PUT "$U1"
printf '{"channel":"shop","document":{"type":"cn-resident","number":%s}}' \
	"$DOC" | bad unquoted -X PUT "$U1"
printf '{"channel":"shop","document":{"type":"cn-resident","number":"%s\001"}}' \
	"$DOC" | bad control -X PUT "$U1"
printf '{"channel":"shop","document":{"%s":1,"%s":2}}' "$DOC" "$DOC" | bad duplicate -X PUT "$U1"
printf '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"%s' "$DOC" |
	bad decide "$U/v1/decide"
# JSON lines: the bad line gets its own error, the same way.
printf '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"110"}\n{"peer":"%s\n' \
	"$DOC" | call batch_lines 200 -H "$HG" --data-binary @- "$U/v1/decide/batch"
has batch_lines body.json '"code":"BAD_JSON","message":"line '
hasnt batch_lines body.json "$DOC"
# The message still says what is wrong.
printf '{"channel":"shop"' | bad eof -X PUT "$U1"
has eof_what body.json 'premature end of input'
hasnt log_doc serve.err "$DOC"
stop_daemon
finish
