#!/bin/sh
# A private PostgreSQL server for the registry tests (CTest fixture pg):
#   sh tests/pg.sh start DIR PORT    initdb in DIR, start on a Unix socket in
#                                    DIR and PORT (no TCP), make the databases
#   sh tests/pg.sh stop DIR          stop it and remove DIR
#   sh tests/pg.sh pause DIR         stop it, keeping DIR (an outage)
#   sh tests/pg.sh resume DIR PORT   start it again on DIR
# The tests connect with postgresql:///DB?host=DIR&port=PORT&user=postgres.
# As root the server runs as the postgres user (it refuses root).
set -eu
cmd=$1 dir=$2
bin=
for v in 15 16 17 14 13; do
	[ -x /usr/lib/postgresql/$v/bin/pg_ctl ] && { bin=/usr/lib/postgresql/$v/bin; break; }
done
[ -n "$bin" ] || { echo "pg.sh: no PostgreSQL server (install postgresql-15: tools/deps.sh)" >&2; exit 1; }
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop() {
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
}
case $cmd in
start)
	port=$3
	stop
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
	chmod 700 "$dir"
	as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	# Durable as in production: fsync and synchronous_commit stay on.
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -p $port -c listen_addresses='' -c max_connections=50" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	for db in callbar callbar2 callbar_store callbar_crash callbar_fail callbar_live callbar_tokens callbar_bars; do
		as_pg "$bin/psql" -q -X -h "$dir" -p "$port" -U postgres -d postgres \
			-c "CREATE DATABASE $db" >/dev/null
	done
	echo "pg.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $dir port $port"
	;;
stop)
	stop
	rm -rf "$dir"
	echo "pg.sh: stopped"
	;;
pause)
	stop
	echo "pg.sh: paused"
	;;
resume)
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -p $3 -c listen_addresses='' -c max_connections=50" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	echo "pg.sh: resumed"
	;;
*)
	echo "usage: pg.sh start DIR PORT | stop DIR | pause DIR | resume DIR PORT" >&2
	exit 2
	;;
esac
