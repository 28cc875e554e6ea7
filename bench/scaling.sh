#!/bin/sh
# The paired scaling benchmark (issue 17): does the second core help, with
# the library's default settings (the automatic write path), on every
# table size? One script, 3-6 minutes on a quiet 2-core machine.
#
#   sh bench/scaling.sh [BUILD_DIR [OUT_DIR]]     (make bench-scaling)
#
# BUILD_DIR (default build) holds bench/throughput and
# bench/time_to_optimal (make bench builds them); OUT_DIR (default
# BUILD_DIR/scaling-results) receives the programs' CSV files and tables
# and summary.md, the short table docs/performance.md carries at its top.
# With DOCS=FILE (e.g. DOCS=docs/performance.md) the block between the
# lines "<!-- scaling:begin -->" and "<!-- scaling:end -->" of FILE is
# replaced by summary.md.
#
# What it runs:
#  0. bench/machine_probe: a cache line's hand-over between two cores, a
#     pinned thread's start and a parked thread's wake-up, the figures the
#     summary explains a missed target with.
#  1. throughput, --threads 1,2, modes auto (the default write path),
#     private (P private tables: the ceiling, nothing shared), hogwild
#     (plain loads and stores: the CAS's share of the gap to the hand loop)
#     and hand (the hand-written loop), PAIRS repetitions (default 7) interleaved, so
#     that each repetition is one 1-thread / 2-thread pair run seconds
#     apart (A B A B ...). Reported: the median of the per-pair ratios.
#     Environments: maze4x3 frozenlake4x4 frozenlake8x8 cliffwalking taxi
#     and scalable at 10^3, 10^5 and 10^7 entries.
#  2. time_to_optimal, --threads 1,2, modes auto and cas (direct
#     updates), on frozenlake8x8 (SEEDS seeds, default 21; checks every
#     0.5 ms) and cliffwalking (CLIFF_SEEDS, default 31: a run takes about
#     a millisecond; checks every 0.05 ms: it needs about 1.5e4 steps,
#     under half a millisecond). Each run is followed by a run of one step
#     per agent on the same learner settings: the fixed cost of a run
#     (threads, pinning, joins), which the summary takes out of the time
#     to target in its own column; plus sync4096 (fixed windows of 4096 steps) on
#     frozenlake8x8 at 2 threads: the steps ratios of auto and sync4096
#     over cas at two threads are the measured cost of staleness.
#  3. callgrind (when valgrind is there): instructions per step of one
#     thread, default settings, and of the hand loop, on taxi and
#     frozenlake8x8 ((Ir at 2.2M steps - Ir at 0.2M steps) / 2M).
set -eu

build=${1:-build}
out=${2:-$build/scaling-results}
here=$(dirname "$0")
tp=$build/bench/throughput
tto=$build/bench/time_to_optimal
pairs=${PAIRS:-7}
# THREADS: the thread counts of every paired run, 1 first (e.g.
# THREADS=1,2,4,8,16 on a bigger machine: each count is paired with one
# thread; the summary's tables stay 1 / 2 and a table of every count's
# speedups is added).
threads=${THREADS:-1,2}
seeds=${SEEDS:-21}
envs=${ENVS:-"maze4x3 frozenlake4x4 frozenlake8x8 cliffwalking taxi
scalable:states=250,actions=4 scalable:states=25000,actions=4
scalable:states=2500000,actions=4"}

for p in "$tp" "$tto"; do
	if [ ! -x "$p" ]; then
		echo "scaling.sh: $p not built (make bench)" >&2
		exit 1
	fi
done
mkdir -p "$out"
start=$(date +%s)
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
if git -C "$here/.." status --porcelain 2>/dev/null | grep -q .; then
	commit="$commit+"
fi
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit=$commit"
	echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
	echo "load=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo '?')"
} > "$out/machine.env"

# -------------------------------------------------------- 0. machine --
# The costs that bound a second core's help, measured now: a cache line's
# hand-over between the two cores, a pinned thread's start, a parked
# thread's wake-up (bench/machine_probe.c).
if [ -x "$build/bench/machine_probe" ]; then
	"$build/bench/machine_probe" | tee "$out/machine-probe.txt"
else
	: > "$out/machine-probe.txt"
fi

# ------------------------------------------------------------ 1. pairs --
# shellcheck disable=SC2086
"$tp" --threads "$threads" --modes auto,private,hogwild,hand --reps "$pairs" \
	--seconds 0.25 --csv "$out/throughput.csv" \
	--summary "$out/throughput-summary.csv" \
	--markdown "$out/throughput.md" $envs | tee "$out/throughput.txt"

# The probe again: the host may move the virtual CPUs during the run (a
# line's hand-over measured 70-80 ns and 210-240 ns on the same VM, minutes
# apart), and the summary says so when the two readings disagree.
if [ -x "$build/bench/machine_probe" ]; then
	"$build/bench/machine_probe" > "$out/machine-probe-end.txt"
fi

# ------------------------------------------------------ 2. to target --
"$tto" --threads "$threads" --modes auto,cas --seeds "$seeds" \
	--csv "$out/tto-fl8.csv" --summary "$out/tto-fl8-summary.csv" \
	--markdown "$out/tto-fl8.md" frozenlake8x8 | tee "$out/tto-fl8.txt"
"$tto" --threads 2 --modes sync --sync 4096 --seeds "$seeds" \
	--csv "$out/tto-fl8-w.csv" --summary "$out/tto-fl8-w-summary.csv" \
	--markdown "$out/tto-fl8-w.md" frozenlake8x8 | tee "$out/tto-fl8-w.txt"
"$tto" --threads "$threads" --modes auto,cas --seeds "${CLIFF_SEEDS:-31}" \
	--interval 0.00005 \
	--csv "$out/tto-cliff.csv" --summary "$out/tto-cliff-summary.csv" \
	--markdown "$out/tto-cliff.md" cliffwalking | tee "$out/tto-cliff.txt"

# ------------------------------------------------------ 3. callgrind --
ir() { # mode env steps -> total instructions of the run
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tp" \
		--modes "$1" --threads 1 --reps 1 --min-share 0 --steps "$3" \
		"$2" 2>&1 >/dev/null | sed -n 's/.*Collected : *//p'
}
: > "$out/callgrind.csv"
if [ "${CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
	for e in taxi frozenlake8x8; do
		for m in hand auto; do
			a=$(ir $m $e 200000)
			b=$(ir $m $e 2200000)
			if [ -n "$a" ] && [ -n "$b" ]; then
				awk -v e="$e" -v m="$m" -v a="$a" -v b="$b" \
					'BEGIN { printf "%s,%s,%.1f\n", e, m, (b - a) / 2000000 }' \
					>> "$out/callgrind.csv"
			fi
		done
	done
fi

# -------------------------------------------------------- 4. summary --
elapsed=$(($(date +%s) - start))
echo "seconds=$elapsed" >> "$out/machine.env"
python3 "$here/scaling_summary.py" "$out" > "$out/summary.md"
echo
cat "$out/summary.md"
if [ -n "${DOCS:-}" ]; then
	python3 "$here/scaling_summary.py" --splice "$DOCS" "$out/summary.md"
	echo "scaling.sh: updated $DOCS"
fi
echo "scaling.sh: results in $out (summary.md); ${elapsed} s"
