#!/bin/sh
# Learning curves of taxi at 1 and 2 threads, from the evaluator beside
# training (distq train --curve; docs/evaluation.md). About 45 s on a
# quiet 2-core machine with the defaults (2 x SEEDS runs of RUN_SECONDS each,
# plus start-up).
#
#   sh bench/curve.sh [BUILD_DIR [OUT_DIR]]
#
# BUILD_DIR (default build) holds the distq program (make); OUT_DIR
# (default BUILD_DIR/curve-results) receives:
#   taxi-p{1,2}-s{SEED}.csv   one curve per run (distq train --curve)
#   summary.md                per thread count: the median over seeds of
#                             the wall time and the steps at which the
#                             greedy policy was first exactly optimal from
#                             the start distribution (normalised gap below
#                             1e-9), and of the greedy mean return at the
#                             end
#   curves.png                (with gnuplot) the greedy mean return of
#                             every run against wall time and against
#                             steps, 1 thread in one colour, 2 in another
# Environment variables: SEEDS (default 11), RUN_SECONDS (default 1),
# EVERY (--eval-every, default 0.002s), EPISODES (--eval-episodes,
# default 100), ENV (default taxi), THREADS (default "1 2").
set -eu

build=${1:-build}
out=${2:-$build/curve-results}
distq=$build/distq
seeds=${SEEDS:-11}
seconds=${RUN_SECONDS:-1}
every=${EVERY:-0.002s}
episodes=${EPISODES:-100}
env=${ENV:-taxi}
threads=${THREADS:-1 2}

[ -x "$distq" ] || { echo "curve.sh: $distq not built (make)" >&2; exit 1; }
mkdir -p "$out"

for p in $threads; do
	s=1
	while [ "$s" -le "$seeds" ]; do
		"$distq" train "$env" -q -t "$p" --seed "$s" --seconds "$seconds" \
			--no-exact --eval-every "$every" \
			--eval-episodes "$episodes" \
			--curve "$out/$env-p$p-s$s.csv" >/dev/null
		s=$((s + 1))
	done
done

# Per run: the first row whose gap is below 1e-9 (seconds, steps), and the
# last row's mean return; then the median over seeds per thread count.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		printf "%.4g\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
{
	echo "$env, --eval-every $every, --eval-episodes $episodes," \
		"$seconds s per run, $seeds seeds (median over seeds)"
	echo
	echo "| threads | seconds to optimal | steps to optimal | runs optimal | final greedy mean return |"
	echo "|---|---|---|---|---|"
	for p in $threads; do
		for f in "$out/$env-p$p-s"*.csv; do
			awk -F, 'NR > 1 && $12 != "nan" && $12 + 0 < 1e-9 {
				print $2, $3; exit }' "$f"
		done >"$out/.hit"
		for f in "$out/$env-p$p-s"*.csv; do
			tail -n 1 "$f" | awk -F, '{ print $6 }'
		done >"$out/.last"
		t=$(awk '{ print $1 }' "$out/.hit" | median)
		n=$(awk '{ print $2 }' "$out/.hit" | median)
		r=$(median <"$out/.last")
		echo "| $p | $t | $n | $(wc -l <"$out/.hit")/$seeds | $r |"
	done
	echo
	echo "machine: $(nproc) CPUs, $(uname -srm)"
} >"$out/summary.md"
rm -f "$out/.hit" "$out/.last"
cat "$out/summary.md"

if command -v gnuplot >/dev/null 2>&1; then
	{
		echo "set terminal pngcairo size 1200,480 noenhanced"
		echo "set output '$out/curves.png'"
		echo "set datafile separator comma"
		echo "set datafile missing 'nan'"
		echo "set grid"
		echo "set key bottom right"
		echo "set multiplot layout 1,2 title '$env: greedy mean return'"
		for x in 2 3; do
			if [ $x = 2 ]; then echo "set xlabel 'wall time (s)'"
			else echo "set xlabel 'total steps'; set format x '%.1s%c'"; fi
			echo "set ylabel 'greedy mean return'"
			printf "plot "
			sep=""
			for p in $threads; do
				c=$((p == 1 ? 1 : 7))
				k=0
				for f in "$out/$env-p$p-s"*.csv; do
					t="notitle"
					[ $k -eq 0 ] && t="title 'P = $p'"
					printf "%s'%s' using %d:6 with lines lc %d %s" \
						"$sep" "$f" "$x" "$c" "$t"
					sep=", "
					k=$((k + 1))
				done
			done
			echo
		done
		echo "unset multiplot"
	} | gnuplot && echo "curve.sh: $out/curves.png"
else
	echo "curve.sh: gnuplot not installed; no plot" >&2
fi
