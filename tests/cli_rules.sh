#!/bin/sh
# callbar check, explain, lint and batch as commands: exit statuses, the
# JSON of check, explain agreeing with check, compile errors with a caret,
# batch output, bad records and summary.
set -u
cb=$1
src=$2
rules=$src/rules/language.rules
unl=$src/rules/language-unlocked.txt
fail=0
t() { # name, expected status, command...
	name=$1 want=$2
	shift 2
	"$@" >out.txt 2>err.txt
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, want $want"; cat out.txt err.txt; fail=1
	fi
}
has() { # name, file, fixed string
	grep -qF -- "$3" "$2" || { echo "FAIL $1: no '$3' in $2:"; cat "$2"; fail=1; }
}
cd "${TMPDIR:-/tmp}" && mkdir -p cbar_rules_$$ && cd cbar_rules_$$

ev="--service voice --direction out --subscriber 13305710000 --peer +12125550123 --at 2023-01-01"
t block 1 "$cb" check --rules "$rules" $ev
has block out.txt "block rule=$rules:18 reason=far-away"
has block out.txt "announcement en: english \"quoted\""
t json 1 "$cb" check --rules "$rules" $ev --json
for k in '"verdict":"block"' "\"rule\":\"language.rules:18\"" '"reason":"far-away"' \
	'"announcement":{"zh":"中文：发送1219到10086","en":"english \"quoted\""}' \
	'"exempted_by":null' '"error":null'; do
	has json out.txt "$k"
done
t allow 0 "$cb" check --rules "$rules" --service voice --direction out \
	--subscriber 13805710000 --peer +85291234567 --at 2023-01-01T10:00:00+08:00 --json
has allow out.txt '"verdict":"allow"'
t exempt 0 "$cb" check --rules "$rules" --unlocked "$unl" --service voice --direction out \
	--subscriber 13805710003 --peer +447911123456 --at 2021-08-05 --json
has exempt out.txt '"exempted_by":{"subscriber":"+8613805710003","scope":"voice-in,voice-out","level":"verified"}'
t emergency 0 "$cb" check --rules "$rules" --service voice --direction out \
	--subscriber 13305710000 --peer 110 --json
has emergency out.txt '"reason":"emergency"'
t badpeer 2 "$cb" check --rules "$rules" --service voice --direction out \
	--subscriber 13305710000 --peer abc --json
has badpeer out.txt '"verdict":"error"'
t badat 2 "$cb" check --rules "$rules" $ev --at yesterday
t badsvc 2 "$cb" check --rules "$rules" --service fax --direction out --subscriber 1 --peer 2
t missing 2 "$cb" check --rules "$rules"
t via 1 "$cb" check --rules "$rules" --service voice --direction in --subscriber 13805710000 \
	--peer 13812345678 --ingress intl-gateway --at 2023-01-01
has via out.txt "reason=spoofed-cli"

# a bad unlock file: line and column
printf '+8613805710001 all self\n+8613805710002 voice,fax self\n' >bad-unl.txt
t badunl 2 "$cb" check --rules "$rules" --unlocked bad-unl.txt $ev
has badunl err.txt "bad-unl.txt:2:22: bad scope 'voice,fax': want voice, sms, voice,sms or all"
printf '+8613805710001 all self expires=soon\n' >bad-unl2.txt
t badunl2 2 "$cb" check --rules "$rules" --unlocked bad-unl2.txt $ev
has badunl2 err.txt "bad-unl2.txt:1:25: unexpected 'expires=soon'"

# explain decides like check and says why for each rule
t explain 1 "$cb" explain --rules "$rules" $ev
has explain out.txt "line 14: no: the peer is not in: vip"
has explain out.txt "line 17: no: not for this service and direction"
has explain out.txt "line 18: MATCH"
has explain out.txt "block rule=$rules:18 reason=far-away"
t explain-json 1 "$cb" explain --rules "$rules" $ev --json
has explain-json out.txt '"verdict":"block"'
# an alphanumeric sender (SMPP TON 5), barred where it comes in on a hub
t explain-alnum 1 "$cb" explain --rules "$src/rules/alphanumeric.rules" --service sms \
	--direction in --subscriber 13805710000 --peer alphanumeric:PAYPAL --ingress intl-hub \
	--at 2023-01-01
has explain-alnum out.txt "line 7: MATCH: matches (the caller is alphanumeric): block"
t check-alnum 0 "$cb" check --rules "$src/rules/alphanumeric.rules" --service sms \
	--direction in --subscriber 13805710000 --peer alphanumeric:PAYPAL --at 2023-01-01
has check-alnum out.txt "allow rule=$src/rules/alphanumeric.rules:10"

# compile errors: file:line:column, the line, a caret
printf 'timezone +08:00\nblock out voice to +852 region CN-ZZ reason x\npass all\n' >bad.rules
t lint-bad 2 "$cb" lint bad.rules
has lint-bad err.txt "bad.rules:2:32: unknown region 'CN-ZZ'"
has lint-bad err.txt "  block out voice to +852 region CN-ZZ reason x"
has lint-bad err.txt "                                 ^"
t check-bad 2 "$cb" check --rules bad.rules $ev
printf 'zone a +852\nblock out voice to a\nblock out voice to +8529 reason x\npass all\n' >shadow.rules
t lint-warn 1 "$cb" lint shadow.rules
has lint-warn out.txt "shadow.rules:3: warning: never matches: shadowed by the rule at line 2"
# The built-in numbering data leaves about 38% of mobile blocks without a
# region: a policy of region rules is warned about, with the share; with an
# operator's table that covers them all, it is clean.
t lint-regions 1 "$cb" lint "$src/../etc/callbar/pilots.rules"
has lint-regions out.txt "pilots.rules:31: warning: 10 rules name regions, and 37.6% of mobile number blocks have no region"
printf '1\t34\n' >allseg.tsv
t lint-ok 0 "$cb" lint --segments allseg.tsv "$src/../etc/callbar/pilots.rules"

# --roaming yes|no: rules with 'roaming' match only a known state
rr=$src/rules/roaming.rules
t roaming-yes 0 "$cb" check --rules "$rr" --service voice --direction in --subscriber 13805710000 \
	--peer +85291234567 --at 2023-01-01 --roaming yes
has roaming-yes out.txt "allow rule=$rr:6 reason=roaming-abroad"
t roaming-no 1 "$cb" check --rules "$rr" --service voice --direction in --subscriber 13805710000 \
	--peer +85291234567 --at 2023-01-01 --roaming no
has roaming-no out.txt "block rule=$rr:7 reason=intl-in-at-home"
t roaming-unknown 0 "$cb" explain --rules "$rr" --service voice --direction in --subscriber 13805710000 \
	--peer +85291234567 --at 2023-01-01
has roaming-unknown out.txt "it needs the subscriber's roaming state, which the event does not give"
t roaming-bad 2 "$cb" check --rules "$rr" --service voice --direction in --subscriber 13805710000 \
	--peer +85291234567 --roaming maybe
has roaming-bad err.txt "--roaming 'maybe': want yes, no, or empty"
printf '%s\n' '{"time":1672531200,"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","roaming":true}' \
	'{"time":1672531200,"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","roaming":false}' \
	'{"time":1672531200,"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567","roaming":1}' >roam.jsonl
t roaming-jsonl 1 "$cb" batch --rules "$rr" --format jsonl roam.jsonl roam.out
has roaming-jsonl roam.out '"roaming":true,"verdict":"allow","rule":"roaming.rules:6","reason":"roaming-abroad"'
has roaming-jsonl roam.out '"roaming":false,"verdict":"block","rule":"roaming.rules:7"'
has roaming-jsonl err.txt "batch: line 3: key 'roaming' not true or false"

# batch: a CDR export's own header names the columns, in any order, with
# more of them (kept as they are), roaming among them
{
	echo "call_id,peer,duration,subscriber,direction,service,time,roaming,trunk"
	echo "c1,+85291234567,12,13805710000,in,voice,1672531200,yes,A"
	echo "c2,+85291234567,12,13805710000,in,voice,1672531200,no,A"
	echo "c3,+85291234567,12,13805710000,in,voice,1672531200,,A"
	echo "c4,+85291234567,12,13805710000,in,voice,1672531200,maybe,A"
	echo "c5,+85291234567,12"
	n=0
	while [ $n -lt 3000 ]; do echo "x$n,+85291234567,1,13805710000,in,voice,1672531200,no,B"; n=$((n + 1)); done
} >cdr.csv
t cdr 1 "$cb" batch --rules "$rr" cdr.csv cdr.out
has cdr cdr.out "call_id,peer,duration,subscriber,direction,service,time,roaming,trunk,verdict,rule,reason"
has cdr cdr.out "c1,+85291234567,12,13805710000,in,voice,1672531200,yes,A,allow,roaming.rules:6,roaming-abroad"
has cdr cdr.out "c2,+85291234567,12,13805710000,in,voice,1672531200,no,A,block,roaming.rules:7,intl-in-at-home"
has cdr cdr.out "c3,+85291234567,12,13805710000,in,voice,1672531200,,A,allow,roaming.rules:8,"
has cdr err.txt "batch: line 5: roaming: want yes, no, or empty"
has cdr err.txt "batch: line 6: fewer fields than the header names"
has cdr err.txt "batch: 3005 records: 2 allow, 3001 block, 2 error"
CALLBAR_BATCH_CHUNK=131072 "$cb" batch --threads 3 --rules "$rr" cdr.csv cdr3.out 2>cdr3.err
cmp cdr.out cdr3.out || { echo "FAIL cdr --threads 3: other bytes"; fail=1; }
cmp err.txt cdr3.err || { echo "FAIL cdr --threads 3: says other things"; diff err.txt cdr3.err; fail=1; }

# batch: CSV in, verdicts appended, bad records counted and kept
cat >in.csv <<'CSV'
time,service,direction,subscriber,peer,ingress
1672531200,voice,out,13305710000,+12125550123,
2023-01-01T00:00:00Z,voice,in,13805710000,13812345678,intl-gateway
1672531200,fax,out,13305710000,+12125550123,
1672531200,voice,out,13305710000,110
1672531200,voice,out
CSV
t batch 1 "$cb" batch --rules "$rules" in.csv out.csv
has batch out.csv "time,service,direction,subscriber,peer,ingress,verdict,rule,reason"
has batch out.csv "1672531200,voice,out,13305710000,+12125550123,,block,language.rules:18,far-away"
has batch out.csv "intl-gateway,block,language.rules:19,spoofed-cli"
has batch out.csv "1672531200,fax,out,13305710000,+12125550123,,error,,bad-record"
has batch out.csv "1672531200,voice,out,13305710000,110,allow,,emergency"
has batch out.csv "1672531200,voice,out,error,,bad-record"
has batch err.txt "batch: line 4: service: want voice or sms"
has batch err.txt "batch: line 6: want 5 or 6 fields"
has batch err.txt "batch: 5 records: 1 allow, 2 block, 2 error"
has batch err.txt "language.rules:18 far-away: 1"
[ "$(wc -l <out.csv)" = 6 ] || { echo "FAIL batch: want 6 lines"; cat out.csv; fail=1; }
printf '1672531200,voice,out,13305710000,+12125550123\n' | "$cb" batch --rules "$rules" >pipe.csv 2>/dev/null
has batch-pipe pipe.csv "+12125550123,block,language.rules:18,far-away"

# batch --compare OLD: what-if against another rule file.  The old file
# here is the same but without the far-away rule (line 18): the first
# record was blocked by it and is allowed by the old file.
grep -v 'reason far-away' "$rules" >old.rules
cp "$src/rules/scam-numbers.txt" .
t compare 1 "$cb" batch --rules "$rules" --compare old.rules in.csv cmp.csv
has compare cmp.csv "time,service,direction,subscriber,peer,ingress,verdict,rule,reason,old_verdict,old_rule,old_reason"
has compare cmp.csv "1672531200,voice,out,13305710000,+12125550123,,block,language.rules:18,far-away,allow,old.rules:23,"
has compare cmp.csv "intl-gateway,block,language.rules:19,spoofed-cli,block,old.rules:18,spoofed-cli"
has compare cmp.csv "1672531200,fax,out,13305710000,+12125550123,,error,,bad-record,error,,bad-record"
has compare err.txt "compare with old.rules: 1 of 3 decided records change verdict"
has compare err.txt "  allow -> block: 1"
has compare err.txt "    language.rules:18 far-away: 1"
[ "$(wc -l <cmp.csv)" = 6 ] || { echo "FAIL compare: want 6 lines"; cat cmp.csv; fail=1; }
t changed 1 "$cb" batch --rules "$rules" --compare old.rules --changed in.csv chg.csv
[ "$(wc -l <chg.csv)" = 2 ] || { echo "FAIL changed: want the header and 1 record"; cat chg.csv; fail=1; }
has changed chg.csv "+12125550123,,block,language.rules:18,far-away,allow,old.rules:23,"
t changed-alone 2 "$cb" batch --rules "$rules" --changed in.csv chg.csv
has changed-alone err.txt "--changed goes with --compare OLD"
printf 'block sideways\n' >broken.rules
t compare-bad-old 2 "$cb" batch --rules "$rules" --compare broken.rules in.csv chg.csv
has compare-bad-old err.txt "broken.rules:1:"

# batch: JSON lines
cat >in.jsonl <<'JSON'
{"time":1672531200,"service":"voice","direction":"out","subscriber":"13305710000","peer":"+12125550123"}
{"time":"2023-01-01","service":"sms","direction":"in","subscriber":"13305710002","peer":"+12125550100"}
not json
{"time":1672531200,"service":"voice"}
JSON
t jsonl 1 "$cb" batch --rules "$rules" --unlocked "$unl" --format jsonl in.jsonl out.jsonl
has jsonl out.jsonl '"verdict":"block","rule":"language.rules:18","reason":"far-away"'
has jsonl out.jsonl '"verdict":"allow","rule":"language.rules:24","reason":null'
has jsonl out.jsonl '"input":"not json","verdict":"error"'
has jsonl out.jsonl "\"error\":\"key 'direction' missing or not a string\""
has jsonl err.txt "batch: 4 records: 1 allow, 1 block, 2 error"
t jsonl-compare 1 "$cb" batch --rules "$rules" --unlocked "$unl" --format jsonl --compare old.rules \
	in.jsonl cmp.jsonl
has jsonl-compare cmp.jsonl '"verdict":"block","rule":"language.rules:18","reason":"far-away","exempted_by":null,"old_verdict":"allow","old_rule":"old.rules:23","old_reason":null,"old_exempted_by":null'

# batch --threads N: the same bytes out, the same reports and summary, as
# one thread.  CALLBAR_BATCH_CHUNK (a testing knob) cuts the input into
# 128 KiB chunks, about a hundred of them here; the default 4 MiB makes a
# few.  In the input: good records of many kinds, bad ones spread through
# it, empty lines, a CRLF line, over-long lines (one longer than a chunk),
# 70,000 short bad lines in a row (their output outgrows a chunk's buffer,
# which then waits for its turn and writes itself), a last line without
# its newline.
mawk 'BEGIN {
	srand(7)
	print "time,service,direction,subscriber,peer,ingress"
	n = split("1380571 1330571 1860571 1583710 1863710 1390791 1330411 1398510", seg, " ")
	m = split("+12125550123 +85291234567 +85221234567 +447911123456 13812345678 110 +85291110000 +8613905710000 +1202555 +886912345678", peer, " ")
	long = "9"
	while (length(long) < 200000)
		long = long long
	for (i = 1; i <= 300000; i++) {
		if (i % 9973 == 0)
			print "1672531200,fax,out,13305710000,+12125550123"
		else if (i % 10007 == 0)
			print ""
		else if (i % 12011 == 0)
			print "1672531200,voice,out"
		else if (i % 15013 == 0)
			print "yesterday,sms,in,13805710000,+12125550123"
		else if (i % 8009 == 0)
			print "1672531200,sms,in,13805710000,+12a"
		else if (i == 150000)
			print substr(long, 1, 70000)
		else if (i == 160000)
			print substr(long, 1, 200000)
		else if (i == 200000)
			printf "1672531200,voice,out,13305710000,+12125550123\r\n"
		else if (i > 220000 && i <= 290000)
			print "x"
		else
			printf "%s,%s,%s,%s%04d,%s,%s\n", \
				(i % 7 ? 1625097600 + int(rand() * 63072000) : "2021-08-16T10:00:00Z"), \
				rand() < 0.5 ? "voice" : "sms", rand() < 0.5 ? "in" : "out", \
				seg[int(rand() * n) + 1], int(rand() * 10), peer[int(rand() * m) + 1], \
				rand() < 0.1 ? "intl-gateway" : ""
	}
	printf "1672531200,sms,in,13305710000,+12125550123"
}' >big.csv
same() { # name, want status, thread counts, batch options: --threads 1 against those
	name=$1 want=$2 counts=$3
	shift 3
	for n in 1 $counts; do
		"$cb" batch --threads $n "$@" >out.$n 2>err.$n
		got=$?
		[ "$got" = "$want" ] || { echo "FAIL $name --threads $n: exit $got, want $want"; cat err.$n; fail=1; }
	done
	for n in $counts; do
		cmp out.1 out.$n || { echo "FAIL $name: --threads $n writes other bytes"; fail=1; }
		cmp err.1 err.$n || { echo "FAIL $name: --threads $n says other things"; diff err.1 err.$n; fail=1; }
	done
}
export CALLBAR_BATCH_CHUNK=131072
same threads 1 "3 0" --rules "$rules" --unlocked "$unl" big.csv
# the reports in line order with the lines of the file, the first 20 only
has threads err.3 "batch: line 8010: peer: character not allowed"
has threads err.3 "batch: line 9974: service: want voice or sms"
has threads err.3 "batch: line 59839: service: want voice or sms"
[ "$(grep -c '^batch: line' err.3)" = 20 ] || { echo "FAIL threads: want 20 reports"; fail=1; }
has threads out.3 "1672531200,voice,out,13305710000,+12125550123,block,language.rules:18,far-away"
tail -n 1 out.3 | grep -q '^1672531200,sms,in,13305710000,+12125550123,' ||
	{ echo "FAIL threads: the last line"; fail=1; }
cp out.1 big.out
cp err.1 big.err
same threads-compare 1 3 --rules "$rules" --unlocked "$unl" --compare old.rules big.csv
has threads-compare err.3 "compare with old.rules:"
same threads-changed 1 3 --rules "$rules" --unlocked "$unl" --compare old.rules --changed big.csv
# a second chunk that begins with "time,": a bad record, not a header (in
# 128 KiB chunks of 64-byte lines, line 2049 begins the second chunk)
mawk 'BEGIN {
	print "time,service,direction,subscriber,peer,ingress,padding-to-64-by"
	for (i = 2; i <= 2048; i++)
		print "1672531200,voice,out,13305710000,+12125550123,,padding-to-64-by"
	print "time,voice,out,13305710000,+12125550123"
}' >head.csv
same threads-header 1 3 --rules "$rules" head.csv
has threads-header err.3 "batch: line 2049: fewer fields than the header names"
# from a pipe (read into blocks: a file is mapped), one thread and three
cat big.csv | "$cb" batch --threads 3 --rules "$rules" --unlocked "$unl" >pipe.out 2>pipe.err
cmp big.out pipe.out || { echo "FAIL threads-pipe: other bytes"; fail=1; }
cmp big.err pipe.err || { echo "FAIL threads-pipe: says other things"; fail=1; }
cat big.csv | "$cb" batch --rules "$rules" --unlocked "$unl" >pipe1.out 2>pipe1.err
cmp big.out pipe1.out || { echo "FAIL pipe: other bytes"; fail=1; }
cmp big.err pipe1.err || { echo "FAIL pipe: says other things"; fail=1; }
unset CALLBAR_BATCH_CHUNK
same threads-4m 1 3 --rules "$rules" --unlocked "$unl" big.csv
# wherever the blocks fall, the lines are the same: a line of 64 KiB or
# more is one bad record, the rest of it skipped, and every shorter line
# is read whole
cmp out.1 big.out || { echo "FAIL blocks: 4 MiB and 128 KiB blocks make other lines"; fail=1; }
cmp err.1 big.err || { echo "FAIL blocks: 4 MiB and 128 KiB blocks say other things"; diff err.1 big.err; fail=1; }
mawk 'BEGIN {
	long = "9"
	while (length(long) < 300000)
		long = long long
	print "1672531200,voice,out,13305710000,+12125550123"
	print substr(long, 1, 300000)
	print "1672531200,fax,out,13305710000,+12125550123"
	print "1672531200,voice,out,13305710000,+85291234567"
}' >long.csv
for n in 1 3; do
	CALLBAR_BATCH_CHUNK=131072 "$cb" batch --threads $n --rules "$rules" long.csv long.out 2>long.err
	[ "$(grep -c 'record too long' long.err)" = 1 ] || { echo "FAIL long --threads $n: want one report"; cat long.err; fail=1; }
	has long long.err "batch: line 2: record too long"
	has long long.err "batch: line 3: service: want voice or sms"
	has long long.err "batch: 4 records: 1 allow, 1 block, 2 error"
	[ "$(wc -l <long.out)" = 3 ] || { echo "FAIL long --threads $n: want 3 lines out"; cat long.out; fail=1; }
done
# one thread reads a plain file mapped, not in blocks: the same lines
"$cb" batch --rules "$rules" long.csv long-mapped.out 2>long-mapped.err
cmp long.out long-mapped.out || { echo "FAIL long mapped: other bytes"; fail=1; }
cmp long.err long-mapped.err || { echo "FAIL long mapped: says other things"; diff long.err long-mapped.err; fail=1; }
export CALLBAR_BATCH_CHUNK=131072
mawk 'BEGIN {
	srand(8)
	for (i = 1; i <= 20000; i++) {
		if (i % 997 == 0)
			print "not json"
		else if (i % 1009 == 0)
			print ""
		else if (i % 1013 == 0)
			print "{\"time\":1672531200,\"service\":\"voice\"}"
		else
			printf "{\"time\":%d,\"service\":\"%s\",\"direction\":\"%s\",\"subscriber\":\"1380571%04d\",\"peer\":\"%s\"}%s\n", \
				1625097600 + int(rand() * 63072000), rand() < 0.5 ? "voice" : "sms", \
				rand() < 0.5 ? "in" : "out", int(rand() * 10), \
				rand() < 0.5 ? "+12125550123" : "+85291234567", i == 5000 ? "\r" : ""
	}
}' >big.jsonl
same threads-jsonl 1 "3 0" --rules "$rules" --unlocked "$unl" --format jsonl --compare old.rules big.jsonl
has threads-jsonl err.3 "batch: line 997: not a JSON object"
# failures: a full disk stops the run, bad counts are refused
t threads-full 2 "$cb" batch --threads 3 --rules "$rules" big.csv /dev/full
has threads-full err.txt "callbar batch: output: No space left on device"
t threads-257 2 "$cb" batch --threads 257 --rules "$rules" big.csv out.csv
has threads-257 err.txt "--threads '257': want 1 to 256"
t threads-x 2 "$cb" batch --threads 2x --rules "$rules" big.csv out.csv
CALLBAR_BATCH_CHUNK=1000 "$cb" batch --threads 2 --rules "$rules" big.csv out.csv 2>err.txt
[ $? = 2 ] || { echo "FAIL chunk-knob: a chunk too small accepted"; fail=1; }
unset CALLBAR_BATCH_CHUNK

# --- the operator's numbering on check and batch ------------------------------
# 19200000000 has no region in the built-in data: the operator's segment
# table puts it in Shijiazhuang (city 34), Hebei, where texts from abroad are
# barred from 2022-05-05.  13805710000 (Zhejiang, China Mobile) ported to
# China Telecom is no longer under China Mobile's call bar.
pil=$src/../etc/callbar/pilots.rules
printf '1920000\t34\n' >seg.tsv
printf '13805710000\tctcc\n' >ported.tsv
he="--service sms --direction in --subscriber 19200000000 --peer +85291234567 --at 2022-05-08"
t seg_none 0 "$cb" check --rules "$pil" $he
t seg_hebei 1 "$cb" check --rules "$pil" $he --segments seg.tsv
has seg_hebei out.txt "reason=he-intl-sms-in"
zj="--service voice --direction in --subscriber 13805710000 --peer +85291234567 --at 2022-06-01"
t ported_none 1 "$cb" check --rules "$pil" $zj
t ported_ctcc 0 "$cb" check --rules "$pil" $zj --ported ported.tsv
t seg_bad 2 "$cb" check --rules "$pil" $he --segments nonexistent.tsv
printf 'time,service,direction,subscriber,peer\n2022-05-08,sms,in,19200000000,+85291234567\n2022-06-01,voice,in,13805710000,+85291234567\n' >num.csv
t batch_plain 0 "$cb" batch --rules "$pil" num.csv
has batch_plain out.txt "19200000000,+85291234567,allow"
has batch_plain out.txt "13805710000,+85291234567,block"
t batch_numbering 0 "$cb" batch --rules "$pil" --segments seg.tsv --ported ported.tsv num.csv
has batch_numbering out.txt "19200000000,+85291234567,block"
has batch_numbering out.txt "he-intl-sms-in"
has batch_numbering out.txt "13805710000,+85291234567,allow"
# The switch's carrier and region columns come before the numbering data.
printf 'time,service,direction,subscriber,peer,carrier,region\n2022-05-08,sms,in,19200000000,+85291234567,,CN-HE\n2022-06-01,voice,in,13805710000,+85291234567,ctcc,\n2022-06-01,voice,in,13805710000,+85291234567,,\n2022-06-01,voice,in,13805710000,+85291234567,nonesuch,\n' >cr.csv
t batch_carrier_region 1 "$cb" batch --rules "$pil" cr.csv
has batch_carrier_region out.txt "19200000000,+85291234567,,CN-HE,block"
has batch_carrier_region out.txt "13805710000,+85291234567,ctcc,,allow"
has batch_carrier_region out.txt "13805710000,+85291234567,,,block"
has batch_carrier_region out.txt "nonesuch,,error"
printf '{"time":"2022-05-08","service":"sms","direction":"in","subscriber":"19200000000","peer":"+85291234567","region":"hebei"}\n' >cr.jsonl
t batch_region_jsonl 0 "$cb" batch --rules "$pil" --format jsonl cr.jsonl
has batch_region_jsonl out.txt '"verdict":"block"'
has batch_region_jsonl out.txt '"reason":"he-intl-sms-in"'

cd .. && rm -rf cbar_rules_$$
exit $fail
