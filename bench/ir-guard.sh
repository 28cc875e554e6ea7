#!/bin/sh
# The hot loop's cost guard (make check-ir, part of make check):
# instructions per step of one thread on taxi (cas), measured with
# callgrind as the difference of two runs (HI and LO steps) so that set-up
# cancels, compared with the committed bench/ir-baseline.txt. Fails when a
# figure rises by more than LIMIT percent (3). Callgrind counts are
# deterministic up to a few hundredths of an instruction per step here.
#
#   sh bench/ir-guard.sh build             # check
#   UPDATE=1 sh bench/ir-guard.sh build    # rewrite the baseline
set -eu
BUILD=${1:-build}
BASE=${BASE:-bench/ir-baseline.txt}
LIMIT=${LIMIT:-3}
HI=${HI:-600000}
LO=${LO:-100000}
BIN=$BUILD/bench/throughput
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

command -v valgrind >/dev/null || { echo "ir-guard: valgrind missing" >&2; exit 1; }
[ -x "$BIN" ] || { echo "ir-guard: $BIN not built" >&2; exit 1; }

ir() { # ir STEPS OPTIONS... -> total instructions
	n=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$BIN" \
		--modes cas --threads 1 --reps 1 --min-share 0 --steps "$n" \
		"$@" taxi >/dev/null 2>"$TMP/err" ||
		{ cat "$TMP/err" >&2; exit 1; }
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$TMP/err"
}

fail=0
out=""
while read -r algo base extra; do
	case $algo in '' | '#'*) continue ;; esac
	# A label is a rule name, or NAME+... with its options after the
	# figure (e.g. q+omega 250 --algo q --omega 0.8).
	# shellcheck disable=SC2086
	[ -n "$extra" ] || extra="--algo $algo"
	hi=$(ir "$HI" $extra)
	lo=$(ir "$LO" $extra)
	now=$(awk -v h="$hi" -v l="$lo" -v n=$((HI - LO)) \
		'BEGIN { printf "%.2f", (h - l) / n }')
	pct=$(awk -v a="$now" -v b="$base" \
		'BEGIN { printf "%+.2f", (a - b) / b * 100 }')
	verdict=ok
	if awk -v a="$now" -v b="$base" -v l="$LIMIT" \
		'BEGIN { exit !(a > b * (1 + l / 100)) }'; then
		verdict="FAIL (over +$LIMIT%)"
		fail=1
	fi
	echo "ir-guard: taxi cas $algo: $now instructions/step (baseline $base, $pct%) $verdict"
	[ "$extra" = "--algo $algo" ] && extra=""
	out="$out$algo $now${extra:+ $extra}
"
done <"$BASE"

if [ "${UPDATE:-0}" = 1 ]; then
	{
		sed -n '/^#/p' "$BASE"
		printf '%s' "$out"
	} >"$TMP/new"
	cp "$TMP/new" "$BASE"
	echo "ir-guard: baseline rewritten ($BASE)"
	exit 0
fi
exit $fail
