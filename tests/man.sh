#!/bin/sh
# The manual pages (man/*.scd) hold every command 'callbar --help' lists,
# under its own heading in callbar(1), with every option its --help names
# (the registry commands may share the "Registry options" section), and
# callbar.conf(5) every key of the configuration's table
# (src/daemon/config.c); the built pages render without a warning.
#   sh tests/man.sh CALLBAR SRCDIR BUILT_MAN_DIR
CB=$1 SRC=$2 BUILT=$3
. "$SRC/help_lib.sh"
top=$(cd "$SRC/.." && pwd)
page=$top/man/callbar.1.scd
fail=0
# section NAME: the text of '## NAME' up to the next heading.
section() {
	awk -v h="## $1" '$0 == h { on = 1; next } on && /^#/ { exit } on { print }' "$page"
}
regcmds=$(section "Registry options" | sed -n '1,3p' | grep -o '\*[a-z-]*\*' | tr -d '*')
n=0
for c in $(help_commands "$CB"); do
	text=$(section "$c")
	[ -n "$text" ] || { echo "FAIL: callbar(1) has no '## $c'"; fail=1; continue; }
	[ "$c" = explain ] && text=$(section check)
	case " $(echo $regcmds) " in *" $c "*) text="$text$(section "Registry options")" ;; esac
	for o in $(help_options "$CB" "$c"); do
		[ "$o" = --help ] && continue
		n=$((n + 1))
		echo "$text" | grep -q -- "\*$o\*" ||
			{ echo "FAIL: callbar(1) '## $c' lacks *$o*"; fail=1; }
	done
done
grep -q -- '\*--version\*' "$page" || { echo "FAIL: callbar(1) lacks --version"; fail=1; }

keys=$(sed -n 's/.*\.section = "\([a-z_]*\)", \.name = "\([a-z_]*\)".*/\1.\2/p' \
	"$top/src/daemon/config.c")
[ -n "$keys" ] || { echo "FAIL: no keys read from src/daemon/config.c"; fail=1; }
k=0
for key in $keys; do
	k=$((k + 1))
	grep -q -- "^\*$key\* = " "$top/man/callbar.conf.5.scd" ||
		{ echo "FAIL: callbar.conf(5) lacks *$key*"; fail=1; }
done

for p in callbar.1 callbar.conf.5 callbar.rules.5; do
	[ -s "$BUILT/$p" ] || { echo "FAIL: $BUILT/$p was not built"; fail=1; continue; }
	warn=$(preconv "$BUILT/$p" | groff -ww -man -Tutf8 -z 2>&1)
	[ -z "$warn" ] || { echo "FAIL: $p: $warn"; fail=1; }
done
[ $fail = 0 ] && echo "PASS man: $n command options, $k configuration keys"
exit $fail
