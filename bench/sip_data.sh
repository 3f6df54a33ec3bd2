# callbar SIP benchmarks: the data both bench/sip_kamailio.sh and
# bench/sip_cpu.sh use, sourced by them.
#   sip_data DIR: writes DIR/unlocked.txt and DIR/calls.csv
# 100,000 unlocked lines: the even ones of 1380571xxxx (half the Zhejiang
# China Mobile callers below) and 95,000 others.  The calls (sipp -inf):
# 1,000 rows; 60% from Zhejiang China Mobile to Hong Kong (half of them
# unlocked), 40% to the mainland.
sip_data() {
	awk 'BEGIN {
		for (i = 0; i < 10000; i += 2) printf "+86138057%05d all self\n", 10000 + i
		for (i = 0; i < 95000; i++) printf "+86139000%05d all self\n", i
	}' >"$1/unlocked.txt"
	awk 'BEGIN {
		print "SEQUENTIAL"
		for (i = 0; i < 1000; i++) {
			sub_ = sprintf("1380571%04d", (i * 7) % 10000)
			peer = i % 5 < 3 ? sprintf("+8529123%04d", i) : sprintf("1390571%04d", i)
			print sub_ ";" peer
		}
	}' >"$1/calls.csv"
}

# wait_sip OUT: wait (20 s at most) for a sip-serve's "sip out ADDR" line in
# OUT, then print its port
wait_sip() {
	n=0
	until grep -q '^sip out' "$1" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 400 ] || { echo "no SIP listener in $1" >&2; return 1; }
		sleep 0.05
	done
	awk '{n = split($3, a, ":"); print a[n]}' "$1"
}

# front_data SRC BUILD DIR RECORDS: realistic events for the daemon's
# front ends (bench/sip_batch.sh, bench/http_batch.sh), from
# bench/gen_cdr.awk (seed 42): DIR/cdr.csv (RECORDS events, random over
# the numbering plan, times unsorted), DIR/unl.txt (1,000,000 random
# mobiles of the same blocks), DIR/reg.db (those records imported into a
# SQLite registry with BUILD's callbar) and DIR/calls.csv (sipp -inf: the
# records' subscriber;peer).  Kept when DIR already holds them.
front_data() {
	[ -s "$3/reg.db" ] && [ -s "$3/calls.csv" ] && return 0
	mawk -v n="$4" -v unl="$3/unl.txt" -v nunl=1000000 -f "$1/bench/gen_cdr.awk" \
		"$1/data/cn-segments.tsv" "$1/data/countries.tsv" >"$3/cdr.csv"
	(echo "number,scope"; awk '{print $1 "," $2}' "$3/unl.txt" | sort -u -t, -k1,1) >"$3/unl.csv"
	"$2/callbar" import --map 'number=number,scope=scope' --skip-bad "$3/unl.csv" \
		--registry "sqlite:$3/reg.db" >/dev/null
	awk -F, 'NR == 1 {print "SEQUENTIAL"; next} {print $4 ";" $5}' "$3/cdr.csv" >"$3/calls.csv"
}

# wait_line FILE PATTERN: wait (30 s at most) for a line matching PATTERN.
wait_line() {
	n=0
	until grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 600 ] || { echo "no '$2' in $1" >&2; cat "$1" >&2; return 1; }
		sleep 0.05
	done
}
