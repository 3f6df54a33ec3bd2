#!/bin/sh
# [registry] snapshot: the daemon writes its unlock snapshot after a full
# load, starts from it next time and catches up with the changes made while
# it was down; a snapshot that is damaged, cut short or of another registry
# is refused, said in the log, and the registry is loaded in full.
#   snapshot.sh CALLBAR DAEMON_TEST_DIR
. "$2/lib.sh"
rules="$2/../../etc/callbar/pilots.rules"
reg="sqlite:$PWD/reg.db"
conf() { # REGISTRY_URL
	printf '[http]\ndecide_auth = none\n[auth]\ntokens = tok\n[registry]\nurl = %s\nsnapshot = %s/unlocks.snap\n' \
		"$1" "$PWD" >snap.conf
}
: >tok
unlock() { # NUMBER REGISTRY_URL
	"$CB" unlock "$1" --level self --scope sms --registry "$2" >/dev/null 2>unlock.err ||
		{ echo "FAIL: callbar unlock $1: $(cat unlock.err)"; fail=1; }
}
# decide NAME NUMBER WANT: a text from Hong Kong to NUMBER (Zhejiang, China
# Mobile: barred unless unlocked).
decide() {
	call "$1" 200 -d "{\"service\":\"sms\",\"direction\":\"in\",\"subscriber\":\"$2\",\"peer\":\"+85291234567\",\"at\":\"2022-06-01T12:00:00+08:00\"}" "$U/v1/decide"
	has "$1" body.json "\"verdict\":\"$3\""
}
# logged NAME TEXT: the log says TEXT within 5 s.
logged() {
	i=0
	while ! grep -qF -- "$2" serve.err && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	has "$1" serve.err "$2"
}

unlock 13905710001 "$reg"
unlock 13905710002 "$reg"
conf "$reg"

# First start: no snapshot, a full load, then the snapshot is written.
start_daemon --config snap.conf --rules "$rules"
logged first_start "no unlock snapshot yet"
logged first_written "unlock snapshot written"
decide first_1 13905710001 allow
decide first_3 13905710003 block
stop_daemon
[ -s unlocks.snap ] || { echo "FAIL: no snapshot file"; fail=1; }

# Changes while it is down are caught up before it serves.
unlock 13905710003 "$reg"
start_daemon --config snap.conf --rules "$rules"
has from_snapshot serve.err "unlock snapshot loaded"
hasnt from_snapshot serve.err "registry loaded in full"
decide caught_up_1 13905710001 allow
decide caught_up_3 13905710003 allow
decide caught_up_4 13905710004 block
stop_daemon
cp unlocks.snap good.snap

# A damaged byte in the records: refused, full load, the same answers.
printf 'X' | dd of=unlocks.snap bs=1 seek=300 conv=notrunc 2>/dev/null
start_daemon --config snap.conf --rules "$rules"
has damaged serve.err "unlock snapshot refused"
has damaged serve.err "checksum mismatch"
has damaged serve.err "registry loaded in full"
decide damaged_3 13905710003 allow
stop_daemon

# Cut short.
cp good.snap unlocks.snap
truncate -s 1000 unlocks.snap
start_daemon --config snap.conf --rules "$rules"
has truncated serve.err "unlock snapshot refused"
has truncated serve.err "truncated"
decide truncated_3 13905710003 allow
stop_daemon

# Another registry: refused, and its own records govern.
cp good.snap unlocks.snap
unlock 13905710009 "sqlite:$PWD/other.db"
conf "sqlite:$PWD/other.db"
start_daemon --config snap.conf --rules "$rules"
has other serve.err "unlock snapshot refused"
has other serve.err "registry loaded in full"
decide other_3 13905710003 block
decide other_9 13905710009 allow
stop_daemon
finish
