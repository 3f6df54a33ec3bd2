#!/bin/sh
# The Debian package, for real, on this machine (root; it installs into the
# system, so it runs only when CBAR_PACKAGE_TEST=1, ctest label "package"):
#   make deb, dpkg -i; the user, the conffiles, nothing started or enabled;
#   the daemon started as the unit starts it (ExecStart, User, WorkingDirectory
#   from the installed unit; systemd is not running in a container, so the
#   test runs that command itself, with --http 127.0.0.1:0 added so it does
#   not take port 8080); one call decided over HTTP; dpkg --purge; nothing left.
#   sh tests/package.sh SRCDIR
SRC=$1
top=$(cd "$SRC/.." && pwd)
[ "${CBAR_PACKAGE_TEST:-}" = 1 ] || { echo "SKIP package: set CBAR_PACKAGE_TEST=1 (installs into this system)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP package: needs root"; exit 77; }
if dpkg-query -W -f='${Status}' callbar 2>/dev/null | grep -q installed; then
	echo "FAIL: a callbar package is installed already; not touching it"; exit 1
fi
fail=0
PID=
work=$(mktemp -d)
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	dpkg --purge callbar >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

make -C "$top" --no-print-directory deb >"$work/deb.log" 2>&1 || { tail -40 "$work/deb.log"; exit 1; }
deb=$(ls "$top"/build-deb/callbar_*_*.deb | head -1)
# lintian: nothing but what debian/callbar.lintian-overrides explains
if grep -E '^[EW]: ' "$work/deb.log"; then echo "FAIL: lintian (above)"; fail=1; fi
dpkg-deb -c "$deb" | awk '{print substr($6, 2)}' | sed 's|/$||' >"$work/files"

dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; exit 1; }
getent passwd callbar >/dev/null || { echo "FAIL: no callbar user"; fail=1; }
shell=$(getent passwd callbar | cut -d: -f7)
case $shell in */nologin | */false) ;; *) echo "FAIL: callbar's shell is $shell"; fail=1 ;; esac
conff=$(dpkg-query -W -f='${Conffiles}\n' callbar)
for f in /etc/callbar/callbar.conf /etc/callbar/pilots.rules /etc/callbar/fraud.rules /etc/callbar/keywords.conf \
	/etc/logrotate.d/callbar; do
	echo "$conff" | grep -q " $f " || { echo "FAIL: $f is not a conffile"; fail=1; }
done
[ -d /var/lib/callbar ] && [ "$(stat -c %U /var/lib/callbar)" = callbar ] ||
	{ echo "FAIL: /var/lib/callbar is not callbar's"; fail=1; }
# Never started, never enabled unasked.
pgrep -u callbar >/dev/null && { echo "FAIL: something runs as callbar after install"; fail=1; }
ls /etc/systemd/system/*.wants/callbar.service 2>/dev/null && { echo "FAIL: enabled"; fail=1; }
grep -q 'systemctl.*start\|invoke-rc.d' /var/lib/dpkg/info/callbar.postinst &&
	{ echo "FAIL: postinst starts something"; fail=1; }
systemd-analyze verify /lib/systemd/system/callbar.service >"$work/verify" 2>&1 ||
	{ echo "FAIL: systemd-analyze verify:"; cat "$work/verify"; fail=1; }
man -w callbar >/dev/null 2>&1 && man -w 5 callbar.conf >/dev/null 2>&1 ||
	{ echo "FAIL: man pages not found by man"; fail=1; }

# Start it as the unit does.
unit=/lib/systemd/system/callbar.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
wd=$(sed -n 's/^WorkingDirectory=//p' "$unit")
tok=$(runuser -u "$user" -- /usr/bin/callbar token create --role agent --name pkgtest \
	--tokens /var/lib/callbar/tokens) || { echo "FAIL: token create"; fail=1; }
# setpriv execs (runuser would stay as the parent): $PID is the daemon.
(cd "$wd" && umask 077 && exec setpriv --reuid="$user" --regid="$user" --init-groups \
	$exec_start --http 127.0.0.1:0) \
	>"$work/serve.out" 2>"$work/serve.err" &
PID=$!
i=0
while ! grep -q 'listening on http://' "$work/serve.out"; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $PID 2>/dev/null; then
		echo "FAIL: the installed daemon did not start:"; cat "$work/serve.out" "$work/serve.err"
		exit 1
	fi
	sleep 0.05
done
U=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/serve.out")
got=$(curl -s -X POST "$U/v1/decide" -H "Authorization: Bearer $tok" \
	-d '{"service":"sms","direction":"in","subscriber":"15003710000","peer":"+85291234567","at":"2022-05-08T09:30:00+08:00"}')
echo "$got" | grep -q '"verdict":"block"' || { echo "FAIL: decide: $got"; fail=1; }
curl -s "$U/metrics" | grep -q '^callbar_build_info{version="[0-9.]*",commit="' ||
	{ echo "FAIL: build_info"; fail=1; }
[ -f /var/lib/callbar/callbar.db ] || { echo "FAIL: no registry in /var/lib/callbar"; fail=1; }
kill -TERM $PID; wait $PID || { echo "FAIL: the daemon's exit status $?"; fail=1; }
PID=

dpkg --purge callbar >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail=1; }
dpkg-query -W -f='${Status}' callbar 2>/dev/null | grep -q 'installed' &&
	{ echo "FAIL: still installed"; fail=1; }
left=0
while read -r f; do
	[ -z "$f" ] && continue
	[ -d "$f" ] && continue # shared folders (/etc, /usr/share/man...) stay
	[ -e "$f" ] && { echo "FAIL: $f left behind"; left=1; }
done <"$work/files"
for d in /etc/callbar /var/lib/callbar /var/log/callbar /usr/share/callbar /usr/share/doc/callbar; do
	[ -e "$d" ] && { echo "FAIL: $d left behind"; left=1; }
done
getent passwd callbar >/dev/null && { echo "FAIL: user callbar left behind"; left=1; }
getent group callbar >/dev/null && { echo "FAIL: group callbar left behind"; left=1; }
[ $left = 0 ] || fail=1
[ $fail = 0 ] && echo "PASS package: $(basename "$deb") built, installed, decided, purged clean"
exit $fail
