#include "coordinator/restore.h"

#include <spdlog/spdlog.h>

#include "catalog/catalog.h"
#include "common/error.h"
#include "coordinator/lock.h"

namespace shardsafe::coordinator {
namespace {

void check_key_matches(const catalog::Manifest& manifest, const dump::RestoreOptions& options) {
  if (manifest.encryption_key_id.empty()) return;
  if (!options.key) {
    throw Error(ErrorCode::kWrongKey, "backup \"" + manifest.id +
                                          "\" is encrypted: pass its key with --encryption-key-file or --encryption-key-env");
  }
  if (options.key->id != manifest.encryption_key_id) {
    throw Error(ErrorCode::kWrongKey, "the key given is not the key backup \"" + manifest.id + "\" was encrypted with (key id " +
                                          options.key->id + ", backup key id " + manifest.encryption_key_id + ")");
  }
}

// The replica set of the backup to restore: the only one, or the one named by --replica-set
// (a shard's name or id, or "config").
const catalog::ReplicaSetBackup& choose_replica_set(const catalog::Manifest& manifest, const std::string& wanted) {
  if (wanted.empty() && manifest.replica_sets.size() == 1) return manifest.replica_sets.front();
  std::string names;
  for (const auto& set : manifest.replica_sets) {
    if (set.name == wanted || (!set.shard.empty() && set.shard == wanted)) return set;
    names += (names.empty() ? "" : ", ") + set.name;
  }
  if (wanted.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "backup \"" + manifest.id + "\" is of a sharded cluster (" + names +
                                                 "): restoring a whole cluster is not supported yet; pick one replica set with --replica-set");
  }
  throw Error(ErrorCode::kNotFound, "backup \"" + manifest.id + "\" has no replica set \"" + wanted + "\" (it has " + names + ")");
}

}  // namespace

dump::RestoreSummary run_restore(const RestoreRequest& request, storage::Storage& storage, Progress& progress) {
  catalog::Catalog catalog(storage);
  const catalog::Manifest manifest = catalog.load(request.backup_id);
  check_key_matches(manifest, request.options);
  const mongo::Uri target(request.target_uri);
  OperationLock lock(target, "restore");
  dump::ReplicaSetRestorer restorer(choose_replica_set(manifest, request.replica_set), storage, target, request.options, progress);
  restorer.check_target();
  try {
    restorer.set_aside();
    restorer.restore_collections();
    restorer.replay_oplog();
  } catch (...) {
    spdlog::error("restore of backup \"{}\" failed: rolling back", manifest.id);
    restorer.roll_back();
    throw;
  }
  const auto summary = restorer.commit();
  spdlog::info("backup \"{}\" restored: {} collections, {} documents, {} oplog entries replayed", manifest.id,
               summary.collections, summary.documents, summary.oplog_applied);
  return summary;
}

}  // namespace shardsafe::coordinator
