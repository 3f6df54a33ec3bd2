# callbar SMPP tests: shared helpers, sourced by tests/smpp/*.sh after
# tests/daemon/lib.sh (CB, SRC, work folder, start_daemon, has, finish).
#   SMPP_DIR  tests/smpp (esme.pl, smsc.pl)
# The peers are real SMPP implementations: Debian's Net::SMPP
# (libnet-smpp-perl) as the home SMSC (smsc.pl) and as a peer (esme.pl),
# and Kannel (kannel.sh).
SMPP_DIR=$(cd "$(dirname "$0")" && pwd)
SMSC_PID=

perl -MNet::SMPP -e 1 2>/dev/null || { echo "FAIL: libnet-smpp-perl is not installed (make check installs it)"; exit 1; }

# free_port: a TCP port on loopback nobody listens on now, drawn below the
# kernel's ephemeral range (net.ipv4.ip_local_port_range): a port the kernel
# handed out (bind to 0) may be given again to another test's outgoing
# connection before Kannel binds it, which is how this test once failed
# with "Address already in use" under ctest -j.
free_port() {
	python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    p = random.randrange(10000, max(lo, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

# start_smsc PORT: the home SMSC (system_id callbar, password secret),
# logging to smsc.log, taking deliver_sm orders from ctl/*.mo; waits until
# it listens.
start_smsc() {
	mkdir -p ctl
	perl "$SMPP_DIR/smsc.pl" "$1" callbar secret "$work/smsc.log" "$work/ctl" ${2:-} \
		>>smsc.out 2>&1 &
	SMSC_PID=$!
	i=0
	while ! grep -q "listening on $1" smsc.out 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "FAIL: the SMSC did not start"; cat smsc.out; exit 1; }
		sleep 0.05
	done
}

stop_smsc() {
	[ -n "$SMSC_PID" ] && kill "$SMSC_PID" 2>/dev/null && wait "$SMSC_PID" 2>/dev/null
	SMSC_PID=
}

smpp_cleanup() {
	stop_smsc
	cleanup
}
trap smpp_cleanup EXIT

# esme ARGS...: esme.pl against callbar's SMPP port ($SP), output in esme.out.
esme() {
	perl "$SMPP_DIR/esme.pl" "$SP" "$@" >esme.out 2>esme.err
	cat esme.out >>esme.all
}

# expect_esme NAME STRING ARGS...: esme.pl's output holds STRING.
expect_esme() {
	name=$1 want=$2
	shift 2
	esme "$@"
	has "$name" esme.out "$want"
}

# wait_for FILE STRING: until FILE holds STRING (at most 10 s); 1 if never.
wait_for() {
	i=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.05
	done
	return 0
}

# smpp_port: the port callbar's SMPP listener got (from serve.out).
smpp_port() {
	sed -n 's/.*SMPP on [0-9.]*:\([0-9]*\).*/\1/p' serve.out
}

# ucs2_text HEX: the UTF-8 of UCS-2 hex, no newline (segments join) (a UDH of 6 octets first dropped
# when ESM says so: second argument 64).
ucs2_text() {
	python3 -c 'import sys; b=bytes.fromhex(sys.argv[1]); b=b[6:] if sys.argv[2]=="64" else b; print(b.decode("utf-16-be"), end="")' "$1" "$2"
}
