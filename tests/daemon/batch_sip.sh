#!/bin/sh
# callbar serve --sip: the UDP workers decide the INVITEs of one recvmmsg()
# batch in one engine call (cbar_daemon_decide_many); their answers must be
# byte for byte those to the same requests sent one at a time, a limit gone
# over inside the batch included (batch_sip.py).  Two daemons started
# alike, each with its own copy of the same registry.
. "$2/lib.sh"
rules="$SRC/batch_same.rules"
"$CB" unlock 13805710001 --scope voice-out --registry "sqlite:$PWD/reg.db" >unlock.out 2>&1 ||
	{ echo "FAIL: unlock"; cat unlock.out; exit 1; }
mkdir a b
cp reg.db a/ && cp reg.db b/
: >tok
# sip_port: the SIP port the daemon in this directory printed.
sip_port() {
	i=0
	until grep -q 'SIP on ' serve.out; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "FAIL: no SIP listener"; cat serve.out serve.err; exit 1; }
		sleep 0.05
	done
	sed -n 's/.*SIP on [^ ]*:\([0-9]*\) .*/\1/p' serve.out
}
cd b
start_daemon --rules "$rules" --registry "sqlite:$PWD/reg.db" --tokens ../tok --sip 127.0.0.1:0
PIDB=$PID
SPB=$(sip_port)
trap 'kill -KILL $PIDB 2>/dev/null; cleanup' EXIT
cd ../a
start_daemon --rules "$rules" --registry "sqlite:$PWD/reg.db" --tokens ../tok --sip 127.0.0.1:0
SPA=$(sip_port)
cd ..
python3 "$SRC/batch_sip.py" "$SPA" "$PID" "$SPB" || fail=1
stop_daemon
PID=$PIDB
stop_daemon
finish
