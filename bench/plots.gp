# The sweep's plots, drawn from the summary CSV files that bench/run.sh
# leaves in `dir` (one row per point, medians already taken):
#
#   gnuplot -e "dir='build/bench-results'" bench/plots.gp
#
# speedup.png          speedup over one thread of the same mode, per env
# throughput.png       steps/s (median, bars from min to max), per env
# time_to_optimal.png  median seconds and steps ratio to one thread, per env
#
# Environment labels never contain spaces or commas (the programs write
# parameter commas as ';'), so gnuplot's words() and awk split them safely.

if (!exists("dir")) dir = "build/bench-results"
tp = dir."/throughput-summary.csv"
tt = dir."/time_to_optimal-summary.csv"

set datafile separator comma
set datafile missing "nan"

# Distinct values of column `c`, in order of first appearance.
uniq(f, c) = system(sprintf("awk -F, 'NR > 1 && !seen[$%d]++ { print $%d }' '%s'", c, c, f))
# The rows of one environment and mode.
rows(f, e, m) = sprintf("< awk -F, -v e='%s' -v m='%s' 'NR > 1 && $1 == e && $2 == m' '%s'", e, m, f)
# The modes measured on environment `e` (replica mode skips big tables).
modes_of(f, e) = system(sprintf("awk -F, -v e='%s' 'NR > 1 && $1 == e && !seen[$2]++ { print $2 }' '%s'", e, f))
# A mode's position in the list of all modes, so that it keeps one colour.
idx(list, m) = sum [k = 1 : words(list)] (word(list, k) eq m ? k : 0)
maxcol(f, c) = real(system(sprintf("awk -F, 'NR > 1 && $%d > x { x = $%d } END { print x + 0 }' '%s'", c, c, f)))

set terminal pngcairo size 1200,900 font ",10"
set grid
set key top left noenhanced
set logscale x 2
set xlabel "threads"

# ------------------------------------------------------------ throughput --
envs = uniq(tp, 1)
modes = uniq(tp, 2)
n = words(envs)
cols = (n > 1) ? 2 : 1
nrows = (n + cols - 1) / cols
maxp = maxcol(tp, 3)
set xrange [0.8 : maxp * 1.25]
set xtics 2

set output dir."/speedup.png"
set multiplot layout nrows, cols title "Speedup over one thread of the same mode (median of repetitions)"
set ylabel "speedup"
set yrange [0 : *]
do for [i = 1 : n] {
	e = word(envs, i)
	set title e noenhanced
	ms = modes_of(tp, e)
	plot for [m in ms] rows(tp, e, m) using 3:8 with linespoints lw 2 lt idx(modes, m) title m, \
		x with lines dt 2 lc "gray" title "ideal"
}
unset multiplot

set output dir."/throughput.png"
set multiplot layout nrows, cols title "Learning steps per second (median; bars: min to max)"
set ylabel "steps/s"
set logscale y
set yrange [* : *]
set format y "%.0e"
do for [i = 1 : n] {
	e = word(envs, i)
	set title e noenhanced
	ms = modes_of(tp, e)
	plot for [m in ms] rows(tp, e, m) using 3:5:6:7 with yerrorlines lw 2 lt idx(modes, m) title m
}
unset multiplot
unset logscale y
set format y "%g"

# ------------------------------------------------------- time to optimal --
envs = uniq(tt, 1)
modes = uniq(tt, 2)
n = words(envs)
maxp = maxcol(tt, 3)
set xrange [0.8 : maxp * 1.25]

set terminal pngcairo size 1200, 300 * n + 60 font ",10"
set output dir."/time_to_optimal.png"
set multiplot layout n, 2 title "Time to a policy optimal from 99% of start states (median over seeds)"
do for [i = 1 : n] {
	e = word(envs, i)
	set title e." - wall time" noenhanced
	set key top right
	set ylabel "seconds"
	set logscale y
	set yrange [* : *]
	plot for [m in modes] rows(tt, e, m) using 3:6 with linespoints lw 2 lt idx(modes, m) title m
	unset logscale y
	set title e." - total steps / one thread's" noenhanced
	set key bottom right
	set ylabel "steps ratio"
	set yrange [0 : *]
	plot for [m in modes] rows(tt, e, m) using 3:9 with linespoints lw 2 lt idx(modes, m) title m, \
		1 with lines dt 2 lc "gray" title "no extra samples"
}
unset multiplot
