// The restore workflow: from a backup id in storage to a target deployment holding its data.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/progress.h"
#include "coordinator/config_metadata.h"
#include "coordinator/jobs.h"
#include "dump/restorer.h"
#include "storage/storage.h"

namespace shardsafe::coordinator {

// --ns-include / --ns-exclude / --ns-from / --ns-to (dump/namespace_filter.h).
struct NamespaceSelection {
  std::vector<std::string> include, exclude, from, to;
};

struct RestoreRequest {
  std::string backup_id;    // with to_time: optional, the full backup to start from
  // Point-in-time restore: the newest full backup at or before T, rolled forward through the
  // slices of incremental backups to T inclusive, on every set (coordinator/point_in_time.h).
  std::optional<mongo::Timestamp> to_time;
  std::string target_uri;   // a replica set; a mongos for a whole sharded backup
  std::string replica_set;  // of a sharded backup: the one set (shard or "config") to restore into a replica set
  dump::RestoreOptions options;  // its map_namespace is not used: see `namespaces`
  NamespaceSelection namespaces;
  ShardMap shard_map;       // backup shard id -> target shard id, when the names differ
  bool verify_first = false;  // read every object and check its SHA-256 before changing anything
  AgentSettings agents;     // agent mode, as for backups
  StorageLocation storage_location;
  PhaseLimits limits;
  std::chrono::seconds lock_lease{60};
  OperationObserver observer;  // optional
};

// Restores a backup. Steps:
//   load      the manifest (checksummed; unknown versions refused), the key, and every object
//             it lists present with its size (with verify_first: re-read and checksummed)
//   check     a replica set target, or for a sharded backup a mongos whose cluster has as many
//             shards (--shard-map when the names differ); lock; the balancer stopped
//   restore   one job per replica set, in parallel, each: conflicts refused unless --drop, the
//             namespaces it replaces set aside (renamed, not copied), collections streamed from
//             storage (verified as read), indexes, the oplog replayed to the consistency point
//   metadata  (cluster) the config server's databases, collections and chunks, shard ids
//             mapped, each sharded collection with the one UUID all its shards got
//   commit    every job drops what it set aside (or keeps it with --keep-previous); routers
//             refreshed (flushRouterConfig)
// Any failure, on any replica set, rolls every set back: what was restored is dropped and the
// set-aside data renamed back (and the metadata put back), so the target is as it was; the
// error names every set's state. Returns the totals over all sets.
// With to_time, the "backup" is the plan of coordinator/point_in_time.h: its chain is checked
// before anything changes, and each set's replay continues through the slices up to T.
dump::RestoreSummary run_restore(const RestoreRequest& request, storage::Storage& storage, Progress& progress);

}  // namespace shardsafe::coordinator
