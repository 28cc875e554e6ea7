# The replay ablation's learning curves (bench/replay_ablation --curves
# DIR): the greedy policy's mean return against total steps and against
# wall seconds, one colour per variant (neither, replay, target, both),
# one line per seed, for one environment:
#
#   gnuplot -e "dir='curves'; env='cartpole'" bench/replay_curves.gp
#
# writes DIR/ENV.png. The CSV files are DIR/ENV-VARIANT-sSEED.csv in the
# columns of distq train --curve (2 seconds, 3 steps, 6 mean_return).
if (!exists("dir")) dir = 'curves'
if (!exists("env")) env = 'cartpole'
if (!exists("out")) out = dir.'/'.env.'.png'
variants = 'neither replay target both'
files(v) = system(sprintf("ls %s/%s-%s-s*.csv 2>/dev/null", dir, env, v))
first(v) = word(files(v), 1)

set terminal pngcairo size 1400,600 font ',10'
set output out
set datafile separator ','
set datafile missing 'nan'
set key bottom right noenhanced
set logscale x
set format x '%g'
set ylabel 'greedy mean return'
set multiplot layout 1,2 title env.': greedy mean return per variant (one line per seed)' noenhanced
set xlabel 'total steps'
plot for [i=1:4] for [f in files(word(variants, i))] f using 3:6 \
	with lines lc i lw 1.5 title (f eq first(word(variants, i)) ? word(variants, i) : '')
set xlabel 'seconds (training)'
plot for [i=1:4] for [f in files(word(variants, i))] f using 2:6 \
	with lines lc i lw 1.5 title (f eq first(word(variants, i)) ? word(variants, i) : '')
unset multiplot
