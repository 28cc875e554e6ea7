#!/bin/sh
# Run a command and append "NAME WALL CPU STATUS" to LOG: wall seconds and
# CPU seconds (user+sys of the command and everything it waited for: the
# compilers, the suites and their threads). make check times its phases
# with it and prints the table at the end (scripts/timed.sh --report).
# usage: timed.sh LOG NAME command...
#        timed.sh --report LOG [TOTAL_WALL_START]
set -u
# In the report, "(side)" is the wall time of the phases that ran two at
# a time, each listed as side:NAME (their CPU seconds are counted once).
if [ "${1:-}" = --report ]; then
	log=$2
	[ -f "$log" ] || exit 0
	echo "make check: phase times (wall s, CPU s = user+sys; CPU is what" \
		"a phase costs, wall depends on the load and on overlap;" \
		"side: phases ran two at a time, in (side))"
	awk '{ printf "  %-20s %8.1f %8.1f  %s\n", $1, $2, $3, $4
		if ($1 !~ /^side:/) w += $2
		if ($1 != "(side)") c += $3 }
		END { printf "  %-20s %8.1f %8.1f\n", "total", w, c }' "$log"
	if [ -n "${3:-}" ]; then
		echo "$3 $(date +%s.%N)" |
			awk '{ printf "  %-20s %8.1f\n", "elapsed", $2 - $1 }'
	fi
	exit 0
fi
log=$1; name=$2; shift 2
t=${TMPDIR:-/tmp}/dq-timed.$$
trap 'rm -f "$t"' EXIT
# CPU seconds (user+sys) of the children this shell waited for, from the
# POSIX times builtin's second line. times must run in this shell, not in
# a $(...) subshell (whose children are none): cpu writes "$t", cpusec
# reads it.
cpu() { times >"$t"; }
cpusec() {
	awk 'NR == 2 { n = split($0, f, /[ \t]+/); s = 0
		for (i = 1; i <= n; i++) { if (f[i] == "") continue
			split(f[i], p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
		printf "%.2f\n", s }' "$t"
}
w0=$(date +%s.%N); cpu; c0=$(cpusec)
"$@"
rc=$?
w1=$(date +%s.%N); cpu; c1=$(cpusec)
res=ok; [ "$rc" -eq 0 ] || res="FAILED($rc)"
line=$(echo "$name $w0 $w1 $c0 $c1 $res" |
	awk '{ printf "%s %.1f %.1f %s", $1, $3 - $2, $5 - $4, $6 }')
mkdir -p "$(dirname "$log")" && echo "$line" >>"$log"
echo "$line" | awk '{ printf "phase %s: %.1f s wall, %.1f s CPU, %s\n", $1, $2, $3, $4 }'
exit "$rc"
