#!/bin/sh
# `cmake --install` (what `make install` and the Debian package run) into a
# DESTDIR: the file list under the configured prefix, the paths written
# into the configuration and the unit, and the installed configuration
# passing `callbar serve --check`.
#   sh tests/install.sh BUILD_DIR PREFIX SYSCONFDIR UNITDIR
BUILD=$1 PREFIX=$2 ETC=$3 UNITDIR=$4
D=${TMPDIR:-/tmp}/cbar_install_$$
trap 'rm -rf "$D"' EXIT
fail=0
DESTDIR=$D cmake --install "$BUILD" >"$D.log" 2>&1 || { cat "$D.log"; rm -f "$D.log"; exit 1; }
rm -f "$D.log"
(cd "$D" && find . -type f | sed 's|^\.||' | sort) >"$D.list" 2>/dev/null
list=$(cat "$D.list"); rm -f "$D.list"
for f in \
	"$PREFIX/bin/callbar" \
	"$ETC/callbar/callbar.conf" "$ETC/callbar/pilots.rules" "$ETC/callbar/fraud.rules" \
	"$ETC/callbar/keywords.conf" \
	"$ETC/logrotate.d/callbar" \
	"$UNITDIR/callbar.service" \
	"$PREFIX/share/callbar/prometheus/callbar-alerts.yml" \
	"$PREFIX/share/callbar/data/NOTICE" "$PREFIX/share/callbar/data/countries.tsv" \
	"$PREFIX/share/doc/callbar/api.md" \
	"$PREFIX/share/man/man1/callbar.1" "$PREFIX/share/man/man5/callbar.conf.5" \
	"$PREFIX/share/man/man5/callbar.rules.5" \
	"$PREFIX/share/bash-completion/completions/callbar"; do
	echo "$list" | grep -qx -- "$f" || { echo "FAIL: $f not installed"; fail=1; }
done
# Nothing outside the prefix but the configuration and the unit.
echo "$list" | grep -v -e "^$PREFIX/" -e "^$ETC/" -e "^$UNITDIR/" | sed 's/^/FAIL: stray /' |
	grep . && fail=1
# The paths inside name the installed places, not the source tree's.
conf=$D$ETC/callbar/callbar.conf
grep -qx "file = $ETC/callbar/pilots.rules" "$conf" || { echo "FAIL: rules.file in $conf"; fail=1; }
grep -qx "url = sqlite:/var/lib/callbar/callbar.db" "$conf" || { echo "FAIL: registry.url"; fail=1; }
grep -qx "tokens = /var/lib/callbar/tokens" "$conf" || { echo "FAIL: auth.tokens"; fail=1; }
unit=$D$UNITDIR/callbar.service
grep -qx "ExecStart=$PREFIX/bin/callbar serve --config $ETC/callbar/callbar.conf" "$unit" ||
	{ echo "FAIL: ExecStart in $unit:"; grep ExecStart "$unit"; fail=1; }
"$D$PREFIX/bin/callbar" serve --config "$conf" --rules "$D$ETC/callbar/pilots.rules" --check \
	>/dev/null 2>"$D/check.err" || { echo "FAIL: serve --check:"; cat "$D/check.err"; fail=1; }
"$D$PREFIX/bin/callbar" --version | grep -q '^callbar ' || { echo "FAIL: --version"; fail=1; }
[ $fail = 0 ] && echo "PASS install: $(echo "$list" | wc -l) files under $D"
exit $fail
