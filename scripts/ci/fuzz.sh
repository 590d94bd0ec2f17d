#!/usr/bin/env bash
# libFuzzer on the store (tests/fuzz/store_fuzzer.cpp) under AddressSanitizer and
# UndefinedBehaviorSanitizer: builds build/ci-fuzz/store_fuzzer with clang++ and runs it for a
# fixed budget on a copy of the committed seed corpus (tests/fuzz/corpus/). Any crash,
# sanitizer report, leak, timeout or broken invariant fails the run; the input that caused it
# is left in build/ci-fuzz/artifacts/ (replay it: build/ci-fuzz/store_fuzzer FILE).
#
#   scripts/ci/fuzz.sh [SECONDS]     default 60; FUZZ_SEED (default 1), FUZZ_JOBS (default 1)
#
# Longer runs (docs/reliability.md): scripts/ci/fuzz.sh 3600, or FUZZ_JOBS=$(nproc) for
# parallel workers; new interesting inputs land in build/ci-fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/../.."

budget=${1:-60}
seed=${FUZZ_SEED:-1}
jobs=${FUZZ_JOBS:-1}
out=build/ci-fuzz
mkdir -p "$out/artifacts"
rm -rf "$out/corpus"
mkdir -p "$out/corpus"
cp tests/fuzz/corpus/* "$out/corpus/"

san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
clang++ -std=c++20 -g -O1 $san -Wall -Wextra -Wpedantic -Werror -Iinclude \
  tests/fuzz/store_fuzzer.cpp -o "$out/store_fuzzer" -lsqlite3 -lfmt

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# -entropic=0: with this many coverage features the entropic scheduler's bookkeeping took a third
# of the time; plain scheduling runs about twice the inputs per second here.
args=(-max_total_time="$budget" -seed="$seed" -max_len=8192 -timeout=20 -entropic=0 -print_final_stats=1
      -artifact_prefix="$out/artifacts/")
if [ "$jobs" -gt 1 ]; then
  args+=(-jobs="$jobs" -workers="$jobs")
fi
"$out/store_fuzzer" "${args[@]}" "$out/corpus"
