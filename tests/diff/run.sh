#!/bin/sh
# callbar differential test: oracle | compare (docs/differential.md).
# usage: run.sh ORACLE COMPARE MIN_RATE MIN_INPUTS
# A pipeline hides the first command's status, so the oracle's output goes
# through a file: a failed oracle must fail the test, not look like a
# short input.
set -eu
oracle=$1 compare=$2 min_rate=$3 min_inputs=$4
tsv=$(mktemp "${TMPDIR:-/tmp}/cbar-diff.XXXXXX")
trap 'rm -f "$tsv"' EXIT
"$oracle" >"$tsv"
"$compare" --min-rate "$min_rate" --min-inputs "$min_inputs" "$tsv"
