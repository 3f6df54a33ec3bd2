#!/bin/sh
# callbar serve --smpp with Kannel as the interconnect peer: bearerbox
# binds to callbar as a transceiver (its smsc group is `smsc = smpp`),
# messages are injected through smsbox's sendsms HTTP interface, and the
# home SMSC is Net::SMPP (smsc.pl).  Kannel's access log says what became
# of each message: sent with the SMSC's message id, its delivery report
# received, or rejected with callbar's status.
. "$(dirname "$0")/../daemon/lib.sh"
. "$(dirname "$0")/lib.sh"
command -v bearerbox >/dev/null || PATH=$PATH:/usr/sbin
command -v bearerbox >/dev/null || { echo "FAIL: kannel is not installed (make check installs it)"; exit 1; }
BB_PID= SB_PID=
kannel_cleanup() {
	[ -n "$SB_PID" ] && kill "$SB_PID" 2>/dev/null
	[ -n "$BB_PID" ] && kill "$BB_PID" 2>/dev/null
	smpp_cleanup
}
trap kannel_cleanup EXIT

UP=$(free_port)
sed '/^pass all/i block in  sms   from alphanumeric via intl-hub reason alnum-intl' \
	"$SMPP_DIR/../../etc/callbar/pilots.rules" >test.rules
PW=$("$CB" smpp-peer add kannel --via intl-hub --peers peers) || { echo "FAIL add"; exit 1; }
cat >cb.conf <<EOF
[rules]
file = $work/test.rules
[registry]
url = sqlite:$work/reg.db
[auth]
tokens = $work/tokens
[smpp]
listen = 127.0.0.1:0
peers = $work/peers
upstream = 127.0.0.1:$UP
upstream_system_id = callbar
upstream_password = secret
EOF
start_smsc "$UP"
start_daemon --config cb.conf
SP=$(smpp_port)
ADMIN=$(free_port) BOX=$(free_port) SEND=$(free_port)
# The interconnect peer as an operator would configure Kannel toward an
# SMSC (docs/smpp.md shows this file).
cat >kannel.conf <<EOF
group = core
admin-port = $ADMIN
admin-password = adm
smsbox-port = $BOX
log-file = "$work/bearerbox.log"
log-level = 1
access-log = "$work/access.log"
box-allow-ip = "127.0.0.1"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = callbar
host = 127.0.0.1
port = $SP
transceiver-mode = true
smsc-username = kannel
smsc-password = $PW
system-type = "VMA"
source-addr-ton = 1
source-addr-npi = 1
dest-addr-ton = 1
dest-addr-npi = 1
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = $SEND
log-file = "$work/smsbox.log"
log-level = 1

group = sendsms-user
username = tester
password = foobar

group = sms-service
keyword = default
text = "unused"
EOF
bearerbox kannel.conf >bb.out 2>&1 &
BB_PID=$!
wait_for serve.err '"smpp peer bound","system_id":"kannel"' ||
	{ echo "FAIL: Kannel did not bind to callbar"; tail -20 bearerbox.log; exit 1; }
i=0
until curl -s "http://127.0.0.1:$ADMIN/status?password=adm" >/dev/null 2>&1 || [ $i -gt 100 ]; do
	i=$((i + 1)); sleep 0.05
done
smsbox kannel.conf >sb.out 2>&1 &
SB_PID=$!
# sendsms answers once smsbox is connected
send() { # FROM TO TEXT [DLR]
	curl -s -G "http://127.0.0.1:$SEND/cgi-bin/sendsms" --data-urlencode username=tester \
		--data-urlencode password=foobar --data-urlencode "from=$1" --data-urlencode "to=$2" \
		--data-urlencode "text=$3" ${4:+--data-urlencode dlr-mask=3} \
		${4:+--data-urlencode dlr-url=http://127.0.0.1:1/}
}
i=0
until send +85291234567 +8613910000000 KANNEL-relay dlr | grep -q "Accepted"; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "FAIL: smsbox does not accept"; cat sb.out; exit 1; }
	sleep 0.05
done
# relayed, with the SMSC's message id, and its delivery report back
wait_for access.log "Sent SMS [SMSC:callbar]" || { echo "FAIL relay: not sent"; fail=1; }
has relay-id access.log "[FID:M1]"
has relay-smsc smsc.log "dst=1:8613910000000 dc=0 esm=3 text=$(printf KANNEL-relay | od -An -tx1 | tr -d ' \n')"
wait_for access.log "Receive DLR [SMSC:callbar]" || { echo "FAIL receipt: no DLR"; fail=1; }
has receipt-id access.log "stat:DELIVRD"
# Henan from +852: rejected with 0x66, never at the SMSC
send +85291234567 +8615003710000 KANNEL-henan >/dev/null
wait_for access.log "to:+8615003710000" || { echo "FAIL block: no answer"; fail=1; }
has block-rejected access.log "REJECTED Send SMS [SMSC:callbar]"
has block-status bearerbox.log "SMSC returned error code 0x00000066"
hasnt block-not-relayed smsc.log "15003710000"
# an alphanumeric sender through an international hub: rejected too
send PAYPAL +8613910000000 KANNEL-alnum >/dev/null
wait_for access.log "from:PAYPAL" || { echo "FAIL alnum: no answer"; fail=1; }
grep "from:PAYPAL" access.log >alnum.log
has alnum-rejected alnum.log "REJECTED Send SMS"
hasnt alnum-not-relayed smsc.log "PAYPAL"
curl -s "$U/metrics" >metrics.txt
has metric-kannel metrics.txt 'callbar_decisions_total{verdict="block",service="sms",direction="in",rule="ha-intl-sms-in",front="smpp"} 1'
finish
