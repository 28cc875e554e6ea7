#!/bin/sh
# make mutants: apply each deliberate breakage of tests/mutants/*.mut to a
# scratch copy of the tree, build the suites it names, run them, and fail
# unless every mutant is killed (one of its suites fails). The format of a
# mutant file is in tests/mutants/README.
#
# usage: mutants.sh [NAME...]      (default: every tests/mutants/*.mut)
# A mutant's suite "test-mpi" runs scripts/mpi-test.sh (make test-mpi's
# mpirun jobs, a minute or two each) instead of a unit suite.
#   MUTANTS_DIR   scratch directory (default build/mutants)
#   MUTANTS_JOBS  make -j (default 2)
#   MUTANTS_TIMEOUT  seconds per suite run (default 300; a suite that
#                    hangs under a mutant counts as killed, and says so)
set -u

src=$(pwd)
work=${MUTANTS_DIR:-build/mutants}
jobs=${MUTANTS_JOBS:-2}
limit=${MUTANTS_TIMEOUT:-300}
tree=$work/tree
log=$work/log

die() { echo "mutants: $*" >&2; exit 2; }
[ -d tests/mutants ] || die "run from the source root"
command -v perl >/dev/null 2>&1 || die "perl is needed (Debian: perl-base)"

# The header field $2 of mutant file $1 (the lines before the first @@@).
field() { awk '/^@@@/ { exit } { print }' "$1" | sed -n "s/^$2: *//p" | head -n 1; }

# Replace the one "from" block of mutant $1 in file $2 by its "to" block.
# Exit 3 (and say why) when "from" is empty or does not occur exactly once.
apply() {
	perl -e '
		my ($mut, $file) = @ARGV;
		open(my $m, "<", $mut) or die "$mut: $!\n";
		my ($part, %text) = ("", from => "", to => "");
		while (my $l = <$m>) {
			if ($l =~ /^@@@ (from|to|end)\s*$/) { $part = $1; next; }
			$text{$part} .= $l if $part eq "from" || $part eq "to";
		}
		$part eq "end" or do { print STDERR "$mut: no \"@@@ end\"\n"; exit 3 };
		length $text{from} or do { print STDERR "$mut: empty \"from\"\n"; exit 3 };
		local $/; open(my $f, "<", $file) or die "$file: $!\n";
		my $s = <$f>; close $f;
		my ($n, $at) = (0, -1);
		while (($at = index($s, $text{from}, $at + 1)) >= 0) { $n++; }
		if ($n != 1) {
			print STDERR "$mut: its \"from\" text occurs $n times in $file ",
			    "(must be once): the code changed, update the mutant\n";
			exit 3;
		}
		$at = index($s, $text{from});
		substr($s, $at, length $text{from}) = $text{to};
		open($f, ">", $file) or die "$file: $!\n"; print $f $s; close $f;
	' "$1" "$2"
}

if [ $# -gt 0 ]; then
	muts=""
	for n in "$@"; do
		[ -f "tests/mutants/$n.mut" ] || die "no tests/mutants/$n.mut"
		muts="$muts tests/mutants/$n.mut"
	done
else
	muts=$(ls tests/mutants/*.mut)
fi

# A fresh copy of the sources: a stale object built from an earlier
# mutant must never survive into a later build.
rm -rf "$tree" && mkdir -p "$tree/build" "$log" || die "cannot create $tree"
for d in include lib tests cli scripts Makefile mpi abi distq.pc.in \
	distq-mpi.pc.in; do
	cp -R "$src/$d" "$tree/" || die "cannot copy $d"
done
touch "$tree/build/.deps-ok" # packages were checked by the caller's make

killed=0; survived=0; todo=0; broken=0; lived=""; failed=""
start=$(date +%s)
for m in $muts; do
	name=$(basename "$m" .mut)
	file=$(field "$m" file)
	suites=$(field "$m" suites)
	san=$(field "$m" sanitize)
	# The suite test-mpi is make test-mpi's real mpirun jobs
	# (scripts/mpi-test.sh, a minute or two): it needs Open MPI.
	case " $(field "$m" suites) " in *" test-mpi "*)
		if ! command -v mpirun >/dev/null 2>&1; then
			echo "mutant $name: not run, no mpirun (test-mpi)"
			todo=$((todo + 1))
			continue
		fi
	esac
	if [ "$(field "$m" status)" = todo ]; then
		echo "mutant $name: TODO, not run (see $m)"
		todo=$((todo + 1))
		continue
	fi
	if [ -z "$file" ] || [ -z "$suites" ] || [ ! -f "$tree/$file" ]; then
		echo "mutant $name: BROKEN: needs file: (an existing file) and suites:"
		broken=$((broken + 1)); failed="$failed $name"
		continue
	fi
	cp "$tree/$file" "$log/pristine" || die "cannot save $file"
	if ! apply "$m" "$tree/$file"; then
		echo "mutant $name: BROKEN: does not apply"
		broken=$((broken + 1)); failed="$failed $name"
		continue
	fi
	if [ -n "$san" ]; then
		bdir=build/san-$san; mk="SANITIZE=$san"
	else
		bdir=build; mk=""
	fi
	targets=""
	for s in $suites; do
		case $s in
		test-mpi) targets="$targets $bdir/distq $bdir/distq-mpi \
			$bdir/tests/mpi/test_mpi" ;;
		*) targets="$targets $bdir/tests/$s" ;;
		esac
	done
	# shellcheck disable=SC2086
	if ! make -C "$tree" --no-print-directory -j"$jobs" $mk OPT=-O1 \
		$targets >"$log/$name.build" 2>&1; then
		echo "mutant $name: BROKEN: does not build (see $log/$name.build)"
		broken=$((broken + 1)); failed="$failed $name"
	else
		why=""
		for s in $suites; do
			if [ "$s" = test-mpi ]; then
				(cd "$tree" && timeout "$limit" \
					sh scripts/mpi-test.sh "$bdir") \
					>"$log/$name.$s" 2>&1
			else
				TSAN_OPTIONS=halt_on_error=1 timeout "$limit" \
					"$tree/$bdir/tests/$s" >"$log/$name.$s" 2>&1
			fi
			rc=$?
			if [ "$rc" -eq 124 ]; then
				why="$why $s (timed out)"
			elif [ "$rc" -ne 0 ]; then
				why="$why $s (exit $rc)"
			fi
		done
		if [ -n "$why" ]; then
			echo "mutant $name: killed by$why"
			killed=$((killed + 1))
		else
			echo "mutant $name: SURVIVED: $suites all passed" \
				"(see $log/$name.*)"
			survived=$((survived + 1)); lived="$lived $name"
		fi
	fi
	# Restored with a new time stamp: the next build recompiles it.
	cp "$log/pristine" "$tree/$file"
done
echo "mutants: $killed killed, $survived survived, $broken broken," \
	"$todo todo ($(($(date +%s) - start)) s)"
[ -z "$lived" ] || echo "mutants: survived:$lived (a proof that cannot fail)"
[ -z "$failed" ] || echo "mutants: broken:$failed"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
