// The backup workflow: from a MongoDB URI to a committed manifest in storage.
#pragma once

#include <chrono>
#include <string>

#include "catalog/manifest.h"
#include "common/progress.h"
#include "coordinator/jobs.h"
#include "dump/dumper.h"
#include "storage/storage.h"

namespace shardsafe::coordinator {

struct BackupRequest {
  std::string uri;  // a replica set (seed list + replicaSet=...) or a mongos
  dump::DumpOptions dump;
  // An incremental backup: every set's oplog from where the newest backup of the deployment
  // ended (its base) to one new cluster point; dump.stream and read_preference apply.
  bool incremental = false;
  // The base an incremental backup expects (a continuous run's previous slice): taken without
  // reading every manifest when it is still the newest committed backup, else ignored.
  std::string expected_base;
  // How long a set may take to reach the consistency point after the last dump ended.
  std::chrono::seconds consistency_timeout{60};
  // Agent mode: each set's job runs in the agent serving it, which reads its own node and
  // writes straight to `storage_location`. Local mode (no agents): jobs run in this process.
  AgentSettings agents;
  StorageLocation storage_location;
  PhaseLimits limits;
  std::chrono::seconds lock_lease{60};
  // How long to wait for the lock while another run holds it (an incremental tick of `pitr`
  // holds it for a few seconds) before failing with kConflict.
  std::chrono::seconds lock_wait{0};
  OperationObserver observer;  // optional
};

// Runs a full backup and returns its manifest, committed in `storage`. Steps:
//   discover  the replica set, or through a mongos the shards and the config server
//   lock      take shardsafe's lock; on a cluster stop the balancer and wait for its round
//   dump      one job per set, all in parallel (each its collections in parallel), straight
//             to storage; each job reports where its dump ended and waits
//   align     T = the latest dump end across sets; every job captures its oplog up to T
//   commit    the manifest, last: before it exists the backup is not listed
//   release   restart the balancer if it was running, release the lock
// An incremental backup (request.incremental) instead takes the lock (the balancer keeps
// running), then the newest backup of the same replica sets as its base, and has one job per set
// capture the oplog from the base's end to T (the latest newest optime across sets, which every
// set reaches): the slices "oplog/<set>/<start>-<T>.bson...", each with its entries and MD5.
// A set whose oplog rolled over past the base's end fails with kChainGap (take a full backup).
// On failure, the other jobs are cancelled, the objects written so far are removed (best
// effort) and the error rethrown; a failed backup never has a manifest, so it is never listed
// as complete. The operation's progress is recorded for `status` (catalog/operations.h).
catalog::Manifest run_backup(const BackupRequest& request, storage::Storage& storage, Progress& progress);

}  // namespace shardsafe::coordinator
