#!/bin/sh
# CPU and wall seconds of every test of the named suites, each test run
# alone (DQ_TEST_FILTER, tests/dq_test.h), slowest CPU first: where a
# suite's time goes (e.g. under a sanitizer).
# usage: test-times.sh BUILD_DIR SUITE...   e.g. build/san-thread test_rules
#   (the environment is passed on: DQ_STRESS, DQ_CONVERGE_STEPS, ...)
set -u
build=$1; shift
t=${TMPDIR:-/tmp}/dq-test-times.$$
trap 'rm -f "$t" "$t.l"' EXIT
: >"$t.l"
cpu() { times >"$t"; }
cpusec() {
	awk 'NR == 2 { n = split($0, f, /[ \t]+/); s = 0
		for (i = 1; i <= n; i++) { if (f[i] == "") continue
			split(f[i], p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
		printf "%.2f\n", s }' "$t"
}
for s in "$@"; do
	names=$(sed -n 's/.*cmocka_unit_test[a-z_]*(\([A-Za-z0-9_]*\).*/\1/p' \
		"tests/$s.c")
	for n in $names; do
		w0=$(date +%s.%N); cpu; c0=$(cpusec)
		DQ_TEST_FILTER=$n "$build/tests/$s" >/dev/null 2>&1
		rc=$?
		w1=$(date +%s.%N); cpu; c1=$(cpusec)
		echo "$w0 $w1 $c0 $c1 $s $n $rc" | awk '{ printf "%8.2f %8.2f  %s %s%s\n",
			$2 - $1, $4 - $3, $5, $6, $7 == 0 ? "" : " FAILED(" $7 ")" }' >>"$t.l"
	done
done
echo "test times ($build): wall s, CPU s (user+sys), slowest CPU first"
sort -k2,2nr "$t.l"
