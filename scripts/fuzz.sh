#!/bin/sh
# Run libFuzzer targets for a bounded time each and say what they did.
#
# usage: fuzz.sh SECONDS build/fuzz/fuzz_NAME...
#        fuzz.sh --toolchain CC    check that CC builds libFuzzer targets
#
# Each target starts from a scratch copy of tests/fuzz/corpus_NAME/ (the
# checked-in seeds never change) and runs for SECONDS; a crash, leak,
# sanitizer report or timeout fails the run and leaves the input under
# build/fuzz/run-NAME/. FUZZ_MAX_LEN bounds input sizes (default 4096).
set -u

if [ "${1:-}" = "--toolchain" ]; then
	cc=${2:-clang}
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "fuzz: '$cc' not found: clang with libFuzzer is required" \
			"(scripts/deps.sh installs it)" >&2
		exit 1
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/dq-fuzz-cc.XXXXXX") || exit 1
	cat >"$dir/t.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	return (int)(n && d[0] == 0);
}
EOF
	if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$dir/t" "$dir/t.c" \
		>"$dir/log" 2>&1; then
		cat "$dir/log" >&2
		echo "fuzz: '$cc' cannot build libFuzzer targets" \
			"(-fsanitize=fuzzer);" \
			"install clang (scripts/deps.sh)" >&2
		rm -rf "$dir"
		exit 1
	fi
	rm -rf "$dir"
	echo "fuzz: $("$cc" --version | head -n 1) with libFuzzer"
	exit 0
fi

[ $# -ge 2 ] || { echo "usage: $0 SECONDS TARGET..." >&2; exit 2; }
secs=$1
shift
max_len=${FUZZ_MAX_LEN:-4096}
fail=0
total_execs=0
total_secs=0

# The value of libFuzzer's final "stat::NAME: value" line in a log.
stat() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

for t in "$@"; do
	name=${t##*/fuzz_}
	run=build/fuzz/run-$name
	corpus=tests/fuzz/corpus_$name
	rm -rf "$run"
	mkdir -p "$run/corpus"
	seeds=0
	if [ -d "$corpus" ]; then
		cp "$corpus"/* "$run/corpus/" 2>/dev/null
		seeds=$(ls "$run/corpus" | wc -l)
	fi
	echo "== fuzz $name: $secs s from $seeds seeds"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	"$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=1 \
		-artifact_prefix="$run/" "$run/corpus" >"$run/log" 2>&1
	rc=$?
	execs=$(stat number_of_executed_units "$run/log")
	rate=$(stat average_exec_per_sec "$run/log")
	done_line=$(grep -a 'DONE' "$run/log" | tail -n 1)
	cov=$(echo "$done_line" | sed -n 's/.* cov: *\([0-9]*\).*/\1/p')
	corp=$(echo "$done_line" | sed -n 's/.* corp: *\([0-9]*\).*/\1/p')
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
		"$run/log" | tail -n 1)
	crashes=$(ls "$run" | grep -c -E '^(crash|leak|timeout|oom)-')
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ -z "$execs" ]; then
		fail=$((fail + 1))
		tail -n 60 "$run/log"
		echo "FAILED: fuzz $name (exit $rc); inputs kept in $run/:"
		ls "$run" | grep -E '^(crash|leak|timeout|oom)-' || true
		continue
	fi
	echo "fuzz $name: $execs execs in ${took:-$secs} s ($rate/s)," \
		"corpus $seeds -> ${corp:-?} inputs, cov ${cov:-?}, crashes 0"
	total_execs=$((total_execs + execs))
	total_secs=$((total_secs + ${took:-$secs}))
done

echo "fuzz: $# targets, $total_execs execs in $total_secs s, $fail failed"
[ "$fail" -eq 0 ]
