# callbar registry tests: the back end under test, from $url (sourced).
#   reg_reset    a fresh registry in $REG, its key in $KEY (once made),
#                the key option to pass in $KEYARG
#   reg_reset2   a second fresh registry in $REG2 (import target)
#   sql SQL      run SQL on $REG behind callbar's back (sqlite3 or psql)
#   REG_FILES    folders the back end writes to (for the leak check)
case $url in
sqlite:*)
	BACKEND=sqlite
	reg_reset() {
		rm -rf reg && mkdir reg
		REG=sqlite:$PWD/reg/callbar.db
		KEY=$PWD/reg/callbar.key
		KEYARG=  # the default: callbar.key beside the file, made on first use
		KEYFILE_MODE_CHECK=1
		REG_FILES=$PWD/reg
	}
	reg_reset2() {
		rm -rf reg2 && mkdir reg2
		REG2=sqlite:$PWD/reg2/callbar.db
	}
	sql() { sqlite3 "${REG#sqlite:}" "$1"; }
	;;
postgres://* | postgresql://*)
	BACKEND=postgres
	pg_empty() { # URL
		psql -q -X "$1" -c "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;" \
			>/dev/null 2>&1
	}
	reg_reset() {
		REG=$url
		pg_empty "$REG"
		head -c 32 /dev/urandom >"$PWD/pg.key" && chmod 600 "$PWD/pg.key"
		KEY=$PWD/pg.key
		KEYARG="--key $KEY"
		REG_FILES=${CBAR_PG_DIR:-}
	}
	reg_reset2() {
		REG2="$url${CBAR_PG_URL2_SUFFIX:-}"
		case $url in *\?*) REG2=$(echo "$url" | sed 's|/callbar?|/callbar2?|') ;; esac
		pg_empty "$REG2"
	}
	sql() { psql -q -X -v ON_ERROR_STOP=1 "$REG" -c "$1" >/dev/null; }
	;;
*)
	echo "registry tests: unknown URL $url" >&2
	exit 2
	;;
esac
