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
expect_rc 2 envs maze4x3 extra
expect_rc 2 inspect
expect_rc 2 inspect a.ckp --q --policy
expect_grep "choose one" "$tmp/err" "inspect: one table at a time"
expect_rc 2 solve maze4x3 --values --policy
# Schedules: START:END:linear|exp:STEPS, each part checked.
expect_rc 2 train maze4x3 --alpha 0.5:0.01:lin:1M
expect_grep "START:END:linear|exp:STEPS" "$tmp/err" "bad schedule message"
expect_rc 2 train maze4x3 --alpha 0.5:0.01:linear
expect_rc 2 train maze4x3 --alpha 0.5:0:linear:1M
expect_rc 2 train maze4x3 --epsilon 1:0:exp:0
expect_rc 2 train maze4x3 --epsilon 1:0:exp:1M:x
expect_rc 2 train maze4x3 --checkpoint-every 1
expect_grep "needs --checkpoint" "$tmp/err" "--checkpoint-every alone"
expect_rc 2 train maze4x3 --checkpoint a.ckp --checkpoint-every 0
expect_rc 2 train maze4x3 --save a.ckp --checkpoint b.ckp
expect_rc 2 train --resume a.ckp --q0 1
expect_rc 2 train --resume a.ckp maze4x3 taxi

# ----------------------------------------------------------- help: 0 --
expect_rc 0 --help
expect_grep "train" "$tmp/out" "--help lists commands"
for cmd in envs model solve train eval inspect version; do
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
if [ "$(head -n 1 "$tmp/out")" = \
	"$(printf 'name\tstates\tactions\tmodel\tstep-limit')" ]
then ok; else bad "envs: header is '$(head -n 1 "$tmp/out")'"; fi
if awk -F '\t' 'NF != 5 { e++ } END { exit !(e == 0 && NR == 10) }' \
	"$tmp/out"; then ok; else bad "envs: not 5 tab-separated columns"; fi
if awk -F '\t' '$1 == "taxi" && $2 == 500 && $3 == 6 { f = 1 }
	END { exit !f }' "$tmp/out"; then ok; else
	bad "envs: no 'taxi 500 6' row"; fi
expect_grep "^maze4x3	.*	yes	" "$tmp/out" "envs: maze4x3 has a model"
expect_grep "^cartpole	.*	no	" "$tmp/out" "envs: cartpole has none"
# One environment's parameters, as it describes them itself.
expect_rc 0 envs maze4x3
if [ "$(head -n 1 "$tmp/out")" = \
	"$(printf 'key\ttype\tdefault\tmin\tmax\thelp')" ]
then ok; else bad "envs maze4x3: header is '$(head -n 1 "$tmp/out")'"; fi
expect_grep "^slip	real	0.2	0	1	" "$tmp/out" "envs maze4x3: slip"
expect_grep "^living_reward	real	-0.04	" "$tmp/out" \
	"envs maze4x3: living_reward"
expect_grep "^max_steps	count	100	0	4294967295	" "$tmp/out" \
	"envs maze4x3: max_steps"
expect_rc 0 envs frozenlake4x4-det
expect_grep "^slippery	bool	0	0	1	" "$tmp/out" "envs: -det default"
expect_rc 0 envs scalable
expect_grep "^seed	count	1	0	18446744073709551615	" "$tmp/out" \
	"envs scalable: a 64-bit range printed in full"
expect_rc 1 envs nosuchenv
expect_grep "known: maze4x3 taxi" "$tmp/err" "envs: unknown name lists"
# A bad parameter names the key and lists what is accepted.
expect_rc 1 train maze4x3:slipp=0.1 -q -n 10
expect_grep "unknown parameter 'slipp' (accepted: living_reward" \
	"$tmp/err" "unknown parameter message"
expect_rc 1 model maze4x3:slip=2
expect_grep "slip in \[0, 1\]" "$tmp/err" "out-of-range parameter message"

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
# R&N's optimal policy (fig. 17.2): 0 north, 1 east, 3 west.
expect_rc 0 solve maze4x3 --gamma 1 --policy
if awk -F '\t' 'BEGIN { p[0] = 1; p[1] = 1; p[2] = 1; p[4] = 0; p[5] = 0
		p[7] = 0; p[8] = 3; p[9] = 3; p[10] = 3 }
	NR == 1 { if ($0 != "state\taction") e++; next }
	($1 in p) { if ($2 != p[$1]) e++; seen++ }
	END { exit !(e == 0 && seen == 9 && NR == 12) }' "$tmp/out"
then ok; else bad "solve maze4x3 --policy: not R&N's policy"; fi

# ---------------------------------------------------- train, save, eval --
ckp=$tmp/maze.ckp
expect_rc 0 train maze4x3 --threads 2 --steps 200000 --seed 1 --save "$ckp"
expect_grep "^stopped by *step limit" "$tmp/out" "train: stop reason"
expect_grep "^steps  *200000$" "$tmp/out" "train: step count"
expect_grep "^optimal fraction" "$tmp/out" "train: exact figures"
expect_grep "^random start value  *-0.6568" "$tmp/out" \
	"train: the random policy's start value"
expect_grep "^greedy progress  *[0-9.]*% (of the way from random to optimal)$" \
	"$tmp/out" "train: progress"
expect_grep "^mean return .*undiscounted, while exploring" "$tmp/out" \
	"train: what the mean return is"
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
# Without ENV, the checkpoint's environment.
expect_rc 0 eval --load "$ckp" --episodes 5
expect_grep "^environment  *maze4x3$" "$tmp/out" "eval: ENV from the file"
expect_grep "^success rate .*(as maze4x3 defines success)" "$tmp/out" \
	"eval: success named"

# --------------------------------------------------------------- inspect --
expect_rc 0 inspect "$ckp"
expect_grep "^environment  *maze4x3$" "$tmp/out" "inspect: environment"
expect_grep "^table  *11 states x 4 actions$" "$tmp/out" "inspect: shape"
expect_grep "^steps  *200000$" "$tmp/out" "inspect: steps"
expect_grep "^gamma  *0.95$" "$tmp/out" "inspect: gamma"
expect_grep "^agents  *2 " "$tmp/out" "inspect: agents"
expect_rc 0 inspect --q "$ckp"
if awk -F '\t' 'NR == 1 { if ($0 != "state\taction\tq") e++; next }
	NF != 3 || $1 >= 11 || $2 >= 4 { e++ }
	END { exit !(e == 0 && NR == 45) }' "$tmp/out"
then ok; else bad "inspect --q: not 44 rows of state, action, q"; fi
cp "$tmp/out" "$tmp/q.tsv"
# --values and --policy agree with --q: the row maximum and its lowest
# argmax.
expect_rc 0 inspect --values "$ckp"
cp "$tmp/out" "$tmp/v.tsv"
expect_rc 0 inspect --policy "$ckp"
if awk -F '\t' 'FNR == 1 { f++; next }
	f == 1 { if (!($1 in m) || $3 > m[$1]) { m[$1] = $3; a[$1] = $2 } }
	f == 2 { if ($2 != m[$1]) e++; nv++ }
	f == 3 { if ($2 != a[$1]) e++; np++ }
	END { exit !(e == 0 && nv == 11 && np == 11) }' \
	"$tmp/q.tsv" "$tmp/v.tsv" "$tmp/out"
then ok; else bad "inspect --values/--policy disagree with --q"; fi
expect_rc 1 inspect "$tmp/does-not-exist"
expect_rc 1 inspect --q "$tmp/flip.ckp"
expect_grep "corrupt" "$tmp/err" "inspect: damaged file"

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
# Without --checkpoint, a resumed run goes back to the file it came from.
expect_rc 0 train --resume "$b" -q -n 2000 -t 1
expect_grep "^saved  *$b$" "$tmp/out" "resume: checkpoints to FILE"
expect_rc 0 inspect "$b"
expect_grep "^steps  *303000$" "$tmp/out" "resume: the resumed work kept"
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

# ------------------------------------------------ success, schedules --
# CartPole's success is surviving to the step limit: its falls end with
# reward 1, and must not count.
cp_ckp=$tmp/cartpole.ckp
expect_rc 0 train cartpole -q -t 1 -n 20000 --seed 2 --save "$cp_ckp"
expect_rc 0 eval --load "$cp_ckp" -n 50 --max-steps 100
if awk '$1 == "success" { s = $3 } $1 == "truncated" { t = $2 }
	$1 == "terminated" { d = $2 }
	END { exit !(s == t && d != "0.0%") }' "$tmp/out"
then ok; else bad "eval cartpole: success is not surviving"; cat "$tmp/out"; fi
# Schedules reach the library: the values at the end are printed and
# saved.
sch=$tmp/sched.ckp
expect_rc 0 train maze4x3 -q -t 1 -n 30000 --alpha 0.5:0.01:linear:10k \
	--epsilon 1:0.05:exp:2k --save "$sch"
expect_grep "^alpha  *0.01 now (0.5:0.01:linear:10k)$" "$tmp/out" \
	"schedule: alpha at the end"
if awk '$1 == "epsilon" { e = $2 } END { exit !(e > 0.05 && e < 0.06) }' \
	"$tmp/out"; then ok; else bad "schedule: epsilon at the end"; fi
expect_rc 0 inspect "$sch"
expect_grep "^alpha  *0.01 (when saved)$" "$tmp/out" "schedule: saved alpha"
# A greedy policy close to optimal from the start reads as such, though
# its optimal fraction is 0 (seed 1, one agent: repeatable).
expect_rc 0 train maze4x3 -q -t 1 -n 300 --gamma 1 --seed 1
if awk '$1 == "greedy" && $2 == "progress" { sub("%", "", $3); p = $3 + 0 }
	$1 == "optimal" && $2 == "fraction" { f = $3 }
	END { exit !(p > 90 && p < 100 && f == "0.0%") }' "$tmp/out"
then ok; else bad "progress of a near-optimal policy"; cat "$tmp/out"; fi
# An improper greedy policy at gamma 1 is named at once.
expect_rc 0 train cliffwalking -q -t 1 -n 10 --gamma 1
expect_grep "from state 0 the greedy policy never ends" "$tmp/err" \
	"improper greedy policy named"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
