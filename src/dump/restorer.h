// Restore of one replica set from a dump: the mirror of ReplicaSetDumper.
//
// Steps, each a method so the coordinator can run them on every set of a cluster in phases:
//   check_target()         the target is a reachable primary; conflicting namespaces are
//                          refused unless --drop
//   set_aside()            every target namespace the restore will write is renamed to a holding
//                          name in its own database (metadata only: no copy, no extra disk)
//   restore_collections()  create with the dumped options, stream documents from storage into
//                          parallel insertion workers, then build the indexes
//   replay_oplog()         apply the dump's oplog up to the set's end optime (or --to-time)
//   commit()               drop the holdings (or keep them with --keep-previous)
// On any failure the coordinator calls roll_back(): what was restored is dropped and the
// holdings are renamed back, so the target is as it was.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "common/progress.h"
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
  std::optional<mongo::Timestamp> up_to;   // replay bound; the backup's end optime by default
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

 private:
  struct Target;  // one namespace to restore
  void restore_one(const Target& target);
  void create_collection(mongo::Client& client, const Target& target);
  void insert_documents(const Target& target);
  void build_indexes(mongo::Client& client, const Target& target);

  const catalog::ReplicaSetBackup& backup_;
  storage::Storage& storage_;
  mongo::Uri target_uri_;
  RestoreOptions options_;
  Progress& progress_;
  std::unique_ptr<mongo::ClientPool> pool_;
  std::vector<Target> targets_;
  std::vector<std::pair<std::string, std::string>> holdings_;  // (target ns, holding ns)
  std::string holding_suffix_;
  std::mutex mutex_;  // guards created_ and summary_, updated by parallel collection restores
  std::vector<std::string> created_;  // namespaces this restore created
  RestoreSummary summary_;
};

}  // namespace shardsafe::dump
