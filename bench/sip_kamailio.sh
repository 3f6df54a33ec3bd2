#!/bin/sh
# callbar sip-serve against Kamailio making the same decision
# (bench/kamailio/decide.cfg: mtree over the numbering data, htable of
# unlocked numbers, db_text files), same machine, same run, same sipp
# traffic (bench/kamailio/uac.xml: INVITE, 302 or 403, ACK).
#
#   sh bench/sip_kamailio.sh [BUILD_DIR] [RATE] [SECONDS] [REPEATS]
#
# 1. CPU per call: RATE calls/s (default 5000) for SECONDS (30), REPEATS
#    times (3) against each, alternating; CPU is utime+stime from
#    /proc/PID/stat (every Kamailio process; callbar's one process with its
#    threads) before and after, divided by the calls answered.
# 2. The highest rate one sipp process sustains against each with no failed
#    call: rates rising for 10 s each until calls fail or sipp falls behind.
# Both servers get 2 workers (callbar --workers 2, Kamailio children=2).
set -eu
b=${1:-build}
rate=${2:-5000}
secs=${3:-30}
reps=${4:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/sip_data.sh"
cb=$b/callbar
[ -x "$cb" ] || { echo "build $cb first"; exit 1; }
kam=$(command -v kamailio || echo /usr/sbin/kamailio)
dir=$(mktemp -d /tmp/callbar-bench-XXXXXX)
chmod 755 "$dir"
cbpid="" cb2pid="" kpid=""
cleanup() {
	for p in $cbpid $cb2pid $kpid; do kill "$p" 2>/dev/null || true; done
	for p in $cbpid $cb2pid $kpid; do wait "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# ---- data: the same for both ------------------------------------------------
# Kamailio's mtree: every segment of data/cn-segments.tsv -> "REGION,carrier"
# (the city's region, the carrier of the longest carrier prefix).
mkdir -p "$dir/db"
awk -F'\t' '
	FILENAME ~ /cn-cities/ && !/^#/ { region[$1] = $2; next }
	FILENAME ~ /cn-carriers/ && !/^#/ { carrier[$1] = $2; next }
	FILENAME ~ /cn-segments/ && !/^#/ {
		c = ""
		for (n = length($1); n >= 3 && c == ""; n--)
			if (substr($1, 1, n) in carrier) c = carrier[substr($1, 1, n)]
		if (c == "")
			for (n = 3; n <= 4 && c == ""; n++)
				if (substr($1, 1, n) in carrier) c = carrier[substr($1, 1, n)]
		print ++id ":" $1 ":" region[$2] "," c
	}' "$src/data/cn-cities.tsv" "$src/data/cn-carriers.tsv" "$src/data/cn-segments.tsv" \
	>"$dir/seg.rows"
{ echo "id(int,auto) tprefix(string) tvalue(string)"; cat "$dir/seg.rows"; } >"$dir/db/seg"
sip_data "$dir"
{
	echo "key_name(str) key_type(int) value_type(int) key_value(str) expires(int)"
	sed 's/^+\([0-9]*\) .*/\1:0:0:1:0/' "$dir/unlocked.txt"
} >"$dir/db/unlocked"
printf 'table_name(str) table_version(int)\nseg:1\nunlocked:2\n' >"$dir/db/version"

# ---- servers --------------------------------------------------------------
"$cb" sip-serve --workers 2 --sip 127.0.0.1:0 --rules "$src/etc/callbar/pilots.rules" \
	--unlocked "$dir/unlocked.txt" >"$dir/cb.out" 2>"$dir/cb.err" &
cbpid=$!
# the same without the ACK filter (every ACK wakes a worker, as in Kamailio)
"$cb" sip-serve --workers 2 --sip 127.0.0.1:0 --rules "$src/etc/callbar/pilots.rules" \
	--unlocked "$dir/unlocked.txt" --no-ack-filter >"$dir/cb2.out" 2>"$dir/cb2.err" &
cb2pid=$!
kport=$((40000 + $$ % 5000))
"$kam" -f "$src/bench/kamailio/decide.cfg" -DD -E -m 512 -M 64 -Y "$dir" -w "$dir" \
	-l "udp:127.0.0.1:$kport" -A "DBURL=\"text://$dir/db\"" >"$dir/kam.log" 2>&1 &
kpid=$!
cbport=$(wait_sip "$dir/cb.out") || { cat "$dir/cb.err"; exit 1; }
cb2port=$(wait_sip "$dir/cb2.out") || { cat "$dir/cb2.err"; exit 1; }

# one sipp run: target port rate seconds -> "calls failed elapsed"
run_sipp() {
	port=$1 r=$2 s=$3
	n=$((r * s))
	t0=$(date +%s.%N)
	(cd "$dir" && sipp "127.0.0.1:$port" -sf "$src/bench/kamailio/uac.xml" -inf "$dir/calls.csv" \
		-i 127.0.0.1 -r "$r" -m "$n" -l $((r * 4)) -buff_size 4194304 -nostdin \
		-recv_timeout 4000 -timeout $((s * 3 + 20)) -trace_screen \
		-screen_file "$dir/screen.log" >"$dir/sipp.out" 2>&1) || true
	t1=$(date +%s.%N)
	ok=$(awk '/Successful call/ {v = $NF} END {print v + 0}' "$dir/sipp.out")
	bad=$(awk '/Failed call/ {v = $NF} END {print v + 0}' "$dir/sipp.out")
	# the 403s of the scenario screen: both servers must block the same calls
	blk=$(awk '$1 == "403" && $2 ~ /^<-/ {v = $3} END {print v + 0}' "$dir/screen.log")
	rm -f "$dir/screen.log"
	echo "$ok $bad $(echo "$t1 - $t0" | bc) $blk"
}

# CPU ticks of a process tree (the process and its children): utime+stime,
# or utime alone with a second argument
ticks() {
	t=0
	for p in $1 $(pgrep -P "$1" || true); do
		v=$(awk -v u="${2:-}" '{print u == "" ? $14 + $15 : $14}' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo $t
}
hz=$(getconf CLK_TCK)

# wait for Kamailio: a short run must pass
i=0
while [ "$(run_sipp $kport 10 1 | cut -d' ' -f1)" != 10 ]; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "Kamailio did not answer"; tail -n 20 "$dir/kam.log" "$dir/sipp.out"; exit 1; }
	sleep 0.5
done
run_sipp $cbport 10 1 >/dev/null
run_sipp $cb2port 10 1 >/dev/null

# both must decide the same: compare the 403 count of one pass over the CSV
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "== CPU per call at $rate calls/s for $secs s, $reps repeats (us = CPU microseconds per call)"
for k in $(seq 1 "$reps"); do
	for who in callbar callbar-no-ack-filter kamailio; do
		case $who in
		callbar) pid=$cbpid port=$cbport ;;
		callbar-no-ack-filter) pid=$cb2pid port=$cb2port ;;
		*) pid=$kpid port=$kport ;;
		esac
		c0=$(ticks $pid)
		u0=$(ticks $pid user)
		set -- $(run_sipp $port "$rate" "$secs")
		c1=$(ticks $pid)
		u1=$(ticks $pid user)
		us=$(echo "scale=2; ($c1 - $c0) * 1000000 / $hz / ($1 + $2)" | bc)
		echo "$who run $k: calls $1 failed $2 blocked $4 elapsed ${3}s cpu $(echo "scale=2; ($c1 - $c0) / $hz" | bc)s (user $(echo "scale=2; ($u1 - $u0) / $hz" | bc)s) -> $us us/call"
		echo "$who $us" >>"$dir/us"
	done
done
awk '{s[$1] = s[$1] " " $2} END {for (w in s) print w, s[w]}' "$dir/us" | sort |
	while read w vals; do
		med=$(echo $vals | tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
		echo "median $w $med us/call"
		echo "$w $med" >>"$dir/med"
	done
cbm=$(awk '$1 == "callbar" {print $2}' "$dir/med")
cb2m=$(awk '$1 == "callbar-no-ack-filter" {print $2}' "$dir/med")
km=$(awk '$1 == "kamailio" {print $2}' "$dir/med")
echo "ratio callbar/kamailio: $(echo "scale=3; $cbm / $km" | bc) (goal <= 0.200)"
echo "ratio callbar --no-ack-filter / kamailio: $(echo "scale=3; $cb2m / $km" | bc)"

echo "== highest rate one sipp sustains, 10 s per step, no failed call"
for who in callbar kamailio; do
	if [ $who = callbar ]; then port=$cbport; else port=$kport; fi
	best=0
	for r in 5000 10000 15000 20000 25000 30000 40000 50000 60000; do
		set -- $(run_sipp $port $r 10)
		rate_got=$(echo "scale=0; ($1 + $2) / $3" | bc)
		echo "$who at $r/s: calls $1 failed $2 elapsed ${3}s (${rate_got}/s)"
		# behind: fewer than 95% of the asked rate
		[ "$2" = 0 ] && [ $((rate_got * 100)) -ge $((r * 95)) ] || break
		best=$r
	done
	echo "max $who $best calls/s"
done
kill -TERM $cbpid
wait $cbpid 2>/dev/null || true
cbpid=""
cat "$dir/cb.err"
