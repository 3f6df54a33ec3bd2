#!/bin/sh
# The configuration file and the flags of 'callbar serve', as data: each
# tests/daemon/config/*.conf says in its first lines the exit status of
# 'callbar serve --config FILE --check' and the strings its output holds
# (errors name file:line:column).
. "$2/lib.sh"

write_rules r.rules 2
n=0
for f in "$SRC"/config/*.conf; do
	name=$(basename "$f")
	cp "$f" "$name"
	want=$(sed -n 's/^# expect-exit: //p' "$name")
	"$CB" serve --config "$name" --check >out.txt 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, want $want"; cat out.txt; fail=1
	fi
	sed -n 's/^# expect: //p' "$name" >expect.txt
	while IFS= read -r line; do has "$name" out.txt "$line"; done <expect.txt
	n=$((n + 1))
done
echo "config cases: $n"

# Flags override the file, and are checked like it.
"$CB" serve --config "$SRC/config/ok.conf" --http '[::1]:9100' --rules r.rules \
	--registry postgresql://db/callbar --tokens t2 --log-level warn --check >out.txt 2>&1 ||
	{ echo "FAIL flags"; cat out.txt; fail=1; }
has flags out.txt 'listen = "[::1]:9100"'
has flags out.txt 'url = "postgresql://db/callbar"'
has flags out.txt 'tokens = "t2"'
has flags out.txt 'level = warn'
has flags out.txt 'threads = 2'
# A password in the registry URL never shows: --check, or a failing start.
"$CB" serve --rules r.rules --registry 'postgresql://cb:s3cret@127.0.0.1:1/callbar?sslmode=disable&password=tw0' \
	--check >out.txt 2>&1 || { echo "FAIL redact --check"; cat out.txt; fail=1; }
has redact out.txt 'url = "postgresql://cb:***@127.0.0.1:1/callbar?sslmode=disable&password=***"'
hasnt redact out.txt 's3cret'
hasnt redact out.txt 'tw0'
"$CB" serve --rules r.rules --registry 'postgresql://cb:s3cret@127.0.0.1:1/callbar' \
	--http 127.0.0.1:0 >out.txt 2>&1 && { echo "FAIL: started on a closed port"; fail=1; }
has redact_start out.txt 'postgresql://cb:***@127.0.0.1:1/callbar'
hasnt redact_start out.txt 's3cret'
"$CB" serve --http nope --check >out.txt 2>&1
[ $? = 2 ] || { echo "FAIL --http nope: want exit 2"; fail=1; }
has bad_flag out.txt "--http: http.listen: 'nope' is not a numeric HOST:PORT"
"$CB" serve --log-level loud --check >out.txt 2>&1
[ $? = 2 ] || { echo "FAIL --log-level loud: want exit 2"; fail=1; }
"$CB" serve --frobnicate >out.txt 2>&1
[ $? = 2 ] || { echo "FAIL unknown flag: want exit 2"; fail=1; }
"$CB" serve --config nowhere.conf >out.txt 2>&1
[ $? = 2 ] || { echo "FAIL missing config: want exit 2"; fail=1; }
has missing_config out.txt 'nowhere.conf: cannot open'
"$CB" serve --help >out.txt 2>&1 || { echo "FAIL --help"; fail=1; }
has help out.txt 'usage: callbar serve'
# The shipped configuration is valid and documents every key it sets.
"$CB" serve --config "$SRC/../../etc/callbar/callbar.conf" --rules r.rules --check >out.txt 2>&1 ||
	{ echo "FAIL etc/callbar/callbar.conf"; cat out.txt; fail=1; }
# Every key of the table is in docs/config.md.
"$CB" serve --rules r.rules --check 2>/dev/null | sed -n 's/^\([a-z_]*\) = .*/\1/p' >keys.txt
while IFS= read -r k; do has "docs_$k" "$SRC/../../docs/config.md" "\`$k\`"; done <keys.txt
# A port already taken: exit 2 with a message, not a hang.
start_daemon --rules r.rules
addr=${U#http://}
"$CB" serve --rules r.rules --http "$addr" >out.txt 2>&1
[ $? = 2 ] || { echo "FAIL port taken: want exit 2"; fail=1; }
has port_taken out.txt "cannot listen on $addr"
stop_daemon
finish
