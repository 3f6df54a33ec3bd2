#!/bin/sh
# Two PostgreSQL servers on this machine for the cluster test: a primary and
# a standby by streaming replication, synchronous (the standby is named
# "standby1" and the primary waits for it) or not.  Private folders and
# ports, TCP on 127.0.0.1 only, run as the postgres user when root.
#   sh pg_pair.sh start DIR P1 P2 sync|async   primary on P1 (DIR/a), standby on P2 (DIR/b)
#   sh pg_pair.sh kill DIR a|b                 SIGKILL that server's postmaster
#   sh pg_pair.sh stop DIR a|b                 stop it (fast)
#   sh pg_pair.sh resume DIR a|b PORT          start it again
#   sh pg_pair.sh promote DIR b                promote the standby
#   sh pg_pair.sh psql DIR PORT SQL            one statement, unaligned output
#   sh pg_pair.sh clean DIR                    stop both, remove DIR
set -eu
cmd=$1 dir=$2
bin=
for v in 15 16 17 14 13; do
	[ -x /usr/lib/postgresql/$v/bin/pg_ctl ] && { bin=/usr/lib/postgresql/$v/bin; break; }
done
[ -n "$bin" ] || { echo "pg_pair.sh: no PostgreSQL server (tools/deps.sh)" >&2; exit 1; }
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
opts() { # PORT NAME
	o="-p $1 -k $dir -c listen_addresses=127.0.0.1 -c max_connections=60 -c cluster_name=$2"
	echo "$o -c wal_level=replica -c max_wal_senders=5 -c wal_keep_size=64MB -c hot_standby=on"
}
start_one() { # DIRNAME PORT CLUSTER_NAME
	as_pg "$bin/pg_ctl" -D "$dir/$1" -l "$dir/$1.log" -w -t 60 -o "$(opts "$2" "$3")" start \
		>/dev/null || { tail -20 "$dir/$1.log" >&2; exit 1; }
}
case $cmd in
start)
	p1=$3 p2=$4 mode=$5
	"$0" clean "$dir" >/dev/null 2>&1 || true
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
	chmod 700 "$dir"
	as_pg "$bin/initdb" -D "$dir/a" -A trust -U postgres -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	# The standby's name is standby1 (its cluster_name, which the WAL
	# receiver gives as its application_name).
	start_one a "$p1" primary
	as_pg "$bin/psql" -q -X -h 127.0.0.1 -p "$p1" -U postgres -d postgres -c "CREATE DATABASE callbar" >/dev/null
	as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$dir/b" -R -X stream -c fast >/dev/null
	start_one b "$p2" standby1
	# Synchronous only now: a primary waiting for a standby that does not
	# exist yet would not even create the database.  ALTER SYSTEM keeps it
	# across restarts; the standby's copy was taken before, so a promoted
	# standby is asynchronous (it has no standby of its own).
	if [ "$mode" = sync ]; then
		as_pg "$bin/psql" -q -X -h 127.0.0.1 -p "$p1" -U postgres -d postgres \
			-c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" -c "SELECT pg_reload_conf()" >/dev/null
	fi
	# Wait until the primary sees its standby streaming (and synchronous when asked).
	want=async; [ "$mode" = sync ] && want=sync
	i=0
	until [ "$(as_pg "$bin/psql" -Atq -X -h 127.0.0.1 -p "$p1" -U postgres -d postgres \
		-c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = $want ]; do
		i=$((i + 1)); [ $i -gt 300 ] && { echo "pg_pair.sh: the standby never streamed" >&2; exit 1; }
		sleep 0.1
	done
	echo "pg_pair.sh: primary 127.0.0.1:$p1, $want standby 127.0.0.1:$p2"
	;;
kill)
	pid=$(head -1 "$dir/$3/postmaster.pid")
	kill -KILL "$pid"
	# Its backends notice the postmaster's death and leave; wait for the port.
	i=0
	while pgrep -P "$pid" >/dev/null 2>&1 || kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && break
		sleep 0.05
	done
	;;
stop)
	as_pg "$bin/pg_ctl" -D "$dir/$3" -m fast -w stop >/dev/null
	;;
resume)
	name=$3; [ "$3" = b ] && name=standby1
	start_one "$3" "$4" "$name"
	;;
promote)
	as_pg "$bin/pg_ctl" -D "$dir/$3" -w promote >/dev/null
	;;
psql)
	as_pg "$bin/psql" -Atq -X -h 127.0.0.1 -p "$3" -U postgres -d callbar -c "$4"
	;;
clean)
	for s in a b; do
		[ -f "$dir/$s/postmaster.pid" ] &&
			as_pg "$bin/pg_ctl" -D "$dir/$s" -m immediate -w stop >/dev/null 2>&1 || true
	done
	rm -rf "$dir"
	;;
*)
	echo "usage: pg_pair.sh start|kill|stop|resume|promote|psql|clean DIR ..." >&2
	exit 2
	;;
esac
