#!/bin/sh
# callbar number as a command: exit statuses, --json keys, --country, stdin,
# --help, operator tables and their errors.
set -u
cb=$1
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
cd "${TMPDIR:-/tmp}" && mkdir -p cbar_cli_$$ && cd cbar_cli_$$

t ok 0 "$cb" number 13805710000 "+852 9123 4567"
has ok out.txt "+8613805710000 cc=86 national=13805710000 country=CN region=CN-ZJ carrier=cmcc"
has ok out.txt "region=unknown"

t bad 2 "$cb" number 13805710000 abc
has bad out.txt "abc	error: character not allowed in a telephone number at byte 0"

t json 0 "$cb" number --json "(0571) 8888 8888"
for k in '"input":"(0571) 8888 8888"' '"e164":"+8657188888888"' '"country_code":86' \
	'"national":"57188888888"' '"region":"CN-ZJ"' '"region_name_zh":"浙江省"' \
	'"region_name_en":"Zhejiang"' '"carrier":null' '"emergency":false' '"error":null'; do
	has json out.txt "$k"
done
t json_err 2 "$cb" number --json "sip:alice@example.com"
has json_err out.txt '"e164":null'
has json_err out.txt '"error":"SIP URI user part is not a telephone number"'
has json_err out.txt '"region":null'
t json_quote 2 "$cb" number --json 'a"b\c'
has json_quote out.txt '"input":"a\"b\\c"'

t country 0 "$cb" number --country US "(202) 555-0100" 911
has country out.txt "+12025550100 cc=1"
has country out.txt "emergency=yes"
t country_cc 0 "$cb" number --country 852 "9123 4567"
has country_cc out.txt "+85291234567"
t country_bad 2 "$cb" number --country XX 123
has country_bad err.txt "unknown country 'XX'"

printf '13805710000\n+852 9123 4567\r\n' | "$cb" number --json >out.txt
[ "$(wc -l <out.txt)" = 2 ] || { echo "FAIL stdin: want 2 lines"; fail=1; }
has stdin out.txt '"e164":"+85291234567"'

t help 0 "$cb" number --help
has help out.txt "Exit status: 0 when every input parsed, 2 otherwise."
t badopt 2 "$cb" number --nope
t nocmd 2 "$cb" frobnicate
t main_help 0 "$cb" --help

printf '# mine\n138\t1\n' >seg.tsv
t seg 0 "$cb" number --segments seg.tsv 13805710000
has seg out.txt 'city="Beijing"'
printf '138\t1\n13x\t2\n' >bad.tsv
t seg_bad 2 "$cb" number --segments bad.tsv 13905710000
has seg_bad err.txt "bad.tsv:2:1: prefix must be 1 to 7 digits"
t seg_missing 2 "$cb" number --segments /nonexistent/seg.tsv 1
has seg_missing err.txt "/nonexistent/seg.tsv: No such file or directory"

printf '13805710000\tctcc\n' >ported.tsv
t ported 0 "$cb" number --json --ported ported.tsv 13805710000 13805710001
has ported out.txt '"input":"13805710000","e164":"+8613805710000"'
has ported out.txt '"carrier":"ctcc","ported":true'
has ported out.txt '"carrier":"cmcc","ported":false'

cd .. && rm -rf cbar_cli_$$
[ $fail = 0 ] && echo "cli_number: all passed"
exit $fail
