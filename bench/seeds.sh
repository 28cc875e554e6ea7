#!/bin/sh
# The seeds' sharing experiments (docs/seeds.md): DistQL on taxi and
# CME323 on maze4x3, deterministic (agents in turn: figures depend on the
# seeds only) and with the learner's threads (--wall: a quiet machine
# only). Writes into DIR (default build/seeds).
#   sh bench/seeds.sh [BUILD] [DIR]      (make -j2 build/bench/distql build/bench/cme323 first)
set -eu
B=${1:-build}
D=${2:-$B/seeds}
mkdir -p "$D"
"$B/bench/distql" --seeds 20 >"$D/distql.md"
"$B/bench/cme323" --seeds 51 --csv "$D/cme323-steps.csv" >"$D/cme323.md"
"$B/bench/distql" --seeds 10 --wall --seconds 0.3 >"$D/distql-wall.md"
"$B/bench/cme323" --seeds 21 --wall --seconds 0.05 --tick 0.0005 \
	--csv "$D/cme323-wall.csv" >"$D/cme323-wall.md"
if command -v gnuplot >/dev/null; then
	gnuplot -e "in='$D/cme323-steps.csv'; out='$D/cme323-steps.png'" bench/cme323.gp
	gnuplot -e "in='$D/cme323-wall.csv'; out='$D/cme323-wall.png'; xl='wall seconds'" bench/cme323.gp
fi
echo "seeds: results in $D"
