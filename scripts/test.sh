#!/usr/bin/env bash
# The test command: sets up the machine, builds, and runs every test (unit and integration).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` or `-R Storage`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 --parallel "$(nproc)" "$@"
