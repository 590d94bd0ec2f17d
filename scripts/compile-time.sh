#!/usr/bin/env bash
# Compile time of a translation unit that uses every cpm::store operation, against one doing
# the same work by hand on the sqlite3 C API; `g++ -std=c++20 -O2 -c`, median of 5 runs each.
#   scripts/compile-time.sh [--runs=N] [--compiler=g++] [--flags="-O2"]
# With CPM_SEPARATE_STORE the store's operations are compiled once, in the one file that defines
# CPM_STORE_IMPLEMENTATION (tests/separate_store/store_instance.cpp), and the other TUs only call
# them; both sides are measured.
# Prints wall-clock and CPU (user+sys) seconds; CPU time is the steadier figure on a shared
# machine. Both TUs live in benchmarks/compile_time/ (the benchmark build compiles them too).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 ; cxx=g++ ; flags="-O2"
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs=${arg#--runs=} ;;
    --compiler=*) cxx=${arg#--compiler=} ;;
    --flags=*) flags=${arg#--flags=} ;;
    *) echo "compile-time.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
command -v /usr/bin/time >/dev/null || { echo "compile-time.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <cpm/cpm.hpp>\n' > "$tmp/include_only.cpp"
printf '#include <sqlite3.h>\n#include <chrono>\n#include <map>\n#include <optional>\n#include <stdexcept>\n#include <string>\n#include <vector>\n' > "$tmp/std_only.cpp"

# median of a list of numbers
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() {  # label file [extra compiler flags...]
  local label=$1 file=$2 wall=() cpu=()
  shift 2
  for ((i = 0; i < runs; i++)); do
    read -r w u s < <(/usr/bin/time -f "%e %U %S" "$cxx" -std=c++20 $flags "$@" -Iinclude -c "$file" -o "$tmp/out.o" 2>&1 >/dev/null | tail -1)
    wall+=("$w")
    cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
  done
  local mw mc
  mw=$(printf '%s\n' "${wall[@]}" | median)
  mc=$(printf '%s\n' "${cpu[@]}" | median)
  local size
  size=$(size "$tmp/out.o" | awk 'NR == 2 { print $1 }')
  printf '%-46s %8.2f %8.2f %10s\n' "$label" "$mw" "$mc" "$size"
}

echo "$("$cxx" --version | head -1), flags: -std=c++20 $flags -c, median of $runs; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %8s %8s %10s\n' "translation unit" "wall s" "CPU s" "text bytes"
measure "store_all_ops.cpp (every cpm::store operation)" benchmarks/compile_time/store_all_ops.cpp
measure "raw_all_ops.cpp (the same by hand, sqlite3 C API)" benchmarks/compile_time/raw_all_ops.cpp
measure "store_few_ops.cpp (open + 3 operations)" benchmarks/compile_time/store_few_ops.cpp
measure "store_all_ops.cpp, -DCPM_SEPARATE_STORE" benchmarks/compile_time/store_all_ops.cpp -DCPM_SEPARATE_STORE
measure "store_few_ops.cpp, -DCPM_SEPARATE_STORE" benchmarks/compile_time/store_few_ops.cpp -DCPM_SEPARATE_STORE
measure "the one CPM_STORE_IMPLEMENTATION file" tests/separate_store/store_instance.cpp
measure "#include <cpm/cpm.hpp> only" "$tmp/include_only.cpp"
measure "standard headers + sqlite3.h only" "$tmp/std_only.cpp"
