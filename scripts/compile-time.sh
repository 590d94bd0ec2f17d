#!/usr/bin/env bash
# Compile time of cpm's translation units against reference TUs compiled in the same run,
# `g++ -std=c++20 -O2 -c`, median of N runs each (5 by default), as CPU seconds (user+sys, the
# steadier figure on a shared machine), wall seconds and ratios to the references:
#   - every cpm::store operation, header-only and with CPM_SEPARATE_STORE, against the same work
#     by hand on the sqlite3 C API (benchmarks/compile_time/);
#   - `#include <cpm/cpm.hpp>` and an empty main, against a TU including only what cpm's models
#     and ranges need (<sqlite3.h>, <fmt/core.h>, <boost/pfr.hpp>, <chrono>, <optional>,
#     <string>, <ranges>).
#   scripts/compile-time.sh [--runs=N] [--compiler=g++] [--flags="-O2"] [--check[=BOUND]] [--include-only]
# --include-only measures only the include-only TU and its reference (what --check needs).
# --check exits 1 when `#include <cpm/cpm.hpp>` costs more than BOUND times its reference (by
# default 1.3, the target of docs/performance.md#compile-time); the reference is compiled in
# the same run, runs interleaved, so machine load affects both sides alike.
# With CPM_SEPARATE_STORE the store's operations are compiled once, in the one file that defines
# CPM_STORE_IMPLEMENTATION (tests/separate_store/store_instance.cpp), and the other TUs only call
# them; both sides are measured.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5 ; cxx=g++ ; flags="-O2" ; check=0 ; include_only=0
include_bound=1.3
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs=${arg#--runs=} ;;
    --compiler=*) cxx=${arg#--compiler=} ;;
    --flags=*) flags=${arg#--flags=} ;;
    --check) check=1 ;;
    --check=*) check=1 ; include_bound=${arg#--check=} ;;
    --include-only) include_only=1 ;;
    *) echo "compile-time.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
command -v /usr/bin/time >/dev/null || { echo "compile-time.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <cpm/cpm.hpp>\nint main() {}\n' > "$tmp/include_only.cpp"
printf '#include <sqlite3.h>\n#include <fmt/core.h>\n#include <boost/pfr.hpp>\n#include <chrono>\n#include <optional>\n#include <string>\n#include <ranges>\nint main() {}\n' > "$tmp/models_only.cpp"
printf '#include <sqlite3.h>\n#include <chrono>\n#include <map>\n#include <optional>\n#include <stdexcept>\n#include <string>\n#include <vector>\n' > "$tmp/std_only.cpp"

# median of a list of numbers
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Each TU is a row: label, file, extra flags. Runs go round-robin over the rows (run 1 of every
# TU, then run 2 of every TU, ...), so that a change of load meets every TU alike.
labels=() ; files=() ; extras=()
add() { labels+=("$1"); files+=("$2"); extras+=("${3:-}"); }
if ((!include_only)); then
  add "store_all_ops.cpp (every cpm::store operation)" benchmarks/compile_time/store_all_ops.cpp
  add "raw_all_ops.cpp (the same by hand, sqlite3 C API)" benchmarks/compile_time/raw_all_ops.cpp
  add "store_few_ops.cpp (open + 3 operations)" benchmarks/compile_time/store_few_ops.cpp
  add "store_all_ops.cpp, -DCPM_SEPARATE_STORE" benchmarks/compile_time/store_all_ops.cpp -DCPM_SEPARATE_STORE
  add "store_few_ops.cpp, -DCPM_SEPARATE_STORE" benchmarks/compile_time/store_few_ops.cpp -DCPM_SEPARATE_STORE
  add "the one CPM_STORE_IMPLEMENTATION file" tests/separate_store/store_instance.cpp
  add "typed_queries.cpp (ten typed queries, cpm::from)" benchmarks/compile_time/typed_queries.cpp
  add "raw_queries.cpp (the same ten as SQL, query<Row>)" benchmarks/compile_time/raw_queries.cpp
fi
add "#include <cpm/cpm.hpp>, empty main" "$tmp/include_only.cpp"
add "models' headers only (sqlite3 fmt pfr std)" "$tmp/models_only.cpp"
((include_only)) || add "standard headers + sqlite3.h only" "$tmp/std_only.cpp"

declare -A wall cpu
for ((i = 0; i < runs; i++)); do
  for k in "${!labels[@]}"; do
    # shellcheck disable=SC2086
    read -r w u s < <(/usr/bin/time -f "%e %U %S" "$cxx" -std=c++20 $flags ${extras[$k]} -Iinclude -c "${files[$k]}" -o "$tmp/out$k.o" 2>&1 >/dev/null | tail -1)
    wall[$k]+="$w "
    cpu[$k]+="$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }') "
  done
done

declare -A mc
echo "$("$cxx" --version | head -1), flags: -std=c++20 $flags -c, median of $runs; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %8s %8s %10s\n' "translation unit" "wall s" "CPU s" "text bytes"
for k in "${!labels[@]}"; do
  mw=$(tr ' ' '\n' <<<"${wall[$k]}" | grep . | median)
  mc[$k]=$(tr ' ' '\n' <<<"${cpu[$k]}" | grep . | median)
  size=$(size "$tmp/out$k.o" | awk 'NR == 2 { print $1 }')
  printf '%-46s %8.2f %8.2f %10s\n' "${labels[$k]}" "$mw" "${mc[$k]}" "$size"
done

index_of() { for k in "${!labels[@]}"; do [[ ${labels[$k]} == "$1"* ]] && { echo "$k"; return; }; done; }
ratio() { awk -v a="${mc[$1]}" -v b="${mc[$2]}" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
echo
echo "ratios of CPU time to the reference compiled in the same run:"
inc=$(index_of "#include <cpm/cpm.hpp>") ; ref=$(index_of "models' headers only")
include_ratio=$(ratio "$inc" "$ref")
printf '  %-62s %5sx (bound %s)\n' "#include <cpm/cpm.hpp> / models' headers only" "$include_ratio" "$include_bound"
if ((!include_only)); then
  raw=$(index_of "raw_all_ops.cpp")
  printf '  %-62s %5sx (bound 1.3)\n' "store_all_ops.cpp / raw_all_ops.cpp" "$(ratio "$(index_of "store_all_ops.cpp (")" "$raw")"
  printf '  %-62s %5sx (bound 1.0)\n' "store_all_ops.cpp -DCPM_SEPARATE_STORE / raw_all_ops.cpp" "$(ratio "$(index_of "store_all_ops.cpp, -D")" "$raw")"
fi
if ((check)); then
  if awk -v r="$include_ratio" -v b="$include_bound" 'BEGIN { exit !(r > b) }'; then
    echo "compile-time.sh: #include <cpm/cpm.hpp> costs ${include_ratio}x its reference, above the ${include_bound}x bound" >&2
    exit 1
  fi
  echo "compile-time.sh: include-only ratio ${include_ratio}x within ${include_bound}x"
fi
