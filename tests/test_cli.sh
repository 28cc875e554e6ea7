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
expect_grep "^distq: unknown environment 'nosuchenv' (known: " "$tmp/err" "unknown env"
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
if awk -F '\t' 'NF != 5 { e++ } END { exit !(e == 0 && NR == 14) }' \
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
expect_grep "unknown key 'slipp' (accepted: living_reward" \
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
expect_grep ": no such file or directory" "$tmp/err" "resume: ENOENT text"
# --resume's errors name --resume (its checkpoints go back to its file),
# and one that cannot be written says how to write elsewhere.
mkdir "$tmp/dir.dq"
expect_rc 1 train --resume "$tmp/dir.dq" -q -n 1000
expect_grep "^distq: --resume '$tmp/dir.dq': is a directory" "$tmp/err" \
	"resume: a directory named as --resume"
if [ -d /proc/self ]; then
	expect_rc 1 train --resume /proc/nope.dq -q -n 1000
	expect_grep "^distq: --resume '/proc/nope.dq': cannot create" \
		"$tmp/err" "resume: /proc named as --resume"
	expect_grep "give --checkpoint OTHER" "$tmp/err" "resume: the hint"
fi
expect_rc 1 train --resume "$tmp/flip.ckp" -q -n 1000
expect_grep "corrupt" "$tmp/err" "resume: damaged file"

# A valid checkpoint whose values are huge (+-DBL_MAX, checksums right):
# learning from it overflows. The overflowing update is refused, the run
# stops naming the agent, the step and the update, and nothing is saved:
# the loadable file is not replaced by one that no load accepts.
huge=$tmp/huge.ckp
if command -v python3 >/dev/null 2>&1; then
	python3 - "$a" "$huge" <<'PY'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], "rb").read())
hlen, = struct.unpack_from("<I", d, 12)
s, a = struct.unpack_from("<II", d, 24)
big = 1.7976931348623157e308
for i in range(s * a):
    struct.pack_into("<d", d, hlen + 8 * i, big if i % 2 else -big)
struct.pack_into("<I", d, len(d) - 4, zlib.crc32(bytes(d[:-4])))
open(sys.argv[2], "wb").write(d)
PY
	cp "$huge" "$tmp/huge.orig"
	expect_rc 0 eval maze4x3 --load "$huge" -n 1
	expect_rc 1 train --resume "$huge" -q -n 100000 --checkpoint "$huge"
	expect_grep "agent .* failed at step .* in update: write refused" \
		"$tmp/err" "resume huge: the refused update named"
	if cmp -s "$huge" "$tmp/huge.orig"; then ok; else
		bad "resume huge: the checkpoint was replaced"; fi
	expect_rc 0 eval maze4x3 --load "$huge" -n 1
	# Counters near 2^64: two agents just below 2^63 restore, and the
	# totals saturate instead of wrapping, while this run's count stays
	# exact; an agent at 2^63 is refused.
	for k in 63 64; do
		python3 - "$a" "$tmp/c$k.ckp" "$k" <<'PY'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], "rb").read())
c = (1 << 63) - 1 if sys.argv[3] == "63" else 1 << 63
n, rl = struct.unpack_from("<II", d, 416 + 8)
for i in range(n):
    struct.pack_into("<QQ", d, 416 + 16 + i * rl + 48, c, c)
struct.pack_into("<QQ", d, 40, (1 << 64) - 6, (1 << 64) - 6)
struct.pack_into("<I", d, 412, zlib.crc32(bytes(d[:412])))
struct.pack_into("<I", d, len(d) - 4, zlib.crc32(bytes(d[:-4])))
open(sys.argv[2], "wb").write(d)
PY
	done
	expect_rc 0 train --resume "$tmp/c63.ckp" -q -n 1000
	expect_grep "^steps  *18446744073709551615 (1000 in this run)$" \
		"$tmp/out" "resume near 2^64: saturated totals, exact run"
	expect_grep "^episodes  *18446744073709551615$" "$tmp/out" \
		"resume near 2^64: saturated episodes"
	expect_rc 1 train --resume "$tmp/c64.ckp" -q -n 1000
	expect_grep "agent 0's counters are too large" "$tmp/err" \
		"resume at 2^63: refused"
else
	echo "cli: python3 not found, huge-value resume tests skipped"
fi

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
# --algo: every rule trains; an unknown name is a usage error. A
# checkpoint holds the rule (double-q's second channel too): a resume
# without --algo takes the file's, another one is refused, named.
for algo in q sarsa expected-sarsa double-q; do
	expect_rc 0 train maze4x3 -q -t 1 --algo "$algo" --steps 20k
done
expect_rc 2 train maze4x3 --algo qq
expect_rc 0 train maze4x3 -q -t 1 --algo double-q --steps 1k \
	--checkpoint "$tmp/dq.ckp"
# --share: each policy trains; distql's defaults and its refusals
for share in distql distql:tau=50:partial average average:seconds=0.01; do
	expect_rc 0 train maze4x3 -q -t 2 --pin none --share "$share" \
		--steps 20k
done
expect_rc 0 train maze4x3 -q -t 1 --share distql --steps 1k
expect_grep "(exact, gamma 0.9)" "$tmp/out" "distql's gamma 0.9"
expect_rc 0 train maze4x3 -q -t 1 --share distql --gamma 0.8 --steps 1k
expect_grep "(exact, gamma 0.8)" "$tmp/out" "a given gamma wins"
expect_rc 2 train maze4x3 --share gossip
expect_rc 2 train maze4x3 --share distql:eta=2
# --share distql saves and resumes: the checkpoint carries the policy and
# each agent's local table, eta counts and push counts (lib/shareckp.c); a
# resume with another policy or parameter is refused naming both.
expect_rc 0 train maze4x3 -q -t 2 --pin none --share distql:tau=5:partial \
	--steps 5k --save "$tmp/sh.ckp"
expect_rc 0 train --resume "$tmp/sh.ckp" -q -t 2 --pin none \
	--share distql:tau=5:partial --steps 5k
expect_grep "^steps  *10000 " "$tmp/out" "distql resumes"
expect_rc 1 train --resume "$tmp/sh.ckp" -q --share distql:tau=6 --steps 1k
expect_grep "differ in tau" "$tmp/err" "distql resume: another tau named"
expect_rc 1 train --resume "$tmp/sh.ckp" -q --share none --steps 1k
expect_grep "the file has distql:tau=5:partial" "$tmp/err" \
	"distql resume: the file's policy named"
expect_rc 0 train --resume "$tmp/sh.ckp" -q -t 1 --steps 1k
expect_grep "^steps  *11000 " "$tmp/out" "distql resumes with the file's policy"
expect_rc 0 train maze4x3 -q -t 1 --share average:steps=300 --steps 3k \
	--save "$tmp/av.ckp"
expect_rc 0 train --resume "$tmp/av.ckp" -q --share average:steps=300 \
	--steps 3k
expect_grep "^steps  *6000 " "$tmp/out" "average resumes"
expect_rc 2 train maze4x3 --share distql --algo double-q
expect_rc 2 train maze4x3 --share average --sync 8
# --share's one grammar (cli/share.c, distq-mpi's too): every spelling of
# a policy configures the same one, ',' separates as ':' does, and what
# only ranks do (delta, exchange=, timeout=, distql in steps or seconds,
# average in episodes) is refused with why.
for spec in average:seconds=0.5 average:tau=0.5s average,every=0.5s; do
	expect_rc 0 train maze4x3 -q -t 1 --pin none --share "$spec" --steps 1k
	expect_grep "^sync policy  *average every 0.5 s$" "$tmp/out" "$spec"
done
for spec in average:steps=300 average:tau=300 average,tau=300; do
	expect_rc 0 train maze4x3 -q -t 1 --pin none --share "$spec" --steps 1k
	expect_grep "^sync policy  *average every 300 steps$" "$tmp/out" "$spec"
done
for spec in distql:tau=7:partial distql,episodes=7,partial \
	distql:tau=7ep:partial:eta=0.5; do
	expect_rc 0 train maze4x3 -q -t 1 --pin none --share "$spec" --steps 1k
	expect_grep "^sync policy  *distql every 7 episodes, partial, eta 0.5, decay 0.999$" \
		"$tmp/out" "$spec"
done
expect_rc 0 train maze4x3 -q -t 1 --pin none --share distql:eta=0.25:decay=0.9 \
	--steps 1k
expect_grep "^sync policy  *distql every 10 episodes, all, eta 0.25, decay 0.9$" \
	"$tmp/out" "distql's eta and decay"
expect_grep "^write path  *local tables, merged by the sync policy" "$tmp/out" \
	"--share: the write path is not called direct"
expect_rc 2 train maze4x3 --share delta
expect_grep "between MPI ranks (distq-mpi)" "$tmp/err" "delta is refused, why"
expect_rc 2 train maze4x3 --share average:exchange=dense
expect_grep "between ranks only" "$tmp/err" "exchange= is refused, why"
expect_rc 2 train maze4x3 --share average:timeout=2
expect_rc 2 train maze4x3 --share distql:seconds=1
expect_grep "distql pushes every tau episodes" "$tmp/err" "distql in seconds"
expect_rc 2 train maze4x3 --share average:episodes=3
expect_rc 2 train maze4x3 --share average:tau=3ep
expect_rc 2 train maze4x3 --share average:tau=2x
expect_rc 2 train maze4x3 --share average:partial
expect_rc 2 train maze4x3 --share average:steps=2.5
expect_rc 2 train maze4x3 --share average:
expect_rc 2 train maze4x3 --share none:tau=5
expect_rc 2 train maze4x3 --share distql:epsilon-decay=maybe
# --tiles: tile coding of a continuous observation, with every rule it
# takes; its tuned settings (auto); what it refuses, before any work.
for algo in q sarsa expected-sarsa; do
	expect_rc 0 train cartpole -q -t 2 --pin none --tiles 8x4,4,8,8 \
		--algo "$algo" --steps 20k
done
expect_grep "^tiles  *8x4,4,8,8@-2.4:2.4,-3:3,.* (16200 rows)" "$tmp/out" \
	"train --tiles: the coder in full"
expect_rc 0 train mountaincar -q -t 1 --tiles auto --steps 5k
expect_grep "^tiles  *8x8,8@" "$tmp/out" "train --tiles auto"
expect_rc 0 train acrobot -q -t 1 --tiles 4x4/4096 --steps 2k
expect_rc 1 train taxi -q --tiles 8x4
expect_grep "gives no observation" "$tmp/err" "--tiles on a tabular env"
expect_rc 1 train cartpole -q --tiles 8x4,4
expect_rc 1 train taxi -q --tiles auto
# --tiles with checkpoints: the coder travels in the file. One agent,
# 30 + 30 episodes across a save and a resume without --tiles (the coder
# rebuilt from the file) give the weights of 60 in one run, bit for bit.
expect_rc 0 train cartpole -q -t 1 --pin none --tiles auto --seed 3 \
	--episodes 60 --save "$tmp/t60.ckp" --no-exact
expect_rc 0 train cartpole -q -t 1 --pin none --tiles auto --seed 3 \
	--episodes 30 --save "$tmp/t.ckp" --no-exact
expect_rc 0 inspect "$tmp/t.ckp"
expect_grep "^tiles  *8x4,4,8,8@-2.4:2.4,-3:3,.* (8 tilings, 16200 rows)" \
	"$tmp/out" "inspect: the tile coder"
expect_rc 0 train --resume "$tmp/t.ckp" -q --pin none --episodes 30 \
	--no-exact
expect_grep "^tiles  *8x4,4,8,8@" "$tmp/out" "--resume: the file's coder"
expect_grep "^episodes  *60$" "$tmp/out" "--tiles resumed: episodes"
"$distq" inspect --q "$tmp/t60.ckp" >"$tmp/q60" 2>&1
"$distq" inspect --q "$tmp/t.ckp" >"$tmp/q30" 2>&1
if [ -s "$tmp/q60" ] && cmp -s "$tmp/q60" "$tmp/q30"; then ok; else
	bad "--tiles: 30 + 30 episodes resumed are not 60 in one run"; fi
# --tiles given again must be the file's: auto and the same text go on,
# another coder is refused naming the parameter, a tabular file too.
expect_rc 0 train cartpole --resume "$tmp/t.ckp" -q --tiles auto -n 500 \
	--checkpoint "$tmp/t2.ckp" --no-exact
expect_rc 0 train --resume "$tmp/t.ckp" -q -n 500 --no-exact \
	--tiles 8x4,4,8,8@-2.4:2.4,-3:3,-0.20943951023931953:0.20943951023931953,-3.5:3.5 \
	--checkpoint "$tmp/t2.ckp"
expect_rc 1 train --resume "$tmp/t.ckp" -q -n 500 --tiles 8x4,4,8,7
expect_grep "tile coder: the file has bins\[3\] 8, the learner bins\[3\] 7" \
	"$tmp/err" "--tiles resumed under another coder: the parameter named"
expect_rc 1 train --resume "$tmp/t.ckp" -q -n 500 --tiles 4x4,4,8,8/16200
expect_grep "tilings 8, the learner tilings 4" "$tmp/err" \
	"--tiles resumed under other tilings"
expect_rc 0 train cartpole -q -t 1 -n 1000 --save "$tmp/tab.ckp" --no-exact
expect_rc 1 train --resume "$tmp/tab.ckp" -q -n 500 --tiles auto
expect_grep "the file holds a tabular" "$tmp/err" \
	"--tiles resumed from a tabular file"
# --checkpoint-every writes the coder in every checkpoint.
expect_rc 0 train cartpole -q -t 2 --pin none --tiles auto --seconds 0.3 \
	--checkpoint "$tmp/te.ckp" --checkpoint-every 0.05 --no-exact
expect_grep "^checkpoints  *[1-9][0-9]* during the run" "$tmp/out" \
	"--tiles --checkpoint-every"
expect_rc 0 inspect "$tmp/te.ckp"
expect_grep "^tiles  *8x4,4,8,8@" "$tmp/out" "--checkpoint-every: the coder"
# A malformed --tiles is a usage error, found while parsing (any env).
expect_rc 2 train cartpole -q --tiles 8x
expect_grep "^distq train: --tiles '8x': tiles: a bin count is missing" \
	"$tmp/err" "--tiles 8x: usage"
# Each part of a bad option value is named.
expect_rc 2 train taxi -q -n 10 --pin 0-
expect_grep "lacks its upper bound" "$tmp/err" "--pin 0-: the missing bound"
expect_rc 2 train taxi -q -n 10 --epsilon 0.5:0.1:linear:0
expect_grep "^distq train: --epsilon steps: '0'" "$tmp/err" \
	"--epsilon: the steps field named"
expect_rc 2 train cartpole -q --tiles auto --algo double-q
# the rules beyond one step over tiles (lib/tilerule.h)
for algo in nstep-q nstep-sarsa q-lambda; do
	expect_rc 0 train mountaincar -q -t 2 --pin none --tiles auto \
		--algo $algo --steps 5k
done
expect_rc 2 train cartpole -q --tiles auto --sync 8
expect_rc 0 inspect "$tmp/dq.ckp"
expect_grep "^rule  *double-q$" "$tmp/out" "inspect: the rule"
expect_grep "^channels  *2$" "$tmp/out" "inspect: the channels"
expect_rc 0 train --resume "$tmp/dq.ckp" -q --steps 1k
expect_grep "^steps  *2000 " "$tmp/out" "double-q resumes"
expect_rc 1 train --resume "$tmp/dq.ckp" -q --steps 1k --algo q
expect_grep "rule 'double-q', the learner runs 'q'" "$tmp/err" \
	"resume: another rule named"
expect_rc 0 eval --load "$tmp/dq.ckp" -n 3
# --replay and --target-table (docs/replay.md): off-policy rules train
# with them, the summary names them, sarsa is refused naming why, bad
# fields are usage errors; a resume keeps neither (given again here).
for algo in q expected-sarsa double-q; do
	expect_rc 0 train maze4x3 -t 1 --algo "$algo" --steps 5k \
		--replay 64:2:2 --target-table 100
done
expect_grep "^replay  *last 64 transitions per agent, 2 x 2" "$tmp/out" \
	"train --replay summary"
expect_grep "^target table  *a copy every 100" "$tmp/out" \
	"train --target-table summary"
expect_rc 0 train maze4x3 -q -t 2 --steps 5k --target-table polyak:0.25:4
expect_rc 2 train maze4x3 --algo sarsa --replay 64
expect_grep "off-policy rule" "$tmp/err" "sarsa refuses replay, naming why"
expect_rc 2 train maze4x3 --algo sarsa --target-table 10
for bad_arg in 0 64:0 64:4096:2 64:1:1:1 x; do
	expect_rc 2 train maze4x3 --replay "$bad_arg"
done
for bad_arg in 0 polyak:0 polyak:1.5 polyak:0.5:0 polyak:; do
	expect_rc 2 train maze4x3 --target-table "$bad_arg"
done
expect_rc 0 train maze4x3 -q -t 1 --steps 2k --replay 32 --target-table 50 \
	--checkpoint "$tmp/rp.ckp"
expect_rc 0 train --resume "$tmp/rp.ckp" -q --steps 2k --replay 32 \
	--target-table 50
# over tiles (lib/tilereplay.c): q and expected-sarsa train with both,
# the summary names them, a tile-coded checkpoint resumes with them given
# again (the rings and the target are not in the file), sarsa is refused
for algo in q expected-sarsa; do
	expect_rc 0 train cartpole -t 1 --pin none --tiles auto --algo "$algo" \
		--steps 5k --replay 1000:4:1 --target-table 500
done
expect_grep "^replay  *last 1000 transitions per agent, 1 x 4" "$tmp/out" \
	"train --tiles --replay summary"
expect_grep "^target table  *a copy every 500" "$tmp/out" \
	"train --tiles --target-table summary"
expect_rc 0 train cartpole -q -t 2 --pin none --tiles auto --steps 5k \
	--replay 256:2:2 --target-table polyak:0.5:100
expect_rc 0 train cartpole -q -t 1 --pin none --tiles auto --steps 2k \
	--replay 64 --target-table 50 --checkpoint "$tmp/trp.ckp"
expect_rc 0 train --resume "$tmp/trp.ckp" -q --steps 2k --replay 64 \
	--target-table 50
expect_grep "^steps  *4000 " "$tmp/out" "--tiles --replay resumed"
expect_rc 2 train cartpole -q --tiles auto --algo sarsa --replay 64
expect_grep "off-policy rule" "$tmp/err" "--tiles: sarsa refuses replay"
# The rules beyond one step and softmax: their options train; ranges and
# combinations are usage errors; q-lambda refuses write-back windows.
for algo in nstep-q nstep-sarsa q-lambda; do
	expect_rc 0 train maze4x3 -q -t 1 --algo "$algo" --steps 20k
done
expect_rc 0 train maze4x3 -q -t 1 --algo nstep-sarsa --nstep 5 --steps 20k
expect_rc 0 train maze4x3 -q -t 1 --algo q-lambda --lambda 0.5 \
	--trace replacing --steps 20k
expect_rc 0 train maze4x3 -q -t 1 --algo expected-sarsa \
	--softmax 2:0.1:exp:5k --steps 20k
expect_grep "^temperature .* now (2:0.1:exp:5k)" "$tmp/out" \
	"softmax schedule reported"
expect_rc 2 train maze4x3 --algo nstep-q --nstep 0
expect_rc 2 train maze4x3 --algo nstep-q --nstep 1025
expect_rc 2 train maze4x3 --algo q-lambda --lambda 1.5
expect_rc 2 train maze4x3 --algo q-lambda --trace dutch
expect_rc 2 train maze4x3 --softmax 0.5 --epsilon 0.1
expect_rc 2 train maze4x3 --softmax 2e6
expect_rc 2 train maze4x3 -q -t 1 --algo q-lambda --sync 8 --steps 1k
expect_grep "direct updates only" "$tmp/err" "q-lambda refuses windows"
expect_rc 0 train maze4x3 -q -t 1 --algo q-lambda --sync 0 --steps 1k
# --trace-max: q-lambda's only, in [1, 65536]; a resume must keep the
# file's (the mismatch named), and a non-q-lambda file refuses it.
expect_rc 0 train maze4x3 -q -t 1 --algo q-lambda --trace-max 16 --steps 2k \
	--checkpoint "$tmp/tm.ckp"
expect_rc 0 train --resume "$tmp/tm.ckp" -q --trace-max 16 --steps 1k
expect_rc 1 train --resume "$tmp/tm.ckp" -q --trace-max 32 --steps 1k
expect_grep "trace_max 16, the learner trace_max 32" "$tmp/err" \
	"--trace-max: a resume with another is refused"
for bad_arg in 0 65537 x; do
	expect_rc 2 train maze4x3 --algo q-lambda --trace-max "$bad_arg"
	expect_grep "^distq train: --trace-max: " "$tmp/err" \
		"--trace-max $bad_arg: the option named"
done
expect_rc 2 train maze4x3 --algo nstep-q --trace-max 8
expect_grep "--trace-max is not a parameter of --algo nstep-q" "$tmp/err" \
	"--trace-max: q-lambda's only"
# Every rule parameter is refused with a rule that would ignore it.
expect_rc 2 train maze4x3 --algo q --lambda 0.5
expect_grep "--lambda is not a parameter of --algo q" "$tmp/err" \
	"--lambda: q-lambda's only"
expect_rc 2 train maze4x3 --algo sarsa --trace replacing
expect_grep "--trace is not a parameter of --algo sarsa" "$tmp/err" \
	"--trace: q-lambda's only"
expect_rc 2 train maze4x3 --algo q-lambda --nstep 3
expect_grep "--nstep is not a parameter of --algo q-lambda" "$tmp/err" \
	"--nstep: nstep-q's and nstep-sarsa's only"
expect_rc 0 train maze4x3 -q -t 1 --algo nstep-sarsa --nstep 2 --steps 1k
expect_rc 0 train maze4x3 -q -t 1 --steps 1k --checkpoint "$tmp/tq.ckp"
expect_rc 1 train --resume "$tmp/tq.ckp" -q --trace-max 8 --steps 1k
expect_grep "holds a q run" "$tmp/err" "--trace-max: resumed q run refused"


# ------------------------------------------------- paths before work --
# A path that cannot be written is found before training (stdout stays
# empty: no summary), and a file that is not a regular file is never
# replaced: a FIFO, a scratch device node like /dev/null (root only; never
# the system's own), or a link to one. Reading one fails at once.
no_summary() {
	if [ ! -s "$tmp/out" ]; then ok; else bad "$1: trained before failing"; fi
}
mkfifo "$tmp/fifo"
expect_rc 1 train maze4x3 -q -n 1000 --save "$tmp/fifo"
expect_grep "is a FIFO" "$tmp/err" "--save FIFO"
no_summary "--save FIFO"
if [ -p "$tmp/fifo" ]; then ok; else bad "--save replaced a FIFO"; fi
ln -s "$tmp/fifo" "$tmp/fifo-link"
expect_rc 1 train maze4x3 -q -n 1000 --checkpoint "$tmp/fifo-link"
if [ -p "$tmp/fifo" ] && [ -L "$tmp/fifo-link" ]; then ok; else
	bad "--checkpoint replaced a link to a FIFO"; fi
if mknod "$tmp/null" c 1 3 2>/dev/null; then
	expect_rc 1 train maze4x3 -q -n 1000 --save "$tmp/null"
	expect_grep "is a character device" "$tmp/err" "--save device"
	if [ -c "$tmp/null" ]; then ok; else bad "--save replaced a device"; fi
else
	echo "cli: not root, no scratch device node; FIFOs only"
fi
for args in "train --resume $tmp/fifo -q -n 10" \
	"eval --load $tmp/fifo maze4x3"; do
	# shellcheck disable=SC2086
	timeout 20 "$distq" $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok; else bad "distq $args: exit $rc, want 1"; fi
	expect_grep "FIFO" "$tmp/err" "distq $args"
done
expect_rc 2 train maze4x3 -q -n 10 --save ''
expect_grep "empty" "$tmp/err" "--save ''"
expect_rc 2 train maze4x3 -q -n 10 --checkpoint ''
expect_rc 2 train --resume '' -q -n 10
expect_rc 2 eval maze4x3 --load ''
expect_rc 1 train maze4x3 -q -n 1000 --save "$tmp/no/such/dir/x.ckp"
expect_grep "directory '$tmp/no/such/dir'" "$tmp/err" "--save: missing dir"
no_summary "--save into a missing directory"
# access() says yes to root in /proc: the check creates a file there.
if [ -d /proc/self ]; then
	expect_rc 1 train maze4x3 -q -n 1000 --save /proc/nope.dq
	expect_grep "^distq: --save '/proc/nope.dq': cannot create a file in" \
		"$tmp/err" "--save /proc: found before any work"
	no_summary "--save into /proc"
	expect_rc 1 train maze4x3 -q -n 1000 --curve /proc/nope.csv
	no_summary "--curve into /proc"
fi
expect_rc 1 train maze4x3 -q -n 1000 --save /
expect_grep "is a directory" "$tmp/err" "--save /"
if grep -q busy "$tmp/err"; then bad "--save /: says busy"; else ok; fi
no_summary "--save /"
if [ "$(id -u)" != 0 ]; then
	mkdir "$tmp/ro" && chmod 500 "$tmp/ro"
	expect_rc 1 train maze4x3 -q -n 1000 --save "$tmp/ro/x.ckp"
	expect_grep "cannot write in directory" "$tmp/err" "read-only dir"
	no_summary "--save into a read-only directory"
	chmod 700 "$tmp/ro"
fi

# A file-size limit gives "file too large", not death by SIGXFSZ, and
# leaves nothing behind. (ulimit -f counts blocks of 512 or 1024 bytes;
# a taxi checkpoint is over 24 KiB.)
(
	ulimit -f 8 && exec "$distq" train taxi -q -t 1 -n 1000 --no-exact \
		--save "$tmp/big.ckp"
) >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "ulimit -f: exit $rc, want 1"; fi
expect_grep "file too large" "$tmp/err" "ulimit -f"
if [ -z "$(find "$tmp" -name 'big.ckp*')" ]; then ok; else
	bad "ulimit -f: a file was left"; fi

# A legal name of 255 bytes is saved and loaded, although its temporary
# file could not take the name plus a suffix.
long=$(printf '%0255d' 0)
expect_rc 0 train maze4x3 -q -t 1 -n 1000 --no-exact --save "$tmp/$long"
expect_rc 0 eval maze4x3 --load "$tmp/$long" -n 5
if [ -z "$(find "$tmp" -name '*.tmp.*')" ]; then ok; else
	bad "long name: a temporary file was left"; fi
rm -f "$tmp/$long"

# ------------------------------------------------- messages that name --
expect_rc 1 train maze4x3:slip=0.1,slip=0.2 -q -n 10
expect_grep "key 'slip' appears more than once" "$tmp/err" "repeated key"
expect_rc 1 train maze4x3:slip=x -q -n 10
expect_grep "slip: 'x' is not a number" "$tmp/err" "bad value"
expect_rc 1 train maze4x3:slip=0,1 -q -n 10
expect_grep "decimal point" "$tmp/err" "decimal comma"
expect_rc 1 train cartpole:bins=1000 -q -n 10
expect_grep "product" "$tmp/err" "product of bins"
expect_rc 1 train maze4x3 -q -n 10 --pin 0,100000
expect_grep "PU 100000 is not on this machine" "$tmp/err" "--pin PU"
expect_rc 1 train scalable:states=2M -q -n 10 --sync 100
expect_grep "replica mode takes tables of at most" "$tmp/err" "--sync"
no_summary "--sync on a large table"

# --------------------------------------------- memory before it is used --
# A valid 1 x 1 checkpoint whose header names scalable:states=1G: the
# shape is refused before an 8 GiB table is made. The header and file
# CRCs are CRC-32 as gzip's trailer carries it.
crc_at() { # crc_at FILE LEN OFFSET: CRC-32 of FILE's first LEN bytes at OFFSET
	head -c "$2" "$1" | gzip -c | tail -c 8 | head -c 4 >"$tmp/crc"
	dd if="$tmp/crc" of="$1" bs=1 seek="$3" conv=notrunc 2>/dev/null
}
small=$tmp/small.ckp
expect_rc 0 train scalable:actions=1,states=1 -q -t 1 -n 10 --save "$small"
printf 'actions=1,states=1G' |
	dd of="$small" bs=1 seek=152 conv=notrunc 2>/dev/null
crc_at "$small" 412 412
len=$(wc -c <"$small")
crc_at "$small" $((len - 4)) $((len - 4))
# Under a 2 GiB address-space limit, so that making the table first
# would fail with another message; sanitizer builds reserve terabytes of
# address space and cannot start under one (the probe dies, often by
# SIGSEGV, reported by the inner shell whose stderr is discarded), so they
# run without it.
vlimit=2097152
sh -c 'ulimit -v "$1" && "$2" --version' probe "$vlimit" "$distq" \
	>/dev/null 2>&1 || vlimit=unlimited
(ulimit -v $vlimit && exec "$distq" train --resume "$small" -q -n 10) \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "resume 1G: exit $rc, want 1"; fi
expect_grep "a 1 x 1 table, 'scalable' needs 1000000000 x 1" "$tmp/err" \
	"resume: shape checked before the table"
expect_rc 1 solve scalable:states=4000000000,actions=4096,model=1
expect_grep "needs .* of memory, .* available" "$tmp/err" "solve: memory"
expect_rc 1 train scalable:states=4000000000,actions=4096 -q -n 10
expect_grep "the table needs .* of memory" "$tmp/err" "train: memory"

# An exact evaluation estimated to outrun its bound is skipped, saying so
# (gamma 0.999 on 10^6 outcomes: some 20000 sweeps), after the save.
expect_rc 0 train scalable:states=250000,model=1 --gamma 0.999 -q -t 1 \
	-n 1000 --save "$tmp/skip.ckp"
expect_grep "exact evaluation skipped: about .* sweeps" "$tmp/err" \
	"exact evaluation: estimate"
expect_grep "^saved" "$tmp/out" "exact evaluation skipped: saved"
rm -f "$tmp/skip.ckp"

# ---------------------------------------------- Ctrl-C after training --
# wait_for PATTERN FILE: up to 10 s for FILE to have a line matching.
wait_for() {
	n=0
	while ! grep -q "$1" "$2" 2>/dev/null && [ $n -lt 500 ]; do
		sleep 0.02
		n=$((n + 1))
	done
}
# During the exact evaluation (gamma 1 on 10^6 outcomes: a minute, at
# least): the checkpoint is saved first, Ctrl-C stops the rest, exit 130.
"$distq" train scalable:states=250000,model=1 --gamma 1 -q -t 1 -n 1000 \
	--save "$tmp/int.ckp" >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
wait_for "^saved" "$tmp/int.out"
sleep 0.3
kill -INT $pid 2>/dev/null
n=0
while kill -0 $pid 2>/dev/null && [ $n -lt 250 ]; do
	sleep 0.02
	n=$((n + 1))
done
if kill -0 $pid 2>/dev/null; then
	bad "Ctrl-C during the exact evaluation: still running after 5 s"
	kill -KILL $pid
fi
wait $pid
rc=$?
if [ $rc -eq 130 ]; then ok; else bad "Ctrl-C in exact evaluation: $rc"; fi
expect_grep "^saved" "$tmp/int.out" "Ctrl-C in exact evaluation: saved"
expect_grep "exact evaluation interrupted" "$tmp/int.err" \
	"Ctrl-C in exact evaluation: said so"
expect_rc 0 train --resume "$tmp/int.ckp" -q -n 10 --no-exact

# During the final save of a 128 MB checkpoint, two Ctrl-Cs: the save
# completes, nothing temporary is left, exit 130.
"$distq" train scalable:states=4M -q -t 1 -n 1000 --no-exact \
	--save "$tmp/int2.ckp" >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
wait_for "^stopped by" "$tmp/int.out"
kill -INT $pid 2>/dev/null
sleep 0.05
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ]; then ok; else bad "Ctrl-C during the save: exit $rc"; fi
expect_grep "^saved" "$tmp/int.out" "Ctrl-C during the save: saved"
if [ -z "$(find "$tmp" -name '*.tmp.*')" ]; then ok; else
	bad "Ctrl-C during the save: a temporary file was left"; fi
expect_rc 0 train --resume "$tmp/int2.ckp" -q -n 10 --no-exact
rm -f "$tmp/int2.ckp"

# ------------------------------------------------------------ locales --
# Under a comma-decimal locale the program reads and prints numbers as in
# the C locale. The locale is an installed one or de_DE built with
# localedef (Debian's locales package) into a scratch LOCPATH.
loc=""
for l in de_DE.UTF-8 de_DE.utf8; do
	if locale -a 2>/dev/null | grep -qx "$l"; then loc=$l; break; fi
done
if [ -z "$loc" ] && command -v localedef >/dev/null 2>&1 &&
	localedef -i de_DE -f UTF-8 "$tmp/de_DE.UTF-8" >/dev/null 2>&1; then
	loc=de_DE.UTF-8
	LOCPATH=$tmp
	export LOCPATH
fi
if [ -n "$loc" ]; then
	LC_ALL=$loc "$distq" train maze4x3:slip=0.1,living_reward=-0.04 -q \
		-t 1 -n 1000 --gamma 0.95 --alpha 0.5 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok; else bad "locale $loc: exit $rc"; fi
	expect_grep "(exact, gamma 0.95)" "$tmp/out" "locale $loc: output"
	unset LOCPATH
else
	echo "cli: SKIP locale test: no comma-decimal locale, no localedef"
fi

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
# The summary says which write path the agents ran.
expect_rc 0 train maze4x3 -t 1 -n 1000 --no-exact
expect_grep "^write path  *direct updates (auto)" "$tmp/out" "write path, auto"
expect_rc 0 train maze4x3 -t 1 -n 1000 --no-exact --sync 64
expect_grep "^write path  *write-back windows in 100.0% of steps, mean 64 steps (--sync)" \
	"$tmp/out" "write path, --sync 64"

# --target on an environment without a model names the option.
expect_rc 1 train cartpole -q -t 1 -n 10 --target 0.9
expect_grep "^distq: --target: 'cartpole' has no model" "$tmp/err" \
	"--target without a model"

# ------------------------------------------------ learning curves --
expect_rc 2 train maze4x3 --eval-every 0s
expect_rc 2 train maze4x3 --eval-every 10x
expect_rc 2 train maze4x3 --eval-every 0ep
expect_rc 2 train maze4x3 --eval-episodes 0
expect_rc 2 train maze4x3 --target-return nan
expect_rc 2 train maze4x3 --curve "$tmp/c.csv" --plot "$tmp/c.csv"
# A path that cannot be written fails before training, naming it (a run
# of 60 s would otherwise show).
expect_rc 1 train maze4x3 -t 1 --seconds 60 --curve "$tmp/no/such/c.csv"
expect_grep "^distq: --curve '$tmp/no/such/c.csv'" "$tmp/err" \
	"--curve: bad path named"
if [ ! -s "$tmp/out" ]; then ok; else bad "--curve: bad path, yet trained"; fi
expect_rc 1 train maze4x3 -t 1 --seconds 60 --curve "$tmp"
expect_grep "^distq: --curve '$tmp'" "$tmp/err" "--curve: a directory"
# A policy short of the optimum never reads "greedy progress 100.0%":
# this one (one thread: the same run every time) is 99.99% of the way.
expect_rc 0 train taxi -t 1 --pin none --algo double-q -n 3M -q
expect_grep "^greedy progress  *99\.99% " "$tmp/out" \
	"greedy progress: enough digits for a non-optimal policy"
expect_grep "^optimal fraction  *99\.7% " "$tmp/out" \
	"greedy progress: the run is not optimal"
# A --pin PU outside the process's CPU mask is named, with the mask.
if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
	taskset -c 1 "$distq" train taxi -q -n 1000 --pin 0 \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok; else bad "--pin outside the mask: exit $rc"; fi
	expect_grep "PU 0 is not one this process may run on (its CPU mask: PUs 1)" \
		"$tmp/err" "--pin outside the mask named"
fi
# --plot without gnuplot on PATH fails before training, saying so.
PATH=/nonexistent "$distq" train maze4x3 -t 1 --seconds 60 \
	--plot "$tmp/c.png" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ]; then ok; else
	bad "--plot without gnuplot: exit $rc"; fi
expect_grep "gnuplot is not installed" "$tmp/err" "--plot: no gnuplot"
expect_grep "'sh scripts/deps.sh --install bench' installs" "$tmp/err" \
	"--plot: the deps.sh command that works"
if grep -q "no such file" "$tmp/err"; then
	bad "--plot: a stray errno text"; else ok; fi
# A curve every 20000 steps: the header, the first row at step 0, rows
# in order, the final row last, as many rows as the summary counts. (The
# monitor sees the step count when it gets a core: on a busy machine a
# 20 ms run may show only a few rows.)
cur=$tmp/curve.csv
expect_rc 0 train maze4x3 -t 1 -n 200000 --no-exact --eval-every 20k \
	--eval-episodes 10 --curve "$cur"
expect_grep "^index,seconds,steps,episodes,run_steps,mean_return,return_se,mean_discounted,discounted_se,exact_value,optimal_value,gap,epsilon,alpha,eval_seconds,final$" \
	"$cur" "--curve: header"
if awk -F, 'NR > 1 { n++; if (NF != 16 || $1 != n - 1 ||
	(n > 1 && $5 < last) || $16 != (n == rows)) bad = 1; last = $5 }
	END { exit !(n >= 3 && !bad) }' rows="$(($(wc -l <"$cur") - 1))" \
	"$cur"; then ok; else bad "--curve: rows"; cat "$cur"; fi
if awk -F, 'NR == 2 { exit !($3 == 0 && $10 != "nan" && $12 != "nan") }' \
	"$cur"; then ok; else bad "--curve: first row, exact value"; fi
if awk '$1 == "evaluations" { n = $2 } END { exit !(n == rows) }' \
	rows="$(($(wc -l <"$cur") - 1))" "$tmp/out"; then ok; else
	bad "--curve: summary count"; fi
# Without --curve the summary has the final evaluation's figures too.
expect_rc 0 train maze4x3 -t 1 -n 100000 --no-exact --eval-every 20k
if awk '$1 == "greedy" && $2 == "exact" { v = $4 + 0; s = $6 + 0 }
	END { exit !(v > 0.4 && s > 0.53 && s < 0.54) }' "$tmp/out"; then ok
else bad "--eval-every: summary figures"; cat "$tmp/out"; fi
# The target return stops the run.
expect_rc 0 train frozenlake4x4-det -t 1 --target-return 1 --no-exact \
	--eval-every 1k --eval-episodes 5
expect_grep "^stopped by  *target return reached$" "$tmp/out" \
	"--target-return: stop"
expect_grep "^target return  *1 reached after " "$tmp/out" \
	"--target-return: when"
# A run killed (SIGKILL) while writing its curve leaves whole rows.
kc=$tmp/killed.csv
"$distq" train taxi -q -t 1 --seconds 60 --no-exact --eval-every 0.02s \
	--curve "$kc" >/dev/null 2>&1 &
pid=$!
n=0
while [ "$({ wc -l <"$kc"; } 2>/dev/null || echo 0)" -lt 4 ] &&
	[ $n -lt 250 ]; do
	sleep 0.02; n=$((n + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
if awk -F, 'NR > 1 { for (i = 2; i <= 15; i++)
	if ($i != "nan" && $i !~ /^-?[0-9.]+(e[-+][0-9]+)?$/) bad = 1;
	if (NF != 16) bad = 1; n++ }
	END { exit !(n >= 3 && !bad) }' "$kc" &&
	[ "$(tail -c 1 "$kc" | od -An -c | tr -d ' ')" = '\n' ]; then ok; else
	bad "--curve: a killed run's CSV"; cat "$kc"; fi
# --plot draws a PNG (where gnuplot is installed).
if command -v gnuplot >/dev/null 2>&1; then
	expect_rc 0 train maze4x3 -q -t 1 -n 50000 --no-exact \
		--eval-every 10k --eval-episodes 5 --plot "$tmp/c.png"
	if [ "$(od -An -c -N 4 "$tmp/c.png" | tr -d ' ')" = '211PNG' ]; then
		ok; else bad "--plot: no PNG"; fi
	expect_rc 0 train cartpole -q -t 1 -n 20000 --eval-every 5k \
		--eval-episodes 3 --plot "$tmp/cp.png"
fi

# --tiles with the evaluator: the threshold is the stop (issue 15)
expect_rc 0 train cartpole -q -t 2 --pin none --tiles auto --seed 3 \
	--target-return 475 --eval-every 0.02s --seconds 60
expect_grep "stopped by  *target return reached" "$tmp/out" \
	"--tiles --target-return: CartPole solved"
expect_rc 2 train cartpole -q --tiles auto --share average

# The rules beyond one step checkpoint and resume with their parameters
# (the file's unless given; another n is refused, naming it).
expect_rc 0 train maze4x3 -q -t 1 --algo nstep-q --nstep 5 --steps 2k \
	--checkpoint "$tmp/ns.ckp"
expect_rc 0 train --resume "$tmp/ns.ckp" -q --steps 1k
expect_grep "^steps  *3000 " "$tmp/out" "nstep-q resumes"
expect_rc 1 train --resume "$tmp/ns.ckp" -q --steps 1k --nstep 3
expect_grep "nstep" "$tmp/err" "resume: another n named"
expect_rc 0 train maze4x3 -q -t 1 --algo q-lambda --softmax 0.5 --steps 2k \
	--checkpoint "$tmp/ql.ckp"
expect_rc 0 train --resume "$tmp/ql.ckp" -q --steps 1k
expect_grep "^steps  *3000 " "$tmp/out" "q-lambda under softmax resumes"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
