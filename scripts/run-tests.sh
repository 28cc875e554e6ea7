#!/bin/sh
# Run each cmocka suite; print its output; fail if any fails. After the
# last suite, one line per suite with its wall seconds and CPU seconds
# (user+sys of the suite, its threads and children), slowest first: CPU
# seconds stay comparable on a loaded machine, wall seconds do not.
# usage: run-tests.sh BUILD_DIR test...
#   DQ_TEST_FILTER   run only the tests it names (tests/dq_test.h)
set -u
build=$1; shift
pass=0; fail=0; failed=""
tmp=${TMPDIR:-/tmp}/dq-run-tests.$$
trap 'rm -f "$tmp" "$tmp.t"' EXIT
: >"$tmp"
# CPU seconds (user+sys) of the children this shell waited for, from the
# POSIX times builtin's second line. times must run in this shell, not in
# a $(...) subshell (whose children are none): cpu writes "$tmp.t", cpusec
# reads it.
cpu() { times >"$tmp.t"; }
cpusec() {
	awk 'NR == 2 { n = split($0, f, /[ \t]+/); s = 0
		for (i = 1; i <= n; i++) { if (f[i] == "") continue
			split(f[i], p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
		printf "%.2f\n", s }' "$tmp.t"
}
now() { date +%s.%N; }
for t in "$@"; do
	echo "== $t"
	w0=$(now); cpu; c0=$(cpusec)
	if "$t"; then pass=$((pass + 1)); res=ok; else
		fail=$((fail + 1)); failed="$failed $t"; res=FAILED
	fi
	w1=$(now); cpu; c1=$(cpusec)
	echo "$w0 $w1 $c0 $c1 $(basename "$t") $res" | awk \
		'{ printf "%8.2f %8.2f  %s %s\n", $2 - $1, $4 - $3, $5, $6 }' >>"$tmp"
done
echo "suite times ($build): wall s, CPU s (user+sys), slowest CPU first"
sort -k2,2nr "$tmp" | sed 's/^/  /'
awk '{ w += $1; c += $2 } END { printf "  %8.2f %8.2f  total\n", w, c }' "$tmp"
echo "suites ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
