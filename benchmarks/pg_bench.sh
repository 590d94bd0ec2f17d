#!/usr/bin/env bash
# Runs bench_pg (cpm::pg against raw libpq and libpqxx) on a throwaway PostgreSQL 15 cluster
# (scripts/pg-cluster.sh), then stops the cluster. Arguments go to bench_pg.
#   benchmarks/pg_bench.sh [--cpm_scale=100k] [Google Benchmark flags...]
# Builds bench_pg in build/bench first (scripts/install-deps.sh bench installs what it needs).
# The cluster (in /tmp, removed at the end) gets the data set built first (seconds at 100k
# users).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh bench
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DCPM_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build/bench --target bench_pg -j"$(nproc)"
dir=/tmp/cpm-bench-pg-$$
conninfo=$(scripts/pg-cluster.sh start "$dir")
trap 'scripts/pg-cluster.sh stop "$dir" >/dev/null' EXIT
CPM_PG_CONNINFO="$conninfo" build/bench/benchmarks/bench_pg "$@"
