#!/bin/sh
# Instructions per step with replay and target tables on (docs/replay.md):
# one thread on taxi (cas, direct updates), measured with callgrind as the
# difference of two runs of distq train (HI and LO steps), as
# bench/ir-guard.sh does for the default path. About 1 minute.
#
#   sh bench/replay-ir.sh build
set -eu
BUILD=${1:-build}
HI=${HI:-600000}
LO=${LO:-100000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

ir() { # ir STEPS OPTIONS... -> total instructions
	n=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
		"$BUILD/distq" train taxi -q -t 1 --pin none --sync 0 \
		--no-exact -n "$n" "$@" >/dev/null 2>"$TMP/err" ||
		{ cat "$TMP/err" >&2; exit 1; }
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/err"
}

while read -r label opts; do
	# shellcheck disable=SC2086
	hi=$(ir "$HI" $opts)
	# shellcheck disable=SC2086
	lo=$(ir "$LO" $opts)
	awk -v h="$hi" -v l="$lo" -v n=$((HI - LO)) -v x="$label" \
		'BEGIN { printf "%-28s %8.1f instructions/step\n", x, (h - l) / n }'
done <<'LIST'
plain
replay-10000:4:1 --replay 10000:4:1
replay-10000:32:1 --replay 10000:32:1
target-1000 --target-table 1000
target-1 --target-table 1
polyak-0.01:100 --target-table polyak:0.01:100
both-10000:4:1,1000 --replay 10000:4:1 --target-table 1000
LIST
