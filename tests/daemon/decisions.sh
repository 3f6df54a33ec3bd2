#!/bin/sh
# log.decision_file and log.decision_retention_days: decision lines go to a
# file a UTC day, not to the main log, and older day files are removed at
# start (only files named PATH.YYYY-MM-DD).
. "$2/lib.sh"
write_rules r.rules 2
mkdir dl
today=$(date -u +%Y-%m-%d)
yesterday=$(date -u -d '-1 day' +%Y-%m-%d)
echo old >dl/decisions.jsonl.2020-01-01
echo kept >"dl/decisions.jsonl.$yesterday"
echo notes >dl/decisions.jsonl.notes
conf() { # RETENTION_DAYS
	printf '[http]\ndecide_auth = none\n[rules]\nfile = r.rules\n[registry]\nurl = sqlite:%s/reg.db\n[auth]\ntokens = tok\n[log]\ndecision_log = on\ndecision_file = dl/decisions.jsonl\ndecision_retention_days = %s\n' \
		"$PWD" "$1" >d.conf
}
conf 2
umask 000 # the day files hold both numbers of every call: 0600 whatever the umask
start_daemon --config d.conf
call decide 200 -X POST "$U/v1/decide" \
	-d '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}'
stop_daemon
umask 022
m=$(stat -c %a "dl/decisions.jsonl.$today")
[ "$m" = 600 ] || { echo "FAIL: today's decision file is $m, want 600"; fail=1; }
[ "$(stat -c %a reg.db)" = 600 ] || { echo "FAIL: reg.db is $(stat -c %a reg.db), want 600"; fail=1; }
has today "dl/decisions.jsonl.$today" '"msg":"decision"'
has today_peer "dl/decisions.jsonl.$today" '"peer":"85291234567"'
has today_verdict "dl/decisions.jsonl.$today" '"msg":"decision","front":"http","verdict":"'
hasnt main_log serve.err '"msg":"decision"'
hasnt main_log_peer serve.err '85291234567'
[ -e dl/decisions.jsonl.2020-01-01 ] && { echo "FAIL: a day file past retention was kept"; fail=1; }
[ -e "dl/decisions.jsonl.$yesterday" ] || { echo "FAIL: yesterday's file (within 2 days) was removed"; fail=1; }
[ -e dl/decisions.jsonl.notes ] || { echo "FAIL: a file not named by day was removed"; fail=1; }
# log.decision_group: 0640 and that group, for the operator's log readers
if getent group daemon >/dev/null; then
	conf 2
	printf 'decision_group = daemon\n' >>d.conf
	start_daemon --config d.conf
	call decide_g 200 -X POST "$U/v1/decide" \
		-d '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}'
	stop_daemon
	g=$(stat -c '%a %G' "dl/decisions.jsonl.$today")
	[ "$g" = "640 daemon" ] || { echo "FAIL: with decision_group the file is '$g'"; fail=1; }
fi
# one day: only today's file stays
conf 1
start_daemon --config d.conf
stop_daemon
[ -e "dl/decisions.jsonl.$yesterday" ] && { echo "FAIL: retention 1 kept yesterday's file"; fail=1; }
[ -e "dl/decisions.jsonl.$today" ] || { echo "FAIL: retention 1 removed today's file"; fail=1; }
# without a file: the lines go to the main log, with a warning at start
printf '[http]\ndecide_auth = none\n[rules]\nfile = r.rules\n[registry]\nurl = sqlite:%s/reg.db\n[auth]\ntokens = tok\n[log]\ndecision_log = on\n' \
	"$PWD" >m.conf
start_daemon --config m.conf
call decide_main 200 -X POST "$U/v1/decide" \
	-d '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}'
stop_daemon
has main_warn serve.err 'their retention is the log system'
has main_line serve.err '"msg":"decision"'
# a folder that does not exist: refused at start
printf '[rules]\nfile = r.rules\n[registry]\nurl = sqlite:%s/reg.db\n[auth]\ntokens = tok\n[log]\ndecision_log = on\ndecision_file = nowhere/d.jsonl\n' \
	"$PWD" >bad.conf
"$CB" serve --config bad.conf --http 127.0.0.1:0 >bad.out 2>&1 && { echo "FAIL: started"; fail=1; }
has bad_dir bad.out 'log.decision_file: nowhere/d.jsonl.'
finish
