#!/bin/sh
# callbar sip-serve (the SIP policy server on its own) counts limits too:
# one caller from abroad ringing a fourth subscriber within the window of a
# 3-distinct limit is answered 403 with the limit's reason; the first three
# are 302.  Usage: sip_serve.sh CALLBAR SRCDIR
set -u
cb=$1
src=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cbar_sip_limits.XXXXXX") || exit 1
cd "$dir" || exit 1
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; cd / && rm -rf "$dir"' EXIT
fail=0
cat >w.rules <<'RULES'
timezone +08:00
zone abroad !+86
limit in voice from abroad per peer distinct subscriber 3/10m bar 1h reason wangiri
pass all
RULES
"$cb" sip-serve --rules w.rules --sip-in 127.0.0.1:0 >out.txt 2>err.txt &
PID=$!
i=0
until grep -q '^sip in ' out.txt 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "FAIL: sip-serve did not start"; cat err.txt; exit 1; }
	sleep 0.05
done
port=$(sed -n 's/^sip in 127.0.0.1:\([0-9]*\).*/\1/p' out.txt)
for n in 1 2 3 4; do
	python3 "$src/sip_send.py" "$port" INVITE "sip:1390571000$n@127.0.0.1" \
		"sip:+447700900002@127.0.0.1" >"a$n.txt"
done
for n in 1 2 3; do
	head -1 "a$n.txt" | grep -q '^SIP/2.0 302' || { echo "FAIL: call $n:"; head -3 "a$n.txt"; fail=1; }
done
head -1 a4.txt | grep -q '^SIP/2.0 403' || { echo "FAIL: call 4 not barred:"; head -3 a4.txt; fail=1; }
grep -q 'text="wangiri"' a4.txt || { echo "FAIL: call 4 lacks the limit's reason:"; cat a4.txt; fail=1; }
kill -TERM "$PID"
wait "$PID" || { echo "FAIL: sip-serve exit $?"; fail=1; }
PID=
[ $fail -eq 0 ] && echo "PASS sip_serve.sh"
exit $fail
