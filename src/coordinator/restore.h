// The restore workflow: from a backup id in storage to a target deployment holding its data.
#pragma once

#include <string>

#include "common/progress.h"
#include "dump/restorer.h"
#include "storage/storage.h"

namespace shardsafe::coordinator {

struct RestoreRequest {
  std::string backup_id;
  std::string target_uri;  // the replica set to restore into
  std::string replica_set; // which set of a multi-set (sharded) backup; empty when it has one
  dump::RestoreOptions options;
};

// Restores a replica-set backup. Steps:
//   load      the manifest (checksummed; unknown versions refused)
//   check     the target: a replica set with a primary; conflicts refused unless --drop
//   set aside the target's namespaces that will be replaced (renamed, not copied)
//   restore   collections streamed from storage (verified as read), then indexes
//   replay    the oplog up to the backup's consistency point (or options.up_to)
//   commit    drop what was set aside
// Any failure after "set aside" rolls back: restored namespaces are dropped and the set-aside
// ones renamed back, so the target is left as it was; the error is rethrown.
dump::RestoreSummary run_restore(const RestoreRequest& request, storage::Storage& storage, Progress& progress);

}  // namespace shardsafe::coordinator
