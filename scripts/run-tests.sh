#!/bin/sh
# Run each cmocka suite; print its output; fail if any fails.
# usage: run-tests.sh BUILD_DIR test...
set -u
build=$1; shift
pass=0; fail=0; failed=""
for t in "$@"; do
	echo "== $t"
	if "$t"; then pass=$((pass + 1)); else
		fail=$((fail + 1)); failed="$failed $t"
	fi
done
echo "suites ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
