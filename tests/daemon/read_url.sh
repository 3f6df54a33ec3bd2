#!/bin/sh
# registry.read_url: the full load at start comes from a standby (here a
# copy of the registry file standing in for one), and the changes since are
# caught up from registry.url; a standby that cannot be read is logged and
# the load made from registry.url.  tests/cluster/ runs real streaming
# replication.
. "$2/lib.sh"
rules="$2/../../etc/callbar/pilots.rules"
R="sqlite:$PWD/reg.db"
"$CB" unlock 13805710001 --registry "$R" --scope voice >/dev/null 2>&1 || { echo "FAIL unlock 1"; fail=1; }
cp reg.db standby.db # the standby, as of the first unlock
"$CB" unlock 13805710002 --registry "$R" --scope voice >/dev/null 2>&1 || { echo "FAIL unlock 2"; fail=1; }
printf '[http]\ndecide_auth = none\n[registry]\nread_url = sqlite:%s/standby.db\n' "$PWD" >r.conf
start_daemon --config r.conf --rules "$rules" --registry "$R"
has from_standby serve.err '"msg":"unlock set loaded from registry.read_url"'
has standby_count serve.err '"records":1,'
# the second unlock, made after the standby's copy, came from the primary
for n in 13805710001 13805710002; do
	call "decide_$n" 200 -d "{\"service\":\"voice\",\"direction\":\"in\",\"subscriber\":\"$n\",\"peer\":\"+85291234567\"}" "$U/v1/decide"
	has "unlocked_$n" body.json '"verdict":"allow"'
done
stop_daemon
printf '[http]\ndecide_auth = none\n[registry]\nread_url = postgresql:///nowhere?host=%s/nosuchdir&user=nobody\n' "$PWD" >bad.conf
start_daemon --config bad.conf --rules "$rules" --registry "$R"
has fallback serve.err '"msg":"registry.read_url unreadable: loading from registry.url"'
call decide_fallback 200 -d '{"service":"voice","direction":"in","subscriber":"13805710002","peer":"+85291234567"}' "$U/v1/decide"
has unlocked_fallback body.json '"verdict":"allow"'
stop_daemon
finish
