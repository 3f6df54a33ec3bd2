#!/bin/sh
# callbar's SMPP firewall against Kannel's bearerbox, relaying to the same
# SMSC: messages per second and CPU per relayed message, ratios in the same
# run.  The SMSC is bench/smpp_load's sink (callbar's codec, one thread a
# connection), so that neither the SMSC nor the load is what is measured.
#   sh bench/smpp.sh [BUILD_DIR] [MESSAGES]
# - callbar: bench/smpp_load sends MESSAGES submit_sm over 4 peer binds
#   (window 100 each) to `callbar serve --smpp` with the pilots' rules, which
#   decides each one (allowed: +852 to a Beijing number) and relays it over 4
#   upstream binds to the sink;
# - Kannel: mtbatch hands MESSAGES/10 messages to bearerbox (its box
#   protocol: Kannel has no SMPP server side), which sends them over its SMPP
#   client (transceiver, max-pending-submits 100) to the same sink.
# CPU is the relay process's user+system time (callbar serve; bearerbox)
# over the run, per message.  Latency: submit_sm to its response at the
# load generator, through callbar and straight to the sink, at one message
# in flight per bind (no queueing), and with `pass all` rules instead of
# the pilots (what the decision adds).
set -u
b=${1:-build}
N=${2:-400000}
top=$(cd "$(dirname "$0")/.." && pwd)
cmake --build "$b" --target callbar smpp_load >/dev/null
CB=$(cd "$b" && pwd)/callbar
L=$(cd "$b" && pwd)/bench/smpp_load
command -v mtbatch >/dev/null || { echo "smpp.sh: needs kannel (mtbatch, bearerbox)"; exit 1; }
PATH=$PATH:/usr/sbin
w=$(mktemp -d)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$w"; }
trap cleanup EXIT
# a free port below the kernel's ephemeral range, where no outgoing
# connection (or its TIME_WAIT) can hold it when the server binds
port() {
	python3 -c '
import random, socket
while True:
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
SINK=$(port) SP=$(port) HP=$(port)
"$L" sink "$SINK" >"$w/sink.out" 2>&1 &
pids="$pids $!"
PW=$("$CB" smpp-peer add bench --via intl-hub --binds 4 --peers "$w/peers")
start_callbar() { # RULES
	cat >"$w/cb.conf" <<EOF
[http]
listen = 127.0.0.1:$HP
[rules]
file = $1
[registry]
url = sqlite:$w/reg.db
[auth]
tokens = $w/tokens
[smpp]
listen = 127.0.0.1:$SP
peers = $w/peers
upstream = 127.0.0.1:$SINK
upstream_system_id = callbar
upstream_password = x
upstream_binds = 4
upstream_window = 400
window = 200
EOF
	"$CB" serve --config "$w/cb.conf" >"$w/cb.out" 2>"$w/cb.err" &
	CBP=$!
	i=0
	until curl -sf "http://127.0.0.1:$HP/readyz" >/dev/null; do
		i=$((i + 1)); [ $i -gt 200 ] && { echo "callbar did not start"; cat "$w/cb.err"; exit 1; }
		sleep 0.05
	done
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')"
start_callbar "$top/etc/callbar/pilots.rules"
c0=$(cpu $CBP)
out=$("$L" send "$SP" bench "$PW" 4 100 "$N")
c1=$(cpu $CBP)
echo "callbar relay:   $out"
cb_rate=$(echo "$out" | field rate)
cb_us=$(awk -v c=$((c1 - c0)) -v t="$tck" -v n="$N" 'BEGIN{printf "%.2f", c / t / n * 1e6}')
lat=$("$L" send "$SP" bench "$PW" 4 1 20000)
direct=$("$L" send "$SINK" x x 4 1 20000)
kill $CBP; wait $CBP 2>/dev/null || true
printf 'pass all\n' >"$w/pass.rules"
start_callbar "$w/pass.rules"
lat_pass=$("$L" send "$SP" bench "$PW" 4 1 20000)
kill $CBP; wait $CBP 2>/dev/null || true

# Kannel: bearerbox's SMPP client to the same sink
K=$((N / 10))
AP=$(port) BP=$(port)
cat >"$w/kannel.conf" <<EOF
group = core
admin-port = $AP
admin-password = adm
smsbox-port = $BP
log-file = "$w/bearerbox.log"
log-level = 4
box-allow-ip = "127.0.0.1"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sink
host = 127.0.0.1
port = $SINK
transceiver-mode = true
smsc-username = kannel
smsc-password = x
system-type = "VMA"
source-addr-ton = 1
source-addr-npi = 1
dest-addr-ton = 1
dest-addr-npi = 1
max-pending-submits = 100

group = smsbox
bearerbox-host = 127.0.0.1
EOF
bearerbox "$w/kannel.conf" >"$w/bb.out" 2>&1 &
BBP=$!
pids="$pids $BBP"
i=0
until curl -s "http://127.0.0.1:$AP/status.txt?password=adm" 2>/dev/null | grep -q "online"; do
	i=$((i + 1)); [ $i -gt 200 ] && { echo "bearerbox did not start"; tail "$w/bearerbox.log"; exit 1; }
	sleep 0.05
done
echo "Your code is 123456. Do not share it." >"$w/content"
awk -v n="$K" 'BEGIN{for (i = 0; i < n; i++) printf "86139%08d\n", i}' >"$w/receivers"
sent() { curl -s "http://127.0.0.1:$AP/status.txt?password=adm" | sed -n 's/^SMS: received [0-9]* (\([0-9]*\) queued), sent \([0-9]*\).*/\2/p'; }
k0=$(cpu $BBP)
t0=$(date +%s.%N)
mtbatch -b 127.0.0.1 -p "$BP" -f 85291234567 "$w/content" "$w/receivers" >/dev/null 2>&1 &
i=0
until [ "$(sent)" = "$K" ]; do
	i=$((i + 1)); [ $i -gt 6000 ] && { echo "Kannel sent $(sent) of $K"; break; }
	sleep 0.05
done
t1=$(date +%s.%N)
k1=$(cpu $BBP)
k_rate=$(awk -v n="$K" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n / (b - a)}')
k_us=$(awk -v c=$((k1 - k0)) -v t="$tck" -v n="$K" 'BEGIN{printf "%.2f", c / t / n * 1e6}')
echo "kannel relay:    messages=$K rate=$k_rate/s (bearerbox, mtbatch in)"
echo "cpu per message: callbar ${cb_us} us, bearerbox ${k_us} us: ratio $(awk -v a="$cb_us" -v b="$k_us" 'BEGIN{printf "%.3f", a / b}') (goal <= 0.2)"
echo "rate:            callbar ${cb_rate}/s, bearerbox ${k_rate}/s: ratio $(awk -v a="$cb_rate" -v b="$k_rate" 'BEGIN{printf "%.1f", a / b}') (goal >= 50000/s with 4 binds)"
echo "latency, one in flight per bind (p50/p99 ms): straight to the SMSC $(echo "$direct" | field p50_ms)/$(echo "$direct" | field p99_ms), through callbar with the pilots $(echo "$lat" | field p50_ms)/$(echo "$lat" | field p99_ms), with pass all $(echo "$lat_pass" | field p50_ms)/$(echo "$lat_pass" | field p99_ms)"
