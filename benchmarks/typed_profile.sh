#!/usr/bin/env bash
# Instructions per call of each typed query shape (benchmarks/bench_typed.cpp), against the
# same SQL through cpm::query<Row> / cpm::execute and through raw sqlite3, counted by
# callgrind: (instructions of N calls - instructions of 0 calls) / N.
#   benchmarks/typed_profile.sh [--calls=N] [shape ...]
# Needs build/bench/benchmarks/bench_typed (scripts/bench.sh --build-only builds it) and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/benchmarks/bench_typed
[ -x "$bin" ] || { echo "typed_profile.sh: build $bin first (scripts/bench.sh --build-only)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "typed_profile.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

calls=2000 ; shapes=()
for arg in "$@"; do
  case "$arg" in
    --calls=*) calls=${arg#--calls=} ;;
    *) shapes+=("$arg") ;;
  esac
done
[ ${#shapes[@]} -gt 0 ] || shapes=(select count exists in page projection join update remove)

instructions() {  # MODE N
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
    awk '/Collected/ { print $NF }'
}
per_call() {  # MODE
  local all none
  all=$(instructions "$1" "$calls")
  none=$(instructions "$1" 0)
  echo $(( (all - none) / calls ))
}

printf '%-12s %10s %10s %10s %14s %12s\n' shape typed query raw typed/query typed/raw
for s in "${shapes[@]}"; do
  t=$(per_call "$s/typed"); q=$(per_call "$s/query"); r=$(per_call "$s/raw")
  printf '%-12s %10d %10d %10d %14s %12s\n' "$s" "$t" "$q" "$r" \
    "$(awk -v a="$t" -v b="$q" 'BEGIN { printf "%.3f", a / b }')" \
    "$(awk -v a="$t" -v b="$r" 'BEGIN { printf "%.3f", a / b }')"
done
