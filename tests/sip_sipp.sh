#!/bin/sh
# callbar sip-serve against sipp (Debian sip-tester): every scenario under
# tests/sip/sipp/ over UDP and TCP, against two servers:
#   A: etc/callbar/pilots.rules with tests/rules/pilots-unlocked.txt,
#      blocks with 403, fail mode 500;
#   B: tests/sip/sipp/ingress.rules, blocks with 603, fail mode 302,
#      127.0.0.0/8 is the ingress class intl-gateway, UDP coalescing on.
# Every event is decided at 2022-06-15 (--at), so the pilots' rules hold.
# sipp exits non-zero when a call fails: an unexpected status, a missing or
# different Reason, rule or Contact, or no answer (-recv_timeout).
set -u
cb=$1 src=$2
sc=$src/sip/sipp
rules=$src/../etc/callbar/pilots.rules
command -v sipp >/dev/null || { echo "sipp not installed (tools/deps.sh)"; exit 1; }
dir=$(mktemp -d)
fail=0 pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

# start NAME ARGS...: run sip-serve, wait for its listener lines, set
# NAME_out and NAME_in to its ports.
start() {
	name=$1
	shift
	"$cb" sip-serve --workers 2 --sip 127.0.0.1:0 --sip-in 127.0.0.1:0 --at 2022-06-15 "$@" \
		>"$dir/$name.out" 2>"$dir/$name.err" &
	pids="$pids $!"
	i=0
	while [ "$(grep -c '^sip ' "$dir/$name.out" 2>/dev/null)" != 2 ]; do
		i=$((i + 1))
		[ $i -lt 200 ] && kill -0 $! 2>/dev/null || {
			echo "FAIL: sip-serve $name did not start"
			cat "$dir/$name.err"
			exit 1
		}
		sleep 0.05
	done
	o=$(awk '$2 == "out" {n = split($3, a, ":"); print a[n]}' "$dir/$name.out")
	n=$(awk '$2 == "in" {n = split($3, a, ":"); print a[n]}' "$dir/$name.out")
	eval "${name}_out=$o ${name}_in=$n"
}

# run NAME PORT TRANSPORT SCENARIO [-set VAR VALUE ...]
run() {
	name=$1 port=$2 tp=$3 xml=$4
	shift 4
	(cd "$dir" && sipp "127.0.0.1:$port" -sf "$sc/$xml.xml" -t "$tp" -i 127.0.0.1 -m 1 \
		-nostdin -recv_timeout 5000 -timeout 15 -timeout_error -trace_err \
		-error_file "$dir/$name.log" "$@" >"$dir/$name.sipp" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL $name ($tp): sipp exit $rc"
		cat "$dir/$name.log" 2>/dev/null | head -40
		tail -5 "$dir/$name.sipp"
		fail=1
	else
		echo "ok $name ($tp)"
	fi
}

line() { grep -n -E -- "reason $1( |$)" "$2" | cut -d: -f1; }

start A --rules "$rules" --unlocked "$src/rules/pilots-unlocked.txt"
start B --rules "$sc/ingress.rules" --block-status 603 --fail-mode 302 --coalesce-us 100 \
	--ingress 127.0.0.0/8=intl-gateway --ingress 10.0.0.0/8=core

h=127.0.0.1
zj_out="Q.850;cause=21;text=\"zj-cmcc-intl-voice-out\""
zj_in="Q.850;cause=21;text=\"zj-cmcc-intl-voice-in\""
zj_sms="Q.850;cause=21;text=\"zj-cmcc-intl-sms-out\""
rule_out="pilots.rules:$(line zj-cmcc-intl-voice-out "$rules")"
rule_in="pilots.rules:$(line zj-cmcc-intl-voice-in "$rules")"
rule_b="ingress.rules:$(line intl-barred "$sc/ingress.rules")"
rule_spoof="ingress.rules:$(line spoofed-cli "$sc/ingress.rules")"

for tp in u1 t1; do
	# A, direction out: Zhejiang China Mobile calling Hong Kong is barred
	# since 2022-05-01; calling the mainland is not; an unlocked line passes.
	run allow_out "$A_out" $tp invite_302 -set ruri "sip:13900000000@$h" -set from "sip:13805710000@$h"
	run block_out "$A_out" $tp invite_403 -set ruri "sip:+85291234567@$h;user=phone" \
		-set from "sip:13805710000@$h" -set reason "$zj_out" -set rule "$rule_out"
	run unlocked_out "$A_out" $tp invite_302 -set ruri "sip:+85291234567@$h" \
		-set from "sip:+8613805710001@$h"
	# tel: URIs, with visual separators and a phone-context
	run tel_block "$A_out" $tp invite_403 -set ruri "tel:+852-9123-4567" \
		-set from "tel:+86-138-0571-0000" -set reason "$zj_out" -set rule "$rule_out"
	run tel_allow "$A_out" $tp invite_302 -set ruri "tel:13900000000;phone-context=+86" \
		-set from "tel:+8613805710000"
	# A, direction in: Hong Kong calling a Zhejiang China Mobile line
	run block_in "$A_in" $tp invite_403 -set ruri "sip:13905710000@$h" \
		-set from "sip:+85291234567@$h" -set reason "$zj_in" -set rule "$rule_in"
	run allow_in "$A_in" $tp invite_302 -set ruri "sip:13905710000@$h" \
		-set from "sip:+8613805710000@$h"
	# a From that is no number: error, fail mode 500
	run error_500 "$A_out" $tp invite_500 -set ruri "sip:+85291234567@$h" -set from "sip:abc@$h"
	# compact headers; the subscriber from P-Asserted-Identity
	run compact "$A_out" $tp compact_403 -set ruri "sip:+85291234567@$h" \
		-set from "sip:+8613805710000@$h" -set reason "$zj_out"
	# text messages (service sms)
	run sms_block "$A_out" $tp message_403 -set ruri "sip:+85291234567@$h" \
		-set from "sip:13805710000@$h" -set reason "$zj_sms"
	run sms_allow "$A_out" $tp message_302 -set ruri "sip:13900000000@$h" \
		-set from "sip:13805710000@$h"
	run options "$A_out" $tp options_200
	# Over UDP sipp itself takes an identical second answer for a
	# retransmission and never hands it to the scenario, so this one runs
	# over TCP only; test_sip_server compares the UDP answers byte for byte.
	[ $tp = t1 ] && run retrans "$A_out" $tp retrans_403 -set ruri "sip:+85291234567@$h" \
		-set from "sip:13805710000@$h"
	# B: 603 by configuration, fail open (302) on error, ingress classes
	run block_603 "$B_out" $tp invite_603 -set ruri "sip:+85291234567@$h" \
		-set from "sip:13805710000@$h" -set reason "Q.850;cause=21;text=\"intl-barred\"" \
		-set rule "$rule_b"
	run error_302 "$B_out" $tp invite_302 -set ruri "sip:+85291234567@$h" -set from "sip:abc@$h"
	run ingress_603 "$B_in" $tp invite_603 -set ruri "sip:13905710000@$h" \
		-set from "sip:13805710000@$h" -set reason "Q.850;cause=21;text=\"spoofed-cli\"" \
		-set rule "$rule_spoof"
	run ingress_302 "$B_in" $tp invite_302 -set ruri "sip:13905710000@$h" \
		-set from "sip:+85291234567@$h"
done

# SIGTERM stops a server cleanly (exit 0) and it reports its counters.
# roaming=yes|no on a listener: every event there is a roamer's (or not),
# for the rules' 'roaming' condition (tests/rules/roaming.rules)
"$cb" sip-serve --workers 1 --rules "$src/rules/roaming.rules" --at 2023-01-01 \
	--listener "127.0.0.1:0 direction=in transport=udp roaming=yes" \
	--listener "127.0.0.1:0 direction=in transport=udp roaming=no" \
	>"$dir/C.out" 2>"$dir/C.err" &
cpid=$!
i=0
while [ "$(grep -c '^sip ' "$dir/C.out" 2>/dev/null)" != 2 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] && kill -0 $cpid 2>/dev/null || { echo "FAIL: sip-serve C did not start"; cat "$dir/C.err"; exit 1; }
	sleep 0.05
done
grep -q ' udp$' "$dir/C.out" || { echo "FAIL: C: not UDP only"; cat "$dir/C.out"; fail=1; }
c_yes=$(awk 'NR == 1 {n = split($3, a, ":"); print a[n]}' "$dir/C.out")
c_no=$(awk 'NR == 2 {n = split($3, a, ":"); print a[n]}' "$dir/C.out")
run roaming_yes "$c_yes" u1 invite_302 -set ruri "sip:13805710000@$h" -set from "sip:+85291234567@$h"
run roaming_no "$c_no" u1 invite_403 -set ruri "sip:13805710000@$h" -set from "sip:+85291234567@$h" \
	-set reason 'Q.850;cause=21;text="intl-in-at-home"' -set rule "roaming.rules:7"
kill -TERM $cpid
wait $cpid || { echo "FAIL: sip-serve C exit after SIGTERM"; fail=1; }

# N: a block with an announcement redirected to the announcement server
# (block=annc), the announcement's name and first language in the RFC 4240
# URI of the --annc-uri template; an allowed call is redirected to itself.
"$cb" sip-serve --workers 1 --rules "$rules" --at 2022-06-15 \
	--listener "127.0.0.1:0 block=annc" \
	--annc-uri 'sip:annc@ms.example;play=file:///annc/{name}-{lang}.wav' \
	>"$dir/N.out" 2>"$dir/N.err" &
npid=$!
i=0
while [ "$(grep -c '^sip ' "$dir/N.out" 2>/dev/null)" != 1 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] && kill -0 $npid 2>/dev/null || { echo "FAIL: sip-serve N did not start"; cat "$dir/N.err"; exit 1; }
	sleep 0.05
done
n_annc=$(awk 'NR == 1 {n = split($3, a, ":"); print a[n]}' "$dir/N.out")
for tp in u1 t1; do
	run annc "$n_annc" $tp invite_annc -set ruri "sip:+85291234567@$h;user=phone" \
		-set from "sip:13805710000@$h" \
		-set annc "sip:annc@ms.example;play=file:///annc/zj-cmcc-unlock-zh.wav"
	run annc_allow "$n_annc" $tp invite_302 -set ruri "sip:13900000000@$h" \
		-set from "sip:13805710000@$h"
done
kill -TERM $npid
wait $npid || { echo "FAIL: sip-serve N exit after SIGTERM"; fail=1; }

for name in A B; do
	p=$(echo $pids | cut -d' ' -f$([ $name = A ] && echo 1 || echo 2))
	kill -TERM "$p"
	wait "$p"
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: sip-serve $name exit $rc after SIGTERM"; fail=1; }
	grep -q '^sip-serve: answered' "$dir/$name.err" ||
		{ echo "FAIL: sip-serve $name printed no counters"; fail=1; }
done
pids=""
grep -q ' 403 ' "$dir/A.err" && grep -q ' 603 ' "$dir/B.err" ||
	{ echo "FAIL: counters miss 403 or 603:"; cat "$dir/A.err" "$dir/B.err"; fail=1; }
exit $fail
