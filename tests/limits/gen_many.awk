# Records for tests/limits/batch_threads.sh: N records (-v n=N) over a day,
# subscribers from a pool of 3,000 and foreign callers from 300, so that
# many.rules' limits bar keys all day long; times mostly in order, a tenth
# of them a few seconds late and one in 500 an hour late (beyond the
# tolerance); a bad record every 997 lines, an emergency call every 1,009,
# and two lines longer than a record may be.  Deterministic (a fixed LCG).
function rnd(m) { seed = (seed * 1103515245 + 12345) % 2147483648; return int(seed / 65536) % m }
BEGIN {
	seed = 14; t = 1772323200
	print "time,service,direction,subscriber,peer"
	for (i = 1; i <= n; i++) {
		t += rnd(3) == 0
		at = t
		k = rnd(1000)
		if (k < 100) at = t - rnd(5)
		else if (k < 102) at = t - 3600
		sub_ = sprintf("138%08d", 1000000 + rnd(3000))
		frn = sprintf("+44%09d", 770000000 + rnd(300))
		k = rnd(4)
		if (i % 997 == 0)
			print at ",voice,sideways," sub_ "," frn
		else if (i % 1009 == 0)
			print at ",voice,out," sub_ ",110"
		else if (i == 500 || i == int(2 * n / 3)) {
			s = "+44"; while (length(s) < 80000) s = s "1234567890"
			print at ",voice,in," sub_ "," s
		} else if (k == 0)
			print at ",voice,in," sub_ "," frn
		else if (k == 1)
			print at ",sms,in," sub_ "," (rnd(2) ? frn : sprintf("139%08d", rnd(1000000)))
		else if (k == 2)
			print at ",voice,out," sub_ "," (rnd(5) ? sprintf("139%08d", rnd(100000000)) : frn)
		else
			print at ",sms,out," sub_ "," sprintf("139%08d", rnd(100000000))
	}
}
