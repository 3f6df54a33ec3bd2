#!/bin/sh
# callbar serve --sip: the SIP front end decides on the daemon's snapshot
# and its registry copy.  sipp (Debian sip-tester) places calls; an unlock
# made through the HTTP API turns a 403 into a 302; /metrics counts both.
. "$2/lib.sh"
sc="$2/../sip/sipp"
rules="$2/../../etc/callbar/pilots.rules"
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (tools/deps.sh)"; exit 1; }
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
HA="Authorization: Bearer $A"
start_daemon --rules "$rules" --registry "sqlite:$PWD/reg.db" --tokens tok --sip 127.0.0.1:0
i=0
until grep -q 'SIP on ' serve.out; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listener"; cat serve.out serve.err; exit 1; }
	sleep 0.05
done
sp=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p' serve.out)

sipp_run() { # NAME TRANSPORT SCENARIO -set ...
	name=$1 tp=$2 xml=$3
	shift 3
	sipp "127.0.0.1:$sp" -sf "$sc/$xml.xml" -t "$tp" -i 127.0.0.1 -m 1 -nostdin \
		-recv_timeout 5000 -timeout 15 -timeout_error -trace_err -error_file "$name.log" \
		"$@" >"$name.sipp" 2>&1 || { echo "FAIL $name: sipp exit $?"; head -30 "$name.log"; fail=1; }
}
h=127.0.0.1
line=$(grep -n -E 'reason zj-cmcc-intl-voice-out( |$)' "$rules" | cut -d: -f1)
for tp in u1 t1; do
	sipp_run block_$tp $tp invite_403 -set ruri "sip:+85291234567@$h;user=phone" \
		-set from "sip:13805710000@$h" \
		-set reason 'Q.850;cause=21;text="zj-cmcc-intl-voice-out"' -set rule "pilots.rules:$line"
done
call unlock 201 -X PUT -H "$HA" -d '{"channel":"shop","service":"voice"}' "$U/v1/unlocks/13805710000"
for tp in u1 t1; do
	sipp_run unlocked_$tp $tp invite_302 -set ruri "sip:+85291234567@$h;user=phone" \
		-set from "sip:13805710000@$h"
done
sipp_run options u1 options_200
# The counts are published after each batch, and the kernel's drop count
# moves when loopback delivers the ACK (a softirq, maybe a moment after
# sipp is gone): wait for the last of them, a second or two at most.
n=0
until curl -s "$U/metrics" | grep -qF 'callbar_sip_messages_total{event="udp_kernel_dropped"} 2' ||
	[ $n -ge 40 ]; do
	n=$((n + 1)); sleep 0.05
done
call metrics 200 "$U/metrics"
has metrics body.json 'callbar_sip_answers_total{status="403"} 2'
has metrics body.json 'callbar_sip_answers_total{status="302"} 2'
# by rule, as HTTP decisions: the two blocks (UDP and TCP) by the Zhejiang
# rule, the two calls let through after the unlock by the pilots' last rule
has metrics body.json 'callbar_decisions_total{verdict="block",service="voice",direction="out",rule="zj-cmcc-intl-voice-out",front="sip"} 2'
has metrics body.json 'callbar_decisions_total{verdict="allow",service="voice",direction="out",rule="default",front="sip"} 2'
# the two UDP calls' ACKs: dropped by the socket filter, counted by the kernel
has metrics body.json 'callbar_sip_messages_total{event="udp_kernel_dropped"} 2'
# the guards' counts are there from the start
has metrics body.json 'callbar_sip_messages_total{event="udp_refused_source"} 0'
has metrics body.json 'callbar_sip_tcp_connections_total{event="refused_per_source"} 0'
has metrics body.json 'callbar_sip_tcp_connections_total{event="refused_full"} 0'
promtool check metrics <body.json >promtool.out 2>&1 || { echo "FAIL promtool:"; cat promtool.out; fail=1; }
# a second daemon on the same SIP port does not start (the kernel would
# split the calls between the two): it names the address
timeout 20 "$CB" serve --rules "$rules" --registry "sqlite:$PWD/reg4.db" --tokens tok \
	--http 127.0.0.1:0 --sip "127.0.0.1:$sp" >clash.out 2>&1 &&
	{ echo "FAIL: a second daemon started on SIP port $sp"; fail=1; }
grep -q "address in use" clash.out && grep -qF "127.0.0.1:$sp" clash.out ||
	{ echo "FAIL: no 'address in use' for SIP port $sp"; cat clash.out; fail=1; }
stop_daemon
# log.decision_log off (the default): no decision lines, no peer numbers
# (the unlock's own line names its subscriber: a registry change, not a call)
hasnt no_decision_log serve.err '"msg":"decision"'
hasnt no_decision_log serve.err '85291234567'

# [sip] in a config: an `in` listener beside the `out` one, 603 on block,
# 500 on error, the ingress class of the peer's network (loopback here);
# two more listeners described in full (sip.listener): UDP only, numbers
# from other headers, one with an ingress class of its own, one answering
# only the networks it allows (loopback among them).
cat >sip.conf <<CONF
[rules]
file = $sc/ingress.rules
[registry]
url = sqlite:$PWD/reg2.db
[auth]
tokens = tok
[sip]
listen = 127.0.0.1:0
listen_in = 127.0.0.1:0
block_status = 603
fail_mode = 500
ingress = 10.0.0.0/8=core,127.0.0.0/8=intl-gateway
listener = 127.0.0.1:0 direction=in transport=udp subscriber=from peer=ruri block=403 allow=10.0.0.0/8,127.0.0.1/32
tcp_per_source = 32
listener = "127.0.0.1:0  direction=in transport=udp subscriber=from peer=ruri via=127.0.0.0/8=core"
[log]
decision_log = on
CONF
start_daemon --config sip.conf
i=0
until [ "$(grep -c 'SIP on ' serve.out)" = 4 ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listeners"; cat serve.out serve.err; exit 1; }
	sleep 0.05
done
port_of() { grep 'SIP on ' serve.out | sed -n "$1s/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p"; }
spo=$(port_of 1) spi=$(port_of 2) spx=$(port_of 3) spy=$(port_of 4)
has listener_udp serve.out '(UDP, direction in)'

rb=$(grep -n -E 'reason intl-barred( |$)' "$sc/ingress.rules" | cut -d: -f1)
rs=$(grep -n -E 'reason spoofed-cli( |$)' "$sc/ingress.rules" | cut -d: -f1)
sp=$spo
sipp_run cfg_603 u1 invite_603 -set ruri "sip:+85291234567@$h" -set from "sip:13805710000@$h" \
	-set reason 'Q.850;cause=21;text="intl-barred"' -set rule "ingress.rules:$rb"
sipp_run cfg_500 u1 invite_500 -set ruri "sip:+85291234567@$h" -set from "sip:abc@$h"
sp=$spi
sipp_run cfg_in_ingress t1 invite_603 -set ruri "sip:13905710000@$h" -set from "sip:13805710000@$h" \
	-set reason 'Q.850;cause=21;text="spoofed-cli"' -set rule "ingress.rules:$rs"
# subscriber from From, peer from the Request-URI: the mainland peer came
# in on the gateway (blocked, and 403: this listener's own block status);
# the defaults would have read the peer from From (+852, not mainland) and
# let it through
sp=$spx
sipp_run cfg_listener_sources u1 invite_403 -set ruri "sip:+8613805710000@$h" \
	-set from "sip:+85291234567@$h" \
	-set reason 'Q.850;cause=21;text="spoofed-cli"' -set rule "ingress.rules:$rs"
# the same call on the listener whose own via names loopback 'core': 302
sp=$spy
sipp_run cfg_listener_via u1 invite_302 -set ruri "sip:+8613805710000@$h" -set from "sip:+85291234567@$h"
stop_daemon
# log.decision_log on: a SIP decision is logged as an HTTP one is
has decision_log serve.err "\"msg\":\"decision\",\"front\":\"sip\",\"verdict\":\"block\",\"rule\":\"ingress.rules:$rb\",\"reason\":\"intl-barred\",\"exempted_by\":null,\"error\":null,\"service\":\"voice\",\"direction\":\"out\",\"subscriber\":\"8613805710000\",\"peer\":\"85291234567\""
has decision_log_allow serve.err '"verdict":"allow","rule":"ingress.rules:'
has decision_log_allow serve.err '"service":"voice","direction":"in"'
printf '[sip]\ningress = 10.0.0.0/33=x\n' >bad.conf
"$CB" serve --config bad.conf --rules "$rules" --registry "sqlite:$PWD/reg3.db" --http 127.0.0.1:0 \
	--sip 127.0.0.1:0 >bad.out 2>&1 &&
	{ echo "FAIL: a bad sip.ingress was accepted"; fail=1; }
grep -q 'sip.ingress: want CIDR=NAME' bad.out || { echo "FAIL: no message for sip.ingress"; cat bad.out; fail=1; }
finish
