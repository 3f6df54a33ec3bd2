#!/bin/sh
# callbar behind Kamailio (docs/kamailio/callbar.cfg), end to end:
#   sipp UAC -> Kamailio -> callbar sip-serve -> 302 -> Kamailio -> sipp UAS
#   answers 200 -> ACK, BYE: the call completes;
#   a blocked call: the UAC sees 403 with callbar's Reason and X-Callbar-Rule;
#   a blocked text message (MESSAGE): 403 with callbar's Reason.
# Kamailio runs in the foreground (-DD -E) on loopback ports picked here,
# with its own runtime folder, and is stopped at the end.
set -u
cb=$1 src=$2
sc=$src/sip/sipp
cfg=$src/../docs/kamailio/callbar.cfg
rules=$src/../etc/callbar/pilots.rules
for t in sipp kamailio; do
	command -v $t >/dev/null || [ -x /usr/sbin/$t ] ||
		{ echo "$t not installed (tools/deps.sh)"; exit 1; }
done
kam=$(command -v kamailio || echo /usr/sbin/kamailio)
dir=$(mktemp -d)
chmod 755 "$dir"
fail=0 cbpid="" kpid="" uaspid=""
cleanup() {
	for p in $uaspid $kpid $cbpid; do kill "$p" 2>/dev/null; done
	for p in $uaspid $kpid $cbpid; do wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

"$cb" sip-serve --workers 2 --sip 127.0.0.1:0 --at 2022-06-15 --rules "$rules" \
	>"$dir/cb.out" 2>"$dir/cb.err" &
cbpid=$!
i=0
until grep -q '^sip out' "$dir/cb.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] && kill -0 $cbpid 2>/dev/null ||
		{ echo "FAIL: sip-serve did not start"; cat "$dir/cb.err"; exit 1; }
	sleep 0.05
done
cbport=$(awk '{n = split($3, a, ":"); print a[n]}' "$dir/cb.out")

sipp_run() { # name, port, scenario, args...
	name=$1 port=$2 xml=$3
	shift 3
	(cd "$dir" && sipp "127.0.0.1:$port" -sf "$sc/$xml.xml" -i 127.0.0.1 -m 1 -nostdin \
		-recv_timeout 8000 -timeout 20 -timeout_error -trace_err -error_file "$dir/$name.log" \
		"$@" >"$dir/$name.sipp" 2>&1)
}

# Kamailio and the UAS on free loopback ports: a few tries from a base
# that differs per run.
base=$((20000 + ($$ % 2000) * 10))
up=0
for try in 0 1 2 3 4; do
	kport=$((base + try * 20000 % 40000 + try)) uport=$((base + try * 20000 % 40000 + try + 5))
	(cd "$dir" && exec sipp -sf "$sc/kam_uas.xml" -i 127.0.0.1 -p $uport -m 1 -nostdin \
		-set user "INVITE sip:13900000000@" -timeout 30 -timeout_error -trace_err \
		-error_file "$dir/uas.log" >"$dir/uas.sipp" 2>&1) &
	uaspid=$!
	"$kam" -f "$cfg" -DD -E -m 64 -M 8 -Y "$dir" -w "$dir" \
		-l "udp:127.0.0.1:$kport" -l "tcp:127.0.0.1:$kport" \
		-A "CALLBAR=\"sip:127.0.0.1:$cbport\"" -A "NEXT_HOP=\"sip:127.0.0.1:$uport\"" \
		>"$dir/kam.log" 2>&1 &
	kpid=$!
	for i in $(seq 1 50); do
		kill -0 $kpid 2>/dev/null && kill -0 $uaspid 2>/dev/null || break
		if sipp_run ping $kport options_ping; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ $up = 1 ] && break
	kill $kpid $uaspid 2>/dev/null
	wait $kpid $uaspid 2>/dev/null
	kpid="" uaspid=""
done
[ $up = 1 ] || { echo "FAIL: Kamailio did not start"; tail -20 "$dir/kam.log"; exit 1; }
echo "Kamailio on $kport, callbar on $cbport, UAS on $uport"

check() { # name, rc
	if [ "$2" -ne 0 ]; then
		echo "FAIL $1: exit $2"
		head -40 "$dir/$1.log" 2>/dev/null
		tail -5 "$dir/$1.sipp"
		fail=1
	else
		echo "ok $1"
	fi
}

h=127.0.0.1
# allowed: Zhejiang China Mobile calling a mainland number; the UAS answers
sipp_run allowed $kport kam_uac -set ruri "sip:13900000000@$h:$kport" -set from "sip:13805710000@$h"
check allowed $?
wait $uaspid
rc=$?
uaspid=""
[ $rc -eq 0 ] || { tail -20 "$dir/uas.log" "$dir/uas.sipp" 2>/dev/null; }
check uas_answered $rc

# blocked: calling Hong Kong; the UAC gets callbar's 403, Reason and rule
line=$(grep -n -E 'reason zj-cmcc-intl-voice-out( |$)' "$rules" | cut -d: -f1)
sipp_run blocked $kport invite_403 -set ruri "sip:+85291234567@$h:$kport" \
	-set from "sip:13805710000@$h" -set reason "Q.850;cause=21;text=\"zj-cmcc-intl-voice-out\"" \
	-set rule "pilots.rules:$line"
check blocked $?
sipp_run sms_blocked $kport message_403 -set ruri "sip:+85291234567@$h:$kport" \
	-set from "sip:13805710000@$h" -set reason "Q.850;cause=21;text=\"zj-cmcc-intl-sms-out\""
check sms_blocked $?
[ $fail = 0 ] || tail -30 "$dir/kam.log"
exit $fail
