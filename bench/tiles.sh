#!/bin/sh
# Continuous control with tile coding (issue 15): the evidence in one run.
#
#   sh bench/tiles.sh [BUILD [OUT]]      (make bench builds the programs)
#
# 1. tiles_solve: CartPole-v1, MountainCar-v0, Acrobot-v1, 10 seeds each,
#    2 threads, the tuned defaults, each stopped at its threshold (greedy
#    mean over 100 evaluation episodes: 475, -110, -100) or at 60 s of
#    training; one line per seed (steps, episodes, seconds).
# 2. tiles_speed: steps/s of tile-coded CartPole at 1 and 2 threads beside
#    the hand-written loop of the same coder and update.
# 3. instructions per step of both (callgrind, the difference of a 300k
#    and a 100k step run, so that set-up cancels).
# 4. snake_scores: Snake's score distribution after 5M steps.
#
# About 1-2 minutes on a quiet 2-core machine (Acrobot's evaluations are
# most of it); much longer under load. Results go to OUT
# (build/bench-results/tiles by default) and to stdout.
set -eu
BUILD=${1:-build}
OUT=${2:-$BUILD/bench-results/tiles}
mkdir -p "$OUT"
t0=$(date +%s)
for env in cartpole mountaincar acrobot; do
	"$BUILD/bench/tiles_solve" "$env" 10 2 60 | tee "$OUT/solve-$env.txt"
done
"$BUILD/bench/tiles_speed" 2000000 5 | tee "$OUT/speed.txt"
if command -v valgrind >/dev/null; then
	for m in LIB HAND; do
		for n in 100000 300000; do
			valgrind --tool=callgrind --callgrind-out-file=/dev/null \
				"$BUILD/bench/tiles_speed" --ir "$n" "$m" 2>&1 |
				sed -n 's/.*Collected : \([0-9]*\).*/\1/p' \
					>"$OUT/ir-$m-$n"
		done
		echo "$m instructions/step: $((($(cat "$OUT/ir-$m-300000") - \
			$(cat "$OUT/ir-$m-100000")) / 200000))"
	done | tee "$OUT/ir.txt"
fi
"$BUILD/bench/snake_scores" | tee "$OUT/snake.txt"
echo "# bench/tiles.sh took $(($(date +%s) - t0)) s; results in $OUT"
