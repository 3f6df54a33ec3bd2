#!/bin/sh
# callbar serve: POST /v1/decide/batch decides its items in chunks with one
# engine call each (cbar_daemon_decide_many); its answers must be those of
# one POST /v1/decide per event, item by item (batch_same.py: blocks,
# unlock records, a limit gone over inside a batch, emergency numbers,
# item errors).  Two daemons started alike, each with its own copy of the
# same registry, take the same events: one in batches, one singly.
. "$2/lib.sh"
rules="$SRC/batch_same.rules"
"$CB" unlock 13805710001 --scope voice-out --registry "sqlite:$PWD/reg.db" >unlock.out 2>&1 ||
	{ echo "FAIL: unlock"; cat unlock.out; exit 1; }
"$CB" unlock 15003710003 --level verified --doc-type cn-resident --doc 11010519491231002X \
	--agent shop1 --scope sms-in --registry "sqlite:$PWD/reg.db" >unlock.out 2>&1 ||
	{ echo "FAIL: verified unlock"; cat unlock.out; exit 1; }
mkdir a b
cp reg.db callbar.key a/ && cp reg.db callbar.key b/
: >tok
conf='[http]\ndecide_auth = none\n'
printf "$conf" >a/c.conf && printf "$conf" >b/c.conf
cd b
start_daemon --config c.conf --rules "$rules" --registry "sqlite:$PWD/reg.db" --tokens ../tok
PIDB=$PID UB=$U
trap 'kill -KILL $PIDB 2>/dev/null; cleanup' EXIT
cd ../a
start_daemon --config c.conf --rules "$rules" --registry "sqlite:$PWD/reg.db" --tokens ../tok
cd ..
python3 "$SRC/batch_same.py" "$U" "$UB" || fail=1
stop_daemon
PID=$PIDB
stop_daemon
finish
