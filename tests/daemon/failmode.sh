#!/bin/sh
# One fail mode for both SIP front ends: an error verdict (here an outgoing
# call whose called number is not a number) is answered 500 by default by
# `callbar serve --sip` and by `callbar sip-serve` alike; a withheld caller
# on an incoming listener is not an error but an unknown caller, and an
# emergency number passes whoever calls.
. "$2/lib.sh"
send="$2/../sip_send.py"
rules="$2/../../etc/callbar/pilots.rules"
h=127.0.0.1
expect() { # NAME PORT WANT-STATUS METHOD RURI FROM
	name=$1 port=$2 want=$3
	shift 3
	python3 "$send" "$port" "$@" >"$name.sip" 2>&1
	got=$(head -1 "$name.sip" | cut -d' ' -f2)
	[ "$got" = "$want" ] || { echo "FAIL $name: SIP $got, want $want"; cat "$name.sip"; fail=1; }
}
printf '[sip]\nlisten = 127.0.0.1:0\nlisten_in = 127.0.0.1:0\n[http]\ndecide_auth = none\n' >s.conf
start_daemon --config s.conf --rules "$rules" --registry "sqlite:$PWD/reg.db"
i=0
until [ "$(grep -c 'SIP on ' serve.out)" = 2 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listeners"; cat serve.out; exit 1; }
	sleep 0.05
done
out=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*direction out.*/\1/p' serve.out)
in=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*direction in.*/\1/p' serve.out)
expect serve_error "$out" 500 INVITE "sip:not-a-number@$h" "sip:13805710000@$h"
expect serve_110_anon "$out" 302 INVITE "sip:110@$h" "sip:anonymous@anonymous.invalid"
expect serve_anon_in "$in" 302 INVITE "sip:13805710000@$h" "sip:anonymous@anonymous.invalid"
has serve_anon_in serve_anon_in.sip "X-Callbar-Rule: pilots.rules:"
stop_daemon
# sip-serve: the same default
"$CB" sip-serve --rules "$rules" --sip 127.0.0.1:0 >ss.out 2>ss.err &
SP=$!
i=0
until grep -q "sip out" ss.out ss.err 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: sip-serve did not start"; cat ss.out ss.err; kill $SP; exit 1; }
	sleep 0.05
done
sp=$(grep -ho '127.0.0.1:[0-9]*' ss.out ss.err | head -1 | cut -d: -f2)
expect sipserve_error "$sp" 500 INVITE "sip:not-a-number@$h" "sip:13805710000@$h"
expect sipserve_110_anon "$sp" 302 INVITE "sip:110@$h" "sip:anonymous@anonymous.invalid"
kill -TERM $SP; wait $SP
finish
