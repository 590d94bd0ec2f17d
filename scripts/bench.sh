#!/usr/bin/env bash
# Runs cpm's benchmarks (issue 5): cpm against raw sqlite3 and SQLiteCpp, and the index
# validation; then prints the report (medians, ratios to raw, index tables, targets) and
# draws the plots.
#
#   scripts/bench.sh                 full set: 10 repetitions, library comparison at 100k users,
#                                    index validation at 1k, 10k and 100k, plots into docs/img/,
#                                    query plans, compile times (about 10 minutes, plus about a
#                                    minute to generate the databases the first time)
#   scripts/bench.sh --quick         small scales (10k; 1k and 10k), 3 short repetitions; a
#                                    couple of minutes; plots into build/bench/img/
#   options: --with-1m               also validate the indexes at 1M users (opt-in; builds a
#                                    585 MB database per schema variant once: 5 GB)
#            --repetitions=N --min-time=SECONDS --lib-scale=100k --index-scales=1k,10k,100k
#            --build-only            configure and build, run nothing
#            -- ARGS                 passed on to bench_lookups (e.g. --benchmark_filter=hot/)
#
# Results: build/bench/results/<time>-<mode>.{json,md,log}; databases: build/bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full ; reps="" ; min_time="" ; lib_scale="" ; index_scales="" ; with_1m=0 ; build_only=0 ; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --with-1m) with_1m=1 ;;
    --repetitions=*) reps=${1#*=} ;;
    --min-time=*) min_time=${1#*=} ;;
    --lib-scale=*) lib_scale=${1#*=} ;;
    --index-scales=*) index_scales=${1#*=} ;;
    --build-only) build_only=1 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "bench.sh: unknown argument '$1' (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = quick ]; then
  : "${reps:=3}" "${min_time:=0.05}" "${lib_scale:=10k}" "${index_scales:=1k,10k}"
  seed=(--cpm_seed_max=1k) ; img=build/bench/img
else
  : "${reps:=10}" "${min_time:=0.2}" "${lib_scale:=100k}" "${index_scales:=1k,10k,100k}"
  seed=(--cpm_seed_max=10k --cpm_seed_once=100k) ; img=docs/img
fi
[ "$with_1m" = 1 ] && index_scales="$index_scales,1m"

scripts/install-deps.sh bench
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DCPM_BUILD_BENCHMARKS=ON \
  -DCPM_BUILD_TESTS=OFF -DCPM_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/bench --target bench_lookups bench_profile bench_compile_time -j"$(nproc)"
[ "$build_only" = 1 ] && exit 0

out=build/bench/results
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)-$mode
json=$out/$stamp.json

# CPU time the rest of the machine used while we ran (the machine may be shared).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
hz=$(getconf CLK_TCK)
busy0=$(busy) ; t0=$(date +%s.%N)

args=(--cpm_lib_scale="$lib_scale" --cpm_index_scales="$index_scales" "${seed[@]}"
      --benchmark_enable_random_interleaving=true --benchmark_repetitions="$reps"
      --benchmark_min_time="$min_time" --benchmark_out="$json" --benchmark_out_format=json
      --benchmark_format=console "${extra[@]}")
echo "bench.sh: build/bench/benchmarks/bench_lookups ${args[*]}"
/usr/bin/time -f "%U %S" -o "$out/$stamp.cpu" build/bench/benchmarks/bench_lookups "${args[@]}" | tee "$out/$stamp.log"

busy1=$(busy) ; t1=$(date +%s.%N)
read -r ours_u ours_s < "$out/$stamp.cpu"
awk -v b0="$busy0" -v b1="$busy1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v u="$ours_u" -v s="$ours_s" 'BEGIN {
  wall = t1 - t0; all = (b1 - b0) / hz; other = all - u - s; if (other < 0) other = 0
  printf "bench.sh: %.0f s; the benchmark used %.2f CPUs, other processes %.2f CPUs on average\n", wall, (u + s) / wall, other / wall
}' | tee -a "$out/$stamp.log"

python3 benchmarks/report.py "$json" --markdown "$out/$stamp.md" --plot-dir build/bench/plot --img-dir "$img"
echo "bench.sh: report $out/$stamp.md, raw results $json, plots $img/"

if [ "$mode" = full ]; then
  build/bench/benchmarks/bench_lookups --cpm_explain --cpm_index_scales=100k > "$out/$stamp-plans.txt"
  echo "bench.sh: query plans $out/$stamp-plans.txt"
  scripts/compile-time.sh | tee "$out/$stamp-compile-time.txt"
fi
