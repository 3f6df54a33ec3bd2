# callbar daemon tests: shared helpers, sourced by tests/daemon/*.sh.
#   CB    the callbar binary (first argument of every test)
#   SRC   tests/daemon
# Each test runs in its own scratch directory and starts its own daemon on
# a port the kernel picks (--http 127.0.0.1:0); nothing leaves loopback.
CB=$1
SRC=$2
fail=0
PID=
work=${TMPDIR:-/tmp}/cbar_daemon_$$_$(basename "$0" .sh)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	cd / && rm -rf "$work"
}
trap cleanup EXIT

# start_daemon ARGS...: start 'callbar serve ARGS', wait until it prints the
# address it listens on (bounded wait), set PID and U (http://ADDR, or
# https://ADDR with TLS).
start_daemon() {
	rm -f serve.out serve.err
	"$CB" serve --http 127.0.0.1:0 "$@" >serve.out 2>serve.err &
	PID=$!
	i=0
	while ! grep -qE 'listening on https?://' serve.out 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$PID" 2>/dev/null; then
			echo "FAIL: the daemon did not start:"; cat serve.out serve.err
			exit 1
		fi
		sleep 0.05
	done
	U=$(sed -n 's/.*listening on \(https*:\/\/[^ ]*\).*/\1/p' serve.out)
}

# stop_daemon [WANT_EXIT]: SIGTERM, wait, check the exit status (0).
stop_daemon() {
	kill -TERM "$PID"
	wait "$PID"
	got=$?
	PID=
	if [ "$got" != "${1:-0}" ]; then
		echo "FAIL stop: exit $got, want ${1:-0}"; cat serve.err; fail=1
	fi
}

# call NAME WANT_STATUS CURL_ARGS...: the body lands in body.json, the
# headers in hdr.txt.
call() {
	name=$1 want=$2
	shift 2
	got=$(curl -s -o body.json -D hdr.txt -w '%{http_code}' "$@")
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: HTTP $got, want $want"; head -c 1500 body.json; echo; fail=1
	fi
}

# has NAME FILE STRING: FILE holds the fixed STRING.
has() {
	grep -qF -- "$3" "$2" || { echo "FAIL $1: no '$3' in $2:"; head -c 1500 "$2"; echo; fail=1; }
}
hasnt() {
	! grep -qF -- "$3" "$2" || { echo "FAIL $1: '$3' in $2:"; head -c 1500 "$2"; echo; fail=1; }
}

# err NAME STATUS CODE FIELD CURL_ARGS...: an error answer of this shape;
# FIELD "null" for none.
err() {
	name=$1 st=$2 code=$3 field=$4
	shift 4
	call "$name" "$st" "$@"
	has "$name" body.json "\"code\":\"$code\""
	if [ "$field" = null ]; then
		has "$name" body.json '"field":null'
	else
		has "$name" body.json "\"field\":\"$field\""
	fi
	has "$name" body.json '"message":"'
	has "$name" hdr.txt 'Content-Type: application/json'
}

# A small rule file of LINES lines (at least 3): a zone, LINES-2 rules
# and the default; it holds LINES-1 rules (the default is one).
write_rules() { # FILE LINES
	echo "zone foreign !+86" >"$1"
	n=2
	while [ $n -lt "$2" ]; do
		echo "block out voice to foreign reason r$n" >>"$1"
		n=$((n + 1))
	done
	echo "pass all" >>"$1"
}

finish() {
	if [ $fail = 0 ]; then echo "PASS $(basename "$0")"; fi
	exit $fail
}
