#!/bin/sh
# Exported names outside core, store and data carry the cbar_ prefix (a
# cross-file internal one cbar__): nothing a layer above the core exports
# can collide with a library's or another layer's name.  Lists the defined
# global symbols of each archive (and the command's objects) and fails on
# any other.
set -eu
build=$1 src=$2
bad=
for f in "$build"/libcallbar_proto.a "$build"/libcallbar_net.a "$build"/libcallbar_load.a \
	"$build"/libcallbar_daemon.a "$build"/CMakeFiles/callbar.dir/src/cli/*.o; do
	case $f in # an object left by a source since removed is no part of the build
	*.c.o) [ -f "$src/src/cli/$(basename "$f" .o)" ] || continue ;;
	esac
	names=$(nm --defined-only -g "$f" 2>/dev/null | awk '$2 ~ /^[TDBRCV]$/ {print $3}' |
		grep -v '^cbar_' | grep -v '^__odr_asan' | grep -v '^main$' || true)
	[ -z "$names" ] || bad="$bad
$(basename "$f"): $(echo "$names" | tr '\n' ' ')"
done
if [ -n "$bad" ]; then
	echo "exported without the cbar_ prefix (make them static or name them cbar_...):$bad" >&2
	exit 1
fi
echo "names: every exported name outside core, store and data is cbar_"
