# What callbar's own help says it accepts, for the tests that hold the
# completion and the manual pages to it (tests/completion.sh, tests/man.sh).
#   help_commands CB        the commands 'callbar --help' lists
#   help_options CB CMD     the options 'callbar CMD --help' names: every
#                           --word of its usage block (up to the first blank
#                           line) and of the lines that open with an option;
#                           explain takes check's
help_commands() {
	"$1" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}
help_options() {
	c=$2
	[ "$c" = explain ] && c=check
	"$1" "$c" --help | awk '
		NR == 1 { inusage = 1 }
		inusage && /^$/ { inusage = 0 }
		inusage || /^[ \t]+--[a-z]/ { print }' |
		grep -o -- '--[a-z][a-z0-9-]*' | sort -u
	echo --help
}
