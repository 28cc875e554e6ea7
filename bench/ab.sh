#!/bin/sh
# Paired A/B of two revisions of the library (issue 17: every speed claim
# paired): builds bench/throughput at REV_A and REV_B in their own
# directories, then runs them alternately (A B A B ..., PAIRS pairs,
# default 7), each run one 1-thread and one 2-thread point of the default
# (auto) write path, and prints per environment the medians of: each
# revision's 2 / 1 ratio, the per-pair B / A ratio of 2-thread steps/s,
# and the share of B's 2-thread steps taken in windows. Run it in a quiet
# window; about 2 minutes to build both, then PAIRS x 2 x (0.5-1 s) per
# environment (default environments: taxi and 10^3 entries: about 1 min).
#
#   sh bench/ab.sh REV_A REV_B [ENV...]
#   e.g. sh bench/ab.sh 71baa5c HEAD
set -eu
[ $# -ge 2 ] || { echo "usage: ab.sh REV_A REV_B [ENV...]" >&2; exit 2; }
a=$1
b=$2
shift 2
[ $# -gt 0 ] || set -- taxi 'scalable:states=250,actions=4'
pairs=${PAIRS:-7}
steps=${STEPS:-20M}
root=$(git rev-parse --show-toplevel)
tmp=${AB_DIR:-/tmp/distq-ab}
mkdir -p "$tmp"
for r in A B; do
	rev=$a
	[ $r = B ] && rev=$b
	d=$tmp/$r
	sha=$(git -C "$root" rev-parse "$rev")
	if [ "$(cat "$d/.rev" 2>/dev/null)" != "$sha" ]; then
		rm -rf "$d"
		mkdir -p "$d"
		git -C "$root" archive "$sha" | tar -x -C "$d"
		make -C "$d" -j"$(getconf _NPROCESSORS_ONLN)" build/bench/throughput \
			>"$d.log" 2>&1 || { cat "$d.log" >&2; exit 1; }
		echo "$sha" > "$d/.rev"
	fi
	echo "ab.sh: $r = $rev ($sha)"
done
: > "$tmp/runs.csv"
for e in "$@"; do
	i=0
	while [ $i -lt "$pairs" ]; do
		for r in A B; do
			"$tmp/$r/build/bench/throughput" --threads 1,2 \
				--modes auto --reps 1 --steps "$steps" \
				--seed $((i + 1)) --csv "$tmp/one.csv" "$e" \
				>/dev/null
			sed 1d "$tmp/one.csv" | sed "s/^/$r,$i,/" >> "$tmp/runs.csv"
		done
		i=$((i + 1))
	done
done
python3 - "$tmp/runs.csv" <<'PY'
import csv, statistics as st, sys
from collections import defaultdict
# rev,pair,env,mode,threads,rep,steps,seconds,steps_per_s,...,windowed,window
v = defaultdict(dict)
for row in csv.reader(open(sys.argv[1])):
    rev, pair, env, threads = row[0], int(row[1]), row[2], int(row[4])
    v[(env, pair)][(rev, threads)] = (float(row[8]), float(row[14]))
envs = sorted({e for e, _ in v}, key=list(dict.fromkeys(e for e, _ in v)).index)
print("| environment | A 2/1 | B 2/1 | B/A at 2 threads (paired) | B windowed at 2 |")
print("|---|--:|--:|--:|--:|")
for e in envs:
    ps = [v[k] for k in v if k[0] == e]
    ra = st.median(p[("A", 2)][0] / p[("A", 1)][0] for p in ps)
    rb = st.median(p[("B", 2)][0] / p[("B", 1)][0] for p in ps)
    ba = st.median(p[("B", 2)][0] / p[("A", 2)][0] for p in ps)
    w = st.median(p[("B", 2)][1] for p in ps)
    print(f"| {e} | {ra:.2f}x | {rb:.2f}x | {ba:.3f} | {w:.0%} |")
PY
