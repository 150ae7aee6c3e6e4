// The sharding catalog a cluster restore writes on the config server: config.databases,
// config.collections and config.chunks of the restored namespaces, as they were at the
// backup's consistency point T, with shard ids mapped to the target's and each sharded
// collection's UUID set to the one its shards were restored with.
//
// Load reads them from the backup's config-server dump and applies the metadata writes its
// oplog (and, for a point-in-time restore, the later slices) holds up to T: inserts, deletes,
// replacements and the `$v:2` diffs that splits and migrations write (oplog/update_diff.h).
// apply() keeps the target's own entries for those databases and namespaces in memory and
// replaces them; roll_back() puts them back.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "mongo/client.h"
#include "storage/pipeline.h"
#include "storage/storage.h"

namespace shardsafe::coordinator {

using ShardMap = std::map<std::string, std::string>;  // backup shard id -> target shard id
using NamespacePredicate = std::function<bool(const std::string& ns)>;

class ConfigMetadata {
 public:
  // Reads the metadata of the namespaces `selected` accepts from the config server's backup.
  // Error(kCorruptData) for a damaged stream, Error(kUnsupportedVersion) for an update form it
  // does not know.
  ConfigMetadata(const catalog::ReplicaSetBackup& config_set, storage::Storage& storage,
                 const std::optional<storage::EncryptionKey>& key, mongo::Timestamp consistency_point,
                 const NamespacePredicate& selected);

  // Sharded namespaces restored, with the UUID the backup gave each.
  const std::map<std::string, std::string>& sharded_uuids() const { return sharded_uuids_; }
  // Gives sharded collection `ns` the UUID `uuid` in its collection entry and its chunks.
  void set_uuid(const std::string& ns, const std::string& uuid);

  // Checks that each restored database that already exists in the target has the same primary
  // shard (after `shards`) as in the backup: its unsharded collections are restored on that
  // shard. Error(kConflict) naming the database and both shards otherwise.
  void check_database_primaries(mongo::Client& config, const ShardMap& shards) const;

  // Replaces the target's entries with the backup's (shard ids mapped). REQUIRES: called once.
  void apply(mongo::Client& config, const ShardMap& shards);
  // Deletes what apply() wrote and puts the target's own entries back. Never throws.
  void roll_back(mongo::Client& config) noexcept;

 private:
  struct Entries {
    std::vector<mongo::Bson> databases, collections, chunks;
  };
  Entries target_entries(mongo::Client& config) const;
  void replace(mongo::Client& config, const Entries& remove, const Entries& insert);

  std::set<std::string> databases_;             // databases restored
  std::map<std::string, std::string> sharded_uuids_;  // ns -> uuid (as in collections_)
  Entries backup_;                               // the backup's entries, shard ids unmapped
  std::optional<Entries> saved_;                 // the target's entries, once apply() ran
  Entries written_;                              // what apply() inserted
};

// The shard map: identity when every shard of the backup exists in the target, else `given`,
// which must map each backup shard to a distinct target shard. Error(kInvalidArgument) naming
// both sets of shard ids when the shapes differ or the map is incomplete.
ShardMap resolve_shard_map(const std::vector<std::string>& backup_shards, const std::vector<std::string>& target_shards,
                           const ShardMap& given);

}  // namespace shardsafe::coordinator
