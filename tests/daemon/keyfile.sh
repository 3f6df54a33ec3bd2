#!/bin/sh
# One way to find the document key: a $CALLBAR_KEY that points nowhere
# stops `callbar serve` and `callbar unlock` with the path named, instead of
# hashing with another key or none.
. "$2/lib.sh"
rules="$2/../../etc/callbar/pilots.rules"
CALLBAR_KEY=$PWD/no-such.key "$CB" serve --http 127.0.0.1:0 --rules "$rules" \
	--registry "sqlite:$PWD/reg.db" >serve.out 2>serve.err &
p=$!
i=0
while kill -0 $p 2>/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
if kill -0 $p 2>/dev/null; then
	echo "FAIL serve: started with \$CALLBAR_KEY pointing nowhere"; kill -KILL $p; fail=1
else
	wait $p; rc=$?
	[ $rc != 0 ] || { echo "FAIL serve: exit 0"; fail=1; }
	has serve_msg serve.err "no-such.key"
fi
CALLBAR_KEY=$PWD/no-such.key "$CB" unlock 13805710000 --registry "sqlite:$PWD/reg.db" \
	--doc-type cn-resident --doc 11010519491231002X --agent t >u.out 2>u.err
rc=$?
[ $rc != 0 ] || { echo "FAIL unlock: exit 0 with \$CALLBAR_KEY pointing nowhere"; fail=1; }
has unlock_msg u.err "no-such.key (\$CALLBAR_KEY)"
[ ! -e no-such.key ] || { echo "FAIL: the named key file was created"; fail=1; }
# the default beside a SQLite registry still works, created on first use
"$CB" unlock 13805710000 --registry "sqlite:$PWD/reg.db" --doc-type cn-resident \
	--doc 11010519491231002X --agent t >u2.out 2>u2.err || { echo "FAIL default key"; cat u2.err; fail=1; }
[ -f callbar.key ] || { echo "FAIL: no callbar.key beside the registry"; fail=1; }
finish
