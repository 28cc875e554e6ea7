#!/bin/sh
# The default benchmark sweep (make bench): throughput and time to an
# optimal policy, sized to finish in a few minutes on a 2-core machine.
#
#   sh bench/run.sh [BUILD_DIR [OUT_DIR]]
#
# BUILD_DIR (default build) holds bench/throughput and
# bench/time_to_optimal; OUT_DIR (default BUILD_DIR/bench-results)
# receives:
#   machine.txt                  the machine and the revision measured
#   throughput.csv               one row per repetition
#   throughput-summary.csv       one row per point (medians)
#   time_to_optimal.csv          one row per run
#   time_to_optimal-summary.csv  one row per point (medians)
#   throughput.txt, time_to_optimal.txt   the programs' own tables
#   speedup.png, throughput.png, time_to_optimal.png (with gnuplot)
#   results.md                   the machine and both tables in markdown
#
#   callgrind.txt                instructions per step, one thread, taxi
#                                (with valgrind; CALLGRIND=0 skips it)
#   numba.txt, numba.csv, numba.md   libdistq beside a Numba peer (the same
#                                Q-learning loop compiled with Numba, the
#                                library's own transition table) at 1 and
#                                2 threads (bench/peer_numba.py; with a
#                                Python 3 that has numba, cffi and numpy;
#                                NUMBA=0 skips it, NUMBA_OPTS adds options)
#
# Extra options for either program go in THROUGHPUT_OPTS and TTO_OPTS,
# e.g. THROUGHPUT_OPTS='--reps 9' TTO_OPTS='--seeds 21'; environments
# given there replace the defaults. SYNC (default 256) is the K of the
# replica mode measured beside the disciplines; SYNC=0 leaves it out.
set -eu

build=${1:-build}
out=${2:-$build/bench-results}
here=$(dirname "$0")
tp=$build/bench/throughput
tto=$build/bench/time_to_optimal

for p in "$tp" "$tto"; do
	if [ ! -x "$p" ]; then
		echo "run.sh: $p not built (make bench)" >&2
		exit 1
	fi
done
mkdir -p "$out"
start=$(date +%s)

# ------------------------------------------------------------ machine --
# Cache sizes from sysfs (what the kernel was told), and lscpu's summary.
caches() {
	for d in /sys/devices/system/cpu/cpu0/cache/index*; do
		[ -r "$d/size" ] || continue
		printf '  L%s %-11s %6s, shared by CPUs %s\n' \
			"$(cat "$d/level")" "$(cat "$d/type")" \
			"$(cat "$d/size")" "$(cat "$d/shared_cpu_list")"
	done
}

commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
if git -C "$here/.." status --porcelain 2>/dev/null | grep -q .; then
	commit="$commit, plus uncommitted changes"
fi

{
	echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "commit:     $commit"
	echo "kernel:     $(uname -sr)"
	echo "compiler:   $(${CC:-cc} --version 2>/dev/null | head -n 1)"
	echo "load avg:   $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null) (1, 5, 15 min, at start)"
	if command -v lscpu >/dev/null 2>&1; then
		lscpu | grep -E '^(Model name|Architecture|CPU\(s\)|On-line|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|NUMA node\(s\)|L1d|L1i|L2|L3|Hypervisor vendor|CPU max MHz|BogoMIPS)' |
			sed 's/  */ /g'
	fi
	echo "caches of cpu0 (sysfs):"
	caches
	if [ -x "$build/bench/machine_probe" ]; then
		echo "measured (bench/machine_probe: line hand-over between two"
		echo "cores, pinned thread start+join, parked thread wake-up):"
		"$build/bench/machine_probe" | sed 's/^/  /'
	fi
} > "$out/machine.txt"
cat "$out/machine.txt"
echo

# ---------------------------------------------------------- the sweep --
sync=${SYNC:-256}
syncopt=""
if [ "$sync" != 0 ]; then
	syncopt="--sync $sync"
fi
# THROUGHPUT_OPTS, TTO_OPTS and syncopt are split into words on purpose.
# shellcheck disable=SC2086
"$tp" --csv "$out/throughput.csv" --summary "$out/throughput-summary.csv" \
	--markdown "$out/throughput.md" $syncopt ${THROUGHPUT_OPTS:-} |
	tee "$out/throughput.txt"
echo
# shellcheck disable=SC2086
"$tto" --seeds 11 --csv "$out/time_to_optimal.csv" \
	--summary "$out/time_to_optimal-summary.csv" \
	--markdown "$out/time_to_optimal.md" $syncopt ${TTO_OPTS:-} |
	tee "$out/time_to_optimal.txt"

# -------------------------------------------------------- numba peer --
# The interpreter as scripts/python-test.sh picks it: python3, else
# Debian's own (a pyenv python3 earlier in PATH may lack its modules).
numba=""
if [ "${NUMBA:-1}" != 0 ]; then
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null 2>&1 &&
			"$py" -c 'import numba, cffi, numpy' >/dev/null 2>&1; then
			numba=$py
			break
		fi
	done
	if [ -n "$numba" ] && [ -e "$build/libdistq.so.0" ]; then
		echo
		# shellcheck disable=SC2086
		DISTQ_LIBRARY=$(cd "$build" && pwd)/libdistq.so.0 \
			PYTHONPATH=$here/../python${PYTHONPATH:+:$PYTHONPATH} \
			"$numba" "$here/peer_numba.py" --csv "$out/numba.csv" \
			--markdown "$out/numba.md" ${NUMBA_OPTS:-} |
			tee "$out/numba.txt" || numba=""
	else
		echo "run.sh: no Python 3 with numba, cffi and numpy, or no" \
			"$build/libdistq.so.0: no Numba peer" \
			"(scripts/deps.sh --install bench)" >&2
		numba=""
	fi
fi

# ---------------------------------------------------------- callgrind --
# Instructions per step of one library thread (cas) and of the
# hand-written loop on taxi. Each is the difference of two runs, 2.2M and
# 0.2M steps, so that start-up (hwloc, allocation, thread creation)
# cancels out and no function name inside the library has to be known.
ir() { # mode steps -> total instructions of the run, all threads
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tp" \
		--modes "$1" --threads 1 --reps 1 --min-share 0 --steps "$2" \
		taxi 2>&1 >/dev/null | sed -n 's/.*Collected : *//p'
}
callgrind=""
if [ "${CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
	{
		echo "Instructions per step (callgrind Ir), one thread, taxi,"
		echo "(Ir at 2.2M steps - Ir at 0.2M steps) / 2M:"
		for m in hand cas hogwild; do
			a=$(ir $m 200000)
			b=$(ir $m 2200000)
			if [ -n "$a" ] && [ -n "$b" ]; then
				awk -v m="$m" -v a="$a" -v b="$b" 'BEGIN {
					printf "  %-8s %6.1f Ir/step\n", m,
						(b - a) / 2000000 }'
			fi
		done
	} > "$out/callgrind.txt"
	cat "$out/callgrind.txt"
	callgrind=yes
fi

# -------------------------------------------------------------- plots --
plots=""
if command -v gnuplot >/dev/null 2>&1; then
	if gnuplot -e "dir='$out'" "$here/plots.gp"; then
		plots=yes
	else
		echo "run.sh: gnuplot failed; no plots" >&2
	fi
else
	echo "run.sh: gnuplot not installed; no plots" >&2
fi

# ------------------------------------------------------------ summary --
elapsed=$(($(date +%s) - start))
{
	echo "# libdistq benchmark results"
	echo
	echo "Produced by \`sh bench/run.sh $build $out\` in ${elapsed} s."
	echo
	echo "## Machine"
	echo
	echo '```'
	cat "$out/machine.txt"
	echo '```'
	echo
	echo "## Throughput"
	echo
	grep '^#' "$out/throughput.txt" | sed 's/^# */- /'
	echo
	echo "Medians over the repetitions; speedup over one thread of the same"
	echo "mode; efficiency = speedup / P; \"vs hand\" = steps/s over the"
	echo "hand-written one-thread loop's; \"paired\" = the median of the"
	echo "per-repetition ratios (repetition r of both points, run seconds"
	echo "apart), which a slow or fast spell of the machine moves less."
	echo "\`hand\` at P > 1 and \`private\` are"
	echo "P independent learners on private tables (the scaling ceiling)."
	echo "\`syncK\` is replica mode: a cas table, each agent updating private"
	echo "copies of the rows it writes and writing them back every K steps."
	cat "$out/throughput.md"
	echo
	echo "## Time to an optimal policy"
	echo
	grep '^#' "$out/time_to_optimal.txt" | sed 's/^# */- /'
	echo
	echo "Medians over the seeds (a failed run counts as infinitely long);"
	echo "time speedup = one thread's median time / P threads'; steps"
	echo "ratio = P threads' median total steps / one thread's."
	cat "$out/time_to_optimal.md"
	if [ -n "$numba" ]; then
		echo
		echo "## libdistq beside Numba"
		echo
		grep '^#' "$out/numba.txt" | sed 's/^# */- /'
		echo
		echo "The same epsilon-greedy Q-learning loop compiled with Numba"
		echo "(bench/peer_numba.py), stepping the library's exported"
		echo "transition table; two threads share one NumPy table without"
		echo "locks (Hogwild). Ratios are medians of per-repetition ratios."
		echo
		cat "$out/numba.md"
	fi
	if [ -n "$callgrind" ]; then
		echo
		echo "## Instructions per step"
		echo
		echo '```'
		cat "$out/callgrind.txt"
		echo '```'
	fi
	if [ -n "$plots" ]; then
		echo
		echo "## Plots"
		echo
		echo "![speedup](speedup.png)"
		echo "![throughput](throughput.png)"
		echo "![time to optimal](time_to_optimal.png)"
	fi
} > "$out/results.md"

echo
echo "bench: results in $out (results.md, CSV files${plots:+, PNG plots}); ${elapsed} s"
