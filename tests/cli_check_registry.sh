#!/bin/sh
# callbar check and batch reading unlock records from the registry
# (--registry): an unlock written by `callbar unlock` exempts, a relock
# ends it, and a rule that wants `verified` ignores a self unlock.
set -u
cb=$1 src=$2
fail=0
dir=$(mktemp -d)
reg="sqlite:$dir/reg.db"
rules="$src/../etc/callbar/pilots.rules"
ck() { # name, want-exit, args...
	name=$1 want=$2
	shift 2
	"$cb" check --rules "$rules" --registry "$reg" --json "$@" >"$dir/out" 2>"$dir/err"
	got=$?
	[ "$got" = "$want" ] || { echo "FAIL $name: exit $got, want $want"; cat "$dir/out" "$dir/err"; fail=1; }
}
has() { grep -qF -- "$2" "$dir/out" || { echo "FAIL $1: no '$2' in:"; cat "$dir/out"; fail=1; }; }

# Zhejiang, China Mobile: texts from abroad barred since 2021-08-10 unless unlocked.
zj="--service sms --direction in --subscriber 13905710000 --peer +85291234567 --at 2022-06-01"
ck zj_locked 1 $zj
has zj_locked '"reason":"zj-cmcc-intl-sms-in"'
"$cb" unlock 13905710000 --level self --scope sms --registry "$reg" >/dev/null 2>&1 ||
	{ echo "FAIL: unlock"; fail=1; }
ck zj_unlocked 0 $zj
has zj_unlocked '"verdict":"allow"'
has zj_unlocked '"exempted_by":{'
# voice is not in the record's scope
ck zj_voice 1 --service voice --direction in --subscriber 13905710000 --peer +85291234567 --at 2022-06-01
"$cb" relock 13905710000 --agent ops --why "test" --registry "$reg" >/dev/null 2>&1 ||
	{ echo "FAIL: relock"; fail=1; }
ck zj_relocked 1 $zj

# Henan: only a verified record exempts.
ha="--service sms --direction in --subscriber 15003710000 --peer +85291234567 --at 2022-06-01"
"$cb" unlock 15003710000 --level self --registry "$reg" >/dev/null 2>&1 || { echo "FAIL: self unlock"; fail=1; }
ck ha_self 1 $ha
echo 410105199001011233 | "$cb" unlock 15003710000 --level verified --doc-type cn-resident --doc - \
	--agent shop-1 --registry "$reg" >/dev/null 2>&1 || { echo "FAIL: verified unlock"; fail=1; }
ck ha_verified 0 $ha

# batch reads the same records
printf 'time,service,direction,subscriber,peer\n2022-06-01,sms,in,15003710000,+85291234567\n2022-06-01,sms,in,13905710000,+85291234567\n' >"$dir/in.csv"
"$cb" batch --rules "$rules" --registry "$reg" "$dir/in.csv" "$dir/out" 2>"$dir/err" ||
	{ echo "FAIL batch: exit $?"; cat "$dir/err"; fail=1; }
has batch_verified '15003710000,+85291234567,allow'
has batch_locked '13905710000,+85291234567,block'

# a registry that cannot be opened is a clear error, exit 2
ck bad_registry 2 $zj --registry "sqlite:$dir/no/such/dir/x.db"
grep -q 'registry' "$dir/err" || { echo "FAIL bad_registry: no message"; cat "$dir/err"; fail=1; }
"$cb" check --rules "$rules" --registry "$reg" --unlocked /dev/null $zj >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: --unlocked with --registry accepted"; fail=1; }

rm -rf "$dir"
[ $fail = 0 ] && echo "cli_check_registry: all passed"
exit $fail
