# callbar benchmark data: a rule file of n generated rules of the pilots'
# shape (zones, a 500-number list, carriers, regions, dates, via, unless in
# two rules of three, a few hundred +prefix peers), then `pass all`: the
# same generator as bench/bench_rules.c, for bench/batch.sh.
#   mawk -v n=1000 -f bench/gen_rules.awk > gen.rules
function rnd(k) { return int(rand() * k) }
BEGIN {
	srand(7)
	split("CN-ZJ CN-HA CN-JX CN-LN CN-GZ CN-HE CN-BJ CN-SH CN-GD CN-JS CN-SD CN-SC CN-HB CN-HN CN-FJ CN-AH CN-YN CN-SX CN-SN CN-GX", reg, " ")
	split("cmcc cucc ctcc cmcc,cucc cucc,ctcc cmcc,ctcc", car, " ")
	split("abroad hkmotw !mainland <scam> overseas", pz, " ")
	print "timezone +08:00\nzone mainland +86\nzone hkmotw +852 +853 +886"
	print "zone abroad !mainland\nzone greater mainland hkmotw\nzone overseas !greater"
	print "emergency 110 112 119 120 122"
	l = "list scam"
	for (i = 0; i < 500; i++)
		l = l sprintf(" +8617%05d", rnd(100000))
	print l
	print "announce a zh \"发送1219到10086\" en \"text 1219 to 10086\""
	for (i = 0; i < n; i++) {
		dir = rnd(3) == 0 ? "out" : "in"
		r = "block " dir " " (rnd(2) ? "voice" : "sms") " " (dir == "out" ? "to" : "from") " "
		r = r (rnd(4) == 0 ? "+" (201 + rnd(300)) : pz[rnd(5) + 1])
		if (rnd(2))
			r = r " carrier " car[rnd(6) + 1]
		r = r " region " reg[rnd(20) + 1]
		if (rnd(2))
			r = r sprintf(" since 20%02d-%02d-%02d", 21 + rnd(3), 1 + rnd(12), 1 + rnd(28))
		if (rnd(3) == 0)
			r = r " via intl-gateway"
		if (rnd(3))
			r = r " unless " (rnd(4) ? "unlocked" : "verified")
		print r " reason r" i " announce a"
	}
	print "pass all"
}
