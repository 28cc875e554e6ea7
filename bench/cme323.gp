# The CME323 figure: the greedy policy's exact discounted return (maze4x3,
# gamma 0.95) against total steps (bench/cme323 --csv) or wall seconds
# (bench/cme323 --wall --csv), median over seeds, per policy and P.
#   gnuplot -e "in='cme323.csv'; out='cme323.png'; xl='total steps'" bench/cme323.gp
if (!exists("in")) in = 'cme323.csv'
if (!exists("out")) out = 'cme323.png'
if (!exists("xl")) xl = 'total steps (all agents)'
set terminal pngcairo size 1100,700
set output out
set datafile separator ','
set key outside right noenhanced
set logscale x
set xlabel xl
set ylabel 'discounted return of the greedy policy (exact)'
set yrange [-1:0.6]
set title 'maze4x3, gamma 0.95, alpha 0.1, epsilon 0.1: median over seeds'
set xrange [*:*]
plot for [i=2:5] in using 1:i with lines lw 2 title columnhead(i), \
     for [i=6:9] in using 1:i with lines lw 2 dt 2 title columnhead(i), \
     for [i=10:13] in using 1:i with lines lw 1 dt 3 title columnhead(i), \
     in using 1:14 with lines lc rgb 'black' title 'optimal'
