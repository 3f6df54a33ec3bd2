# callbar benchmark data: realistic CDRs for `callbar batch` (bench/batch.sh).
#   mawk -v n=RECORDS -v unl=UNLOCKED_OUT -v seed=42 -f bench/gen_cdr.awk \
#        data/cn-segments.tsv data/countries.tsv > cdr.csv
# - subscribers: uniform over every allocated Chinese mobile block of the
#   numbering data (the 7-digit segments of data/cn-segments.tsv starting
#   with 1: all carriers, all provinces), four random digits below; one
#   record in ten has a subscriber of the unlocked set;
# - peers: 45% random mainland mobiles (written bare, +86 or 0086), 10%
#   mainland fixed lines (0 + area code + 7 or 8 digits), 35% random
#   numbers of the other countries of data/countries.tsv (every country
#   that owns its calling code, about 200), each shaped by its numbering
#   plan (a national length of its own and a first digit its plan allows),
#   written +CC or 00CC; 10% Hong Kong, Macao and Taiwan mobiles;
# - times uniform over 2022 and unsorted, a third each written with
#   +08:00, with Z and without a zone (the rule file's, +08:00);
# - the unlocked set: 1,000,000 random mobile numbers of the same blocks,
#   written to the file unl ("+86NUMBER SCOPE LEVEL": scopes all, sms,
#   voice; levels self and verified).
# Deterministic for a given seed (mawk's srand).

BEGIN {
	FS = "\t"
	if (seed == "")
		seed = 42
	srand(seed)
	if (nunl == "")
		nunl = 1000000
	nseg = 0
	ncc = 0
}

FNR == 1 { file++ }
/^#/ { next }

file == 1 && length($1) == 7 && substr($1, 1, 1) == "1" { seg[nseg++] = $1; next }

# countries.tsv: region cc main intl_prefix national_prefix nsn_lengths nsn_first emergency
file == 2 && $3 == 1 && $1 != "CN" && $1 != "HK" && $1 != "MO" && $1 != "TW" && $1 != "001" {
	cc[ncc] = $2
	lens[ncc] = $6
	first[ncc] = $7
	ncc++
	next
}

function rnd(k) { return int(rand() * k) }

function digits(k,   s, i) {
	s = ""
	for (i = 0; i < k; i++)
		s = s rnd(10)
	return s
}

# A random mainland mobile, 11 digits.
function mobile() { return seg[rnd(nseg)] sprintf("%04d", rnd(10000)) }

# One alternative of a start pattern such as "80|[2-79]": its digits,
# a bracket picking one digit of its class.
function start(pat,   alts, na, a, out, i, c, cls, j, lo, hi, d, pick, np) {
	na = split(pat, alts, "|")
	a = alts[rnd(na) + 1]
	out = ""
	for (i = 1; i <= length(a); i++) {
		c = substr(a, i, 1)
		if (c != "[") {
			out = out c
			continue
		}
		np = 0
		for (j = i + 1; substr(a, j, 1) != "]"; j++) {
			lo = substr(a, j, 1)
			hi = lo
			if (substr(a, j + 1, 1) == "-") {
				hi = substr(a, j + 2, 1)
				j += 2
			}
			for (d = lo + 0; d <= hi + 0; d++)
				pick[np++] = d
		}
		out = out pick[rnd(np)]
		i = j
	}
	return out
}

# A random number of country k: a national length of its plan, its start.
function foreign(k,   ls, nl, len, s) {
	nl = split(lens[k], ls, ",")
	len = ls[rnd(nl) + 1] + 0
	if (length(cc[k]) + len > 15) # E.164's limit
		len = 15 - length(cc[k])
	s = start(first[k])
	if (length(s) < len)
		s = s digits(len - length(s))
	return (rand() < 0.8 ? "+" : "00") cc[k] s
}

function two(v) { return v < 10 ? "0" v : v }

# Epoch seconds to "YYYY-MM-DD?HH:MM:SS" at offset off (Hinnant's
# civil_from_days; positive days only).
function civil(t, off, sep,   lt, days, sod, z, era, doe, yoe, doy, mp, d, m, y) {
	lt = t + off
	days = int(lt / 86400)
	sod = lt - days * 86400
	z = days + 719468
	era = int(z / 146097)
	doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	d = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9
	y = yoe + era * 400 + (m <= 2)
	return y "-" two(m) "-" two(d) sep two(int(sod / 3600)) ":" two(int(sod / 60) % 60) ":" two(sod % 60)
}

END {
	if (nseg < 1000 || ncc < 50) {
		print "gen_cdr.awk: want data/cn-segments.tsv data/countries.tsv" > "/dev/stderr"
		exit 1
	}
	split("10 21 22 23 24 25 27 28 29 311 351 371 431 451 471 531 551 571 591 731 771 791 851 871 898 931 951 971 991 755 757 769", area, " ")
	for (i = 0; i < nunl; i++) {
		u[i] = mobile()
		r = rand()
		printf "+86%s %s %s\n", u[i], r < 0.7 ? "all" : r < 0.85 ? "sms" : "voice", rand() < 0.3 ? "verified" : "self" > unl
	}
	close(unl)
	print "time,service,direction,subscriber,peer"
	for (i = 0; i < n; i++) {
		s = rand() < 0.1 ? u[rnd(nunl)] : mobile()
		r = rand()
		if (r < 0.45) {
			q = rand()
			p = (q < 0.6 ? "" : q < 0.9 ? "+86" : "0086") mobile()
		} else if (r < 0.55) {
			a = area[rnd(32) + 1]
			p = "0" a digits(length(a) == 2 ? 8 : rnd(2) + 7)
		} else if (r < 0.9)
			p = foreign(rnd(ncc))
		else {
			q = rnd(3)
			p = q == 0 ? "+852" (5 + rnd(5)) digits(7) : q == 1 ? "+8536" digits(7) : "+8869" digits(8)
		}
		t = 1640995200 + rnd(31536000)
		z = rnd(3)
		tm = z == 0 ? civil(t, 28800, "T") "+08:00" : z == 1 ? civil(t, 0, "T") "Z" : civil(t, 28800, " ")
		printf "%s,%s,%s,%s,%s\n", tm, rand() < 0.5 ? "voice" : "sms", rand() < 0.5 ? "in" : "out", s, p
	}
}
