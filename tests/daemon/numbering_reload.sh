#!/bin/sh
# The operator's numbering files (numbering.segments, numbering.ported) are
# read again with the rules on reload, and every front end decides on the
# new plan: a segment moved from Hebei to Liaoning changes the rule an HTTP
# decision and the effective status name; a number added to the ported list
# changes a SIP call's answer.  A numbering file that fails to load keeps
# the old snapshot, as a rule file that fails to compile does.
. "$2/lib.sh"
sc="$2/../sip/sipp"
pil=$SRC/../../etc/callbar/pilots.rules
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (tools/deps.sh)"; exit 1; }

# 19200000000 has no region in the built-in data; the operator's table
# (which replaces the built-in one) puts it in Shijiazhuang (city 34,
# Hebei), and 1380571 in Hangzhou (city 79, Zhejiang).
printf '1920000\t34\n1380571\t79\n' >seg.tsv
printf '# none yet\n' >ported.tsv
cat >nr.conf <<CONF
[rules]
file = $pil
[numbering]
segments = seg.tsv
ported = ported.tsv
[auth]
tokens = tok
[sip]
listen = 127.0.0.1:0
CONF
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
HA="Authorization: Bearer $A"
start_daemon --config nr.conf
i=0
until grep -q 'SIP on ' serve.out; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listener"; cat serve.out serve.err; exit 1; }
	sleep 0.05
done
sp=$(sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p' serve.out)
sipp_run() { # NAME SCENARIO -set ...
	name=$1 xml=$2
	shift 2
	sipp "127.0.0.1:$sp" -sf "$sc/$xml.xml" -t u1 -i 127.0.0.1 -m 1 -nostdin \
		-recv_timeout 5000 -timeout 15 -timeout_error -trace_err -error_file "$name.log" \
		"$@" >"$name.sipp" 2>&1 || { echo "FAIL $name: sipp exit $?"; head -30 "$name.log"; fail=1; }
}
h=127.0.0.1
ev='{"service":"sms","direction":"in","subscriber":"19200000000","peer":"+85291234567","at":"2022-06-01T12:00:00+08:00"}'

call hebei 200 -H "$HA" -d "$ev" "$U/v1/decide"
has hebei body.json '"reason":"he-intl-sms-in"'
call hebei_status 200 -H "$HA" "$U/v1/subscribers/19200000000"
has hebei_status body.json '"reason":"he-intl-sms-in","since":"2022-05-05"'
# 13805710000 (Zhejiang, China Mobile) calling abroad: China Mobile's bar
zline=$(grep -n -E 'reason zj-cmcc-intl-voice-out( |$)' "$pil" | cut -d: -f1)
sipp_run cmcc invite_403 -set ruri "sip:+85291234567@$h;user=phone" -set from "sip:13805710000@$h" \
	-set reason 'Q.850;cause=21;text="zj-cmcc-intl-voice-out"' -set rule "pilots.rules:$zline"

# The segment moves to Benxi (city 19, Liaoning); 13805710000 is ported
# to China Telecom.  A reload reads both.
printf '1920000\t19\n1380571\t79\n' >seg.tsv
printf '13805710000\tctcc\n' >ported.tsv
call reload 200 -X POST -H "$HA" "$U/v1/reload"
call liaoning 200 -H "$HA" -d "$ev" "$U/v1/decide"
has liaoning body.json '"reason":"ln-intl-in"'
call liaoning_status 200 -H "$HA" "$U/v1/subscribers/19200000000"
has liaoning_status body.json '"reason":"ln-intl-in","since":"2022-01-25"'
sipp_run ported invite_302 -set ruri "sip:+85291234567@$h;user=phone" -set from "sip:13805710000@$h"

# A segment table that does not load: the reload fails, the plan in use
# stays (still Liaoning), and SIGHUP reads the files as well.
printf '1920000\tnot-a-city\n' >seg.tsv
err bad_reload 422 RELOAD null -X POST -H "$HA" "$U/v1/reload"
call still_liaoning 200 -H "$HA" -d "$ev" "$U/v1/decide"
has still_liaoning body.json '"reason":"ln-intl-in"'
printf '1920000\t34\n1380571\t79\n' >seg.tsv
kill -HUP "$PID"
n=0
until curl -s -H "$HA" -d "$ev" "$U/v1/decide" | grep -q he-intl-sms-in || [ $n -ge 100 ]; do
	n=$((n + 1)); sleep 0.05
done
call hup 200 -H "$HA" -d "$ev" "$U/v1/decide"
has hup body.json '"reason":"he-intl-sms-in"'
stop_daemon
finish
