#!/usr/bin/env bash
# Client-side instructions per call of bench_pg's lookups (cpm, raw libpq, libpqxx), counted
# by callgrind: the work of this process only (the server's is not counted), so the figures do
# not move with the machine's load as the round-trip times do. Google Benchmark picks the
# iteration counts, so each figure is the slope between a short and a longer run:
# (instructions(long) - instructions(short)) / (iterations(long) - iterations(short)).
#   benchmarks/pg_profile.sh [workload ...]     (user_by_id user_by_name org_repositories
#                                                user_repositories access_level)
# Uses the server in CPM_PG_CONNINFO, else starts a throwaway cluster (scripts/pg-cluster.sh).
# Needs build/bench/benchmarks/bench_pg (benchmarks/pg_bench.sh builds it) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/benchmarks/bench_pg
[ -x "$bin" ] || { echo "pg_profile.sh: build $bin first (benchmarks/pg_bench.sh --benchmark_list_tests)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "pg_profile.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
if [ -z "${CPM_PG_CONNINFO:-}" ]; then
  dir=/tmp/cpm-pg-profile-$$
  CPM_PG_CONNINFO=$(scripts/pg-cluster.sh start "$dir")
  export CPM_PG_CONNINFO
  trap 'scripts/pg-cluster.sh stop "$dir" >/dev/null' EXIT
  "$bin" --benchmark_filter=none >/dev/null  # builds the data set once
fi
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(user_by_id user_by_name org_repositories user_repositories access_level)

run() {  # WORKLOAD IMPL MIN_TIME -> "instructions iterations"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --benchmark_filter="pg/$1/$2/" \
    --benchmark_min_time="$3" 2>&1 | awk '/Collected/ { c = $NF } /^pg\// { it = $(NF - 1) } END { print c, it }'
}
per_call() {  # WORKLOAD IMPL
  local ia ta ib tb
  read -r ia ta < <(run "$1" "$2" 0.2)
  read -r ib tb < <(run "$1" "$2" 1.0)
  echo $(( (ib - ia) / (tb - ta) ))
}

printf '%-18s %10s %10s %10s %9s %10s\n' workload cpm raw pqxx cpm/raw cpm/pqxx
for w in "${workloads[@]}"; do
  c=$(per_call "$w" cpm); r=$(per_call "$w" raw); q=$(per_call "$w" pqxx)
  printf '%-18s %10d %10d %10d %9s %10s\n' "$w" "$c" "$r" "$q" \
    "$(awk -v a="$c" -v b="$r" 'BEGIN { printf "%.3f", a / b }')" \
    "$(awk -v a="$c" -v b="$q" 'BEGIN { printf "%.3f", a / b }')"
done
