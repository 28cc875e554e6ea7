#!/bin/sh
# The README's install recipes, run against a private prefix STAGE where
# `make install PREFIX=STAGE` put libdistq, on the README's own example
# (the first ```c block of README.md, extracted here so that the two cannot
# drift) and on the example of libdistq(3):
#   1. pkg-config, run with LD_LIBRARY_PATH;
#   2. pkg-config plus an rpath, run as is;
#   3. static libdistq.a, with hwloc, zlib and libc shared;
# then checks that header, library, soname and distq.pc agree on the
# version, that only dq_* is exported, and that the manual pages and the
# documentation were installed.
#
# usage: install-test.sh STAGE OUTDIR
set -eu
stage=$1 out=$2
cc=${CC:-cc}
fail() {
	echo "install-test: $*" >&2
	exit 1
}
mkdir -p "$out"
export PKG_CONFIG_PATH="$stage/lib/pkgconfig"
pkg-config --exists distq || fail "pkg-config does not find distq in $PKG_CONFIG_PATH"
[ "$(pkg-config --variable=libdir distq)" = "$stage/lib" ] || fail "distq.pc: libdir is not $stage/lib"

# The README's example, verbatim.
awk '/^```c$/ { on = 1; n++; next } /^```$/ { on = 0 } on && n == 1' README.md > "$out/readme.c"
[ -s "$out/readme.c" ] || fail "no \`\`\`c block in README.md"
# libdistq(3)'s example: between .nf and .fi of EXAMPLES, roff escapes undone.
awk '/^\.SH EXAMPLES/ { ex = 1 } ex && /^\.nf/ { on = 1; next } on && /^\.fi/ { exit } on' \
	man/libdistq.3 | sed -e 's/\\e/\\/g' -e 's/\\-/-/g' > "$out/man3.c"
[ -s "$out/man3.c" ] || fail "no example in man/libdistq.3"

cflags="-std=c11 -Wall -Wextra -Werror"
# Where the dynamic loader finds libdistq.so.0 for PROGRAM.
libpath() { ldd "$1" | awk '$1 == "libdistq.so.0" { print $3 }'; }
for ex in readme man3; do
	src=$out/$ex.c
	# 1. Private prefix: pkg-config, then LD_LIBRARY_PATH at run time.
	# shellcheck disable=SC2046
	$cc $cflags "$src" $(pkg-config --cflags --libs distq) -o "$out/$ex-shared"
	[ "$(LD_LIBRARY_PATH="$stage/lib" libpath "$out/$ex-shared")" = "$stage/lib/libdistq.so.0" ] ||
		fail "$ex-shared does not load $stage/lib/libdistq.so.0"
	LD_LIBRARY_PATH="$stage/lib" "$out/$ex-shared" >/dev/null || fail "$ex-shared failed"
	# 2. The same with an rpath: runs without LD_LIBRARY_PATH.
	# shellcheck disable=SC2046
	$cc $cflags "$src" $(pkg-config --cflags --libs distq) \
		-Wl,-rpath,"$(pkg-config --variable=libdir distq)" -o "$out/$ex-rpath"
	[ "$(env -u LD_LIBRARY_PATH sh -c 'ldd "$0"' "$out/$ex-rpath" |
		awk '$1 == "libdistq.so.0" { print $3 }')" = "$stage/lib/libdistq.so.0" ] ||
		fail "$ex-rpath does not find libdistq.so.0 through its rpath"
	env -u LD_LIBRARY_PATH "$out/$ex-rpath" >/dev/null || fail "$ex-rpath failed"
	# 3. Static libdistq, shared system libraries (Debian has no static
	#    libudev, which a static hwloc would need).
	# shellcheck disable=SC2046
	$cc $cflags "$src" $(pkg-config --cflags distq) \
		"$(pkg-config --variable=libdir distq)/libdistq.a" \
		$(pkg-config --libs hwloc zlib) -lm -pthread -o "$out/$ex-static"
	! readelf -d "$out/$ex-static" | grep -q 'NEEDED.*libdistq' ||
		fail "$ex-static needs libdistq.so"
	env -u LD_LIBRARY_PATH "$out/$ex-static" >/dev/null || fail "$ex-static failed"
done
# The libraries the .a needs beyond hwloc and zlib are distq.pc's
# Libs.private: what pkg-config --static adds for a bare libdistq.a.
for l in -lm -pthread; do
	grep -q "^Libs.private:.* $l\b" "$PKG_CONFIG_PATH/distq.pc" || fail "distq.pc: Libs.private lacks $l"
done

# One version everywhere: the installed header, the library, distq.pc,
# the soname and the file name.
cat > "$out/version.c" <<'C'
#include <distq.h>
#include <stdio.h>
int
main(void)
{
	printf("%d.%d.%d %s %u\n", DQ_VERSION_MAJOR, DQ_VERSION_MINOR,
	       DQ_VERSION_PATCH, dq_version_string(), dq_version());
	return dq_version() != DQ_VERSION_HEX;
}
C
# shellcheck disable=SC2046
$cc $cflags "$out/version.c" $(pkg-config --cflags --libs distq) -o "$out/version"
set -- $(LD_LIBRARY_PATH="$stage/lib" "$out/version") || fail "header and library versions differ"
pcv=$(pkg-config --modversion distq)
[ "$1" = "$2" ] && [ "$1" = "$pcv" ] || fail "versions differ: header $1, library $2, distq.pc $pcv"
[ -f "$stage/lib/libdistq.so.$pcv" ] || fail "no $stage/lib/libdistq.so.$pcv"
readelf -d "$stage/lib/libdistq.so.$pcv" | grep -q "SONAME.*\[libdistq.so.${pcv%%.*}\]" ||
	fail "soname is not libdistq.so.${pcv%%.*}"

# The shared library exports the public API and nothing else.
bad=$(nm -D --defined-only "$stage/lib/libdistq.so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^dq_' || true)
[ -z "$bad" ] || fail "unexpected exports: $bad"

# Manual pages and documentation.
for f in share/man/man1/distq.1 share/man/man3/libdistq.3 \
	share/doc/libdistq/README.md share/doc/libdistq/cli.md; do
	[ -s "$stage/$f" ] || fail "not installed: $f"
done
grep -q "libdistq $pcv" "$stage/share/man/man1/distq.1" || fail "distq.1 does not carry version $pcv"
MANPATH="$stage/share/man" man -w distq >/dev/null 2>&1 || fail "man does not find distq(1) under $stage/share/man"

# libdistq-mpi, when built (Open MPI present): its .pc, header and shared
# library link a program (which runs without an MPI job: no MPI call).
if [ -f "$stage/lib/pkgconfig/distq-mpi.pc" ]; then
	pkg-config --exists distq-mpi || fail "pkg-config does not find distq-mpi"
	[ "$(pkg-config --modversion distq-mpi)" = "$(pkg-config --modversion distq)" ] ||
		fail "distq-mpi.pc and distq.pc disagree on the version"
	[ -x "$stage/bin/distq-mpi" ] || fail "not installed: bin/distq-mpi"
	[ -f "$stage/lib/libdistq-mpi.a" ] || fail "not installed: libdistq-mpi.a"
	cat >"$out/mpi.c" <<'EOC'
#include <distq/mpi.h>
int main(void) {
	dq_mpi_config c;
	return dq_mpi_config_init(&c) || dq_mpi_config_parse(&c, "delta:tau=5s") ||
	       c.unit != DQ_MPI_SECONDS || dq_mpi_size(NULL) != 1;
}
EOC
	$cc $cflags "$out/mpi.c" $(pkg-config --cflags --libs distq-mpi) -o "$out/mpi"
	LD_LIBRARY_PATH="$stage/lib" "$out/mpi" || fail "the libdistq-mpi program failed"
	bad=$(nm -D --defined-only "$stage/lib/libdistq-mpi.so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^dq_mpi_' || true)
	[ -z "$bad" ] || fail "libdistq-mpi.so: unexpected exports: $bad"
	echo "install-test: libdistq-mpi (.a, .so, distq-mpi.pc, distq-mpi) installed, linked through pkg-config, ran"
fi

echo "install-test: README and libdistq(3) examples built shared (LD_LIBRARY_PATH, rpath) and static and ran;" \
	"version $pcv agrees in header, library, soname, distq.pc; exports dq_* only; man pages and docs installed"
