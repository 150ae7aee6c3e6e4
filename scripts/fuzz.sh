#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) into build-fuzz/ and runs
# each for SECONDS, one per core at a time, on a copy of its seed corpus in a temporary directory
# (the committed corpus stays as it is). Exits non-zero when any target crashes, leaks, hangs
# or trips a sanitizer, printing the reproducer's path.
#   scripts/fuzz.sh SECONDS [TARGET...]     e.g. scripts/fuzz.sh 60 archive wire
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
scripts/setup.sh
cmake -S . -B build-fuzz -DSHARDSAFE_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz --parallel "$(nproc)" --target fuzz_targets

targets=("$@")
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$source" .cpp)
    targets+=("${name#fuzz_}")
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/shardsafe-fuzz.XXXXXX")

# Runs one target on a copy of its corpus; its verdict goes to $work/<target>/verdict.
fuzz_one() {
  local target=$1 dir="$work/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp tests/fuzz/corpus/"$target"/* "$dir/corpus/"
  # -timeout: an input that takes 30 s is a hang. Leaks are detected by default.
  if build-fuzz/fuzz/fuzz_"$target" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1; then
    echo "fuzz $target: ok; $(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1)" >"$dir/verdict"
  else
    {
      echo "fuzz $target: FAILED (log: $dir/log)"
      grep -E 'ERROR: |runtime error: |SUMMARY: ' "$dir/log" | head -5 || true
      for reproducer in "$dir"/artifacts/*; do
        [ -e "$reproducer" ] && echo "  reproducer: $reproducer (run: build-fuzz/fuzz/fuzz_$target $reproducer)"
      done
    } >"$dir/verdict"
  fi
}

# One target per core at a time: each is single-threaded.
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n; done
  fuzz_one "$target" &
done
wait
failed=0
for target in "${targets[@]}"; do
  cat "$work/$target/verdict"
  grep -q "^fuzz $target: FAILED" "$work/$target/verdict" && failed=1
done

if ((failed)); then
  echo "fuzz: failures; everything is kept in $work"
  exit 1
fi
rm -rf "$work"
