#!/usr/bin/env bash
# ThreadSanitizer: builds the threaded tests (cpm_thread_tests) with clang++ -fsanitize=thread into build/ci-tsan
# and runs the threaded tests (Catch2 tag [threads]: tests/concurrency_threads_test.cpp).
# Any data race or lock-order report fails the run (halt_on_error). Runnable from anywhere;
# needs what `scripts/install-deps.sh ci` installs (clang, libclang-rt-14-dev).
#
# libsqlite3 is Debian's, not instrumented: TSan sees its mutexes (pthread calls are
# intercepted) but not its memory accesses, so a report can only point into code built here.
# scripts/ci/tsan.supp lists what is suppressed, and why (nothing of cpm's own code may be).
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=build/ci-tsan
jobs=$(nproc)
flags="-fsanitize=thread -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCPM_WERROR=ON \
  -DCPM_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$dir" -j"$jobs" --target cpm_thread_tests

TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/scripts/ci/tsan.supp" \
  "$dir/tests/cpm_thread_tests" "[threads]" --durations yes
