#!/bin/sh
# callbar: run each libFuzzer target for a while on its corpus.
#   sh fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# New inputs that grow coverage are added to fuzz/corpus/TARGET; crashes are
# written to fuzz/ (crash-*) and make the run fail.
set -eu
b=$1 secs=$2
shift 2
targets=${*:-$(sed -n 's/^set(CBAR_FUZZ_TARGETS \(.*\))/\1/p' fuzz/CMakeLists.txt)}
for t in $targets; do
	echo "== fuzz_$t for ${secs}s"
	"$b/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix=fuzz/ "fuzz/corpus/$t" 2>&1 | grep -E '^(stat::|#[0-9]+.*DONE|==[0-9]+==ERROR|SUMMARY)' || true
	ls fuzz/crash-* fuzz/leak-* fuzz/timeout-* 2>/dev/null && exit 1
done
exit 0
