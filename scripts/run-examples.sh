#!/bin/sh
# Run every built example and the CLI test script; fail on any failure.
# usage: run-examples.sh BUILD_DIR
set -u
build=$1
pass=0; fail=0
for e in "$build"/examples/*; do
	[ -x "$e" ] || continue
	echo "== $e"
	if "$e"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $e"; fi
done
if [ -f tests/test_cli.sh ]; then
	echo "== tests/test_cli.sh"
	if sh tests/test_cli.sh "$build"; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAILED: tests/test_cli.sh"; fi
fi
echo "examples ($build): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
