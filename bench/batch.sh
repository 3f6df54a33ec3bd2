#!/bin/sh
# callbar benchmark: `callbar batch` over a CSV of at least 1 GB, against
# an awk script (mawk) making a simplified form of the same decision, with
# `wc -l` on the same file as the I/O ceiling.  Not part of ctest.
#   sh bench/batch.sh [BUILD_DIR] [RECORDS]
# Data: 16 segments of the pilot provinces x 10,000 numbers (160,000
# distinct subscribers and as many mainland peers), peers 60% mainland, 10%
# a handful of HK/MO/TW/overseas numbers, 30% random UK and US numbers; one
# subscriber in three unlocked (53,000 records).
# Also timed: `callbar batch --threads 2`, not pinned (it needs both cores).
# The data goes to /tmp (never commit it): callbar-batch.csv and
# callbar-batch-unlocked.txt, generated once and reused.
#
# The awk baseline: load the unlocked numbers into an array, then per record
# block when the peer is written +CC with CC not 86 and the subscriber is not
# unlocked.  callbar does much more per record: both numbers normalised and
# classified (region, carrier), the full pilots.rules (11 rules, zones,
# dates, carriers, regions, unless levels and scopes), verdict, rule and
# reason written out.
set -eu
b=${1:-build}
n=${2:-23000000}
src=$(cd "$(dirname "$0")/.." && pwd)
csv=/tmp/callbar-batch.csv
unl=/tmp/callbar-batch-unlocked.txt
cb="$b/callbar"
cmake --build "$b" --target callbar bench_batch_floor >/dev/null || exit 1
pin=""
command -v taskset >/dev/null && pin="taskset -c 0" # one core

if [ ! -s "$csv" ] || [ "$(head -c 40 "$csv.n" 2>/dev/null)" != "$n" ]; then
	echo "generating $n records into $csv ..." >&2
	mawk -v n="$n" -v unl="$unl" 'BEGIN {
		srand(42)
		split("1380571 1330571 1860571 1583710 1863710 1893710 1390791 1330791 1860791 1390411 1330411 1860411 1398510 1898510 1868510 1381234", seg, " ")
		split("+85291234567 +85366123456 +886912345678 +12025550100 +447911123456 +81312345678", ab, " ")
		print "time,service,direction,subscriber,peer"
		for (i = 0; i < n; i++) {
			s = seg[int(rand() * 16) + 1] sprintf("%04d", int(rand() * 10000))
			r = rand()
			if (r < 0.6)
				p = seg[int(rand() * 16) + 1] sprintf("%04d", int(rand() * 10000))
			else if (r < 0.7)
				p = ab[int(rand() * 6) + 1]
			else if (r < 0.85)
				p = "+447" sprintf("%09d", int(rand() * 1000000000))
			else
				p = "+1" (int(rand() * 8) + 2) sprintf("%09d", int(rand() * 1000000000))
			printf "%d,%s,%s,%s,%s\n", 1609459200 + int(rand() * 63072000), \
				rand() < 0.5 ? "voice" : "sms", rand() < 0.5 ? "in" : "out", s, p
		}
		for (i = 0; i < 16; i++)
			for (k = 0; k < 10000; k += 3)
				printf "+86%s%04d all self\n", seg[i + 1], k > unl
	}' >"$csv"
	echo "$n" >"$csv.n"
fi
size=$(stat -c %s "$csv")
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "file: $csv, $size bytes, $n records"

secs() { # command...: "elapsed cpu" seconds of the command (user+sys), output discarded
	/usr/bin/time -f "%e %U %S" -o /tmp/callbar-batch.time "$@" >/dev/null 2>&1 || true
	mawk '{ printf "%.3f %.3f", $1, $2 + $3 }' /tmp/callbar-batch.time
}
cat "$csv" >/dev/null # warm the page cache
w=$(secs $pin wc -l "$csv")
a=$(secs $pin mawk -F, -v unl="$unl" 'BEGIN { while ((getline l < unl) > 0) { split(l, f, " "); u[f[1]] = 1 } }
	NR == 1 { print $0 ",verdict"; next }
	{ sub86 = "+86" $4
	  v = (substr($5, 1, 1) == "+" && substr($5, 1, 3) != "+86" && !(sub86 in u)) ? "block" : "allow"
	  print $0 "," v }' "$csv")
# the floor: awk's simplified decision as a tight C loop (bench/batch_floor.c)
fl=$(secs $pin "$b/bench/bench_batch_floor" "$unl" "$csv")
c=$(secs $pin "$cb" batch --rules "$src/etc/callbar/pilots.rules" --unlocked "$unl" "$csv" /dev/null)
# the same on two threads, not pinned: they need two cores (and the reader
# thread and the writer share them)
t2=$(secs "$cb" batch --threads 2 --rules "$src/etc/callbar/pilots.rules" --unlocked "$unl" "$csv" /dev/null)
# what-if: the same with --compare against a variant of the file (Henan's
# date a year later), every event decided by both
sed 's/since 2022-05-07/since 2023-05-07/' "$src/etc/callbar/pilots.rules" >/tmp/callbar-batch-old.rules
k=$(secs $pin "$cb" batch --rules "$src/etc/callbar/pilots.rules" --compare /tmp/callbar-batch-old.rules \
	--unlocked "$unl" "$csv" /dev/null)
# Elapsed time is what counts; CPU time (user+sys) is shown beside it
# because this machine is shared and a busy neighbour stretches elapsed time.
echo "$n $w $a $c $k $t2 $fl" | mawk '{
	printf "wc -l:          %7.3f s (cpu %7.3f s)  %7.2f M records/s (I/O ceiling)\n", $2, $3, $1 / $2 / 1e6
	printf "awk (mawk):     %7.3f s (cpu %7.3f s)  %7.2f M records/s\n", $4, $5, $1 / $4 / 1e6
	printf "awk in C:       %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.1f x awk (the same simplified decision)\n", $12, $13, $1 / $12 / 1e6, $4 / $12
	printf "callbar batch:  %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.1f x awk, %.3f x wc -l\n", $6, $7, $1 / $6 / 1e6, $4 / $6, $2 / $6
	printf "batch --compare:%7.3f s (cpu %7.3f s)  %7.2f M records/s  (%.2f x plain batch: two decisions a record)\n", $8, $9, $1 / $8 / 1e6, $6 / $8
	printf "batch --threads 2:%5.3f s (cpu %7.3f s)  %7.2f M records/s  (%.2f x one thread)\n", $10, $11, $1 / $10 / 1e6, $6 / $10
	printf "by cpu time:    callbar %.2f M records/s, %.1f x awk; %.2f x the awk decision in C\n", $1 / $7 / 1e6, $5 / $7, $13 / $7
	printf "goals: >= 10 x awk: %s; >= 10 M records/s: %s\n", ($4 / $6 >= 10 ? "met" : "NOT met"), ($1 / $6 / 1e6 >= 10 ? "met" : "NOT met") }'
