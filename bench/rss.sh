#!/usr/bin/env bash
# Peak resident memory of `shardsafe backup` and `shardsafe restore` (issue 4: at most 256 MiB,
# for 1 GiB and for 4 GiB of data alike). For each size given in MiB (default: 1024 4096) it
# starts a one-member sandbox set, loads that much data as ~1 KiB documents in 8 collections
# (the official Node.js driver, so the loader is not shardsafe), backs it up to a file://
# storage and restores it into a second set, both under GNU time, which also reports the bytes
# each wrote to local disk (a restore must write none: it streams from storage).
# SHARDSAFE_RSS_STORAGE=s3 backs up to s3rver on loopback instead (uncompressed, so the S3
# driver's part buffers carry every byte).
#
#   bench/rss.sh [MiB ...]        SHARDSAFE_BUILD_DIR defaults to ./build
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/rss_lib.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1024 4096)

# s3rver in the background for the run, serving bucket "rss" until file descriptor s3_stdin
# closes; sets s3_port.
start_s3rver() {  # work-dir
  mkdir -p "$1/s3data"
  mkfifo "$1/s3rver.in"
  node --openssl-legacy-provider tests/node/s3rver_launcher.mjs "$1/s3data" rss <"$1/s3rver.in" >"$1/s3rver.port" &
  exec {s3_stdin}>"$1/s3rver.in"
  until [ -s "$1/s3rver.port" ]; do sleep 0.1; done
  s3_port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).port)' "$1/s3rver.port")
}

for mib in "${sizes[@]}"; do
  work=$(mktemp -d /tmp/shardsafe-rss-XXXXXX)
  trap '"$build/shardsafe-sandbox" down --dir "$work/src" >/dev/null 2>&1 || true;
        "$build/shardsafe-sandbox" down --dir "$work/dst" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  src=$("$build/shardsafe-sandbox" up --dir "$work/src" --replset src --members 1 --port "$(free_port)" --oplog-size-mb 256 | json_field .uri)
  dst=$("$build/shardsafe-sandbox" up --dir "$work/dst" --replset dst --members 1 --port "$(free_port)" | json_field .uri)
  load "$src" "$mib"
  storage="file://$work/backups"
  backup_options=()
  if [ "${SHARDSAFE_RSS_STORAGE:-file}" = s3 ]; then
    start_s3rver "$work"
    storage="s3://rss/backups?endpoint=http://127.0.0.1:$s3_port&path_style=true&access_key=S3RVER&secret_key=S3RVER"
    backup_options=(--compression none)
  fi
  echo "$mib MiB backup:  $(measure "$build/shardsafe" -q backup --uri "$src" --storage "$storage" "${backup_options[@]}")"
  id=$("$build/shardsafe" --json list --storage "$storage" | json_field '.backups[0].id')
  echo "$mib MiB restore: $(measure "$build/shardsafe" -q restore --backup "$id" --uri "$dst" --storage "$storage")"
  "$build/shardsafe-sandbox" down --dir "$work/src" >/dev/null
  "$build/shardsafe-sandbox" down --dir "$work/dst" >/dev/null
  if [ -n "${s3_stdin:-}" ]; then exec {s3_stdin}>&-; wait; unset s3_stdin; fi
  rm -rf "$work"
  trap - EXIT
done
