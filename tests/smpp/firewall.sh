#!/bin/sh
# callbar serve --smpp between real SMPP peers (Net::SMPP as the
# interconnect peer and as the home SMSC): binds and their errors, relay
# with the SMSC's message_id, blocks never seen by the SMSC, alphanumeric
# senders, delivery receipts routed back, the keyword service and its
# UCS-2 answer, the pilots over SMPP, the window, the upstream killed and
# restarted, and no relayed text in any log, database or metric.
. "$(dirname "$0")/../daemon/lib.sh"
. "$(dirname "$0")/lib.sh"

UP=$(free_port)
# the pilots, and alphanumeric senders barred on the international hubs
# (the Henan rule with a block notice)
sed -e '/^pass all/i block in  sms   from alphanumeric via intl-hub reason alnum-intl' \
	-e 's/reason ha-intl-sms-in announce henan-verify$/& notify/' \
	-e 's/reason zj-cmcc-intl-voice-in announce zj-cmcc-unlock$/& notify/' \
	"$SMPP_DIR/../../etc/callbar/pilots.rules" >test.rules
grep -q "henan-verify notify" test.rules || { echo "FAIL: no notify rule"; exit 1; }
grep -q "intl-voice-in announce zj-cmcc-unlock notify" test.rules || { echo "FAIL: no notify call rule"; exit 1; }
PW1=$("$CB" smpp-peer add hub1 --via intl-hub --peers peers) || { echo "FAIL add hub1"; exit 1; }
PW2=$("$CB" smpp-peer add hub2 --via intl-hub --binds 2 --peers peers) || exit 1
PWA=$("$CB" smpp-peer add agg --via domestic --allow 127.0.0.1/32 --peers peers) || exit 1
PWX=$("$CB" smpp-peer add far --via intl-hub --allow 192.0.2.0/24 --peers peers) || exit 1
[ ${#PW1} = 8 ] || { echo "FAIL password length: '$PW1'"; fail=1; }
"$CB" smpp-peer list --peers peers >list.out
has list list.out "hub2	via=intl-hub	direction=in	binds=2	allow=any"
hasnt list-no-hash list.out "argon2"
hasnt file-no-password peers "$PW1"
"$CB" smpp-peer add hub1 --via x --peers peers 2>dup.err && { echo "FAIL duplicate add"; fail=1; }
has dup dup.err "'hub1' is taken"

cat >cb.conf <<EOF
[rules]
file = $work/test.rules
[registry]
url = sqlite:$work/reg.db
[auth]
tokens = $work/tokens
[log]
decision_log = on
[smpp]
listen = 127.0.0.1:0
peers = $work/peers
upstream = 127.0.0.1:$UP
upstream_system_id = callbar
upstream_password = secret
window = 5
enquire_link = 5
notify_from = 10086
notify_period = 3600
concat_wait = 1
[sip]
listen_in = 127.0.0.1:0
block_status = 603
EOF
PW4=$("$CB" smpp-peer add hub4 --via domestic --peers peers) || exit 1
ADMIN=$("$CB" token create --role admin --name ops --tokens tokens 2>/dev/null) || { echo "FAIL token"; exit 1; }
start_smsc "$UP"
start_daemon --config cb.conf
SP=$(smpp_port)
wait_for smsc.log "bind callbar ok" || { echo "FAIL: callbar did not bind to the SMSC"; fail=1; }
i=0
until curl -sf "$U/readyz" >/dev/null || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.05; done

# ---- binds ------------------------------------------------------------------
expect_esme bind-ok "bind status=0x0" hub1 "$PW1" bind trx
expect_esme bind-bad-password "bind status=0xe" hub1 wrongpw bind trx
expect_esme bind-unknown "bind status=0xf" nobody "$PW1" bind
expect_esme bind-address "bind status=0xd" far "$PWX" bind
expect_esme bind-allowed-address "bind status=0x0" agg "$PWA" bind tx
# hub1 may hold one bind: a second is refused while the first is open
perl "$SMPP_DIR/esme.pl" "$SP" hub1 "$PW1" rx 3 >rx1.out 2>&1 &
RX=$!
wait_for serve.err '"smpp peer bound","system_id":"hub1"' || true
sleep 0.3
expect_esme bind-limit "bind status=0xd" hub1 "$PW1" bind trx
wait "$RX"
has bind-logged serve.err '"msg":"bad_password","system_id":"hub1"'
has bind-logged-limit serve.err '"msg":"bind_limit","system_id":"hub1"'

# ---- the peers file read again on reload: SIGHUP and POST /v1/reload ---------------
PW3=$("$CB" smpp-peer add hub3 --via intl-hub --peers peers) || { echo "FAIL add hub3"; fail=1; }
expect_esme reload-not-yet "bind status=0xf" hub3 "$PW3" bind
kill -HUP "$PID"
wait_for serve.err '"msg":"smpp peers loaded","trigger":"sighup"' || { echo "FAIL: no peers reload on SIGHUP"; fail=1; }
has reload-sighup-added serve.err '"trigger":"sighup","file":"'"$work"'/peers","added":1,"removed":0'
expect_esme reload-added "bind status=0x0" hub3 "$PW3" bind trx
# a removed peer: new binds refused, the bind it holds stays open (esme.pl
# holds a receiver bind 8 s and unbinds)
perl "$SMPP_DIR/esme.pl" "$SP" hub4 "$PW4" rx 8 >rxhub4.out 2>&1 &
RXA=$!
wait_for serve.err '"smpp peer bound","system_id":"hub4"' || true
"$CB" smpp-peer remove hub4 --peers peers || { echo "FAIL remove hub4"; fail=1; }
call reload-http 200 -X POST -H "Authorization: Bearer $ADMIN" "$U/v1/reload"
has reload-http-removed serve.err '"trigger":"http","file":"'"$work"'/peers","added":0,"removed":1'
expect_esme reload-removed "bind status=0xf" hub4 "$PW4" bind tx
curl -s "$U/metrics" >binds.txt
has reload-open-bind-stays binds.txt 'callbar_smpp_binds{side="peer"} 1'
# a peers file that does not read fails the reload and changes nothing
cp peers peers.good
echo "broken line" >>peers
call reload-bad 422 -X POST -H "Authorization: Bearer $ADMIN" "$U/v1/reload"
expect_esme reload-bad-kept "bind status=0x0" hub3 "$PW3" bind trx
mv peers.good peers

# ---- relay, block, alphanumeric -----------------------------------------------
# +852 to Beijing: no rule bars it; the SMSC's message id comes back
expect_esme relay "status=0x0 id=M" hub2 "$PW2" submit 1 85291234567 1 8613910000000 "PRIVTEXT-relay-1"
ID=$(sed -n 's/.*id=\(M[0-9]*\).*/\1/p' esme.out)
has relay-smsc smsc.log "submit $ID src=1:85291234567 dst=1:8613910000000"
# relayed unchanged: the text's bytes as the peer sent them
has relay-unchanged smsc.log "text=$(printf PRIVTEXT-relay-1 | od -An -tx1 | tr -d ' \n')"
# Henan from +852 after 2022-05-07: blocked with 0x66, never at the SMSC
expect_esme henan-block "status=0x66 id=" hub2 "$PW2" submit 1 85291234567 2 15003710000 "PRIVTEXT-henan"
hasnt henan-not-relayed smsc.log "dst=2:15003710000 dc=0"
# the block notice: the rule's announcement, from notify_from, once
# (every segment: the notice is cut in UCS-2 segments of 67 characters)
i=0
while :; do
	grep "src=0:10086 dst=2:15003710000 dc=8" smsc.log >notice.lines
	: >notice.txt
	while read -r _ _ _ _ _ esm text; do
		ucs2_text "${text#text=}" "${esm#esm=}" >>notice.txt
	done <notice.lines
	grep -q "ID card" notice.txt && break
	i=$((i + 1))
	[ $i -gt 200 ] && break
	sleep 0.05
done
has notice-text notice.txt "身份证"
has notice-text-en notice.txt "ID card"
hasnt notice-no-sender notice.txt "852"
hasnt notice-no-content notice.txt "PRIVTEXT"
expect_esme henan-block-again "status=0x66" hub2 "$PW2" submit 1 85291234567 2 15003710000 "PRIVTEXT-henan1b"
curl -s "$U/metrics" >notice-metrics.txt
has notice-once notice-metrics.txt 'callbar_smpp_messages_total{result="notice_suppressed"} 1'
has notice-sent notice-metrics.txt 'callbar_smpp_messages_total{result="notice_sent"} 1'
# an alphanumeric sender on an international hub: barred
expect_esme alnum-intl "status=0x66" hub2 "$PW2" submit 5 PAYPAL 2 13910000000 "PRIVTEXT-alnum"
hasnt alnum-not-relayed smsc.log "PAYPAL"
# the same sender from the domestic aggregator: relayed
expect_esme alnum-domestic "status=0x0 id=M" agg "$PWA" submit 5 BANKX 2 13910000000 "code"
has alnum-domestic-smsc smsc.log "src=5:BANKX"

# ---- delivery receipt routed back -----------------------------------------------
expect_esme receipt "receipt id:M" hub2 "$PW2" submit 1 85291234567 1 8613910000000 "PRIVTEXT-rcpt" receipt
RID=$(sed -n 's/^status=0x0 id=\(M[0-9]*\).*/\1/p' esme.out)
has receipt-id esme.out "receipt id:$RID "

# a receipt for a peer with no receiving bind open: held, then delivered
# when the peer binds as a receiver
expect_esme receipt-held "status=0x0 id=M" hub2 "$PW2" submit-tx 1 85291234567 1 8613910000000 "PRIVTEXT-held" receipt
HID=$(sed -n 's/^status=0x0 id=\(M[0-9]*\).*/\1/p' esme.out)
# (until callbar holds it: the SMSC's receipt may follow its answer late)
i=0
until curl -s "$U/metrics" | grep -q 'callbar_smpp_receipts_total{result="held"} 1'; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "FAIL held: callbar holds no receipt"; fail=1; break; }
	sleep 0.05
done
expect_esme receipt-delivered "receipt id:$HID " hub2 "$PW2" rx 2

# ---- keyword service: Zhejiang Mobile texts 1219 to 10086 -----------------------
expect_esme zj-before "status=0x66" hub2 "$PW2" submit 1 85291234567 2 13805710000 "PRIVTEXT-zj1"
echo "2 13805710000 10086 0 $(printf 1219 | od -An -tx1 | tr -d ' \n')" >ctl/k1.mo
wait_for smsc.log "dst=2:13805710000 dc=8" || { echo "FAIL keyword: no reply at the SMSC"; fail=1; }
# the confirmation, UCS-2 from the service number, decoded
grep "src=0:10086 dst=2:13805710000 dc=8" smsc.log >reply.lines
: >reply.txt
while read -r _ _ _ _ _ esm text; do
	ucs2_text "${text#text=}" "${esm#esm=}" >>reply.txt
done <reply.lines
has keyword-reply-zh reply.txt "已"
has keyword-reply-en reply.txt "unlocked"
# texts from abroad again within a second of the keyword (the registry is
# followed at once after a keyword; bounded retry, no timing asserted)
i=0
while :; do
	esme hub2 "$PW2" submit 1 85291234567 2 13805710000 "PRIVTEXT-zj2"
	grep -q "status=0x0 id=M" esme.out && break
	i=$((i + 1))
	[ $i -gt 20 ] && { echo "FAIL zj-after: still $(cat esme.out)"; fail=1; break; }
	sleep 0.05
done
# the same keyword again changes nothing, and says so
lines=$(grep -c "dst=2:13805710000 dc=8" smsc.log)
echo "2 13805710000 10086 8 $(printf '１２１９' | iconv -f utf-8 -t ucs-2be | od -An -tx1 | tr -d ' \n')" >ctl/k2.mo
wait_for serve.err '"result":"already-unlocked"' || { echo "FAIL keyword twice: not already-unlocked"; fail=1; }
# Henan: a self unlock by keyword does not restore texts from abroad
echo "2 15003710000 10086 0 $(printf 1219 | od -An -tx1 | tr -d ' \n')" >ctl/k3.mo
wait_for serve.err '"subscriber":"8615003710000","keyword":"1219"' || { echo "FAIL henan keyword"; fail=1; }
expect_esme henan-still-blocked "status=0x66" hub2 "$PW2" submit 1 85291234567 2 15003710000 "PRIVTEXT-henan2"
# and the answer tells the truth: a self registration does not restore
# them, an ID card at a shop does (the rule's announcement)
i=0
until sed -n '/^mo 15003710000 10086/,$p' smsc.log | grep -q "dst=2:15003710000 dc=8"; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "FAIL henan: no reply"; fail=1; break; }
	sleep 0.05
done
sed -n '/^mo 15003710000 10086/,$p' smsc.log | grep "src=0:10086 dst=2:15003710000 dc=8" >henan.lines
: >henan.txt
while read -r _ _ _ _ _ esm text; do
	ucs2_text "${text#text=}" "${esm#esm=}" >>henan.txt
done <henan.lines
has henan-reply-truth henan.txt "身份证"
hasnt henan-reply-not-unlocked henan.txt "are now unlocked"

# ---- a keyword sent in parts (UDH concatenation), read once whole ------------------
# "12" and "19" as two GSM parts (IEI 0x00, reference 5), the second first,
# then in UCS-2 (IEI 0x08, 16-bit reference); each pair in one go from the SMSC
printf '%s\n' "2 13805710002 10086 0 0500030502023139 64" "2 13805710002 10086 0 0500030502013132 64" >ctl/k4.mo
wait_for serve.err '"subscriber":"8613805710002","keyword":"1219"' || { echo "FAIL concat keyword (8-bit reference) not read whole"; fail=1; }
printf '%s\n' "2 13805710003 10086 8 0608041234020100310032 64" "2 13805710003 10086 8 0608041234020200310039 64" >ctl/k5.mo
wait_for serve.err '"subscriber":"8613805710003","keyword":"1219"' || { echo "FAIL concat keyword (16-bit reference) not read whole"; fail=1; }
# a part whose rest never comes: nothing read, dropped after smpp.concat_wait
echo "2 13805710004 10086 0 0500030902013132 64" >ctl/k6.mo
i=0
until curl -s "$U/metrics" | grep -q 'callbar_smpp_keywords_total{what="concat_dropped"} 1'; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "FAIL concat: the lone part was not dropped"; fail=1; break; }
	sleep 0.05
done
hasnt concat-lone-not-read serve.err '"subscriber":"8613805710004"'

# ---- a block notice for a barred call (HTTP decide), sent over the SMPP upstream ------
notice_suppressed() {
	curl -s "$U/metrics" | sed -n 's/^callbar_smpp_messages_total{result="notice_suppressed"} //p'
}
SUP0=$(notice_suppressed)
EVC='{"service":"voice","direction":"in","subscriber":"13805710009","peer":"+85291234567"}'
call notice-call 200 -X POST -H "Authorization: Bearer $ADMIN" -d "$EVC" "$U/v1/decide"
has notice-call-blocked body.json '"block"'
wait_for smsc.log "src=0:10086 dst=1:8613805710009 dc=8" || { echo "FAIL call notice: none at the SMSC"; fail=1; }
# all its segments at the SMSC: the last one ends the English text
: >callnotice.txt
i=0
until grep -q "1219 to 10086." callnotice.txt || [ $i -gt 200 ]; do
	: >callnotice.txt
	grep "src=0:10086 dst=1:8613805710009 dc=8" smsc.log | while read -r _ _ _ _ _ esm text; do
		ucs2_text "${text#text=}" "${esm#esm=}" >>callnotice.txt
	done
	i=$((i + 1))
	sleep 0.05
done
has call-notice-text callnotice.txt "To restore them, text 1219 to 10086."
has call-notice-zh callnotice.txt "发送短信1219到10086"
hasnt call-notice-no-caller callnotice.txt "85291234567"
NSEG=$(grep -c "dst=1:8613805710009" smsc.log)
# the same call again: no second notice within smpp.notify_period
call notice-call-again 200 -X POST -H "Authorization: Bearer $ADMIN" -d "$EVC" "$U/v1/decide"
i=0
until [ "$(notice_suppressed)" = "$((${SUP0:-0} + 1))" ] || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.05; done
[ "$(notice_suppressed)" = "$((${SUP0:-0} + 1))" ] || { echo "FAIL call notice twice: not suppressed ($(notice_suppressed), was ${SUP0:-0})"; fail=1; }
[ "$(grep -c "dst=1:8613805710009" smsc.log)" = "$NSEG" ] || { echo "FAIL call notice twice: sent again"; fail=1; }

# the same through SIP: an INVITE from +852 to a Zhejiang Mobile line on the
# incoming listener (sipp, Debian sip-tester), answered 603, and the notice
sipsp=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*direction in.*/\1/p' serve.out)
vline=$(grep -n -E 'reason zj-cmcc-intl-voice-in( |$)' test.rules | cut -d: -f1)
sipp "127.0.0.1:$sipsp" -sf "$SMPP_DIR/../sip/sipp/invite_603.xml" -t u1 -i 127.0.0.1 -m 1 -nostdin \
	-recv_timeout 5000 -timeout 15 -timeout_error -trace_err -error_file sipnotice.log \
	-set ruri "sip:+8613805710008@127.0.0.1" -set from "sip:+85291234567@127.0.0.1" \
	-set reason 'Q.850;cause=21;text="zj-cmcc-intl-voice-in"' -set rule "test.rules:$vline" \
	>sipnotice.sipp 2>&1 || { echo "FAIL sip notice: sipp exit $?"; head -30 sipnotice.log; fail=1; }
wait_for smsc.log "src=0:10086 dst=1:8613805710008 dc=8" || { echo "FAIL sip call notice: none at the SMSC"; fail=1; }

# ---- window: at most 5 outstanding, the rest THROTTLED ----------------------------
# the SMSC answers each submit after 50 ms, so a burst finds the window full
stop_smsc
start_smsc "$UP" 50
wait_for smsc.log "bind callbar ok" || true
i=0
until curl -sf "$U/readyz" >/dev/null || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.05; done
esme hub2 "$PW2" burst 20 85291234567 8613910000000
has window-ok esme.out "status=0x0 count="
has window-throttled esme.out "status=0x58 count="

# ---- upstream killed and restarted --------------------------------------------------
stop_smsc
i=0
while curl -sf "$U/readyz" >/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
curl -s "$U/readyz" >ready.json
has readyz-upstream ready.json '"name":"smpp_upstream","ok":false'
expect_esme down-throttled "status=0x58" hub2 "$PW2" submit 1 85291234567 1 8613910000000 "PRIVTEXT-down"
start_smsc "$UP"
i=0
until curl -sf "$U/readyz" >/dev/null || [ $i -gt 400 ]; do i=$((i + 1)); sleep 0.05; done
expect_esme up-again "status=0x0 id=M" hub2 "$PW2" submit 1 85291234567 1 8613910000000 "PRIVTEXT-up"
# every message callbar accepted (answered 0x0 with an id) reached the SMSC
for id in $(grep -ho "status=0x0 id=M[0-9]*" esme.all | sed 's/.*id=//'); do
	grep -q "submit $id " smsc.log || { echo "FAIL lost: $id accepted, not at the SMSC"; fail=1; }
done

# ---- command_length above smpp.pdu_max: generic_nack, closed --------------------------
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die;
	print $s pack("NNNN", 100000, 4, 0, 7);
	my $b = ""; read($s, $b, 16);
	my ($l, $id, $st, $seq) = unpack("NNNN", $b . "\0" x 16);
	printf "nack id=0x%x status=0x%x seq=%d\n", $id, $st, $seq;
	my $more = read($s, $b, 1); print "closed\n" if !$more;' "$SP" >nack.out
has too-long nack.out "nack id=0x80000000 status=0x2 seq=7"
has too-long-closed nack.out "closed"

# ---- metrics and the decision log --------------------------------------------------
curl -s "$U/metrics" >metrics.txt
has metric-decisions metrics.txt 'callbar_decisions_total{verdict="block",service="sms",direction="in",rule="ha-intl-sms-in",front="smpp"}'
has metric-alnum metrics.txt 'rule="alnum-intl",front="smpp"'
has metric-binds metrics.txt 'callbar_smpp_binds_total{result="bad_password"} 1'
has metric-throttled metrics.txt 'callbar_smpp_messages_total{result="throttled_window"}'
has metric-receipts metrics.txt 'callbar_smpp_receipts_total{result="routed"} 2'
has metric-receipts-held metrics.txt 'callbar_smpp_receipts_total{result="held"} 1'
has decision-log serve.err '"front":"smpp","verdict":"block"'

# ---- privacy: no relayed or blocked text anywhere callbar writes ----------------------
wait "$RXA"
stop_daemon
for f in serve.out serve.err metrics.txt reg.db reg.db-wal peers; do
	if [ -f "$f" ] && grep -qa PRIVTEXT "$f"; then
		echo "FAIL privacy: a message text in $f"; fail=1
	fi
done
# (the SMSC did get them: its log holds the texts in hex)
has privacy-check smsc.log "$(printf PRIVTEXT | od -An -tx1 | tr -d ' \n')"
finish
