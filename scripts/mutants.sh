#!/bin/sh
# make mutants: apply each deliberate breakage of tests/mutants/*.mut to a
# scratch copy of the tree, build the suites it names, run them, and fail
# unless every mutant is killed (one of its suites fails). The format of a
# mutant file is in tests/mutants/README.
#
# Speed, without testing less:
# - a pristine copy of the tree is built once (-O1, the suites the mutants
#   name, per sanitizer); each mutant gets its own copy of it (cp -p keeps
#   the time stamps), so only the objects that depend on the mutated file
#   are recompiled, and the suites relinked;
# - a mutant's tests: field (a list of fnmatch patterns of test names)
#   runs only those tests of its suites (DQ_TEST_FILTER, tests/dq_test.h);
#   without it, the whole suites run, as before;
# - MUTANTS_PAR mutants at a time (default 2). A mutant that runs whole
#   suites (no tests: field) runs them while no other mutant runs a test
#   (flock): whole suites hold tests that time two agents.
# A mutant that survives its tests: is reported as such, and the script
# then runs its whole suites to say whether the tests: list is too narrow:
# it counts as a survivor either way (make mutants fails).
#
# A mutant's suite "test-mpi" runs scripts/mpi-test.sh (make test-mpi's
# mpirun jobs, a minute or two each) instead of a unit suite; it has no
# tests: filter, so it runs alone (the exclusive lock).
#
# usage: mutants.sh [--build] [NAME...]  (default: every tests/mutants/*.mut)
#   --build       only build the pristine tree (make mutants-build)
#   MUTANTS_DIR   scratch directory (default build/mutants)
#   MUTANTS_JOBS  make -j of the pristine build (default 2)
#   MUTANTS_PAR   mutants built and run at a time (default 2)
#   MUTANTS_TIMEOUT  seconds per suite run (default 300; a suite that
#                    hangs under a mutant counts as killed, and says so)
#   MUTANTS_NOFILTER=1  ignore tests: fields (run whole suites; to find
#                    which tests kill each mutant: see the FAILED lines)
set -u

src=$(pwd)
work=${MUTANTS_DIR:-build/mutants}
case $work in /*) ;; *) work=$src/$work ;; esac
jobs=${MUTANTS_JOBS:-2}
par=${MUTANTS_PAR:-2}
limit=${MUTANTS_TIMEOUT:-300}
pristine=$work/pristine
log=$work/log
res=$work/result
lock=$work/run.lock

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


# Run suites $3... of tree $1 (build dir $2) with DQ_TEST_FILTER=$FILTER,
# logs $log/$name.SUITE; sets why (the suites that failed, and the tests
# cmocka names as failed) and sel (tests the filter selected, summed).
run_suites() {
	rt=$1; rb=$2; shift 2
	why=""; sel=0
	for s in "$@"; do
		if [ "$s" = test-mpi ]; then
			(cd "$rt" && timeout "$limit" sh scripts/mpi-test.sh "$rb") \
				>"$log/$name.$s" 2>&1
		else
			DQ_TEST_FILTER=$FILTER TSAN_OPTIONS=halt_on_error=1 \
				timeout "$limit" "$rt/$rb/tests/$s" \
				>"$log/$name.$s" 2>&1
		fi
		rc=$?
		n=$(sed -n 's/^dq_test: DQ_TEST_FILTER selected \([0-9]*\) of.*/\1/p' \
			"$log/$name.$s" | awk '{ n += $1 } END { print n + 0 }')
		sel=$((sel + n))
		bad=$(sed -n 's/^\[  FAILED  \] \([A-Za-z0-9_]*\)$/\1/p' \
			"$log/$name.$s" | sort -u | tr '\n' ' ' | sed 's/ $//')
		# A sanitizer or a crash ends the suite: the test that ran.
		[ -n "$bad" ] || bad=$(sed -n 's/^\[ RUN      \] \([A-Za-z0-9_]*\)$/in \1/p' \
			"$log/$name.$s" | tail -n 1)
		if [ "$rc" -eq 124 ]; then
			why="$why $s (timed out)"
		elif [ "$rc" -ne 0 ]; then
			why="$why $s (exit $rc${bad:+: $bad})"
		fi
	done
}

# The make targets suite $2 needs in build dir $1.
suite_targets() {
	case $2 in
	test-mpi) echo "$1/distq $1/distq-mpi $1/tests/mpi/test_mpi" ;;
	*) echo "$1/tests/$2" ;;
	esac
}

# One mutant, in its own copy of the pristine tree; its verdict goes to
# $res/NAME ("killed|survived|broken message") and to stdout.
one() {
	m=$1
	name=$(basename "$m" .mut)
	file=$(field "$m" file)
	suites=$(field "$m" suites)
	san=$(field "$m" sanitize)
	tests=$(field "$m" tests)
	[ "${MUTANTS_NOFILTER:-0}" = 1 ] && tests=""
	t0=$(date +%s)
	verdict() {
		msg="mutant $name: $2 ($(($(date +%s) - t0)) s)"
		echo "$1 $msg" >"$res/$name"
		echo "$msg"
	}
	t=$work/trees/$name
	rm -rf "$t" && cp -Rp "$pristine" "$t" || {
		verdict broken "BROKEN: cannot copy the pristine tree"; return; }
	if ! apply "$m" "$t/$file"; then
		verdict broken "BROKEN: does not apply"
		rm -rf "$t"; return
	fi
	if [ -n "$san" ]; then
		bdir=build/san-$san; mk="SANITIZE=$san"
	else
		bdir=build; mk=""
	fi
	targets=""
	for s in $suites; do targets="$targets $(suite_targets "$bdir" "$s")"; done
	# shellcheck disable=SC2086
	if ! make -C "$t" --no-print-directory -j1 $mk OPT=-O1 \
		$targets >"$log/$name.build" 2>&1; then
		verdict broken "BROKEN: does not build (see $log/$name.build)"
		rm -rf "$t"; return
	fi
	# Whole suites time agents: they run while no other mutant runs a
	# test (exclusive lock); filtered tests share the lock.
	exec 9>"$lock"
	if [ -n "$tests" ]; then
		flock -s 9
		FILTER=$tests
		# shellcheck disable=SC2086
		run_suites "$t" "$bdir" $suites
		flock -u 9
		if [ -n "$why" ]; then
			verdict killed "killed by$why [tests: $tests]"
		elif [ "$sel" -eq 0 ]; then
			verdict broken "BROKEN: tests: $tests names no test of $suites"
		else
			ran=$sel
			flock -x 9
			FILTER=""
			# shellcheck disable=SC2086
			run_suites "$t" "$bdir" $suites
			flock -u 9
			if [ -n "$why" ]; then
				verdict survived "SURVIVED its tests: $tests ($ran run, all passed); the whole suites kill it, by$why: widen tests: (see $log/$name.*)"
			else
				verdict survived "SURVIVED its tests: $tests and the whole suites $suites (see $log/$name.*)"
			fi
		fi
	else
		flock -x 9
		FILTER=""
		# shellcheck disable=SC2086
		run_suites "$t" "$bdir" $suites
		flock -u 9
		if [ -n "$why" ]; then
			verdict killed "killed by$why"
		else
			verdict survived "SURVIVED: $suites all passed (see $log/$name.*)"
		fi
	fi
	exec 9>&-
	rm -rf "$t"
}

if [ "${1:-}" = --one ]; then
	one "$2"
	exit 0
fi
build_only=0
if [ "${1:-}" = --build ]; then
	build_only=1; shift
fi
if [ $# -gt 0 ]; then
	muts=""
	for n in "$@"; do
		[ -f "tests/mutants/$n.mut" ] || die "no tests/mutants/$n.mut"
		muts="$muts tests/mutants/$n.mut"
	done
else
	muts=$(ls tests/mutants/*.mut)
fi
command -v flock >/dev/null 2>&1 || die "flock is needed (Debian: util-linux)"

start=$(date +%s)
rm -rf "$work/trees" "$log" "$res"
mkdir -p "$pristine/build" "$work/trees" "$log" "$res" || die "cannot create $work"

# The pristine tree: the sources, copied with their time stamps over the
# last run's copy (its objects are reused when their sources did not
# change; a changed Makefile starts the build afresh). It is never
# mutated: each mutant works in a copy.
if ! cmp -s "$src/Makefile" "$pristine/Makefile"; then
	rm -rf "$pristine" && mkdir -p "$pristine/build" || die "cannot reset $pristine"
fi
for d in include lib tests cli scripts Makefile mpi abi distq.pc.in \
	distq-mpi.pc.in; do
	rm -rf "${pristine:?}/$d"
	cp -Rp "$src/$d" "$pristine/" || die "cannot copy $d"
done
[ -f "$pristine/build/.deps-ok" ] ||
	touch "$pristine/build/.deps-ok" # packages were checked by the caller's make

# Which mutants run; the suites to build, per sanitizer ("" = plain).
run=""; todo=0; nbroken=0; failed=""; plain=""; sans=""
for m in $muts; do
	name=$(basename "$m" .mut)
	file=$(field "$m" file)
	suites=$(field "$m" suites)
	san=$(field "$m" sanitize)
	# The suite test-mpi is make test-mpi's real mpirun jobs
	# (scripts/mpi-test.sh, a minute or two): it needs Open MPI.
	case " $suites " in *" test-mpi "*)
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
	if [ -z "$file" ] || [ -z "$suites" ] || [ ! -f "$src/$file" ]; then
		echo "mutant $name: BROKEN: needs file: (an existing file) and suites:"
		nbroken=$((nbroken + 1)); failed="$failed $name"
		continue
	fi
	run="$run $m"
	for s in $suites; do
		if [ -n "$san" ]; then
			sans="$sans $san:build/san-$san/tests/$s"
		else
			plain="$plain $(suite_targets build "$s")"
		fi
	done
done
plain=$(printf '%s\n' $plain | sort -u | tr '\n' ' ')
echo "mutants: building the pristine tree (-O1)"
# shellcheck disable=SC2086
if [ -n "$plain" ] && ! make -C "$pristine" --no-print-directory -j"$jobs" \
	OPT=-O1 $plain >"$log/pristine.build" 2>&1; then
	die "the pristine tree does not build (see $log/pristine.build)"
fi
for san in $(printf '%s\n' $sans | sed 's/:.*//' | sort -u); do
	tg=$(printf '%s\n' $sans | sed -n "s/^$san://p" | sort -u | tr '\n' ' ')
	# shellcheck disable=SC2086
	make -C "$pristine" --no-print-directory -j"$jobs" SANITIZE="$san" \
		OPT=-O1 $tg >>"$log/pristine.build" 2>&1 ||
		die "the pristine tree does not build with $san (see $log/pristine.build)"
done
echo "mutants: pristine tree built ($(($(date +%s) - start)) s)"
[ "$build_only" -eq 0 ] || exit 0
echo "mutants: $par at a time"

# shellcheck disable=SC2086
printf '%s\n' $run | xargs -P "$par" -n 1 sh "$0" --one

killed=0; survived=0; broken=$nbroken; lived=""
for m in $run; do
	name=$(basename "$m" .mut)
	v=$(cut -d' ' -f1 "$res/$name" 2>/dev/null)
	case $v in
	killed) killed=$((killed + 1)) ;;
	survived) survived=$((survived + 1)); lived="$lived $name" ;;
	*) [ -n "$v" ] || echo "mutant $name: BROKEN: no verdict (the worker died)"
	   broken=$((broken + 1)); failed="$failed $name" ;;
	esac
done
echo "mutants: $killed killed, $survived survived, $broken broken," \
	"$todo todo ($(($(date +%s) - start)) s)"
[ -z "$lived" ] || echo "mutants: survived:$lived (a proof that cannot fail)"
[ -z "$failed" ] || echo "mutants: broken:$failed"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
