// Logical dump of one replica set, in mongodump's layout, with the oplog written while it ran.
//
// The dump is taken in three steps so the sharded coordinator can line several sets up on one
// consistency point:
//   begin()             pick the member to read, note the start optime, plan the namespaces
//   dump_collections()  stream every collection (in parallel) to storage
//   finish(up_to)       capture the oplog (start, up_to] and return what was stored
// A plain replica set backup is begin(); dump_collections(); finish(newest_optime()).
// Restoring the collections and replaying that oplog up to `up_to` gives the data as it was at
// `up_to` (mongodump --oplog semantics), whatever was written while the dump ran.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "common/progress.h"
#include "mongo/client.h"
#include "storage/pipeline.h"
#include "storage/storage.h"

namespace shardsafe::dump {

struct DumpOptions {
  int parallel_collections = 4;
  mongo::ReadPreference read_preference = mongo::ReadPreference::kPrimary;
  // "host:port" of the member to read, overriding read_preference: an agent reads the member
  // it runs beside. Error(kInvalidArgument) when it is not a healthy member of the set.
  std::string member;
  storage::StreamOptions stream;
};

// One namespace to dump, as listCollections described it.
struct PlannedCollection {
  std::string db;
  std::string name;
  std::string type;            // "collection", "view", "timeseries"
  mongo::Bson listing;         // the listCollections entry, verbatim
  std::uint64_t size_estimate = 0;          // bytes, from collStats
  std::uint64_t average_document_size = 0;  // bytes, from collStats
};

// Where shardsafe keeps its operation lock (coordinator/lock.h): in `admin`, never dumped, so a
// restore cannot bring back a stale lock.
inline constexpr const char* kLockCollection = "shardsafe.lock";

// Which namespaces a full dump takes: everything but `local`, the internal `config`
// collections, `system.*` collections (but system.js, and admin's users, roles and version),
// names containing '$', and shardsafe's own lock — the same set mongodump takes.
bool dump_includes(const std::string& db, const std::string& collection);

class ReplicaSetDumper {
 public:
  // `prefix` is where this set's files go ("backups/<id>/<replset>/"). `uri` may list any
  // members; the dump reads one member directly (see DumpOptions::read_preference).
  ReplicaSetDumper(const mongo::Uri& uri, storage::Storage& storage, std::string prefix, DumpOptions options,
                   Progress& progress);
  ~ReplicaSetDumper();

  void begin();
  // What begin() planned, for progress: raw bytes (estimated) and namespaces.
  std::uint64_t planned_bytes() const;
  std::size_t planned_namespaces() const { return planned_.size(); }
  void dump_collections();
  // The newest optime on the member being read.
  mongo::Timestamp newest_optime();
  // The cluster time the member gossips: asked after newest_optime(), at or after it.
  std::optional<mongo::Bson> cluster_time();
  // Waits until the member's oplog reaches `ts` (writing a no-op if the set is idle, which
  // carries `cluster_time`: see oplog::wait_for_optime).
  void wait_for_optime(mongo::Timestamp ts, std::chrono::seconds timeout, const std::optional<mongo::Bson>& cluster_time);
  // REQUIRES: dump_collections() returned; the member's oplog reached `up_to`, which is at or
  // after the optime the dump ended at.
  catalog::ReplicaSetBackup finish(mongo::Timestamp up_to);

  const std::string& replica_set() const { return result_.name; }
  // Where the files go; the replica set's name is known only after begin(), and callers put
  // each set's files under a folder of that name. REQUIRES: before dump_collections().
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  void plan_namespaces(mongo::Client& client);
  catalog::CollectionEntry dump_one(const PlannedCollection& planned);
  std::vector<mongo::Bson> list_indexes(mongo::Client& client, const PlannedCollection& planned);

  mongo::Uri uri_;
  storage::Storage& storage_;
  std::string prefix_;
  DumpOptions options_;
  Progress& progress_;
  std::unique_ptr<mongo::Uri> member_uri_;      // the member chosen by begin()
  std::unique_ptr<mongo::ClientPool> pool_;
  std::vector<PlannedCollection> planned_;
  catalog::ReplicaSetBackup result_;
};

}  // namespace shardsafe::dump
