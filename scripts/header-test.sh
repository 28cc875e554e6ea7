#!/bin/sh
# The public headers compile wherever a user is: <distq.h> and each of its
# parts <distq/*.h> alone, without a warning (-Wall -Wextra -pedantic
# -Werror), as C99, C11 and C17 with gcc and clang and as C++11, C++14,
# C++17 and C++20 with g++ and clang++. Each is included twice (its
# guard), all are included together (no clash between them), and a
# program that includes the umbrella links against the library from each
# language (the inline functions and the C linkage of the declarations).
#
# usage: header-test.sh INCLUDE_DIR STATIC_LIBRARY LDLIBS...
set -u
inc=$(cd "$1" && pwd) lib=$2 # absolute: try() compiles in a scratch directory
shift 2
out=${TMPDIR:-/tmp}/distq-header-test.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
fail=0
n=0
flags="-Wall -Wextra -pedantic -Werror -I$inc"

for t in gcc clang g++ clang++; do
	command -v $t >/dev/null 2>&1 ||
		{ echo "header-test: $t not found (make deps installs it)" >&2; exit 1; }
done
headers="distq.h $(cd "$inc" && ls distq/*.h)"
[ "$(echo $headers | wc -w)" -gt 2 ] || { echo "header-test: no parts in $inc/distq/" >&2; exit 1; }

# One translation unit per header, which includes it alone and twice (so
# that a missing include or guard shows), and one with every header, the
# parts in reverse order before the umbrella (no clash between them).
units=""
for h in $headers; do
	f=$out/$(echo "$h" | tr / _)
	printf '#include <%s>\n#include <%s>\nint dq_header_test_unit(void);\nint dq_header_test_unit(void) { return 0; }\n' "$h" "$h" >"$f.c"
	units="$units $f"
done
f=$out/all
{
	echo "/* every header */"
	for h in $(echo $headers | tr ' ' '\n' | sort -r); do echo "#include <$h>"; done
	echo "int dq_header_test_unit(void);"
	echo "int dq_header_test_unit(void) { return 0; }"
} >"$f.c"
units="$units $f"
for f in $units; do cp "$f.c" "$f.cpp"; done

# Every unit of one language in one compiler run per mode (a run per
# unit cost twice the CPU, mostly in starting the compilers); each unit is
# still its own translation unit, and a failure names its file (the
# header's name) in the compiler's message.
try() { # COMPILER STD FILE...
	c=$1 s=$2
	shift 2
	n=$((n + $#))
	rm -rf "$out/o" && mkdir "$out/o" || exit 1
	if ! msg=$(cd "$out/o" && $c -std=$s $flags -c "$@" 2>&1); then
		echo "header-test: $c -std=$s fails on a header:" >&2
		echo "$msg" | head -20 >&2
		fail=1
	fi
}
cunits="" cxxunits=""
for f in $units; do
	cunits="$cunits $f.c"
	cxxunits="$cxxunits $f.cpp"
done
for cc in gcc clang; do
	for std in c99 c11 c17; do try $cc $std $cunits; done
done
for cxx in g++ clang++; do
	for std in c++11 c++14 c++17 c++20; do try $cxx $std $cxxunits; done
done

# A program in each language that calls the inline functions and links:
# the declarations have C linkage, the inline code compiles in each mode.
cat >"$out/prog.c" <<'PROG'
#include <distq.h>
#include <stdlib.h>
int main(void)
{
	dq_rng r;
	dq_outcome o[2];
	dq_step st = {0, 1.0, true, false};
	void *p = dq_env_instance_alloc(100);
	size_t n;

	if (!p || ((size_t)p & 63) || dq_rng_seed(&r, 1, 0))
		return 1;
	free(p);
	n = dq_outcome_merge(o, 0, 0.5, &st);
	n = dq_outcome_merge(o, n, 0.5, &st);
	return !(n == 1 && dq_rng_uniform(&r) < 1.0 && dq_rng_below(&r, 3) < 3 &&
		 dq_version() == DQ_VERSION_HEX);
}
PROG
cp "$out/prog.c" "$out/prog.cpp"
link() { # COMPILER STD FILE LDLIBS...
	c=$1 s=$2 src=$3
	shift 3
	n=$((n + 1))
	if ! msg=$($c -std=$s $flags -o "$out/prog" "$src" "$lib" "$@" 2>&1) ||
		! "$out/prog"; then
		echo "header-test: a program built by $c -std=$s fails:" >&2
		echo "$msg" | head -20 >&2
		fail=1
	fi
}
for std in c99 c11 c17; do
	link gcc $std "$out/prog.c" "$@"
	link clang $std "$out/prog.c" "$@"
done
for std in c++11 c++14 c++17 c++20; do
	link g++ $std "$out/prog.cpp" "$@"
	link clang++ $std "$out/prog.cpp" "$@"
done
[ "$fail" -eq 0 ] || exit 1
echo "header-test: $(echo $headers | wc -w) headers, $n compilations and programs, C99-C17 and C++11-C++20 with gcc, clang, g++, clang++: no warning"
