# Lookup time against scale, with and without each index, from the data report.py writes.
#   gnuplot -e "datadir='build/bench/plot'; outdir='docs/img'; panels='stem1 stem2 ...'; xmin=500; xmax=2e5" benchmarks/plot.gp
# Each <datadir>/<stem>.dat: "# title", then rows "users with_us without_us".
# <datadir>/seed.dat (optional): rows "users cpm_union_us seed_sql_us".

n = words(panels)
cols = n > 4 ? 3 : (n > 1 ? 2 : 1)
rows = int(ceil(n / real(cols)))

set terminal pngcairo noenhanced size 480 * cols, 360 * rows font "DejaVu Sans,9"
set output outdir . "/index-scaling.png"
set multiplot layout rows, cols title "cpm lookups (default configuration): time per call against users, with and without the index" font ",11"
set logscale xy
set xrange [xmin:xmax]
set xlabel "users"
set ylabel "µs per call"
set format x "%.0s%c"
set grid
set key top left
do for [i = 1:n] {
    f = datadir . "/" . word(panels, i) . ".dat"
    set title system("head -1 " . f . " | cut -c3-")
    plot f using 1:2 with linespoints lw 2 pt 7 title "with the index", \
         f using 1:3 with linespoints lw 2 pt 5 dashtype 2 title "without it"
}
unset multiplot

if (system("test -f " . datadir . "/seed.dat && echo yes") eq "yes") {
    set terminal pngcairo noenhanced size 640, 420 font "DejaVu Sans,9"
    set output outdir . "/user-repositories-seed.png"
    set title "user_repositories: cpm's UNION against the original GetUserRepositories SQL"
    set logscale xy
    set format y "%.0s%c"
    plot datadir . "/seed.dat" using 1:2 with linespoints lw 2 pt 7 title "cpm (UNION of two indexed lookups)", \
         datadir . "/seed.dat" using 1:3 with linespoints lw 2 pt 5 dashtype 2 title "original SQL (LEFT JOIN ... OR)"
}
