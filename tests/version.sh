#!/bin/sh
# callbar --version names the release and the commit the binary was built
# from, and /metrics callbar_build_info carries the same two.
#   sh tests/version.sh CALLBAR SRCDIR
. "$2/daemon/lib.sh"
top=$(cd "$SRC/.." && pwd)

"$CB" --version >v.txt || { echo "FAIL: --version exit $?"; fail=1; }
ver=$(sed -n 's/^callbar \([0-9][0-9.]*\) (commit \([^)]*\))$/\1/p' v.txt)
commit=$(sed -n 's/^callbar \([0-9][0-9.]*\) (commit \([^)]*\))$/\2/p' v.txt)
[ -n "$ver" ] && [ -n "$commit" ] || { echo "FAIL: --version says:"; cat v.txt; fail=1; }
want=$(sed -n 's/^project(callbar VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
[ "$ver" = "$want" ] || { echo "FAIL: version $ver, CMakeLists.txt says $want"; fail=1; }
# Built from a git tree: the commit is HEAD's (the build may be dirty);
# else the build says it does not know.
if head=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null); then
	case $commit in
	"$head" | "$head-dirty") ;;
	*) echo "FAIL: commit $commit, the tree is at $head"; fail=1 ;;
	esac
else
	[ "$commit" = unknown ] || { echo "FAIL: no git, yet commit $commit"; fail=1; }
fi
"$CB" -V | cmp -s - v.txt || { echo "FAIL: -V differs from --version"; fail=1; }

write_rules r.rules 3
start_daemon --rules r.rules --registry sqlite:reg.db --tokens tok
call metrics 200 "$U/metrics"
has build_info body.json "callbar_build_info{version=\"$ver\",commit=\"$commit\"} 1"
stop_daemon
finish
