#!/usr/bin/env bash
# The test command: sets up the machine, builds, and runs every test (unit and integration),
# then every fuzz target for a few seconds (scripts/fuzz.sh). Extra arguments go to ctest, e.g.
# `scripts/test.sh -L unit` or `-R Storage`, and skip the fuzzing.
#
# --sanitize=address,undefined builds everything with clang's ASan + UBSan into build-asan/ and
# runs the whole suite there; --sanitize=thread builds TSan into build-tsan/ and runs the tests
# that share state between threads (see README, "Sanitizers and fuzzing"). Either stops at the
# first report, and deadlines in the tests stretch by SHARDSAFE_TIME_FACTOR (tests/support).
# Every process writes its reports to <build dir>/sanitizer-reports/ (the children the tests
# start log to files the tests delete), and the run fails if any report is there at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
if [[ "${1:-}" == --sanitize=* ]]; then
  sanitize=${1#--sanitize=}
  shift
fi

scripts/setup.sh
if [ -z "$sanitize" ]; then
  scripts/build.sh
  (cd build && ctest --output-on-failure --timeout 600 --parallel "$(nproc)" "$@")
  # The whole suite also runs every fuzz target briefly (SHARDSAFE_FUZZ_SECONDS each, 10 by
  # default) on its seed corpus, sanitized: a parser change that crashes on a known input
  # fails here. A selection of tests (any ctest argument) skips it.
  if (($# == 0)); then exec scripts/fuzz.sh "${SHARDSAFE_FUZZ_SECONDS:-10}"; fi
  exit 0
fi

case "$sanitize" in
  address,undefined | undefined,address)
    dir=build-asan
    targets=()
    selection=()
    # halt_on_error: the first report fails the test. detect_leaks stays on (the default).
    export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    export SHARDSAFE_TIME_FACTOR=${SHARDSAFE_TIME_FACTOR:-4}
    ;;
  thread)
    dir=build-tsan
    # The agents, the sandbox's members and routers, and the CLI the tests start are TSan
    # builds too, so their threads are checked along with the tests' own.
    targets=(--target shardsafe shardsafe-sandbox common_unit_tests agent_unit_tests agent_integration_tests coordinator_unit_tests
             storage_unit_tests storage_integration_tests coordinator_integration_tests
             sandbox_integration_tests oplog_integration_tests cli_integration_tests server_integration_tests)
    suites=(
      ParallelFor JobRunner                   # thread pools; the agents' job runner
      S3Storage Retries FsStorage Pipeline AllFilters/PipelineRoundTrip  # S3 part slots, retries, pruning, compression
      AgentApiTest AgentTls                   # an agent process: its HTTP server and job threads
      # The coordinator's jobs, in process and through agent processes: parallel dump and
      # restore, sharded clusters, point-in-time restores, a primary stepping down mid-dump.
      AgentsTest BackupRestoreTest ClusterBackup ClusterConsistency ClusterPointInTimeTest ClusterRestoreTest
      DamagedBackupTest DamagedArchiveTest Fidelity ImportExport PointInTime S3BackupRestore StepDown
      # The sandbox: a thread per connection, replication (heartbeats, elections, the oplog
      # fetcher), tailable awaitData cursors, transactions, mongos.
      Sandbox ClusterTime ShardedCluster
      CaptureReplayTest OplogSecondaryTest OplogRolloverTest  # oplog capture on tailable cursors
      CliTest ClusterCliTest Pitr                             # the CLI, the pitr runner
      ServerClusterTest AgentClusterTest SlowAgentClusterTest LifecycleTest ScheduleTest ServerTest  # shardsafe server
    )
    # Test names start with their suite's: only what is listed runs, whatever else was built here.
    selection=(-R "^($(IFS='|'; echo "${suites[*]}"))")
    # Only libraries we did not build are suppressed; the file says why for each.
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp
    export SHARDSAFE_TIME_FACTOR=${SHARDSAFE_TIME_FACTOR:-6}
    ;;
  *)
    echo "test.sh: --sanitize takes address,undefined or thread, not \"$sanitize\"" >&2
    exit 2
    ;;
esac

# Agents, sandbox servers and the CLI run as child processes whose stderr goes to log files the
# tests delete (or nowhere), so a report there would pass unseen: log_path sends every
# process's reports to <prefix>.<pid> in one directory instead, emptied before the run.
reports="$PWD/$dir/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# The same prefix for all three: a TSan or ASan runtime also reads UBSAN_OPTIONS, last.
for options in ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS; do
  export "$options=${!options:+${!options}:}log_path=$reports/report"
done

# Prints the path and first lines of every report in $reports; fails when there is any.
check_reports() {
  local found=("$reports"/*)
  [ -e "${found[0]}" ] || return 0
  for report in "${found[@]}"; do
    echo "=== $report" >&2
    head -n 40 "$report" >&2
  done
  echo "test.sh: ${#found[@]} sanitizer report(s) in $reports, see above" >&2
  return 1
}

cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSHARDSAFE_SANITIZE="$sanitize" >/dev/null
cmake --build "$dir" --parallel "$(nproc)" "${targets[@]}"
status=0
(cd "$dir" && ctest --output-on-failure --timeout 1800 --parallel "$(nproc)" "${selection[@]}" "$@") || status=$?
check_reports || status=1
exit "$status"
