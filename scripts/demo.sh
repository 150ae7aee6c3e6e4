#!/usr/bin/env bash
# The main job: sets up, builds, starts a sandbox replica set and runs shardsafe against it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/shardsafe demo "$@"
