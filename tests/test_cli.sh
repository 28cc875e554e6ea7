#!/bin/sh
# tests/test_cli.sh - the distq program end to end (docs/cli.md).
#
# usage: sh tests/test_cli.sh BUILD_DIR
#
# Exit statuses, output formats, a small training run saved and evaluated,
# and damaged checkpoints rejected. Runs in a few seconds; POSIX sh only.
set -u

build=${1:?usage: test_cli.sh BUILD_DIR}
distq=$build/distq
[ -x "$distq" ] || { echo "cli: $distq not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dq_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
	if [ -s "$tmp/err" ]; then sed 's/^/  stderr: /' "$tmp/err"; fi
}

# expect_rc WANT ARGS...: run distq with ARGS, check its exit status.
# stdout and stderr stay in $tmp/out and $tmp/err for further checks.
expect_rc() {
	want=$1
	shift
	"$distq" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else
		bad "distq $*: exit $rc, want $want"
	fi
}

# expect_grep PATTERN FILE WHAT: FILE has a line matching PATTERN.
expect_grep() {
	if grep -q -- "$1" "$2"; then ok; else
		bad "$3: no line matching '$1' in $(basename "$2")"
	fi
}

# flip_byte FILE OFFSET: invert the lowest bit of one byte in place.
flip_byte() {
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf %o $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# ------------------------------------------------------------- usage: 2 --
expect_rc 2
expect_rc 2 frob
expect_rc 2 --frob
expect_rc 2 train maze4x3 --frob
expect_grep "unknown option '--frob'" "$tmp/err" "unknown option message"
expect_rc 2 train maze4x3 --steps 12x
expect_grep "12x" "$tmp/err" "bad number message"
expect_rc 2 train maze4x3 --steps ''
expect_rc 2 train maze4x3 --steps=-5
expect_rc 2 train maze4x3 --alpha 0
expect_rc 2 train maze4x3 --gamma 1e999
expect_rc 2 train maze4x3 --threads 0
expect_rc 2 train maze4x3 --mode fast
expect_rc 2 train maze4x3 --pin 3-1
expect_rc 2 train
expect_rc 2 train maze4x3 taxi
expect_rc 2 train maze4x3 --steps
expect_rc 2 train maze4x3 --quiet=yes
expect_rc 2 eval maze4x3
expect_rc 2 solve maze4x3 --gamma 2
expect_rc 2 envs extra
expect_rc 2 train maze4x3 --checkpoint-every 1
expect_grep "needs --checkpoint" "$tmp/err" "--checkpoint-every alone"
expect_rc 2 train maze4x3 --checkpoint a.ckp --checkpoint-every 0
expect_rc 2 train maze4x3 --save a.ckp --checkpoint b.ckp
expect_rc 2 train --resume a.ckp --q0 1
expect_rc 2 train --resume a.ckp maze4x3 taxi

# ----------------------------------------------------------- help: 0 --
expect_rc 0 --help
expect_grep "train" "$tmp/out" "--help lists commands"
for cmd in envs model solve train eval version; do
	expect_rc 0 "$cmd" --help
	expect_grep "^usage: distq $cmd" "$tmp/out" "$cmd --help"
done
expect_rc 0 --version
expect_grep "^distq [0-9]*\.[0-9]*\.[0-9]* (libdistq " "$tmp/out" "version"

# -------------------------------------------------------- runtime: 1 --
expect_rc 1 train nosuchenv
expect_grep "^distq: environment 'nosuchenv': " "$tmp/err" "unknown env"
expect_rc 1 model cartpole
expect_grep "^distq: " "$tmp/err" "model of cartpole"
expect_rc 1 solve cartpole
expect_rc 1 model maze4x3:no_such_param=1
expect_rc 1 eval maze4x3 --load "$tmp/does-not-exist"
expect_rc 1 train maze4x3 -q -n 10 --save "$tmp/no/such/dir/x.ckp"

# ---------------------------------------------------------------- envs --
expect_rc 0 envs
if awk '$1 == "taxi" && $2 == 500 && $3 == 6 { f = 1 } END { exit !f }' \
	"$tmp/out"; then ok; else bad "envs: no 'taxi 500 6' row"; fi
expect_grep "^maze4x3 .* yes " "$tmp/out" "envs: maze4x3 has a model"
expect_grep "^cartpole .* no " "$tmp/out" "envs: cartpole has none"

# --------------------------------------------------------------- model --
expect_rc 0 model maze4x3
if [ "$(head -n 1 "$tmp/out")" = \
	"$(printf 'state\taction\tprob\tnext_state\treward\tterminated')" ]
then ok; else bad "model: header is '$(head -n 1 "$tmp/out")'"; fi
# 11 states x 4 actions, 1 to 3 outcomes each; every (s,a) sums to 1.
if awk -F '\t' 'NR > 1 {
		n++; sum[$1 " " $2] += $3
		if ($3 <= 0 || $4 < 0 || $4 >= 11 || ($6 != 0 && $6 != 1)) e++
	}
	END {
		for (k in sum) { pairs++; d = sum[k] - 1; if (d < 0) d = -d
			if (d > 1e-12) e++ }
		exit !(e == 0 && pairs == 44 && n >= 44 && n <= 132)
	}' "$tmp/out"; then ok; else bad "model maze4x3: outcome table"; fi
expect_rc 0 model --start maze4x3
if [ "$(sed -n 2p "$tmp/out")" = "$(printf '7\t1')" ]; then ok; else
	bad "model --start maze4x3: start is not state 7"; fi
expect_rc 0 model maze4x3:slip=0
if awk -F '\t' 'NR > 1 && $3 != 1 { e++ } END { exit e }' "$tmp/out"
then ok; else bad "model maze4x3:slip=0 is not deterministic"; fi

# --------------------------------------------------------------- solve --
# Russell & Norvig's utilities (AIMA fig. 17.3) count the reward of the
# state one is in; this maze pays it on entry, so U(s) = V(s) - 0.04.
expect_rc 0 solve maze4x3 --gamma 1 --values
if awk -F '\t' 'BEGIN { u[0] = 0.812; u[1] = 0.868; u[2] = 0.918
		u[4] = 0.762; u[5] = 0.660; u[7] = 0.705; u[8] = 0.655
		u[9] = 0.611; u[10] = 0.388 }
	NR == 1 { if ($0 != "state\tv") e++; next }
	($1 in u) { d = $2 - 0.04 - u[$1]; if (d < 0) d = -d
		if (d > 0.0015) e++; seen++ }
	END { exit !(e == 0 && seen == 9) }' "$tmp/out"
then ok; else bad "solve maze4x3 --gamma 1 --values: not R&N's"; fi
expect_rc 0 solve maze4x3
if [ "$(wc -l <"$tmp/out")" -eq 45 ]; then ok; else
	bad "solve maze4x3: want 44 Q* lines and a header"; fi

# ---------------------------------------------------- train, save, eval --
ckp=$tmp/maze.ckp
expect_rc 0 train maze4x3 --threads 2 --steps 200000 --seed 1 --save "$ckp"
expect_grep "^stopped by *step limit" "$tmp/out" "train: stop reason"
expect_grep "^steps  *200000$" "$tmp/out" "train: step count"
expect_grep "^optimal fraction" "$tmp/out" "train: exact figures"
if [ -s "$ckp" ]; then ok; else bad "train --save wrote nothing"; fi
if [ -z "$(find "$tmp" -name '*.tmp.*')" ]; then ok; else
	bad "train --save left a temporary file"; fi
if [ ! -s "$tmp/err" ] || ! grep -q '\r' "$tmp/err"; then ok; else
	bad "train: progress line written to a non-terminal"; fi

expect_rc 0 eval maze4x3 --load "$ckp"
if awk '$1 == "success" { sub("%", "", $3); r = $3 + 0 }
	END { exit !(r >= 80) }' "$tmp/out"
then ok; else bad "eval: success rate below 80%"; cat "$tmp/out"; fi
expect_grep "^episodes  *1000 " "$tmp/out" "eval: default episodes"
expect_rc 0 eval maze4x3 --load "$ckp" --episodes 10 --seed 7
expect_grep "^episodes  *10 " "$tmp/out" "eval --episodes"

# Another environment, even one of another shape, is refused by name.
expect_rc 1 eval taxi --load "$ckp"
expect_grep "trained on 'maze4x3'" "$tmp/err" "eval: wrong environment"

# A damaged copy is rejected; the good file still loads.
cp "$ckp" "$tmp/flip.ckp"
flip_byte "$tmp/flip.ckp" 500
expect_rc 1 eval maze4x3 --load "$tmp/flip.ckp"
expect_grep "corrupt" "$tmp/err" "eval: flipped byte"
head -c 300 "$ckp" >"$tmp/short.ckp"
expect_rc 1 eval maze4x3 --load "$tmp/short.ckp"
expect_grep "truncated" "$tmp/err" "eval: truncated file"
echo "just some text, long enough to be judged by its first bytes" \
	>"$tmp/text"
expect_rc 1 eval maze4x3 --load "$tmp/text"
expect_grep "not a libdistq file" "$tmp/err" "eval: not a checkpoint"
expect_rc 0 eval maze4x3 --load "$ckp" --episodes 5

# ------------------------------------------ checkpoints during a run --
# A 1.5 s run checkpointing every 0.2 s: the file appears (and is a sound
# checkpoint) while the run is still going.
live=$tmp/live.ckp
"$distq" train maze4x3 -q -t 1 --seconds 1.5 --no-exact --checkpoint "$live" \
	--checkpoint-every 0.2 >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
n=0
while [ ! -s "$live" ] && [ $n -lt 100 ]; do sleep 0.02; n=$((n + 1)); done
if [ -s "$live" ] && kill -0 $pid 2>/dev/null; then ok; else
	bad "--checkpoint-every: no checkpoint while the run was going"; fi
if "$distq" eval maze4x3 --load "$live" -n 5 >/dev/null 2>"$tmp/err"; then ok
else bad "--checkpoint-every: the checkpoint written during the run"; fi
wait $pid
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "train --checkpoint-every: exit $rc"; fi
if awk '$1 == "checkpoints" { n = $2 } END { exit !(n >= 3) }' \
	"$tmp/live.out"; then ok; else
	bad "--checkpoint-every 0.2 for 1.5 s: fewer than 3 checkpoints"
	cat "$tmp/live.out"; fi
expect_grep "^saved  *$live" "$tmp/live.out" "--checkpoint: final save"

# ------------------------------------------------------------- resume --
a=$tmp/run-a.ckp
b=$tmp/run-b.ckp
expect_rc 0 train maze4x3 -q -t 2 -n 200000 --gamma 0.9 --checkpoint "$a"
# --steps counts this run's steps; the totals go on.
expect_rc 0 train --resume "$a" -q -n 100000 --checkpoint "$b"
expect_grep "^steps  *300000 (100000 in this run)$" "$tmp/out" \
	"resume: step count"
expect_grep "^agents  *2 " "$tmp/out" "resume: the checkpoint's agents"
expect_grep "^resumed  *$a (200000 steps" "$tmp/out" "resume: summary"
if [ ! -s "$tmp/err" ]; then ok; else bad "resume: unexpected stderr"; fi
expect_rc 0 eval maze4x3 --load "$b" -n 5
expect_grep "(300000 steps, .*, gamma 0.9)" "$tmp/out" \
	"resume: counts and the file's gamma carried on"
# The command line wins over the file; ENV may be given if it matches.
expect_rc 0 train maze4x3 --resume "$b" -q -n 1000 --gamma 0.8 -t 1 \
	--save "$b"
expect_grep "restored the first 1" "$tmp/err" "resume: fewer agents"
expect_grep "^steps  *301000 (1000 in this run)$" "$tmp/out" \
	"resume with fewer agents: totals kept"
expect_rc 0 eval maze4x3 --load "$b" -n 5
expect_grep "(301000 steps, .*, gamma 0.8)" "$tmp/out" \
	"resume: --gamma given wins"
# Another environment, or other parameters, are refused.
expect_rc 1 train taxi --resume "$a" -q -n 1000
expect_grep "trained on 'maze4x3'" "$tmp/err" "resume: wrong environment"
expect_rc 1 train maze4x3:slip=0.1 --resume "$a" -q -n 1000
expect_grep "trained with parameters" "$tmp/err" "resume: wrong parameters"
expect_rc 1 train --resume "$tmp/does-not-exist" -q -n 1000
expect_rc 1 train --resume "$tmp/flip.ckp" -q -n 1000
expect_grep "corrupt" "$tmp/err" "resume: damaged file"

# ---------------------------------------------------- other train paths --
expect_rc 0 train taxi -q --threads 1 --target 1 --steps 5M --seed 3
expect_grep "^target " "$tmp/out" "train --target summary"
expect_rc 0 train cartpole -q -t 2 --mode hogwild --episodes 50 --pin none
expect_grep "^stopped by *episode limit" "$tmp/out" "train --episodes"
if grep -q "^optimal" "$tmp/out"; then bad "cartpole has no exact figures"
else ok; fi
expect_rc 0 train frozenlake4x4 -q -t 1 --mode locked --seconds 0.2 --pad
expect_grep "^stopped by *time limit" "$tmp/out" "train --seconds"
expect_rc 1 train cartpole -q --target 0.5

# -------------------------------------------------------------- pinning --
# --threads all counts the cores of the process's CPU mask (taskset).
if command -v taskset >/dev/null 2>&1; then
	cpu=$(taskset -pc $$ | sed 's/.*: //; s/.*[,-]//')
	taskset -c "$cpu" "$distq" train maze4x3 -n 1000 >"$tmp/out" 2>"$tmp/err"
	expect_grep "^agents *1 " "$tmp/out" "--threads all under taskset -c $cpu"
else
	echo "cli: taskset not found (util-linux): CPU mask check not run"
fi
# hwloc shown another machine: agents run unbound and the run says why;
# --strict-pin fails, saying why.
export HWLOC_SYNTHETIC="pack:1 core:16 pu:1"
expect_rc 0 train maze4x3 -t 2 -n 1000
expect_grep "not pinned.*not this machine" "$tmp/err" "synthetic topology"
expect_rc 1 train maze4x3 -t 2 -n 1000 --strict-pin
expect_grep "strict-pin: the topology is not this machine" "$tmp/err" \
	"--strict-pin on a synthetic topology"
unset HWLOC_SYNTHETIC

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
