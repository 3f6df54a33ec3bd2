#!/bin/sh
# Signals come to the main thread only: SIGHUP reloads and SIGTERM drains,
# however close together they arrive, while the registry follower and the
# SIP workers run.  A signal that lands on another thread would take its
# default action (the daemon dies with 129 or 143, without a log line).
# The sleeps below only make the signals arrive close together; nothing
# waits on a clock for a result: each step waits for the log line it needs.
. "$2/lib.sh"

write_rules r.rules 3
reloads() { grep -c '"msg":"rules loaded","trigger":"sighup"' serve.err; }

# wait_reloads N: until the log has N reloads by SIGHUP (bounded), or the
# daemon is gone.
wait_reloads() {
	i=0
	while [ "$(reloads)" -lt "$1" ]; do
		if ! kill -0 "$PID" 2>/dev/null; then
			wait "$PID"
			echo "FAIL: the daemon died (exit $?) after $(reloads) reloads, want $1"
			tail -3 serve.err
			PID=
			finish_now
		fi
		i=$((i + 1))
		[ $i -gt 3000 ] && { echo "FAIL: $(reloads) reloads, want $1"; fail=1; return; }
		sleep 0.005
	done
}
finish_now() { fail=1; finish; }

# stopped_after_reload NAME N: the log says N reloads by SIGHUP came before
# the drain began, then the drain, then the stop with nothing cut.
stopped_after_reload() {
	stop_at=$(grep -n '"msg":"stopping: draining requests in flight","signal":"SIGTERM"' \
		serve.err | cut -d: -f1)
	[ -n "$stop_at" ] || { echo "FAIL $1: no drain line"; tail -3 serve.err; fail=1; return; }
	before=$(head -n "$stop_at" serve.err | grep -c '"msg":"rules loaded","trigger":"sighup"')
	[ "$before" -ge "$2" ] ||
		{ echo "FAIL $1: $before reloads before the drain, want $2"; fail=1; }
	has "$1" serve.err '"msg":"stopped","cut":0'
}

# 500 pairs of SIGHUP 10 ms apart: the second often comes while the first
# reload runs.  Each pair gives at least one reload.
start_daemon --rules r.rules --tokens tok --sip 127.0.0.1:0
k=0
while [ $k -lt 500 ]; do
	k=$((k + 1))
	kill -HUP "$PID"
	sleep 0.01
	kill -HUP "$PID" 2>/dev/null
	wait_reloads $k
done
# Then SIGHUP and at once SIGTERM: a reload, then the drain, exit 0.
kill -HUP "$PID"
kill -TERM "$PID"
wait "$PID"
got=$?
PID=
[ $got = 0 ] || { echo "FAIL hup_term: exit $got, want 0"; tail -3 serve.err; fail=1; }
stopped_after_reload hup_term 501

# The same from a fresh start, twenty times: SIGTERM right behind SIGHUP.
n=0
while [ $n -lt 20 ]; do
	n=$((n + 1))
	start_daemon --rules r.rules --tokens tok --sip 127.0.0.1:0
	kill -HUP "$PID"
	kill -TERM "$PID"
	wait "$PID"
	got=$?
	PID=
	[ $got = 0 ] || { echo "FAIL hup_term_$n: exit $got, want 0"; tail -3 serve.err; fail=1; }
	stopped_after_reload "hup_term_$n" 1
done
finish
