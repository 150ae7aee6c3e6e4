#!/usr/bin/env bash
# Peak resident memory of the coordinator of a whole-cluster `shardsafe backup` and `restore`
# in agent mode (the issue: under 64 MiB whatever the data size, since the agents move the
# data), and of each agent. For each size given in MiB (default: 256 1024) it starts a sandbox
# cluster (2 shards and a config server, one member each, and a mongos), loads that much data
# as ~1 KiB documents in 8 collections sharded half on each shard (the Node.js driver, see
# rss_lib.sh), starts one `shardsafe agent` beside each replica set's member, then backs the
# cluster up through the mongos to a file:// storage and restores it onto itself with --drop,
# both under GNU time. An agent's peak is its VmHWM, reset between the backup and the restore.
#
#   bench/cluster_rss.sh [MiB ...]        SHARDSAFE_BUILD_DIR defaults to ./build
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/rss_lib.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256 1024)

# Starts `shardsafe agent` beside member $2 for set $1 in the background; appends
# "set=host:port" to agent_list and its pid to agent_pids.
start_agent() {  # set member
  mkdir -p "$work/agent-$1"
  "$build/shardsafe" agent --json --listen 127.0.0.1:0 --data-dir "$work/agent-$1" --token-file "$work/token" \
    --mongod-uri "mongodb://$2/?directConnection=true" >"$work/agent-$1/out" 2>"$work/agent-$1/log" &
  agent_pids+=("$!")
  until [ -s "$work/agent-$1/out" ]; do sleep 0.1; done
  agent_list+=("$1=$(json_field .listening <"$work/agent-$1/out")")
}

# Each agent's peak RSS since the last call (MiB), then resets it (clear_refs 5).
agent_peaks() {
  local i peaks=()
  for i in "${!agent_pids[@]}"; do
    peaks+=("${agent_list[$i]%%=*} $(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/${agent_pids[$i]}/status")")
    echo 5 >"/proc/${agent_pids[$i]}/clear_refs"
  done
  local joined
  printf -v joined '%s, ' "${peaks[@]}"
  echo "agents' peak RSS (MiB): ${joined%, }"
}

stop_all() {
  local pid
  for pid in "${agent_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${agent_pids[@]}" 2>/dev/null || true
  "$build/shardsafe-sandbox" down --dir "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}

for mib in "${sizes[@]}"; do
  work=$(mktemp -d /tmp/shardsafe-cluster-rss-XXXXXX)
  agent_pids=() agent_list=()
  trap stop_all EXIT
  cluster=$("$build/shardsafe-sandbox" up --dir "$work/cluster" --shards 2 --members 1 --config-members 1 --port "$(free_port 4)")
  mongos=$(json_field .mongos_uri <<<"$cluster")
  load "$mongos" "$mib" sharded
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/token"
  chmod 600 "$work/token"
  config_member=$(json_field .config.uri <<<"$cluster" | sed -E 's|mongodb://([^/,]+).*|\1|')
  start_agent cfg "$config_member"
  for shard in 0 1; do start_agent "shard$shard" "$(json_field ".shards[$shard].members[0]" <<<"$cluster")"; done
  storage="file://$work/backups"
  agents=(--agents "$(IFS=,; echo "${agent_list[*]}")" --agent-token-file "$work/token")
  echo "$mib MiB cluster backup (coordinator):  $(measure "$build/shardsafe" -q backup --uri "$mongos" --storage "$storage" "${agents[@]}")"
  echo "$mib MiB cluster backup $(agent_peaks)"
  id=$("$build/shardsafe" --json list --storage "$storage" | json_field '.backups[0].id')
  echo "$mib MiB cluster restore (coordinator): $(measure "$build/shardsafe" -q restore --backup "$id" --uri "$mongos" --drop --storage "$storage" "${agents[@]}")"
  echo "$mib MiB cluster restore $(agent_peaks)"
  stop_all
  trap - EXIT
done
