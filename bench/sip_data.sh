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
