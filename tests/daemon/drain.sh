#!/bin/sh
# SIGTERM drains: the daemon stops accepting, finishes the request in
# flight (its body still arriving), then exits 0.  No timing: each step
# waits for the state it needs.
. "$2/lib.sh"

write_rules r.rules 2
printf '[http]\ndecide_auth = none\n[rules]\nfile = r.rules\n[auth]\ntokens = tok\n' >d.conf
start_daemon --config d.conf

# A request whose body we hold back: curl streams it from a FIFO.
mkfifo body.fifo
exec 3<>body.fifo
curl -s -o slow.json -w '%{http_code}' -X POST -H 'Expect:' -H 'Content-Type: application/json' \
	-T - "$U/v1/decide" <body.fifo >slow.code 3>&- &
CURL=$!
# Wait until the daemon has it in flight (the /metrics request is the other).
i=0
until curl -s "$U/metrics" | grep -q '^callbar_http_requests_in_flight 2$'; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "FAIL: the slow request never started"; fail=1; break; }
	sleep 0.05
done

kill -TERM "$PID"
# Wait until new connections are refused (curl exit 7): the daemon is
# draining, and our request is still in flight.
i=0
while curl -s -o /dev/null "$U/healthz"; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "FAIL: still accepting after SIGTERM"; fail=1; break; }
	sleep 0.05
done
kill -0 "$PID" 2>/dev/null || { echo "FAIL: exited before the request finished"; fail=1; }
# In flight at SIGTERM: our request, and perhaps still the last /metrics or
# /healthz one, whose completion the server counts a moment after curl has
# its answer (seen as 2 under load): at least ours, at most both.
grep -qE '"msg":"stopping: draining requests in flight","signal":"SIGTERM","in_flight":[12][,}]' serve.err ||
	{ echo "FAIL draining: no drain line with in_flight 1 or 2 in serve.err:"; head -c 1500 serve.err; echo; fail=1; }

# Now the body: the answer must come back whole.
printf '%s' '{"service":"voice","direction":"in","subscriber":"13805710000","peer":"+85291234567"}' >&3
exec 3>&-
wait "$CURL"
[ "$(cat slow.code)" = 200 ] || { echo "FAIL: slow request got HTTP $(cat slow.code)"; cat slow.json; fail=1; }
has slow_body slow.json '"verdict":'
wait "$PID"
got=$?
PID=
[ $got = 0 ] || { echo "FAIL: exit $got after drain, want 0"; cat serve.err; fail=1; }
has stopped serve.err '"msg":"stopped","cut":0'
finish
