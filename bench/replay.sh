#!/bin/sh
# A synthetic day replayed through three callbar serve nodes on one
# PostgreSQL registry, over HTTP and SIP (bench/replay.c says what the day
# holds and what is reported; docs/capacity.md, "The scaled replay").
#
#   sh bench/replay.sh BUILD_DIR [--registered N] [--peak EVENTS_A_SECOND]
#        [--hour-ms MS] [--regs K] [--solo-s S] [--sip-share F] [--conns C]
#        [--threads T] [--load copy|import]
#
# Starts a private PostgreSQL (tests/pg.sh), loads N registered lines
# (default 1,000,000; by COPY into the unlock table as bench_ready fills
# it, or with --load import through `callbar import`, which checks each
# line against the registry and takes minutes a million), starts three nodes (HTTP with
# bearer tokens, a SIP listener for each direction), runs the day
# (BUILD_DIR/bench/replay run) and stops everything.  Exit status: the
# driver's (0: no error, every registration made at the peak honoured by
# every node, the reload done).  The smoke test (ctest -R replay_smoke)
# runs it at a small scale.
set -eu
build=$(cd "$1" && pwd)
shift
top=$(cd "$(dirname "$0")/.." && pwd)
cb=$build/callbar
drv=$build/bench/replay
registered=1000000 peak=2000 hour_ms=10000 regs=30 solo=0 share=0.5 conns=8 threads=2 load=copy
while [ $# -gt 0 ]; do
	case $1 in
	--registered) registered=$2 ;;
	--peak) peak=$2 ;;
	--hour-ms) hour_ms=$2 ;;
	--regs) regs=$2 ;;
	--solo-s) solo=$2 ;;
	--sip-share) share=$2 ;;
	--conns) conns=$2 ;;
	--threads) threads=$2 ;;
	--load) load=$2 ;;
	*) echo "replay.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift 2
done
[ -x "$cb" ] && [ -x "$drv" ] || { echo "replay.sh: build $build/callbar and $build/bench/replay first" >&2; exit 2; }

work=/tmp/callbar-replay-$$
# Ports below the ephemeral range, one block per run.
base=$((22000 + ($$ % 500) * 16))
pgport=$base
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	sh "$top/tests/pg.sh" stop "$work/pg" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$work"
chmod 755 "$work"

# The numbering plan: every 7-digit mobile block (starting with 1), and
# those of Zhejiang CMCC (carrier by the longest listed prefix, region by
# the block's city), whose texts from abroad the pilots' policy bars.
awk -F'\t' '
	FILENAME ~ /carriers/ && !/^#/ { car[$1] = $2; next }
	FILENAME ~ /cities/ && !/^#/ { reg[$1] = $2; next }
	FILENAME ~ /segments/ && !/^#/ && length($1) == 7 && substr($1, 1, 1) == "1" {
		print $1 > seg
		c = ""
		for (l = 7; l >= 3 && c == ""; l--)
			if (substr($1, 1, l) in car)
				c = car[substr($1, 1, l)]
		if (c == "cmcc" && reg[$2] == "CN-ZJ")
			print $1 > zj
	}' seg="$work/segments" zj="$work/zj" \
	"$top/data/cn-carriers.tsv" "$top/data/cn-cities.tsv" "$top/data/cn-segments.tsv"

sh "$top/tests/pg.sh" start "$work/pg" "$pgport" >/dev/null
url="postgresql:///callbar?host=$work/pg&port=$pgport&user=postgres"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/callbar.key"
chmod 600 "$work/callbar.key"
export CALLBAR_KEY="$work/callbar.key"
token=$("$cb" token create --role admin --name replay --tokens "$work/tokens" | tail -n 1)
cp "$top/etc/callbar/pilots.rules" "$work/policy.rules"

t0=$(date +%s)
if [ "$load" = import ]; then
	"$drv" registered "$registered" 42 "$work/segments" >"$work/registered.csv"
	"$cb" import --map 'number=col1,scope=col2,level=col3' "$work/registered.csv" \
		--registry "$url" --rules "$work/policy.rules" >"$work/import.log"
	echo "replay.sh: $(tail -n 1 "$work/import.log") in $(($(date +%s) - t0)) s"
else
	# The schema as the registry makes it (any command that opens it),
	# then the rows.
	"$cb" status +8613800000000 --registry "$url" --rules "$work/policy.rules" >/dev/null 2>&1 || true
	"$drv" registered "$registered" 42 "$work/segments" copy >"$work/registered.tsv"
	psql -q -X -v ON_ERROR_STOP=1 "$url" -c "\\copy unlock FROM '$work/registered.tsv'" -c "ANALYZE unlock"
	echo "replay.sh: $(wc -l <"$work/registered.tsv") registered lines copied in $(($(date +%s) - t0)) s"
fi

nodes=
for i in 1 2 3; do
	http=$((base + i)) out=$((base + 3 + i)) in=$((base + 6 + i))
	d=$work/node$i
	mkdir -p "$d"
	cat >"$d/callbar.conf" <<EOF
[http]
listen = 127.0.0.1:$http
threads = $threads
[rules]
file = $work/policy.rules
[registry]
url = "$url"
[auth]
tokens = $work/tokens
[log]
level = warn
[sip]
listen = 127.0.0.1:$out
listen_in = 127.0.0.1:$in
EOF
	(cd "$d" && exec "$cb" serve --config "$d/callbar.conf") >"$d/serve.log" 2>&1 &
	pids="$pids $!"
	nodes="$nodes${nodes:+,}$http:$out:$in:$!"
done
t0=$(date +%s)
for i in 1 2 3; do
	http=$((base + i))
	n=0
	until curl -sf -o /dev/null "http://127.0.0.1:$http/readyz"; do
		n=$((n + 1))
		[ $n -lt 1200 ] || { echo "replay.sh: node $i not ready" >&2; cat "$work/node$i/serve.log" >&2; exit 1; }
		sleep 0.1
	done
done
echo "replay.sh: three nodes ready in $(($(date +%s) - t0)) s; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
records() {
	for i in 1 2 3; do
		curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$((base + i))/metrics" |
			awk '/^callbar_registry_records /{printf " %s", $2}'
	done
}
echo "replay.sh: unlock records on the three nodes:$(records)"

rc=0
"$drv" run --nodes "$nodes" --token "$token" --segments "$work/segments" --zj "$work/zj" \
	--rules "$work/policy.rules" --registered "$registered" --peak "$peak" \
	--hour-ms "$hour_ms" --regs "$regs" --solo-s "$solo" --sip-share "$share" \
	--conns "$conns" || rc=$?
echo "replay.sh: unlock records on the three nodes after the day:$(records)"
for i in 1 2 3; do
	if grep -q '"level":"error"' "$work/node$i/serve.log"; then
		echo "replay.sh: node $i logged errors:" >&2
		grep '"level":"error"' "$work/node$i/serve.log" | head -5 >&2
	fi
done
exit $rc
