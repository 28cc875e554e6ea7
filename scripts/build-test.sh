#!/bin/sh
# Building never surprises.
#
# 1. It never installs: in a copy of the source tree without build/,
# with hwloc and zlib hidden from pkg-config and apt-get and sudo replaced
# by recorders, a plain `make` must name what is missing and stop without
# calling either; only the set-up targets (here make check's stamp) may
# call apt-get, and they say what they install.
# 2. It uses what the user gives: CC, AR, CFLAGS (after the project's flags,
# so they win), LDFLAGS, and WERROR=0 drops -Werror (read from make -n).
#
# usage: build-test.sh
set -eu
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dq_deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() {
	echo "build-test: $*" >&2
	exit 1
}
mkdir "$tmp/src" "$tmp/bin"
tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$tmp/src"
for t in apt-get sudo; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$t" "$tmp" > "$tmp/bin/$t"
	chmod +x "$tmp/bin/$t"
done
# The make under test is not part of the calling make (no jobserver, flags).
unset MAKEFLAGS MFLAGS MAKELEVEL
export PATH="$tmp/bin:$PATH" PKG_CONFIG_LIBDIR=/nonexistent
unset PKG_CONFIG_PATH

if make -C "$tmp/src" > "$tmp/out" 2>&1; then
	fail "plain make succeeded without hwloc and zlib"
fi
[ ! -e "$tmp/calls" ] || fail "plain make ran: $(cat "$tmp/calls")"
grep -q 'missing: hwloc.*zlib' "$tmp/out" || fail "plain make did not name what is missing: $(cat "$tmp/out")"
grep -q "make deps" "$tmp/out" || fail "plain make did not say how to install"
[ ! -e "$tmp/src/build/.deps-ok" ] || fail "plain make wrote build/.deps-ok"

make -C "$tmp/src" build/.deps-ok > "$tmp/out" 2>&1 || true
grep -q 'apt-get install.*libhwloc-dev zlib1g-dev' "$tmp/calls" 2>/dev/null ||
	fail "make check's set-up did not install the missing packages"
grep -q 'installing Debian packages: libhwloc-dev zlib1g-dev' "$tmp/out" ||
	fail "make check's set-up did not say what it installs"

unset PKG_CONFIG_LIBDIR
rm -rf "$tmp/src/build"
make -C "$tmp/src" -n -B V=1 CC=dq-test-cc AR=dq-test-ar \
	CFLAGS=-DDQ_USER_CFLAGS LDFLAGS=-Wl,-z,dq-user WERROR=0 all > "$tmp/n" 2>&1 ||
	fail "make -n failed: $(tail -3 "$tmp/n")"
# One command per line: join the backslash continuations.
sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$tmp/n" > "$tmp/cmds"
grep -E ' -c [a-z]+/' "$tmp/cmds" > "$tmp/cc" || fail "no compile commands in make -n"
! grep -v '^dq-test-cc ' "$tmp/cc" | grep -q . || fail "a compile ignores CC"
! grep -v -- '-O2 .*-DDQ_USER_CFLAGS' "$tmp/cc" | grep -q . ||
	fail "CFLAGS missing or not after the project's flags"
! grep -q -- '-Werror' "$tmp/cc" || fail "WERROR=0 left -Werror on"
grep -q 'dq-test-ar rcs build/libdistq.a' "$tmp/cmds" || fail "the archive ignores AR"
for out in 'build/libdistq.so' 'build/distq '; do
	grep -- "-o $out" "$tmp/cmds" | grep -q -- '-Wl,-z,dq-user' || fail "linking $out ignores LDFLAGS"
done
make -C "$tmp/src" -n -B V=1 all 2>&1 | grep -q -- '-Werror' || fail "-Werror is not on by default"
echo "build-test: plain make names missing packages and stops without apt-get;" \
	"make check's set-up installs them and says so; CC AR CFLAGS LDFLAGS WERROR=0 honoured"
