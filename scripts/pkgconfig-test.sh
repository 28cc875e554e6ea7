#!/bin/sh
# Build an example against the installed libdistq through pkg-config only,
# link it both shared and static, and run both.
# usage: pkgconfig-test.sh STAGE_PREFIX SOURCE OUTPUT
set -eu
stage=$1 src=$2 out=$3
cc=${CC:-cc}
pkg-config --exists distq || { echo "pkg-config: distq not found" >&2; exit 1; }
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Wextra -Werror -o "$out" "$src" $(pkg-config --cflags --libs distq)
LD_LIBRARY_PATH="$stage/lib" "$out" >/dev/null
# Static libdistq with the system's shared hwloc and zlib (what a program
# that vendors libdistq.a does; a fully static hwloc needs libudev's too).
# The private dependencies come from distq.pc's Requires.private.
privreq=$(pkg-config --print-requires-private distq | awk '{print $1}' | tr '\n' ' ')
# shellcheck disable=SC2046,SC2086
$cc -std=c11 -Wall -Wextra -Werror -o "$out-static" "$src" $(pkg-config --cflags distq) \
	"$stage/lib/libdistq.a" $(pkg-config --libs $privreq) -lm -pthread
"$out-static" >/dev/null
# The shared library exports the public API and nothing else.
bad=$(nm -D --defined-only "$stage/lib/libdistq.so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^dq_' || true)
[ -z "$bad" ] || { echo "pkg-config test: unexpected exports: $bad" >&2; exit 1; }
readelf -d "$stage/lib/libdistq.so" | grep -q 'SONAME.*libdistq.so.0' || { echo "no soname" >&2; exit 1; }
echo "pkg-config: shared and static builds of $(basename "$src") ran; soname ok; exports dq_* only"
