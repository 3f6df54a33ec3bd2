#!/bin/sh
# A registry that went back (an asynchronous failover's new primary lacks
# the old one's last changes; here its last change removed by hand): the
# daemon notices its sequence is behind the one it followed, reloads in
# full, and the lost unlock stops exempting calls.
. "$2/lib.sh"
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 not installed (tools/deps.sh)"; exit 1; }
rules="$2/../../etc/callbar/pilots.rules"
R="sqlite:$PWD/reg.db"
"$CB" unlock 13805710001 --registry "$R" --scope voice >/dev/null 2>&1 || { echo "FAIL unlock 1"; fail=1; }
"$CB" unlock 13805710002 --registry "$R" --scope voice >/dev/null 2>&1 || { echo "FAIL unlock 2"; fail=1; }
printf '[http]\ndecide_auth = none\n' >r.conf
start_daemon --config r.conf --rules "$rules" --registry "$R"
ev() { echo "{\"service\":\"voice\",\"direction\":\"in\",\"subscriber\":\"$1\",\"peer\":\"+85291234567\"}"; }
call before 200 -d "$(ev 13805710002)" "$U/v1/decide"
has before body.json '"verdict":"allow"'
# the tail from the second unlock on is lost, as a standby that had not yet
# received it and was promoted would lack it
s2=$(sqlite3 reg.db 'SELECT seq FROM unlock WHERE subscriber = 8613805710002')
sqlite3 reg.db "DELETE FROM unlock WHERE seq >= $s2; DELETE FROM audit WHERE seq >= $s2"
i=0
until grep -q 'registry sequence went back' serve.err || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
has reloaded serve.err '"msg":"registry sequence went back (a failover lost changes): reloaded"'
call lost 200 -d "$(ev 13805710002)" "$U/v1/decide"
has lost body.json '"verdict":"block"'
call kept 200 -d "$(ev 13805710001)" "$U/v1/decide"
has kept body.json '"verdict":"allow"'
stop_daemon
finish
