#!/bin/sh
# Lost-update stress and the checkpoint kill test, for minutes (make stress).
#
# usage: stress.sh SECONDS PLAIN_BUILD TSAN_BUILD
#
# SECONDS (STRESS_SECONDS, default 120) is shared out between the stress
# programs of tests/stress/: 60% in the plain build, 40% under
# ThreadSanitizer (which also checks that the runs have no data race).
# Each program runs 2..8 threads on a tiny table in cas mode (and briefly
# in locked mode) and fails if a single update is lost. A one-second
# hogwild run must lose updates: it shows the checks can see a loss. Then
# the checkpoint SIGKILL test (tests/test_crash.c) runs with DQ_STRESS=20,
# outside the time budget. Prints totals at the end.
set -u
[ $# -eq 3 ] || { echo "usage: $0 SECONDS PLAIN_BUILD TSAN_BUILD" >&2; exit 2; }
secs=$1 plain=$2 tsan=$3
fail=0
tsan_opts=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
total_ops=0
start=$(date +%s)

# share FRACTION: that fraction of the budget, in seconds.
share() {
	awk -v t="$secs" -v f="$1" 'BEGIN { printf "%.1f", t * f }'
}

# run BUILD LABEL PROGRAM ARGS...: one stress program; collect its totals.
run() {
	b=$1 label=$2 prog=$3
	shift 3
	out=$(TSAN_OPTIONS=$tsan_opts "$b/stress/$prog" "$@" 2>&1)
	rc=$?
	echo "[$label] $out"
	if [ "$rc" -ne 0 ]; then
		fail=$((fail + 1))
		echo "FAILED: $label $prog $*"
		return
	fi
	ops=$(echo "$out" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p' | tail -n 1)
	total_ops=$((total_ops + ${ops:-0}))
}

for b in "$plain" "$tsan"; do
	for p in stress_table stress_replica; do
		[ -x "$b/stress/$p" ] || {
			echo "stress: $b/stress/$p not built" >&2
			exit 1
		}
	done
done

echo "== stress: $secs s over 2..8 threads (60% plain, 40% TSan)"
run "$plain" plain stress_table add "$(share 0.20)" cas
run "$plain" plain stress_table halve "$(share 0.16)" cas
run "$plain" plain stress_table add "$(share 0.04)" locked
run "$plain" plain stress_replica agents "$(share 0.10)" cas
run "$plain" plain stress_replica learner "$(share 0.10)" cas
run "$tsan" tsan stress_table add "$(share 0.12)" cas
run "$tsan" tsan stress_table halve "$(share 0.10)" cas
run "$tsan" tsan stress_replica agents "$(share 0.09)" cas
run "$tsan" tsan stress_replica learner "$(share 0.09)" cas
stress_secs=$(($(date +%s) - start))

# The check itself: hogwild drops racing updates, and must be caught.
out=$("$plain/stress/stress_table" halve 1 hogwild 2>/dev/null)
if [ $? -eq 1 ] && echo "$out" | grep -q 'lost=[1-9]'; then
	echo "[plain] $out (expected: hogwild loses updates)"
else
	echo "[plain] $out"
	echo "FAILED: hogwild lost nothing: the lost-update check is blind"
	fail=$((fail + 1))
fi

crash="not run (no $plain/tests/test_crash)"
if [ -x "$plain/tests/test_crash" ]; then
	echo "== checkpoint kill test, DQ_STRESS=20"
	t0=$(date +%s)
	if DQ_STRESS=20 "$plain/tests/test_crash"; then
		crash="passed, DQ_STRESS=20, $(($(date +%s) - t0)) s"
	else
		crash="FAILED"
		fail=$((fail + 1))
	fi
fi

if [ "$fail" -eq 0 ]; then lost="lost 0"; else lost="FAILED"; fi
echo "stress: $total_ops updates in $stress_secs s, threads 2..8, $lost;" \
	"checkpoint kill test: $crash; $fail failed"
[ "$fail" -eq 0 ]
