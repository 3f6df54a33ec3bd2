#!/bin/sh
# The bash completion (etc/bash-completion/callbar) offers every command
# 'callbar --help' lists and, after 'callbar CMD --', every option that
# command's --help names; and it completes a few values.
#   sh tests/completion.sh CALLBAR SRCDIR
CB=$1 SRC=$2
. "$SRC/help_lib.sh"
comp=$SRC/../etc/bash-completion/callbar
fail=0
# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _callbar
		printf "%s\n" "${COMPREPLY[@]}"' complete "$comp" "$@"
}
cmds=$(help_commands "$CB")
[ -n "$cmds" ] || { echo "FAIL: no commands in callbar --help"; exit 1; }
offered=$(complete_words callbar "")
for c in $cmds --version --help; do
	echo "$offered" | grep -qx -- "$c" || { echo "FAIL: 'callbar <TAB>' lacks $c"; fail=1; }
done
n=0
for c in $cmds; do
	offered=$(complete_words callbar "$c" --)
	for o in $(help_options "$CB" "$c"); do
		n=$((n + 1))
		echo "$offered" | grep -qx -- "$o" ||
			{ echo "FAIL: 'callbar $c --<TAB>' lacks $o"; fail=1; }
	done
done
# values
want() { # WANT WORDS...
	w=$1; shift
	complete_words "$@" | grep -qx -- "$w" || { echo "FAIL: '$*<TAB>' lacks $w"; fail=1; }
}
want sms callbar check --service s
want voice-in callbar unlock 1380 --scope voice-
want create callbar token c
want supervisor callbar token create --role s
[ $fail = 0 ] && echo "PASS completion: $(echo $cmds | wc -w) commands, $n options"
exit $fail
