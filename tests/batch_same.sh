#!/bin/sh
# callbar batch gives the same verdicts however it reads and decides:
# one thread and two (many small chunks), each record decided alone
# (CALLBAR_BATCH_SINGLE=1) and in batches (cbar_decide_many()), the input
# plain, gzip or zstd (a file, and standard input told by its magic byte),
# the output plain or compressed by its name.  On a small file of the
# realistic benchmark generator (bench/gen_cdr.awk, with the pilots policy
# and a generated 200-rule file) and on every input of the batch fuzz
# corpus.  A cut or corrupt compressed stream is an error (exit 2, the
# records decided before it said), never a short success.
set -u
cb=$1
src=$2
fail=0
cd "${TMPDIR:-/tmp}" && mkdir -p cbar_batch_same_$$ && cd cbar_batch_same_$$ || exit 1
trap 'cd / && rm -rf "${TMPDIR:-/tmp}/cbar_batch_same_$$"' EXIT

# same NAME FILE BATCH-OPTIONS...: every way of reading and deciding FILE
# gives the bytes and the messages of the plain one-thread run.
same() {
	name=$1 f=$2
	shift 2
	"$cb" batch "$@" "$f" ref.out 2>ref.err
	want=$?
	gzip -c "$f" >in.gz
	zstd -q -c "$f" >in.zst
	# several gzip members one after another (cat a.gz b.gz, pigz): the
	# file cut at its lines' thirds, each part a member of its own
	lines=$(wc -l <"$f")
	k=$((lines / 3 + 1))
	rm -f part.*
	split -l "$k" "$f" part.
	for p in part.*; do gzip -c "$p"; done >in-members.gz
	for how in threads2 single single-threads2 gz zst gz-stdin zst-stdin out-gz out-zst \
		gz-members gz-members-threads2 gz-threads2-stdin; do
		rm -f got.out got.out.gz got.out.zst
		case $how in
		threads2) CALLBAR_BATCH_CHUNK=131072 "$cb" batch --threads 2 "$@" "$f" got.out 2>got.err ;;
		single) CALLBAR_BATCH_SINGLE=1 "$cb" batch "$@" "$f" got.out 2>got.err ;;
		single-threads2) CALLBAR_BATCH_SINGLE=1 CALLBAR_BATCH_CHUNK=131072 \
			"$cb" batch --threads 2 "$@" "$f" got.out 2>got.err ;;
		gz) "$cb" batch "$@" in.gz got.out 2>got.err ;;
		zst) "$cb" batch --threads 2 "$@" in.zst got.out 2>got.err ;;
		gz-stdin) "$cb" batch "$@" <in.gz >got.out 2>got.err ;;
		zst-stdin) "$cb" batch "$@" - got.out <in.zst 2>got.err ;;
		out-gz) "$cb" batch "$@" "$f" got.out.gz 2>got.err ;;
		out-zst) "$cb" batch --threads 2 "$@" in.gz got.out.zst 2>got.err ;;
		gz-members) "$cb" batch "$@" in-members.gz got.out 2>got.err ;;
		gz-members-threads2) CALLBAR_BATCH_CHUNK=131072 \
			"$cb" batch --threads 2 "$@" in-members.gz got.out 2>got.err ;;
		gz-threads2-stdin) CALLBAR_BATCH_CHUNK=131072 \
			"$cb" batch --threads 2 "$@" <in.gz >got.out 2>got.err ;;
		esac
		got=$?
		[ -f got.out.gz ] && gzip -dc got.out.gz >got.out
		[ -f got.out.zst ] && zstd -q -dc got.out.zst >got.out
		[ "$got" = "$want" ] ||
			{ echo "FAIL $name $how: exit $got, want $want"; cat got.err; fail=1; }
		cmp -s ref.out got.out || { echo "FAIL $name $how: other output"; fail=1; }
		cmp -s ref.err got.err || { echo "FAIL $name $how: other messages"; diff ref.err got.err; fail=1; }
	done
}

# the realistic generator, small: 30,000 records, 20,000 unlocked numbers,
# a tenth of the subscribers among them
mawk -v n=30000 -v nunl=20000 -v unl=unl.txt -f "$src/../bench/gen_cdr.awk" \
	"$src/../data/cn-segments.tsv" "$src/../data/countries.tsv" >real.csv || exit 1
mawk -v n=200 -f "$src/../bench/gen_rules.awk" >gen.rules || exit 1
same real-pilots real.csv --rules "$src/../etc/callbar/pilots.rules" --unlocked unl.txt
grep -q 'block' ref.out || { echo "FAIL real-pilots: nothing blocked"; fail=1; }
grep -q 'exempted\|ln-intl-in' ref.err || { echo "FAIL real-pilots: no pilot rule decided"; fail=1; }
same real-gen real.csv --rules gen.rules --unlocked unl.txt
same real-compare real.csv --rules "$src/../etc/callbar/pilots.rules" --unlocked unl.txt \
	--compare gen.rules

# the fuzz corpus: its CSV inputs one after another as one file, its JSON
# lines ones (those beginning with '{', as the fuzz target reads them) as
# another
n=0
: >corpus.csv
: >corpus.jsonl
for f in "$src/../fuzz/corpus/batch/"*; do
	if [ "$(head -c 1 "$f")" = "{" ]; then
		cat "$f" >>corpus.jsonl
	else
		cat "$f" >>corpus.csv
	fi
	echo >>corpus.csv
	n=$((n + 1))
done
[ $n -gt 100 ] || { echo "FAIL corpus: only $n inputs"; fail=1; }
same corpus-csv corpus.csv --rules gen.rules --unlocked unl.txt
same corpus-compare corpus.csv --rules gen.rules --unlocked unl.txt \
	--compare "$src/../etc/callbar/pilots.rules"
same corpus-jsonl corpus.jsonl --rules gen.rules --unlocked unl.txt --format jsonl
# a plain input that begins with a compression format's first byte is
# read as it is
printf '(x\n\037y\n' >paren.csv
same paren paren.csv --rules gen.rules

# A cut or corrupt stream: exit 2 and a message that says what and after
# how many records, whatever was decided before it; the output holds whole
# records only (the piece of a record the stream ended in is not decided),
# and they are the first ones of the whole file's output.
# bad NAME FILE WANT-MESSAGE [THREADS [PREFIX]]: PREFIX no when the
# stream is corrupt in a way only its checksum at the end shows (the bytes
# before were decided as they came out).
bad() {
	name=$1 f=$2 msg=$3 prefix=${5:-yes}
	CALLBAR_BATCH_CHUNK=131072 "$cb" batch --threads "${4:-1}" --rules gen.rules --unlocked unl.txt \
		"$f" cut.out 2>cut.err
	got=$?
	[ $got = 2 ] || { echo "FAIL $name: exit $got, want 2"; fail=1; }
	grep -q "$msg.* after [0-9]* records" cut.err ||
		{ echo "FAIL $name: no message '$msg ... after N records'"; cat cut.err; fail=1; }
	n=$(sed -n 's/.* after \([0-9]*\) records.*/\1/p' cut.err)
	[ "$(($(wc -l <cut.out) - 1))" = "${n:-x}" ] ||
		{ echo "FAIL $name: $(wc -l <cut.out) lines out, $n records said"; fail=1; }
	[ "$prefix" = no ] || head -c "$(wc -c <cut.out)" full.out | cmp -s - cut.out ||
		{ echo "FAIL $name: the output is not the full run's first records"; fail=1; }
}
"$cb" batch --rules gen.rules --unlocked unl.txt real.csv full.out 2>/dev/null
gzip -c real.csv >real.gz
head -c 400000 real.gz >cut.gz
bad cut-gzip cut.gz "gzip stream cut short"
bad cut-gzip-threads2 cut.gz "gzip stream cut short" 2
# a byte of the deflate data changed: a bad block, or a CRC that does not match
cp real.gz corrupt.gz
printf '\377\377\377\377' | dd of=corrupt.gz bs=1 seek=300000 conv=notrunc 2>/dev/null
bad corrupt-gzip corrupt.gz "corrupt gzip data" 1 no
bad corrupt-gzip-threads2 corrupt.gz "corrupt gzip data" 2 no
# the last 4 bytes of the trailer (the length) wrong: all records decoded,
# the stream still bad
cp real.gz trailer.gz
printf '\0\0\0\0' | dd of=trailer.gz bs=1 seek=$(($(wc -c <real.gz) - 4)) conv=notrunc 2>/dev/null
bad trailer-gzip trailer.gz "corrupt gzip data"
zstd -q -c real.csv | head -c 300000 >cut.zst
bad cut-zstd cut.zst "zstd stream cut short"
zstd -q -c real.csv | head -c 30000 | "$cb" batch --rules gen.rules >/dev/null 2>cut.err
[ $? = 2 ] || { echo "FAIL cut zstd stdin: want exit 2"; fail=1; }

[ $fail = 0 ] && echo "batch_same: all passed"
exit $fail
