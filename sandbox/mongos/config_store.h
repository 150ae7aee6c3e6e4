// The sharding catalog on the config server, read and written through ordinary commands on
// its primary, in the documented shapes (MongoDB 7.0):
//   config.shards      {_id, host: "rs/h1:p,h2:p", state: 1, topologyTime}
//   config.databases   {_id, primary, version: {uuid, timestamp, lastMod}}
//   config.collections {_id: ns, lastmodEpoch, lastmod, timestamp, uuid, key, unique, noBalance}
//   config.chunks      {_id, uuid, min, max, shard, lastmod, onCurrentShardSince, history}
//   config.settings    {_id: "balancer", stopped, mode}
//   config.version     {_id: 1, clusterId}
// Nothing is cached: every read asks the config server, so several routers agree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mongos/remote.h"
#include "mongos/routing.h"

namespace sandbox::mongos {

struct ShardEntry {
  std::string id;
  SetAddress address;
};

struct DatabaseEntry {
  std::string name;
  std::string primary;  // the shard holding its unsharded collections
};

class ConfigStore {
 public:
  explicit ConfigStore(SetAddress address) : set_(std::move(address)) {}
  RemoteSet& set() { return set_; }

  std::vector<ShardEntry> shards();
  std::vector<Doc> shard_documents();
  std::optional<DatabaseEntry> database(const std::string& name);
  std::vector<DatabaseEntry> databases();
  // The routing of `ns` when it is sharded; nullopt for unsharded (or unknown) collections.
  std::optional<CollectionRouting> collection(const std::string& ns);
  std::vector<std::string> sharded_namespaces(const std::string& db_prefix = "");
  // The balancer document's `stopped` (absent document: running, as in MongoDB).
  bool balancer_stopped();

  // Writes with {w: "majority"}; a write error throws it as a CommandError.
  void insert(const std::string& collection, const bson_t* document);
  // Returns the number of matched documents.
  std::int64_t update(const std::string& collection, const bson_t* filter, const bson_t* update, bool upsert);
  void remove(const std::string& collection, const bson_t* filter);

  // A cluster-unique, increasing Timestamp for lastmod, topologyTime, onCurrentShardSince.
  Timestamp next_timestamp();

 private:
  std::vector<Doc> find(const std::string& collection, const bson_t* filter, const bson_t* sort = nullptr);
  Doc write(const bson_t* command);
  RemoteSet set_;
};

// Reading typed fields of catalog documents.
Chunk chunk_from_document(const Doc& entry);
void append_timestamp(bson_t* out, const char* key, Timestamp ts);
Timestamp get_timestamp(const bson_t* doc, const char* key);

}  // namespace sandbox::mongos
