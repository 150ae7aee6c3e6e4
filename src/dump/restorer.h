// Restore of one replica set from a dump: the mirror of ReplicaSetDumper.
//
// Steps, each a method so the coordinator can run them on every set of a cluster in phases:
//   check_target()         the target is a reachable primary; conflicting namespaces are
//                          refused unless --drop
//   set_aside()            every target namespace the restore will write is renamed to a holding
//                          name in its own database (metadata only: no copy, no extra disk);
//                          the target's users and roles are copied (see users_roles.h)
//   restore_collections()  create with the dumped options (and UUID, when no collection of the
//                          target holds it), stream documents from storage into parallel
//                          insertion workers, build the indexes; merge users and roles
//   replay_oplog()         apply the dump's oplog up to the set's end optime, or with --to-time
//                          up to T, rolling forward through later slices (later_oplog)
//   commit()               drop the holdings (or keep them with --keep-previous)
// On any failure the coordinator calls roll_back(): what was restored (and what the oplog
// replay created) is dropped, the holdings are renamed back and the users and roles merged
// back, so the target is as it was.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "common/progress.h"
#include "dump/rollback_plan.h"
#include "mongo/client.h"
#include "storage/pipeline.h"

namespace shardsafe::dump {

struct RestoreOptions {
  int parallel_collections = 4;
  int insertion_workers = 2;               // per collection
  std::size_t batch_bytes = 4 << 20;       // well under the 48 MB message limit
  std::size_t batch_documents = 10000;     // under maxWriteBatchSize (100000)
  bool drop = false;                       // replace namespaces that hold data
  bool keep_previous = false;              // keep the holdings after a successful restore
  bool replay_oplog = true;
  // Create collections with their dumped UUIDs where no collection of the target holds them
  // (a collection set aside by this restore keeps its UUID until commit).
  bool preserve_uuids = true;
  std::optional<mongo::Timestamp> up_to;   // replay bound; the backup's end optime by default
  // Target namespace -> the UUID its collection must be created with, whatever preserve_uuids
  // says: a cluster restore gives a sharded collection one UUID on every shard (and in the
  // config server's metadata). Failing to create it with that UUID fails the restore.
  std::map<std::string, std::string> collection_uuids;
  // Target namespaces to set aside even though this set's dump does not hold them: in a cluster
  // restore, a shard may hold a namespace that the backup has only on other shards, and its
  // documents would otherwise linger as orphans. Dropped on commit, renamed back on rollback.
  std::set<std::string> also_set_aside;
  // Maps a source namespace "db.coll" to its target, or nullopt to skip it (--ns-include,
  // --ns-exclude, --ns-from/--ns-to). Null means every namespace, unchanged.
  std::function<std::optional<std::string>(const std::string&)> map_namespace;
  std::optional<storage::EncryptionKey> key;
};

struct RestoreSummary {
  std::uint64_t collections = 0;
  std::uint64_t documents = 0;
  std::uint64_t indexes = 0;
  std::uint64_t oplog_applied = 0;
  std::uint64_t uuids_preserved = 0;       // collections created with their dumped UUID
  bool users_and_roles = false;            // the dump's users and roles were merged
  std::vector<std::string> holdings_kept;  // with keep_previous
};

class ReplicaSetRestorer {
 public:
  ReplicaSetRestorer(const catalog::ReplicaSetBackup& backup, storage::Storage& storage, const mongo::Uri& target,
                     RestoreOptions options, Progress& progress);
  ~ReplicaSetRestorer();

  void check_target();
  void set_aside();
  void restore_collections();
  void replay_oplog();
  RestoreSummary commit();
  // Never throws: logs what it could not undo.
  void roll_back() noexcept;
  // What undoing this restore takes (see rollback_plan.h); complete once set_aside() returned,
  // and with what the oplog replay may create once restore_collections() returned.
  RollbackPlan rollback_plan() const;
  // What was restored so far (all of it once replay_oplog() returned).
  const RestoreSummary& summary() const { return summary_; }

 private:
  struct Target;  // one namespace to restore
  void restore_one(const Target& target);
  void create_collection(mongo::Client& client, const Target& target);
  void insert_documents(const Target& target);
  void build_indexes(mongo::Client& client, const Target& target);
  bool create_with_dumped_uuid(mongo::Client& client, const Target& target);
  void create_with_uuid(mongo::Client& client, const Target& target, const std::string& uuid);
  void set_aside_namespaces_of_other_sets(mongo::Client& client, const std::map<std::string, std::string>& existing,
                                          std::vector<std::string>& conflicts);
  bool restores_users_or_roles() const { return !temp_users_.empty() || !temp_roles_.empty(); }
  void merge_restored_users_and_roles();

  const catalog::ReplicaSetBackup& backup_;
  storage::Storage& storage_;
  mongo::Uri target_uri_;
  RestoreOptions options_;
  Progress& progress_;
  std::unique_ptr<mongo::ClientPool> pool_;
  std::vector<Target> targets_;
  std::vector<std::pair<std::string, std::string>> holdings_;  // (target ns, holding ns)
  std::string token_;           // makes this restore's holding and temporary names unique
  std::string holding_suffix_;
  std::set<std::string> uuids_in_use_;  // on the target, before the restore
  std::string temp_users_, temp_roles_;  // admin collections the dump's users/roles load into
  std::string saved_users_, saved_roles_;  // copies of the target's users and roles
  bool set_aside_begun_ = false;  // from then on, a rollback drops what the restore wrote
  std::optional<std::vector<std::string>> before_replay_;  // see RollbackPlan::before_replay
  std::mutex mutex_;  // guards summary_, updated by parallel collection restores
  RestoreSummary summary_;
};

}  // namespace shardsafe::dump
