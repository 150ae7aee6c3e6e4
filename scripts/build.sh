#!/usr/bin/env bash
# Configures and builds everything into build/ (build/shardsafe, build/shardsafe-sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build build --parallel "$(nproc)"
