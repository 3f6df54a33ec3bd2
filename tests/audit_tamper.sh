#!/bin/sh
# The audit chain against tampering: the database is edited behind
# callbar's back (sqlite3 or psql: change a field, delete a row, swap two,
# edit a record) and audit --verify must name the first entry at fault.
#   sh tests/audit_tamper.sh CALLBAR SRCDIR URL
set -u
cb=$1 src=$2 url=$3
fail=0
work=${TMPDIR:-/tmp}/cbar_tamper_$$
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2
. "$src/tests/registry_lib.sh"

build() { # a fresh registry with 6 entries: 1 key-bind, then records #2, #3, #5, #6
	reg_reset
	R="--registry $REG $KEYARG"
	"$cb" unlock 13805710000 $R --doc-type cn-resident --doc 11010519491231002X --agent alice >/dev/null &&
	"$cb" unlock 13805710001 $R --scope sms --channel keyword >/dev/null &&
	"$cb" relock 13805710000 $R --scope voice --agent bob --why "asked" >/dev/null &&
	"$cb" unlock 13805710002 $R --scope voice-out --channel api >/dev/null ||
		{ echo "FAIL: could not build the registry"; exit 1; }
	"$cb" audit --verify $R >out.txt || { echo "FAIL: fresh chain does not verify"; cat out.txt; exit 1; }
	grep -qF "audit chain ok: 6 entries" out.txt || { echo "FAIL: want 6 entries"; cat out.txt; exit 1; }
}
expect_broken() { # name, first bad, fixed string in the message
	"$cb" audit --verify $R >out.txt 2>err.txt
	rc=$?
	if [ $rc != 1 ]; then echo "FAIL $1: exit $rc, want 1"; cat out.txt err.txt; fail=1; return; fi
	grep -qF "audit chain BROKEN at $2:" out.txt ||
		{ echo "FAIL $1: want BROKEN at $2"; cat out.txt; fail=1; }
	grep -qF -- "$3" out.txt || { echo "FAIL $1: no '$3'"; cat out.txt; fail=1; }
	"$cb" audit --verify --json $R >out.txt
	grep -qF "\"first_bad\":$2," out.txt || { echo "FAIL $1 json"; cat out.txt; fail=1; }
}

build
sql "UPDATE audit SET who = 'agent:mallory' WHERE seq = 4"
expect_broken change_who 4 "entry 4 was changed"

build
sql "UPDATE audit SET at = at + 1 WHERE seq = 2"
expect_broken change_time 2 "entry 2 was changed"

build
sql "UPDATE audit SET after = replace(after, 'scope=sms-in', 'scope=voice-in') WHERE seq = 3"
expect_broken change_after 3 "entry 3 was changed"

build
sql "DELETE FROM audit WHERE seq = 2"
expect_broken delete 2 "entry 2 is missing"

build
sql "DELETE FROM audit WHERE seq = 6"
expect_broken delete_last 6 "entries 6 to 6 are missing"

build
sql "UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -1"
expect_broken swap 2 "entry 2"

build
# the hash recomputed by someone without the rest of the chain: the next
# entry no longer follows
sql "UPDATE audit SET hash = '1111111111111111111111111111111111111111111111111111111111111111' WHERE seq = 3"
expect_broken rehash 3 "entry 3 was changed"

build
sql "UPDATE unlock SET scope = 15 WHERE subscriber = 8613805710001"
expect_broken record_changed 3 "record #3 differs from what its last audit entry says"

build
sql "UPDATE unlock SET status = 'active' WHERE id = 2"
expect_broken record_unrevoked 2 "record #2 differs"

build
sql "DELETE FROM unlock WHERE id = 5"
expect_broken record_deleted 5 "record #5 of the audit log is missing from the registry"

# the key id: changed, removed, or its key-bind entry edited
build
sql "UPDATE meta SET value = 'fedcba9876543210' WHERE key = 'key_id'"
expect_broken key_changed 1 "the registry's key id differs from what entry 1 bound"

build
sql "DELETE FROM meta WHERE key = 'key_id'"
expect_broken key_removed 1 "the registry's key id differs"

build
sql "UPDATE audit SET after = 'key_id=fedcba9876543210' WHERE seq = 1"
expect_broken key_entry_changed 1 "entry 1 was changed"

# a record row inserted by hand: verify names it, and the daemon's
# follower would not apply it (tests/test_store.c unaudited_rows)
build
sql "INSERT INTO unlock (id, subscriber, scope, level, status, created, expires, channel, agent, doc_type, doc_hash, revoked_at, revoked_by, revoked_why, seq) VALUES (7, 8613805719999, 15, 'verified', 'active', 1700000000, 0, 'shop', 'mallory', '', '', 0, '', '', 7)"
expect_broken record_inserted 7 "record #7 has no audit entry"

# an auto-bar row inserted by hand: verify names it, and no node honours
# it (tests/test_store.c bars; a bar edited by hand: tests/limits/daemon_bars.sh)
build
sql "INSERT INTO bar (id, bar_key, limit_id, rule, reason, count, created, until, lifted_at, lifted_by) VALUES (7, '+447700900123', '00112233aabbccdd', 'fraud.rules:29', 'wangiri', 21, 1700000000, 1900000000, 0, '')"
expect_broken bar_inserted 7 "bar #7 (key +447700900123) has no auto-bar entry"

cd / && rm -rf "$work"
[ $fail = 0 ] && echo "audit_tamper ($BACKEND): all passed"
exit $fail
