#!/usr/bin/env bash
# Builds and runs the quickstart: opens (creating it if needed) the cpm database at
# ~/.cpm/cpm.db, or at the path given as the first argument or in $CPMDB_PATH, applies the
# schema, writes a few rows, reads them back and prints what it did.
# Installs the Debian packages it needs first (root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh core
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DCPM_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target quickstart -j"$(nproc)" >/dev/null
exec build/demo/examples/quickstart "$@"
