#!/bin/sh
# callbar sip-serve refuses to share its port with anyone else: a second
# sip-serve on the port of a first one (UDP and TCP, or TCP alone), or on a
# UDP port a plain socket holds, exits non-zero with "address in use" and
# the address, before printing any listener line; the first one still
# answers.  (Before, SO_REUSEPORT let the kernel split the calls between
# the two.)  Then a listener with allow= answers the sources it allows
# and no other.
set -u
cb=$1 src=$2
sc=$src/sip/sipp
command -v sipp >/dev/null || { echo "sipp not installed (tools/deps.sh)"; exit 1; }
dir=$(mktemp -d)
fail=0 pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
printf 'pass all\n' >"$dir/all.rules"

# start NAME ARGS...: run sip-serve until it prints its listener line or
# exits; sets NAME_port, or fails the test.
start() {
	name=$1
	shift
	"$cb" sip-serve --workers 2 --rules "$dir/all.rules" "$@" >"$dir/$name.out" \
		2>"$dir/$name.err" &
	pids="$pids $!"
	i=0
	until grep -q '^sip ' "$dir/$name.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] && kill -0 $! 2>/dev/null || {
			echo "FAIL: sip-serve $name did not start"
			cat "$dir/$name.err"
			exit 1
		}
		sleep 0.05
	done
	eval "${name}_pid=$!"
	eval "${name}_port=$(awk '{n = split($3, a, ":"); print a[n]; exit}' "$dir/$name.out")"
}

# refused NAME ADDR ARGS...: sip-serve must exit non-zero, saying "address
# in use" and ADDR, and print no listener line.  It exits at once when the
# check works; when it does not, it serves, and is stopped here.
refused() {
	name=$1 addr=$2
	shift 2
	"$cb" sip-serve --workers 2 --rules "$dir/all.rules" "$@" >"$dir/$name.out" \
		2>"$dir/$name.err" &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null && ! grep -q '^sip ' "$dir/$name.out"; do
		i=$((i + 1))
		[ $i -lt 200 ] || break
		sleep 0.05
	done
	kill $pid 2>/dev/null
	wait $pid
	rc=$?
	if grep -q '^sip ' "$dir/$name.out" || [ $rc -eq 0 ] ||
		! grep -q "address in use" "$dir/$name.err" || ! grep -qF "$addr" "$dir/$name.err"; then
		echo "FAIL $name: exit $rc"
		cat "$dir/$name.out" "$dir/$name.err"
		fail=1
	else
		echo "ok $name: $(cat "$dir/$name.err")"
	fi
}

# answers NAME PORT [-i ADDR]: an OPTIONS over UDP gets 200
answers() {
	name=$1 port=$2
	shift 2
	if (cd "$dir" && sipp "127.0.0.1:$port" -sf "$sc/options_200.xml" -t u1 -m 1 -nostdin \
		-recv_timeout 5000 -timeout 15 -timeout_error "$@" >"$dir/$name.sipp" 2>&1); then
		echo "ok $name"
	else
		echo "FAIL $name"
		tail -5 "$dir/$name.sipp"
		fail=1
	fi
}

start A --sip 127.0.0.1:0
refused second_same_port "127.0.0.1:$A_port" --sip "127.0.0.1:$A_port"
refused second_tcp_only "127.0.0.1:$A_port" --listener "127.0.0.1:$A_port transport=tcp"
refused second_wildcard "0.0.0.0:$A_port" --sip "0.0.0.0:$A_port"
answers first_still_answers "$A_port" -i 127.0.0.1

# a plain UDP socket (no SO_REUSEPORT), as any other SIP server has
if command -v python3 >/dev/null; then
	python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$dir/held" &
	pids="$pids $!"
	i=0
	until [ -s "$dir/held" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "FAIL: python3 did not bind"; exit 1; }
		sleep 0.05
	done
	held=$(cat "$dir/held")
	refused plain_udp_socket "127.0.0.1:$held" --sip "127.0.0.1:$held"
else
	echo "skip plain_udp_socket: no python3 (test_sip_server's port_clash covers it)"
fi

# allow=: a listener answers the networks it allows (sipp from 127.0.0.1,
# then from 127.0.0.2); with only 127.0.0.2 allowed, an OPTIONS from
# 127.0.0.1 gets nothing while one from 127.0.0.2 sent after it is
# answered (one worker: by then the first was read), and the refused one is
# counted in what sip-serve prints when it stops.
start B --workers 1 --listener "127.0.0.1:0 transport=udp allow=10.0.0.0/8,127.0.0.1/32"
answers allow_allowed "$B_port" -i 127.0.0.1
start C --workers 1 --listener "127.0.0.1:0 transport=udp allow=127.0.0.2"
answers allow_other "$C_port" -i 127.0.0.2
if command -v python3 >/dev/null; then
	printf 'OPTIONS sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKr\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: r@h\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' >"$dir/opt.sip"
	python3 - "$C_port" "$dir/opt.sip" <<'PY' && echo "ok allow_refused" || { echo "FAIL allow_refused"; fail=1; }
import socket, sys
port, msg = int(sys.argv[1]), open(sys.argv[2], "rb").read()
bad = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); bad.bind(("127.0.0.1", 0))
good = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); good.bind(("127.0.0.2", 0))
bad.sendto(msg, ("127.0.0.1", port))
good.sendto(msg, ("127.0.0.1", port))
good.settimeout(5)
assert good.recv(4096).startswith(b"SIP/2.0 200 ")
bad.setblocking(False)
try:
    bad.recv(4096)
    sys.exit("a refused source was answered")
except BlockingIOError:
    pass
PY
	kill "$C_pid"
	wait "$C_pid"
	grep -q 'udp_refused_source 1$' "$dir/C.err" && echo "ok allow_refused_count" ||
		{ echo "FAIL allow_refused_count"; cat "$dir/C.err"; fail=1; }
else
	echo "skip allow_refused: no python3 (test_sip_server's allow_list covers it)"
fi
# a bad allow= stops the start, naming the word
"$cb" sip-serve --rules "$dir/all.rules" --listener "127.0.0.1:0 allow=10.0.0.1/8" \
	>"$dir/bad.out" 2>&1 && { echo "FAIL: allow=10.0.0.1/8 accepted"; fail=1; }
grep -q "allow: '10.0.0.1/8' is not a network" "$dir/bad.out" ||
	{ echo "FAIL: no message for allow="; cat "$dir/bad.out"; fail=1; }

exit $fail
