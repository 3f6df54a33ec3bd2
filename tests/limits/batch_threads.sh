#!/bin/sh
# callbar batch --threads with limits: the records are read and written on
# threads and decided in input order (batch_limits.c), so the output, the
# bad-record reports and the bars are byte for byte one thread's.  The
# records (gen_many.awk) make many.rules' limits bar thousands of keys, with
# late records, bad ones, emergency calls and lines too long among them; the
# runs cut them into small chunks (many turns) and the default ones; and
# --compare with an old file without limits.
# Usage: batch_threads.sh CALLBAR SRCDIR
set -u
cb=$1
src=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cbar_batch_threads.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail=0
rules=$src/limits/many.rules
awk -v n=200000 -f "$src/limits/gen_many.awk" >"$dir/in.csv" || exit 1
"$cb" batch --rules "$rules" "$dir/in.csv" "$dir/one.out" 2>"$dir/one.err"
rc=$?
# Some records are bad on purpose: exit 1.
[ $rc -eq 1 ] || { echo "batch: exit $rc"; cat "$dir/one.err"; fail=1; }
nbars=$(sed -n 's/^limits: \([0-9]*\) bars$/\1/p' "$dir/one.err")
[ "${nbars:-0}" -gt 1000 ] || { echo "FAIL: ${nbars:-no} bars, want over 1000"; fail=1; }
grep -q 'record too long' "$dir/one.err" || { echo "FAIL: no line too long reported"; fail=1; }
run() { # NAME THREADS [VAR=VALUE...]
	name=$1
	threads=$2
	shift 2
	env "$@" "$cb" batch --threads "$threads" --rules "$rules" "$dir/in.csv" "$dir/$name.out" 2>"$dir/$name.err"
	cmp -s "$dir/one.out" "$dir/$name.out" || { echo "FAIL: $name: output differs"; fail=1; }
	cmp -s "$dir/one.err" "$dir/$name.err" ||
		{ echo "FAIL: $name: reports or summary differ"; diff "$dir/one.err" "$dir/$name.err" | head; fail=1; }
}
run two 2 CALLBAR_BATCH_CHUNK=131072
run three 3 CALLBAR_BATCH_CHUNK=131072
run two-big 2
run two-single 2 CALLBAR_BATCH_CHUNK=200000 CALLBAR_BATCH_SINGLE=1
# --compare with an old file without limits (what the limits change):
# the same on threads.
grep -v '^limit' "$rules" >"$dir/old.rules"
"$cb" batch --compare "$dir/old.rules" --changed --rules "$rules" "$dir/in.csv" "$dir/c1.out" \
	2>"$dir/c1.err"
CALLBAR_BATCH_CHUNK=131072 "$cb" batch --threads 2 --compare "$dir/old.rules" --changed \
	--rules "$rules" "$dir/in.csv" "$dir/c2.out" 2>"$dir/c2.err"
[ -s "$dir/c1.out" ] || { echo "FAIL: --compare: no changed records"; fail=1; }
cmp -s "$dir/c1.out" "$dir/c2.out" || { echo "FAIL: --compare on 2 threads: output differs"; fail=1; }
cmp -s "$dir/c1.err" "$dir/c2.err" || { echo "FAIL: --compare on 2 threads: summary differs"; fail=1; }
# An old file with limits counts in a state of its own, on one thread.
"$cb" batch --threads 2 --compare "$rules" --rules "$rules" /dev/null /dev/null 2>"$dir/c3.err"
grep -q 'the old rules have limits, which count records in input order: deciding on one thread' \
	"$dir/c3.err" || { echo "FAIL: --compare with limits on both sides: no word of one thread"; fail=1; }
[ $fail -eq 0 ] && echo "batch_threads: $nbars bars; 2 and 3 threads agree with one"
exit $fail
