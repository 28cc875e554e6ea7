#!/bin/sh
# make test-mpi: real mpirun jobs of 2 and 3 ranks on this machine
# (docs/distributed.md). BUILD holds distq, distq-mpi and
# tests/mpi/test_mpi. Skipped, saying why, without mpirun.
#
#   the sync arithmetic, hand-computed (average, delta: sparse and dense
#   exchanges; distql ALL and Partial), no lost update, agreement on a
#   stop request, a summed step limit and an agent error; with distq-mpi:
#   one rank is distq, the exact optimum of taxi with 2 ranks, checkpoint
#   and resume on the same and on another world size, Ctrl-C, a killed
#   rank and a stopped rank.
set -u
BUILD=${1:-build}
if ! command -v mpirun >/dev/null 2>&1; then
	echo "test-mpi: skipped, no mpirun (make deps installs openmpi-bin)"
	exit 0
fi
# Root is refused by Open MPI unless told; --bind-to none: libdistq pins
# its own threads within the process's mask; --oversubscribe: more ranks
# than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Only the shared-memory and self transports: no network set-up, quiet.
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1
# No single-copy (process_vm_readv) between ranks: containers' default
# seccomp profile forbids it, and Open MPI then fails large messages.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
RUN="mpirun --oversubscribe --bind-to none"
T=$BUILD/tests/mpi/test_mpi
D=$BUILD/distq-mpi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dq-mpi.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fails=0 n=0
start=$(date +%s)

ok() { n=$((n + 1)); }
fail() {
	echo "test-mpi: FAIL: $*" >&2
	fails=$((fails + 1))
}

# job NAME NP ARGS...: test_mpi, every rank must say ok.
job() {
	name=$1 np=$2
	shift 2
	if timeout 60 $RUN -np "$np" "$T" "$@" >"$TMP/out" 2>&1 &&
		[ "$(grep -c ' ok$' "$TMP/out")" -eq "$np" ]; then
		ok
	else
		fail "$name ($np ranks):"
		sed 's/^/    /' "$TMP/out" >&2
	fi
}

# The library's parser reads distq's spellings too (steps=, ':').
job "average, sparse" 2 arith average:tau=1 sparse
job "average, dense" 3 arith average:steps=1 dense
job "delta, dense" 2 arith delta,steps=1 dense
job "delta, sparse" 3 arith delta:tau=1 sparse
job "distql ALL" 3 arith distql:tau=1e9,all auto
job "distql Partial" 3 arith distql:episodes=1e9:partial auto
job "agreed stop" 3 stop
job "summed step limit" 3 steps
# ... whose ranks drew from three different random streams.
if [ "$(grep '^stream' "$TMP/out" | awk '{ print $3 }' | sort -u |
	wc -l)" -ne 3 ]; then
	fail "the ranks' random streams are not distinct:"
	grep '^stream' "$TMP/out" >&2
fi
job "agent error" 2 error

# No lost update: every rank ends with the sum of all ranks' additions.
if timeout 60 $RUN -np 3 "$T" lost >"$TMP/out" 2>&1 &&
	awk '/^lost rank/ { sum += $5; f[$3] = $7; n++ }
	     END { if (n != 3) exit 1
		   for (r in f) if (f[r] != sum) exit 1 }' "$TMP/out"; then
	ok
else
	fail "no lost update:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# One rank is distq: the same run, the same numbers.
common="taxi --threads 1 --steps 20000 --seed 7 --no-exact --pin none"
"$BUILD/distq" train $common >"$TMP/one" 2>&1
$RUN -np 1 "$D" train $common --share average:tau=100 >"$TMP/mpi1" 2>&1
if grep -E '^(steps |episodes|mean return)' "$TMP/one" >"$TMP/a" &&
	grep -E '^(steps |episodes|mean return)' "$TMP/mpi1" >"$TMP/b" &&
	[ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then
	ok
else
	fail "one rank differs from distq:"
	diff "$TMP/a" "$TMP/b" >&2
fi

# --share has distq's grammar (cli/share.c): the same spellings make the
# same policy, the old ones are aliases, and what exists only in one
# process is refused, saying why.
share_line() { # SPEC LINE: a 2-rank run of SPEC reports LINE
	if timeout 60 $RUN -np 2 "$D" train taxi --threads 1 --steps 20000 \
		--pin none --no-exact -q --share "$1" >"$TMP/out" 2>&1 &&
		grep -q "^ranks  *2, $2 (the counts" "$TMP/out"; then
		ok
	else
		fail "--share $1 is not '$2':"
		sed 's/^/    /' "$TMP/out" >&2
	fi
}
share_line average:seconds=0.05 "average every 0.05 s"
share_line average:tau=0.05s,timeout=2 "average every 0.05 s"
share_line delta:steps=1000:exchange=sparse "delta every 1000 steps"
share_line distql:tau=5:partial:eta=0.5 "distql every 5 episodes, partial"
if ! $RUN -np 1 "$D" train taxi --share distql:epsilon-decay=on \
	>"$TMP/out" 2>&1 && grep -q "epsilon-decay= is the in-process" \
	"$TMP/out" && ! $RUN -np 1 "$D" train taxi --share average:tau=2x \
	>"$TMP/out" 2>&1 && grep -q "expected none|average" "$TMP/out"; then
	ok
else
	fail "--share refusals:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# Bad usage is said once, by rank 0, and every rank exits with status 2
# (each rank's status echoed, so that mpirun runs both to their end).
if timeout 60 $RUN -np 2 sh -c '"$0" train taxi --bogus; echo "exit $?"' \
	"$D" >"$TMP/out" 2>&1 &&
	[ "$(grep -c "unknown option '--bogus'" "$TMP/out")" -eq 1 ] &&
	[ "$(grep -c '^exit 2$' "$TMP/out")" -eq 2 ]; then
	ok
else
	fail "a usage error, 2 ranks:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# Two ranks reach the exactly optimal taxi policy, and rank 0 saves it.
if timeout 60 $RUN -np 2 "$D" train taxi --threads 1 --target 1 \
	--seconds 30 --pin none --share average:tau=0.02s \
	--save "$TMP/t.ckpt" >"$TMP/out" 2>&1 &&
	grep -q '^stopped by *target reached' "$TMP/out" &&
	grep -q '^optimal fraction *100.0%' "$TMP/out" &&
	[ "$(grep -c '^environment' "$TMP/out")" -eq 1 ]; then
	ok
else
	fail "taxi with 2 ranks:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# Resume on the same world size: every agent restored, counts go on.
$RUN -np 2 "$D" train taxi --threads 1 --steps 40000 --pin none \
	--no-exact --share delta:tau=1000 --save "$TMP/r.ckpt" \
	>"$TMP/out" 2>&1
if timeout 60 $RUN -np 2 "$D" train --resume "$TMP/r.ckpt" --steps 40000 \
	--pin none --no-exact --share delta:tau=1000 >"$TMP/out" 2>&1 &&
	grep -q '^steps *80000 (40000 in this run)' "$TMP/out" &&
	grep -q '^agents *1 ' "$TMP/out" && ! grep -q dropped "$TMP/out"; then
	ok
else
	fail "resume on 2 ranks:"
	sed 's/^/    /' "$TMP/out" >&2
fi
# The file records the world (distq inspect shows it).
if "$BUILD/distq" inspect "$TMP/r.ckpt" >"$TMP/out" 2>&1 &&
	grep -q '^world  *2 ranks x 1 agents, delta:steps=1000$' "$TMP/out"; then
	ok
else
	fail "the world in the checkpoint:"
	sed 's/^/    /' "$TMP/out" >&2
fi
# On another size: the table only, saying what it drops, both shapes.
if timeout 60 $RUN -np 3 "$D" train --resume "$TMP/r.ckpt" --steps 30000 \
	--threads 1 --pin none --no-exact --share delta:tau=1000 \
	>"$TMP/out" 2>&1 &&
	grep -q 'written by 2 ranks x 1 agents (delta:steps=1000), this job runs 3 ranks x 1 agents' "$TMP/out" &&
	grep -q '^steps *110000 (30000 in this run)' "$TMP/out"; then
	ok
else
	fail "resume on 3 ranks:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# A checkpoint written during the run (--checkpoint-every) holds every
# rank's agents, gathered by the communication threads, and the world;
# a resume of it on the same world restores every agent and goes on.
timeout 60 $RUN -np 2 "$D" train taxi --threads 1 --seconds 4 --pin none \
	--no-exact -q --share average:seconds=0.05 --checkpoint "$TMP/m.ckpt" \
	--checkpoint-every 0.3 >"$TMP/out" 2>&1 &
mp=$!
i=0
while [ ! -f "$TMP/m.ckpt" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
cp "$TMP/m.ckpt" "$TMP/mid.ckpt" 2>/dev/null
wait $mp
"$BUILD/distq" inspect "$TMP/mid.ckpt" >"$TMP/ins" 2>&1
ms=$(awk '/^steps / { print $2 }' "$TMP/ins")
fs=$("$BUILD/distq" inspect "$TMP/m.ckpt" 2>/dev/null | awk '/^steps / { print $2 }')
if grep -q '^agents  *2 (resumable' "$TMP/ins" &&
	grep -q '^world  *2 ranks x 1 agents, average:seconds=0.05$' \
		"$TMP/ins" && [ -n "$ms" ] && [ -n "$fs" ] && [ "$ms" -lt "$fs" ] &&
	timeout 60 $RUN -np 2 "$D" train --resume "$TMP/mid.ckpt" \
		--steps 20000 --pin none --no-exact \
		--share average:seconds=0.05 >"$TMP/out" 2>&1 &&
	grep -q "^steps *$((ms + 20000)) (20000 in this run)" "$TMP/out" &&
	grep -q '^agents *1 ' "$TMP/out" && ! grep -q dropped "$TMP/out"; then
	ok
else
	fail "a checkpoint during the run ($ms of $fs steps):"
	sed 's/^/    /' "$TMP/ins" "$TMP/out" >&2
fi

# bg_job NP: a long distq-mpi run in the background; $mp is mpirun.
bg_job() {
	$RUN -np "$1" "$D" train taxi --threads 1 --seconds 60 --pin none \
		--no-exact --share average:tau=0.05s,timeout=2 \
		>"$TMP/out" 2>&1 &
	mp=$!
	# Until mpirun has started every rank, and a moment for MPI_Init.
	i=0
	while [ "$(pgrep -P "$mp" | wc -l)" -lt "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 1.5
}
# waited SECONDS: mpirun ended within SECONDS; its status in $rc.
waited() {
	i=0
	while kill -0 "$mp" 2>/dev/null && [ $i -lt $(($1 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$mp" 2>/dev/null; then
		kill -9 "$mp" 2>/dev/null
		wait "$mp" 2>/dev/null
		return 1
	fi
	wait "$mp"
	rc=$?
	return 0
}

# Ctrl-C on mpirun: every rank stops; rank 0 prints the summary.
bg_job 2
kill -INT "$mp"
if waited 10 && grep -q '^stopped by *interrupted' "$TMP/out"; then
	ok
else
	fail "Ctrl-C:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# A killed rank: the job ends with an error within seconds.
bg_job 3
victim=$(pgrep -P "$mp" | sed -n 2p)
kill -9 "$victim"
if waited 10 && [ "$rc" -ne 0 ]; then
	ok
else
	fail "killed rank: mpirun still running or status 0:"
	sed 's/^/    /' "$TMP/out" >&2
fi

# A stopped rank (hung, alive): the others give up after the timeout (2 s)
# and end the job.
bg_job 3
victim=$(pgrep -P "$mp" | sed -n 2p)
kill -STOP "$victim"
if waited 10 && [ "$rc" -ne 0 ] &&
	grep -q 'did not answer in time' "$TMP/out"; then
	ok
else
	fail "stopped rank:"
	sed 's/^/    /' "$TMP/out" >&2
fi
kill -CONT "$victim" 2>/dev/null

secs=$(($(date +%s) - start))
if [ $fails -ne 0 ]; then
	echo "test-mpi: $fails of $((n + fails)) failed" >&2
	exit 1
fi
echo "test-mpi: $n mpirun checks passed in ${secs} s"
