#!/usr/bin/env bash
# Builds cpm with g++ (warnings are errors) and runs every test; exits non-zero on any failure.
# Installs the Debian packages it needs first (root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DCPM_WERROR=ON
cmake --build build/test -j"$(nproc)"
ctest --test-dir build/test --output-on-failure -j"$(nproc)"
