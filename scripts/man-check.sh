#!/bin/sh
# The manual pages: mandoc finds no warning in them, distq(1) describes
# every command and option the program's own help lists, and libdistq(3)
# names every public function of the headers.
#
# usage: man-check.sh DISTQ_PROGRAM INCLUDE_DIR MAN_DIR
set -u
distq=$1 inc=$2 man=$3
fail=0
bad() {
	echo "man-check: $*" >&2
	fail=1
}
command -v mandoc >/dev/null 2>&1 || { echo "man-check: mandoc not found (make deps installs it)" >&2; exit 1; }
for p in "$man"/*.[0-9]; do
	out=$(mandoc -T lint -W warning "$p" 2>&1) || bad "$p: mandoc -T lint: $out"
done

# distq(1) against 'distq --help' and 'distq COMMAND --help' (roff writes
# a hyphen as \-).
page=$man/distq.1
cmds=$("$distq" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || bad "no commands in '$distq --help'"
for c in $cmds; do
	grep -q "^\.B[RI]* $c\b" "$page" || bad "$page: command '$c' not described"
	for o in $("$distq" "$c" --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
		r=$(echo "$o" | sed 's/-/\\\\-/g')
		grep -q -- "$r\b" "$page" || bad "$page: option $o of '$c' not described"
	done
done

# libdistq(3) names every exported function of the headers.
page=$man/libdistq.3
fns=$(find "$inc" -name '*.h' -exec sed -n 's/^DQ_API[^(]*[ *]\(dq_[a-z0-9_]*\)(.*/\1/p' {} + | sort -u)
[ -n "$fns" ] || bad "no DQ_API functions found in $inc"
for f in $fns; do
	grep -q "^\.BR $f ()" "$page" || bad "$page: function $f() not named"
done
[ "$fail" -eq 0 ] || exit 1
echo "man-check: mandoc lint clean; distq(1) covers $(echo "$cmds" | wc -w) commands and their options; libdistq(3) names $(echo "$fns" | wc -w) functions"
