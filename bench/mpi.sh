#!/bin/sh
# make bench-mpi: ranks x threads on this machine (docs/distributed.md).
#
#   sh bench/mpi.sh [BUILD [OUT]]     (BUILD=build, OUT=BUILD/bench-mpi)
#
# 1. 1 rank x 1 thread, 1 rank x 2 threads (distq) and 2 ranks x 1 thread
#    (distq-mpi, average every TAU; 2x1d: delta) on taxi, frozenlake8x8 and scalable
#    with a per-step cost (a slow simulator): steps/s over RUN_SECONDS, and the
#    time and steps to the exactly optimal policy (--target 1), median of
#    SEEDS seeds (taxi, frozenlake8x8).
# 2. The cost of one sync against the table's size (10^3..MAX entries)
#    and the fraction changed, 2 ranks (build/bench/mpi/sync_cost).
#
# Environment: RUN_SECONDS (3), SEEDS (5), TAU (0.05s), MAX (1e7), RANKS (2).
# About 5-10 minutes on a quiet 2-core machine (at most ~25: every
# target run is capped at 30 s, a run that misses it is not counted). Writes OUT/configs.csv,
# OUT/sync.csv and prints both.
set -eu
BUILD=${1:-build}
OUT=${2:-$BUILD/bench-mpi}
SECONDS_RUN=${RUN_SECONDS:-3}
SEEDS=${SEEDS:-5}
TAU=${TAU:-0.05s}
MAX=${MAX:-1e7}
RANKS=${RANKS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader
mkdir -p "$OUT"

# run CONFIG ARGS...: the summary of one training run.
run() {
	case $1 in
	1x1) shift; "$BUILD/distq" train "$@" --threads 1 ;;
	1x2) shift; "$BUILD/distq" train "$@" --threads 2 ;;
	2x1) shift; mpirun -np "$RANKS" --bind-to core --map-by core \
		"$BUILD/distq-mpi" train "$@" --threads 1 \
		--share "average:tau=$TAU" ;;
	2x1d) shift; mpirun -np "$RANKS" --bind-to core --map-by core \
		"$BUILD/distq-mpi" train "$@" --threads 1 \
		--share "delta:tau=$TAU" ;;
	esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }

echo "env,config,steps_per_s,median_s_to_optimum,median_steps_to_optimum,reached,seeds" \
	>"$OUT/configs.csv"
for env in taxi frozenlake8x8 scalable:states=1000,cost=2000; do
	for cfg in 1x1 1x2 2x1 2x1d; do
		rate=$(run $cfg "$env" --seconds "$SECONDS_RUN" --no-exact \
			--pin cores 2>/dev/null | awk '/^steps\/s/ { print $2 }')
		: >"$OUT/t.txt"
		case $env in scalable*) seeds=0 ;; *) seeds=$SEEDS ;; esac
		s=1
		while [ $s -le $seeds ]; do
			run $cfg "$env" --target 1 --seconds 30 --seed $s \
				--no-exact 2>/dev/null |
				awk '/^target .*reached after/ {
					print $5, $7 }' >>"$OUT/t.txt" || true
			s=$((s + 1))
		done
		reached=$(wc -l <"$OUT/t.txt")
		ts=$(awk '{ print $1 }' "$OUT/t.txt" | median)
		st=$(awk '{ print $2 }' "$OUT/t.txt" | median)
		echo "$env,$cfg,$rate,$ts,$st,$reached,$seeds" | tee -a "$OUT/configs.csv"
	done
done

mpirun -np "$RANKS" --bind-to core --map-by core \
	"$BUILD/bench/mpi/sync_cost" "$MAX" | tee "$OUT/sync.csv"
echo "bench-mpi: results in $OUT (configs.csv, sync.csv)"
