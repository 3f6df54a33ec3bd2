#!/bin/sh
# The registry's failure paths, on purpose: each must end in a clear error,
# exit 2, nothing half-written (every acknowledged unlock still there, the
# audit chain still verifying), no crash.
#   sh tests/registry_fail.sh CALLBAR SRCDIR URL
# SQLite: a lock held by another process, a full disk (a small tmpfs when
# mounting is allowed, else a file size limit: the output says which), a
# corrupt file, a file that is not a database.  PostgreSQL: a lock held by
# another session, an unreachable server.
set -u
cb=$1 src=$2 url=$3
fail=0
work=${TMPDIR:-/tmp}/cbar_fail_$$
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2
. "$src/tests/registry_lib.sh"

t() { # name, expected status, command...
	name=$1 want=$2
	shift 2
	"$@" >out.txt 2>err.txt
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, want $want"; cat out.txt err.txt; fail=1
	fi
}
has() {
	grep -qF -- "$3" "$2" || { echo "FAIL $1: no '$3' in $2:"; cat "$2"; fail=1; }
}
wait_for() { # file: the helper holding a lock has it (bounded wait)
	i=0
	while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$1" ] || { echo "FAIL: the lock holder never started"; fail=1; }
}

reg_reset
R="--registry $REG $KEYARG"
t setup 0 "$cb" unlock 13805710000 $R --doc-type cn-resident --doc 11010519491231002X --agent a

# --- another writer holds the lock: clear error after the timeout ---------------
rm -f held release
case $BACKEND in
sqlite)
	printf 'BEGIN IMMEDIATE;\nINSERT INTO meta VALUES ('"'"'x'"'"', '"'"'y'"'"');\n.shell touch held\n.shell while [ ! -e release ]; do sleep 0.05; done\nROLLBACK;\n' |
		sqlite3 "${REG#sqlite:}" &
	;;
postgres)
	printf 'BEGIN;\nSELECT pg_advisory_xact_lock(27992450286117490);\n\\! touch held\n\\! while [ ! -e release ]; do sleep 0.05; done\nROLLBACK;\n' |
		psql -q -X "$REG" >/dev/null &
	;;
esac
holder=$!
wait_for held
t locked 2 "$cb" unlock 13805710001 $R --busy-ms 300
has locked err.txt "registry is locked by another writer"
has locked err.txt "300 ms); nothing was written"
t locked_read 0 "$cb" status 13805710000 $R
has locked_read out.txt "+8613805710000 unlocked"
touch release
wait $holder
t after_lock 0 "$cb" status 13805710001 $R
has after_lock out.txt "locked (no active unlock)"
t after_lock_verify 0 "$cb" audit --verify $R
has after_lock_verify out.txt "audit chain ok: 2 entries"   # key-bind, unlock

if [ $BACKEND = postgres ]; then
	t unreachable 2 "$cb" status 13805710000 --registry "postgresql:///callbar?host=$PWD/nowhere&port=1" --key "$KEY"
	has unreachable err.txt "registry server unreachable: cannot reach the registry server"
	t unreachable_tcp 2 "$cb" unlock 13805710000 --registry "postgres://127.0.0.1:1/callbar?connect_timeout=2" --key "$KEY"
	has unreachable_tcp err.txt "registry server unreachable"
	cd / && rm -rf "$work"
	[ $fail = 0 ] && echo "registry_fail ($BACKEND): all passed"
	exit $fail
fi

# --- SQLite: a corrupt file and a file that is not a database ---------------
printf 'this is not a database, just text that is long enough to be a header.......\n' >notdb.db
t notdb 2 "$cb" status 13805710000 --registry sqlite:notdb.db
has notdb err.txt "registry is not a callbar database or is corrupt"
mkdir corrupt
for i in 0 1 2 3 4 5 6 7 8 9; do
	"$cb" unlock 1380571010$i --registry sqlite:corrupt/c.db --scope voice >/dev/null
done
"$cb" audit --verify --registry sqlite:corrupt/c.db >/dev/null || { echo "FAIL corrupt setup"; fail=1; }
# overwrite page 2 onwards (the tables' pages) with garbage
size=$(stat -c %s corrupt/c.db)
dd if=/dev/urandom of=corrupt/c.db bs=4096 seek=1 count=$((size / 4096 - 1)) conv=notrunc 2>/dev/null
t corrupt 2 "$cb" audit --verify --registry sqlite:corrupt/c.db
has corrupt err.txt "registry is not a callbar database or is corrupt"
t corrupt_write 2 "$cb" unlock 13805710200 --registry sqlite:corrupt/c.db
has corrupt_write err.txt "corrupt"
# a truncated file
cp "${REG#sqlite:}" trunc.db
head -c 6000 "${REG#sqlite:}" >trunc.db
t truncated 2 "$cb" audit --verify --registry sqlite:trunc.db
has truncated err.txt "corrupt"

# --- SQLite: the disk fills up ------------------------------------------------------
mkdir full
how=tmpfs
if ! mount -t tmpfs -o size=256k tmpfs full 2>/dev/null; then
	how="file size limit (ulimit -f), no tmpfs: mounting is not allowed here"
fi
echo "disk full simulated with: $how"
if [ "$how" = tmpfs ]; then
	FREG=sqlite:$PWD/full/f.db
else
	FREG=sqlite:$PWD/full/f.db
fi
i=0 acked=0 full_rc=0
while [ $i -lt 3000 ]; do
	if [ "$how" = tmpfs ]; then
		"$cb" unlock $((13805700000 + i)) --registry "$FREG" --scope voice-in >/dev/null 2>err_full.txt
	else
		(trap '' XFSZ; ulimit -f 256; exec "$cb" unlock $((13805700000 + i)) --registry "$FREG" --scope voice-in) >/dev/null 2>err_full.txt
	fi
	full_rc=$?
	[ $full_rc = 0 ] || break
	acked=$((acked + 1))
	i=$((i + 1))
done
[ $full_rc = 2 ] || { echo "FAIL disk_full: want exit 2 when full, got $full_rc after $acked"; cat err_full.txt; fail=1; }
grep -qE "disk full|storage error" err_full.txt || { echo "FAIL disk_full message"; cat err_full.txt; fail=1; }
echo "disk full after $acked unlocks: $(cat err_full.txt)"
# reading still works on the full disk: the last acknowledged one is there,
# the refused one is not, the chain verifies
t full_last 0 "$cb" status $((13805700000 + acked - 1)) --registry "$FREG"
has full_last out.txt "unlocked"
t full_refused 0 "$cb" status $((13805700000 + acked)) --registry "$FREG"
has full_refused out.txt "locked (no active unlock)"
t full_verify 0 "$cb" audit --verify --registry "$FREG"
has full_verify out.txt "audit chain ok: $acked entries"
[ "$how" = tmpfs ] && umount full

cd / && rm -rf "$work"
[ $fail = 0 ] && echo "registry_fail ($BACKEND): all passed"
exit $fail
