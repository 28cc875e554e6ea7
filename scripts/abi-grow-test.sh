#!/bin/sh
# The ABI check allows what the header promises and nothing more: in a
# copy of the tree (build/abi-grow/), a field that takes reserved words of
# dq_table_config and of dq_schedule (nested twice in dq_learner_config)
# must pass scripts/abi-check.sh against the committed baseline, and the
# same field added without giving up a reserved word (the struct grows)
# must fail it.
#
# usage: abi-grow-test.sh
set -u
fail() {
	echo "abi-grow-test: $*" >&2
	exit 1
}
tmp=build/abi-grow
rm -rf "$tmp"
mkdir -p "$tmp/src"
tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$tmp/src" ||
	fail "cannot copy the tree"
cd "$tmp/src" || exit 1
mkdir -p build && touch build/.deps-build-ok

# grow SHRINK: a double after the last named field of the two structs (dq_table_config,
# dq_schedule; the first stands alone, the second sits inside dq_agent_config),
# reserved_ one word shorter when SHRINK is 1
grow() {
	python3 - "$1" <<'PY' || fail "cannot edit the headers"
import re, sys
shrink = sys.argv[1] == "1"
for path, after in (("include/distq/table.h", r"\tbool visit_counts;"),
		    ("include/distq/agent.h", r"double steps;")):
	s = open(path).read()
	pat = r"(%s[^\n]*\n)(\s*)uint64_t reserved_\[(\d+)\];" % after
	def rep(m):
		n = int(m.group(3)) - (1 if shrink else 0)
		return "%s%sdouble grown_; /**< A later field. */\n%suint64_t reserved_[%d];" % (
			m.group(1), m.group(2), m.group(2), n)
	s, k = re.subn(pat, rep, s, count=1)
	if k != 1:
		sys.exit("no reserved_ after %s in %s" % (after, path))
	open(path, "w").write(s)
PY
}
# The copy's library is built at -O1: abidiff compares the debug
# information's types and the exported symbols, which the optimisation
# level does not change (the baseline is an -O2 build; the first check
# below, which must pass, compares an -O1 build with it), and
# -O1 compiles lib/learner.c's loop instances in 60% of -O2's CPU time.
check() { # the abi-check of the copy's library
	make -s --no-print-directory OPT=-O1 abi-check >check.log 2>&1
}

cp -R include include.orig
grow 1
check || { cat check.log >&2; fail "a field that takes reserved words is reported incompatible (above)"; }
rm -rf include && cp -R include.orig include
grow 0
check && fail "a struct that grew passes the ABI check"
grep -q 'changed size' check.log || { cat check.log >&2; fail "a struct that grew fails for another reason (above)"; }
echo "abi-grow-test: a field in reserved words (dq_table_config, dq_schedule in dq_learner_config) passes abi-check; the same field growing the struct fails it"
