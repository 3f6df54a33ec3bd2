#!/bin/sh
# Live reload: SIGHUP and POST /v1/reload swap the rules in; a file that
# fails keeps the old rules (and is counted); 100 reloads under parallel
# readers never give a failed or mixed answer.
. "$2/lib.sh"

write_rules a.rules 3
write_rules b.rules 7
printf 'block x\n\0 oops\n' >bad.rules
shaA=$(sha256sum a.rules | cut -d' ' -f1)
shaB=$(sha256sum b.rules | cut -d' ' -f1)
cp a.rules r.rules
A=$("$CB" token create --role admin --name ops --tokens tok 2>/dev/null)
H="Authorization: Bearer $A"
start_daemon --rules r.rules --tokens tok

call start 200 -H "$H" "$U/v1/rules"
has start body.json "\"sha256\":\"$shaA\""
has start body.json '"version":1'

# SIGHUP: the new file is in use once the log says so.
cp b.rules r.rules
kill -HUP "$PID"
i=0
until grep -q '"trigger":"sighup"' serve.err; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "FAIL: no reload after SIGHUP"; break; }
	sleep 0.05
done
call after_hup 200 -H "$H" "$U/v1/rules"
has after_hup body.json "\"sha256\":\"$shaB\""
has after_hup body.json '"version":2'
has after_hup body.json '"lines":7'

# A failing POST reload: 422 with file:line:column, the old rules stay.
cp bad.rules r.rules
err bad_reload 422 RELOAD null -X POST -H "$H" "$U/v1/reload"
has bad_reload body.json 'r.rules:2:1: NUL byte in a rule file'
has bad_reload body.json "\"sha256\":\"$shaB\""
call still_b 200 -H "$H" "$U/v1/rules"
has still_b body.json "\"sha256\":\"$shaB\""
has still_b body.json '"version":2'
# A missing file fails the same way.
rm r.rules
err missing_reload 422 RELOAD null -X POST -H "$H" "$U/v1/reload"
has missing_reload body.json 'cannot open'
# A failing SIGHUP reload: logged, counted, old rules stay.
cp bad.rules r.rules
kill -HUP "$PID"
i=0
until grep -q '"msg":"reload failed; the rules in use stay","trigger":"sighup"' serve.err; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "FAIL: no failed reload after SIGHUP"; break; }
	sleep 0.05
done
call still_b2 200 -H "$H" "$U/v1/rules"
has still_b2 body.json "\"sha256\":\"$shaB\""
call ready_after_fail 200 "$U/readyz"
call metrics 200 "$U/metrics"
has metrics body.json 'callbar_reloads_total{result="failed"} 3'
has metrics body.json 'callbar_reloads_total{result="ok"} 2'
has metrics body.json "callbar_rules_info{sha256=\"$shaB\"} 1"
has metrics body.json "callbar_rules_info{sha256=\"$shaA\"} 0"
promtool check metrics <body.json >promtool.out 2>&1 || { echo "FAIL promtool:"; cat promtool.out; fail=1; }

# 100 reloads, alternating a.rules and b.rules, while 4 clients read
# /v1/rules.  Every answer must be 200 and carry the hash and the line
# count of one same file.  Clients stop when the reloads are done (or after
# a bounded number of rounds).
cp a.rules r.rules
call back_to_a 200 -X POST -H "$H" "$U/v1/reload"
reader() { # N: rounds of 10 requests on one connection
	r=0
	while [ ! -f reloads.done ] && [ $r -lt 400 ]; do
		curl -s -H "$H" -w ' %{http_code}\n' "$U/v1/rules" "$U/v1/rules" "$U/v1/rules" \
			"$U/v1/rules" "$U/v1/rules" "$U/v1/rules" "$U/v1/rules" "$U/v1/rules" \
			"$U/v1/rules" "$U/v1/rules" >>"reader$1.out" || echo "curl failed $?" >>"reader$1.out"
		r=$((r + 1))
	done
}
# Two more clients decide all along: a call out to abroad is barred by line
# 2 of both files (reason r2); every answer must say exactly that.
decider() { # N
	r=0
	while [ ! -f reloads.done ] && [ $r -lt 400 ]; do
		curl -s -H "$H" -w ' %{http_code}\n' -d "$BL" "$U/v1/decide" \
			>>"decider$1.out" || echo "curl failed $?" >>"decider$1.out"
		r=$((r + 1))
	done
}
BL='{"service":"voice","direction":"out","subscriber":"13805710000","peer":"+85291234567"}'
rpids=""
for c in 1 2 3 4; do reader $c & rpids="$rpids $!"; done
for c in 1 2; do decider $c & rpids="$rpids $!"; done
n=0 bad_reloads=0
while [ $n -lt 100 ]; do
	if [ $((n % 2)) = 0 ]; then cp b.rules r.tmp; else cp a.rules r.tmp; fi
	mv r.tmp r.rules
	code=$(curl -s -o reload.json -w '%{http_code}' -X POST -H "$H" "$U/v1/reload")
	[ "$code" = 200 ] || bad_reloads=$((bad_reloads + 1))
	n=$((n + 1))
done
touch reloads.done
# Every client must have finished before its output is counted (a client
# still writing would leave half a line).
for j in $rpids; do wait "$j"; done
[ $bad_reloads = 0 ] || { echo "FAIL: $bad_reloads of 100 reloads failed"; fail=1; }
cat reader*.out >all.out
total=$(wc -l <all.out)
okA=$(grep -c "\"sha256\":\"$shaA\",.*\"lines\":3,.* 200\$" all.out)
okB=$(grep -c "\"sha256\":\"$shaB\",.*\"lines\":7,.* 200\$" all.out)
echo "parallel: $total answers during 100 reloads: $okA of a.rules, $okB of b.rules"
if [ "$total" -lt 40 ] || [ $((okA + okB)) != "$total" ]; then
	echo "FAIL: inconsistent or failed answers:"
	grep -v -e "\"sha256\":\"$shaA\",.*\"lines\":3,.* 200\$" \
		-e "\"sha256\":\"$shaB\",.*\"lines\":7,.* 200\$" all.out | head -5
	fail=1
fi
cat decider*.out >dec.out
dtotal=$(wc -l <dec.out)
dok=$(grep -c '"verdict":"block","rule":"r.rules:2","reason":"r2".* 200$' dec.out)
echo "parallel: $dtotal decisions during 100 reloads, $dok as they should be"
if [ "$dtotal" -lt 20 ] || [ "$dok" != "$dtotal" ]; then
	echo "FAIL: failed or wrong decisions:"
	grep -v '"verdict":"block","rule":"r.rules:2","reason":"r2".* 200$' dec.out | head -5
	fail=1
fi
call final 200 -H "$H" "$U/v1/rules"
has final body.json '"version":103'
has final body.json "\"sha256\":\"$shaA\""
# One reader for rule files: a file `callbar lint` accepts loads on reload,
# whatever its size (17 MiB here, past the daemon's old 16 MiB limit).
python3 -c '
import sys
with open("big.rules", "w") as f:
    f.write("timezone +08:00\n")
    line = "# " + "x" * 1000 + "\n"
    for _ in range(17 * 1024):
        f.write(line)
    f.write("pass all\n")
'
"$CB" lint big.rules >lint.out 2>&1 || { echo "FAIL big_lint: lint refused big.rules"; cat lint.out; fail=1; }
cp big.rules r.rules
call big_reload 200 -X POST -H "$H" "$U/v1/reload"
stop_daemon
finish
