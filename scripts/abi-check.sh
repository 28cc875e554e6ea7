#!/bin/sh
# The ABI of the built libdistq.so against the committed baseline
# (abi/README.md says when and how the baseline changes).
#
# usage: abi-check.sh BASELINE LIBRARY HEADERS_DIR [SUPPRESSIONS]
#
# Fails when the library, compared with BASELINE by libabigail's abidiff
# over the public types of HEADERS_DIR:
#  - removes or changes anything (an incompatible change), unless the
#    soname's major number moved; a field that takes a struct's reserved
#    words is compatible (abi/libdistq.suppr), a struct whose size
#    changed never is;
#  - adds anything that the baseline does not yet hold (regenerate it);
#  - exports a symbol outside a DISTQ_* version node, or an inline function
#    of the headers without its exported NAME_fn twin;
#  - has no debug information (the comparison needs -g).
set -u
base=$1 lib=$2 hdr=$3 suppr=${4:-}
regen="make abi-baseline"
fail() {
	echo "abi-check: $*" >&2
	exit 1
}
for t in abidiff readelf nm objdump; do
	command -v $t >/dev/null 2>&1 || fail "$t not found (make deps installs abigail-tools, binutils)"
done
[ -f "$base" ] || fail "no baseline $base; create it with: $regen"
[ -f "$lib" ] || fail "no library $lib"
readelf -S "$lib" | grep -q '\.debug_info' ||
	fail "$lib has no debug information; build it with -g (the default CFLAGS)"

# Every exported symbol carries a DISTQ_* version (abi/libdistq.map).
unversioned=$(objdump -T "$lib" | awk '$2 == "g" && $NF ~ /^dq_/ && $(NF-1) !~ /^DISTQ_/ { print $NF }' | tr '\n' ' ')
[ -z "$unversioned" ] || fail "exported without a DISTQ_* version: $unversioned"

# Every inline function of the public headers has an exported twin.
exports=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sed 's/@.*//')
# (the name is the word before the parenthesis, on the line of
# "static inline" or on the next one)
inl=$(find "$hdr" -name '*.h' -exec awk '/^static inline/ { l = $0
	if (l !~ /\(/) { getline; l = l " " $0 }
	sub(/\(.*/, "", l); n = split(l, w, /[ *]+/); print w[n] }' {} + |
	grep '^dq_[a-z]' | grep -v '^dq__' | sort -u)
[ -n "$inl" ] || fail "found no inline functions in $hdr (the twin check would be empty)"
for f in $inl; do
	echo "$exports" | grep -qx "${f}_fn" || fail "inline $f() has no exported twin ${f}_fn"
done

# The soname may move: then incompatible changes are what it is for.
old=$(sed -n "s/.*<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$base" | head -1)
new=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$old" != "$new" ]; then
	echo "abi-check: soname moved from $old to $new: incompatible changes are" \
		"allowed; record the new ABI with: $regen"
	exit 0
fi

set -- --hd1 "$hdr" --hd2 "$hdr" --fail-no-debug-info
[ -n "$suppr" ] && [ -f "$suppr" ] && set -- "$@" --suppressions "$suppr"
out=$(abidiff "$@" --no-added-syms "$base" "$lib" 2>&1)
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
	echo "$out" >&2
	fail "abidiff failed (status $rc)"
fi
if [ "$rc" -ne 0 ]; then
	echo "$out" >&2
	fail "INCOMPATIBLE change to the ABI of $new against $base (above).
  Undo it, or move the soname: raise DQ_VERSION_MAJOR in the header, then
  run '$regen' and commit $base.
  Before the first release, when merged branches changed the API on
  purpose, record the merged API with '$regen' and commit $base."
fi
# The suppressions let a field take a struct's reserved words; they must
# not hide a struct whose size changed (nor does abidiff call that
# incompatible by itself when the struct is only reached by pointer).
out=$(abidiff --hd1 "$hdr" --hd2 "$hdr" --no-added-syms "$base" "$lib" 2>&1)
if echo "$out" | grep -Eq '^[[:space:]]*type size changed'; then
	echo "$out" >&2
	fail "INCOMPATIBLE: a public struct changed size (above). A field added
  in a minor version takes reserved words (include/distq.h, \"Growing
  structs\"); anything else moves the soname: raise DQ_VERSION_MAJOR and
  run '$regen'."
fi
out=$(abidiff "$@" "$base" "$lib" 2>&1)
if [ $? -ne 0 ]; then
	echo "$out" >&2
	fail "compatible additions that $base does not hold yet (above).
  Record them: run '$regen' and commit $base (after the first release,
  also list them in a new version node of abi/libdistq.map)."
fi
n=$(echo "$inl" | wc -l)
echo "abi-check: $new matches $base; exports versioned; $n inline functions have twins"
