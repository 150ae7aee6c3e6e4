// The sharded-cluster launcher: `shardsafe-sandbox up --shards N ...` starts, in parallel, a
// config server replica set (members started --configsvr) and N shard replica sets (named
// shard0, shard1..., members started --shardsvr), each with the replica-set launcher; then
// the routers (`mongos --configdb cfg/...`), registers every shard with addShard through the
// first router (as one does with real binaries), and prints
//   {"mongos_uri", "config": {name, uri, dir}, "shards": [{name, uri, members, dir}],
//    "mongos": [{host, pid, log}]}
// which it also writes to D/cluster.json. Ports: routers P.., config members next, then each
// shard's members. Each set has its own directory (D/cfg, D/shard0...) in the replica-set
// launcher's layout, so `kill`/`restart --dir D/shard0 --member I` act on one member.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "mongos/router.h"
#include "server/launcher.h"

namespace sandbox::mongos {

struct ShardedUpOptions {
  int shards = 0;          // 0: not a sharded cluster (the plain replica-set launcher runs)
  int config_members = 1;
  int mongos_count = 1;
  std::string mongos;      // path of a real mongos; empty: this binary's `mongos` verb
};

// Adds --shards, --config-members, --mongos-count and --mongos to the `up` verb.
void add_sharded_up_flags(CLI::App& up, ShardedUpOptions& options);
// Adds the `mongos` verb, which takes mongos's own flags.
CLI::App* add_mongos_verb(CLI::App& app, RouterOptions& options);

// `common` carries --dir, --members (per shard), --port, --mongod and --oplog-size-mb.
// Returns the process exit code; on failure everything started is stopped again.
int launch_sharded_up(const UpOptions& common, const ShardedUpOptions& sharded);
// Whether `dir` holds a sharded cluster started by launch_sharded_up.
bool is_sharded_dir(const std::filesystem::path& dir);
// Stops the routers, then every replica set (SIGTERM, SIGKILL after a deadline).
int launch_sharded_down(const std::filesystem::path& dir);

}  // namespace sandbox::mongos
