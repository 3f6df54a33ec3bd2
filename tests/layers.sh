#!/bin/sh
# Includes run downhill only.  A header of another layer is named with its
# layer ("proto/event.h"); this checks every such include in src/ against
# the order of the layers, and that no file reaches up with "../":
#   core <- proto <- store, net <- load <- daemon <- cli
# (data sits beside core; the command line may include only the daemon's
# public entry, daemon/serve.h).
set -eu
src=${1:-$(dirname "$0")/../src}
rank() {
	case $1 in
	core | data) echo 0 ;; proto) echo 1 ;; store | net) echo 2 ;; load) echo 3 ;;
	daemon) echo 4 ;; cli) echo 5 ;; *) echo 9 ;;
	esac
}
bad=0
for f in $(find "$src" -name '*.[ch]' | sort); do
	layer=$(basename "$(dirname "$f")")
	r=$(rank "$layer")
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		../* | */../*)
			echo "$f: #include \"$inc\" reaches up a folder: name the layer instead" >&2
			bad=1 ;;
		callbar/*) ;; # the public API, include/callbar
		*/*)
			to=${inc%%/*}
			t=$(rank "$to")
			if [ "$t" = 9 ]; then
				echo "$f: #include \"$inc\": no layer '$to'" >&2; bad=1
			elif [ "$layer" = cli ] && [ "$to" = daemon ] && [ "$inc" != daemon/serve.h ]; then
				echo "$f: #include \"$inc\": the command line uses only daemon/serve.h" >&2
				bad=1
			elif [ "$t" -ge "$r" ] && [ "$to" != "$layer" ]; then
				echo "$f: #include \"$inc\": $layer may not include $to (layers run core <- proto <- store, net <- load <- daemon <- cli)" >&2
				bad=1
			fi ;;
		esac
	done
done
[ "$bad" = 0 ] && echo "layers: every include in $src runs downhill"
exit "$bad"
