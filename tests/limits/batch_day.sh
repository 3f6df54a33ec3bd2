#!/bin/sh
# callbar batch over a generated day of CDRs (gen_day.py: 100,000 records of
# background traffic, a Wangiri wave and an IRSF burst injected) with the
# limits of day.rules reports exactly those two keys barred, at the record
# that went over; with --threads 2 and 4 the output and the summary are the
# same.
# Usage: batch_day.sh CALLBAR SRCDIR
set -u
cb=$1
src=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cbar_batch_day.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail=0
python3 "$src/limits/gen_day.py" 100000 >"$dir/day.csv" || exit 1
"$cb" batch --rules "$src/limits/day.rules" "$dir/day.csv" "$dir/one.out" 2>"$dir/one.err"
rc=$?
[ $rc -eq 0 ] || { echo "batch: exit $rc"; cat "$dir/one.err"; fail=1; }
sed -n '/^limits:/,$p' "$dir/one.err" >"$dir/bars"
cat >"$dir/want" <<'END'
limits: 2 bars
  day.rules:7 wangiri +447700900123 count 21 at line 41976, barred until 2026-03-02T18:02:00+08:00
  day.rules:8 irsf +8613805719999 count 11 at line 60176, barred until 2026-03-02T00:20:00+08:00
END
if ! cmp -s "$dir/want" "$dir/bars"; then
	echo "FAIL: the bars of the day:"; diff "$dir/want" "$dir/bars"; fail=1
fi
# The records barred are exactly the wave's and the burst's after they went
# over: 300 - 20 and 30 - 10.
n=$(grep -c ',block,day.rules:7,wangiri$' "$dir/one.out")
[ "$n" = 280 ] || { echo "FAIL: $n wangiri blocks, want 280"; fail=1; }
n=$(grep -c ',block,day.rules:8,irsf$' "$dir/one.out")
[ "$n" = 20 ] || { echo "FAIL: $n irsf blocks, want 20"; fail=1; }
n=$(grep -c ',block,' "$dir/one.out")
[ "$n" = 300 ] || { echo "FAIL: $n blocks in all, want 300"; fail=1; }
# --threads 2 and 4: the same bytes and the same summary (the records are
# read on threads and decided in input order, batch_limits.c).
for t in 2 4; do
	CALLBAR_BATCH_CHUNK=131072 "$cb" batch --threads $t --rules "$src/limits/day.rules" \
		"$dir/day.csv" "$dir/t$t.out" 2>"$dir/t$t.err"
	cmp -s "$dir/one.out" "$dir/t$t.out" || { echo "FAIL: --threads $t output differs"; fail=1; }
	cmp -s "$dir/one.err" "$dir/t$t.err" || { echo "FAIL: --threads $t summary differs"; fail=1; }
done
# JSON lines with limits are still decided on one thread, and say so.
"$cb" batch --threads 2 --format jsonl --rules "$src/limits/day.rules" /dev/null "$dir/n.jout" \
	2>"$dir/n.jerr"
grep -q 'JSON lines with limits, which count records in input order: deciding on one thread' \
	"$dir/n.jerr" || { echo "FAIL: --threads 2 --format jsonl does not say one thread"; fail=1; }
# JSON lines carry the limit that counted a record: its key and count.
awk -F, 'NR==41976 {printf "{\"time\":\"%s\",\"service\":\"%s\",\"direction\":\"%s\",\"subscriber\":\"%s\",\"peer\":\"%s\"}\n", $1, $2, $3, $4, $5}' \
	"$dir/day.csv" >"$dir/one.jsonl"
"$cb" batch --format jsonl --rules "$src/limits/day.rules" "$dir/one.jsonl" "$dir/one.jout" 2>/dev/null
grep -q '"limit":{"rule":"day.rules:7","reason":"wangiri","key":"+447700900123","count":1,"barred_until":null,"new_bar":false}' \
	"$dir/one.jout" || { echo "FAIL: JSON lines limit member:"; cat "$dir/one.jout"; fail=1; }
[ $fail -eq 0 ] && echo "batch_day: 2 keys barred, as injected; threads agree"
exit $fail
