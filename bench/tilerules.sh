#!/bin/sh
# The rules beyond one step over tiles (issue 15 item 2, lib/tilerule.h):
# steps to solve and instructions per step of q, nstep-q and q-lambda.
#
#   sh bench/tilerules.sh [BUILD [OUT [SEEDS]]]   (make bench builds them)
#
# 1. tiles_solve on MountainCar-v0 (threshold -110) and Acrobot-v1 (-100),
#    SEEDS seeds (default 5), ONE agent thread (so the step counts are
#    the same on any machine, exact to a 5,000-step slice), the --tiles
#    auto coders, each stopped at its threshold (greedy mean over 100
#    evaluation episodes) or at 1M steps: q (alpha as auto), nstep-q
#    (n 3, same alpha), q-lambda (lambda 0.9, replacing traces, trace_max
#    64; alpha 0.2 on MountainCar, 0.15 on Acrobot: at auto's alpha the
#    traces' summed steps overshoot).
# 2. Instructions per step (callgrind; the difference of a 150k and a
#    50k step run of `distq train ENV --tiles auto`, so set-up cancels).
#
# Step counts do not depend on the load; the wall time does. About 3-6
# minutes on a quiet 2-core machine (the callgrind runs are most of it).
set -eu
BUILD=${1:-build}
OUT=${2:-$BUILD/bench-results/tilerules}
SEEDS=${3:-5}
mkdir -p "$OUT"
t0=$(date +%s)
solve() { # env rule alpha extra...
	env=$1 rule=$2 alpha=$3
	shift 3
	"$BUILD/bench/tiles_solve" "$env" "$SEEDS" 1 1e9 "" rule="$rule" \
		alpha="$alpha" check=5000 steps=1000000 "$@" |
		tee "$OUT/solve-$env-$rule.txt" |
		awk -v e="$env" -v r="$rule" '
			/^#/ { next }
			{ n++; ok += $2; s[n] = $3 }
			END { m = ""; for (i = 1; i <= n; i++) m = m " " s[i];
			      printf "%-12s %-9s solved %d/%d steps:%s\n",
			      e, r, ok, n, m }'
}
{
	solve mountaincar q 0.5
	solve mountaincar nstep-q 0.5 nstep=3
	solve mountaincar q-lambda 0.2 lambda=0.9 trace=replacing
	solve acrobot q 0.3
	solve acrobot nstep-q 0.3 nstep=3
	solve acrobot q-lambda 0.15 lambda=0.9 trace=replacing
} | tee "$OUT/solve.txt"
if command -v valgrind >/dev/null; then
	for env in mountaincar acrobot; do
		for rule in q nstep-q q-lambda; do
			for n in 50000 150000; do
				valgrind --tool=callgrind \
					--callgrind-out-file=/dev/null \
					"$BUILD/distq" train "$env" --tiles auto \
					--algo "$rule" -t 1 --pin none -n "$n" \
					--no-exact -q 2>&1 |
					sed -n 's/.*Collected : \([0-9]*\).*/\1/p' \
						>"$OUT/ir-$env-$rule-$n"
			done
			echo "$env $rule instructions/step: $((($(cat \
				"$OUT/ir-$env-$rule-150000") - $(cat \
				"$OUT/ir-$env-$rule-50000")) / 100000))"
		done
	done | tee "$OUT/ir.txt"
fi
echo "# bench/tilerules.sh took $(($(date +%s) - t0)) s; results in $OUT"
