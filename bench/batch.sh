#!/bin/sh
# callbar benchmark: `callbar batch` over big CDR files, against an awk
# script (mawk) making a simplified form of the same decision, with `wc -l`
# on the same file as the I/O ceiling.  Not part of ctest.
#   sh bench/batch.sh [BUILD_DIR] [RECORDS] [OLD_RECORDS]
#
# Two data sets, each generated once into /tmp (never commit them) and
# reused:
# - realistic (bench/gen_cdr.awk; RECORDS, default 10M, about 480 MB):
#   subscribers uniform over every allocated Chinese mobile block of the
#   numbering data, peers mainland mobiles and fixed lines, random numbers
#   of about 200 countries shaped by their plans, Hong Kong, Macao and
#   Taiwan; times uniform over 2022, unsorted, with +08:00, Z or no zone;
#   an unlocked set of 1,000,000 numbers.  Decided with the pilots policy
#   (etc/callbar/pilots.rules) and with a 1,000-rule file
#   (bench/gen_rules.awk).
# - old (OLD_RECORDS, default 23M, 1 GB): the first generator, 16 segments
#   x 10,000 numbers of the pilot provinces (a working set that stays in
#   cache), peers 60% mainland, 10% six fixed foreign numbers, 30% random
#   UK and US; epoch-second times; one subscriber in three unlocked.
#
# Timed for each, in the same run: wc -l, mawk's simplified decision, that
# decision as a tight C loop (bench/batch_floor.c) and as the same loop with
# its unlock probes prefetched 32 records at a time (--batch: the fastest
# that decision goes on this machine), callbar batch on one
# core (pinned), --threads 2 (not pinned: it needs both cores), the same
# file read as .gz and .zst (callbar decompresses on a thread of its own),
# and for the old set --compare.
#
# The awk baseline: load the unlocked numbers into an array, then per record
# block when the peer is written +CC with CC not 86 and the subscriber is not
# unlocked.  callbar does much more per record: both numbers normalised and
# classified (region, carrier), the time parsed, the whole rule file, the
# verdict, rule and reason written out.
set -eu
b=${1:-build}
n=${2:-10000000}
on=${3:-23000000}
src=$(cd "$(dirname "$0")/.." && pwd)
cb="$b/callbar"
cmake --build "$b" --target callbar bench_batch_floor bench_decide_real >/dev/null || exit 1
pin=""
command -v taskset >/dev/null && pin="taskset -c 0" # one core

real=/tmp/callbar-real.csv
realu=/tmp/callbar-real-unlocked.txt
if [ ! -s "$real" ] || [ "$(head -c 40 "$real.n" 2>/dev/null)" != "$n" ]; then
	echo "generating $n realistic records into $real ..." >&2
	mawk -v n="$n" -v unl="$realu" -f "$src/bench/gen_cdr.awk" \
		"$src/data/cn-segments.tsv" "$src/data/countries.tsv" >"$real"
	echo "$n" >"$real.n"
	rm -f "$real.gz" "$real.zst"
fi
rules1k=/tmp/callbar-1k.rules
[ -s "$rules1k" ] || mawk -v n=1000 -f "$src/bench/gen_rules.awk" >"$rules1k"

old=/tmp/callbar-batch.csv
oldu=/tmp/callbar-batch-unlocked.txt
if [ ! -s "$old" ] || [ "$(head -c 40 "$old.n" 2>/dev/null)" != "$on" ]; then
	echo "generating $on records into $old ..." >&2
	mawk -v n="$on" -v unl="$oldu" 'BEGIN {
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
	}' >"$old"
	echo "$on" >"$old.n"
	rm -f "$old.gz" "$old.zst"
fi
for f in "$real" "$old"; do # compressed copies, once
	[ -s "$f.gz" ] || gzip -1 -c "$f" >"$f.gz"
	[ -s "$f.zst" ] || zstd -q -3 -T2 -c "$f" >"$f.zst"
done

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
# gzip input is inflated by ISA-L when the build found it (batch_io.c)
grep -q '^ISAL_FOUND:INTERNAL=1' "$b/CMakeCache.txt" 2>/dev/null && echo "   gzip input: ISA-L (igzip)" ||
	echo "   gzip input: zlib (no ISA-L in this build)"

secs() { # command...: "elapsed cpu" seconds of the command (user+sys), output discarded
	/usr/bin/time -f "%e %U %S" -o /tmp/callbar-batch.time "$@" >/dev/null 2>&1 || true
	mawk '{ printf "%.3f %.3f", $1, $2 + $3 }' /tmp/callbar-batch.time
}
awkdec='BEGIN { while ((getline l < unl) > 0) { split(l, f, " "); u[f[1]] = 1 } }
	NR == 1 { print $0 ",verdict"; next }
	{ sub86 = "+86" $4
	  v = (substr($5, 1, 1) == "+" && substr($5, 1, 3) != "+86" && !(sub86 in u)) ? "block" : "allow"
	  print $0 "," v }'

# one_case LABEL CSV UNLOCKED RECORDS RULES...: the timings of one data set
one_case() {
	label=$1 csv=$2 unl=$3 nr=$4
	shift 4
	echo "-- $label: $csv, $(stat -c %s "$csv") bytes, $nr records ($(stat -c %s "$csv.gz") gz, $(stat -c %s "$csv.zst") zst)"
	cat "$csv" "$csv.gz" "$csv.zst" >/dev/null # warm the page cache
	w=$(secs $pin wc -l "$csv")
	a=$(secs $pin mawk -F, -v unl="$unl" "$awkdec" "$csv")
	fl=$(secs $pin "$b/bench/bench_batch_floor" "$unl" "$csv")
	fb=$(secs $pin "$b/bench/bench_batch_floor" --batch "$unl" "$csv")
	printf '%s %s %s %s %s\n' "$nr" "$w" "$a" "$fl" "$fb" | mawk '{
		printf "  wc -l:            %7.3f s (cpu %7.3f s)  %7.2f M records/s (I/O ceiling)\n", $2, $3, $1 / $2 / 1e6
		printf "  awk (mawk):       %7.3f s (cpu %7.3f s)  %7.2f M records/s\n", $4, $5, $1 / $4 / 1e6
		printf "  awk in C:         %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.1f x awk\n", $6, $7, $1 / $6 / 1e6, $4 / $6
		printf "  awk in C, probes prefetched 32 at a time: %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.1f x awk\n", $8, $9, $1 / $8 / 1e6, $4 / $8 }'
	for rules in "$@"; do
		r=$(basename "$rules")
		c=$(secs $pin "$cb" batch --rules "$rules" --unlocked "$unl" "$csv" /dev/null)
		t2=$(secs "$cb" batch --threads 2 --rules "$rules" --unlocked "$unl" "$csv" /dev/null)
		gz=$(secs "$cb" batch --rules "$rules" --unlocked "$unl" "$csv.gz" /dev/null)
		zs=$(secs "$cb" batch --rules "$rules" --unlocked "$unl" "$csv.zst" /dev/null)
		printf '%s %s %s %s %s %s %s %s\n' "$nr" "$a" "$c" "$t2" "$gz" "$zs" "$r" "$fb" | mawk '{
			r = $1 / $4 / 1e6
			printf "  callbar %-16s %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.2f x awk\n", $12 ":", $4, $5, r, $2 / $4
			printf "    --threads 2:    %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.2f x one thread\n", $6, $7, $1 / $6 / 1e6, $4 / $6
			printf "    IN.gz:          %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.2f x uncompressed\n", $8, $9, $1 / $8 / 1e6, $4 / $8
			printf "    IN.zst:         %7.3f s (cpu %7.3f s)  %7.2f M records/s  = %.2f x uncompressed\n", $10, $11, $1 / $10 / 1e6, $4 / $10
			printf "    by cpu time (user+sys): %.2f M records/s a cpu-second, %.2f x awk\n", $1 / $5 / 1e6, $3 / $5
			printf "    against the prefetched awk loop: %.2f of its rate (%.2f by cpu)\n", $13 / $4, $14 / $5
			printf "    goals: >= 15 M/s %s; >= 3 x awk %s; threads >= 1.8 x %s; gz >= 0.8 x %s; zst >= 0.8 x %s\n",
				(r >= 15 ? "met" : "NOT met"), ($2 / $4 >= 3 ? "met" : "NOT met"),
				($4 / $6 >= 1.8 ? "met" : "NOT met"), ($4 / $8 >= 0.8 ? "met" : "NOT met"),
				($4 / $10 >= 0.8 ? "met" : "NOT met") }'
	done
}

one_case "realistic" "$real" "$realu" "$n" "$src/etc/callbar/pilots.rules" "$rules1k"
echo "   load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
one_case "old generator" "$old" "$oldu" "$on" "$src/etc/callbar/pilots.rules"
# what-if on the old set: every record decided by both files (Henan's date
# a year later in the old one)
sed 's/since 2022-05-07/since 2023-05-07/' "$src/etc/callbar/pilots.rules" >/tmp/callbar-batch-old.rules
k=$(secs $pin "$cb" batch --rules "$src/etc/callbar/pilots.rules" --compare /tmp/callbar-batch-old.rules \
	--unlocked "$oldu" "$old" /dev/null)
printf '%s %s\n' "$on" "$k" | mawk '{ printf "  batch --compare:  %7.3f s (cpu %7.3f s)  %7.2f M records/s\n", $2, $3, $1 / $2 / 1e6 }'
# Decisions in batches on the realistic events (the file's first 1M
# records, the pilots rules, 10M unlock records) against prefetched lookups.
echo "-- decide in batches on realistic events (bench/bench_decide_real.c)"
$pin "$b/bench/bench_decide_real" "$real" "$realu" "$src/etc/callbar/pilots.rules" 2000000 5
