// Which replica sets an operation on a namespace goes to.
//   - "admin" and "config" live on the config server, as with a real mongos;
//   - an unsharded collection lives on its database's primary shard;
//   - a sharded one on the shard owning the chunk of the key the filter pins (targeted), or
//     on every shard owning a chunk (scatter-gather).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongos/router.h"

namespace sandbox::mongos {

struct Target {
  std::optional<CollectionRouting> routing;        // set for sharded collections
  std::vector<std::string> shard_ids;              // ids of `sets` ("config" for the config server)
  std::vector<std::shared_ptr<RemoteSet>> sets;    // empty: the database does not exist
  bool targeted = false;                           // one shard chosen by the shard key
};

bool is_config_database(const std::string& db);

// For reads: a database that does not exist gets no target (empty results). `filter` may be
// null (no filter: every document).
Target target_read(Router& router, const std::string& db, const std::string& collection, const bson_t* filter);
// For writes and DDL: creates the database entry when absent.
Target target_write(Router& router, const std::string& db, const std::string& collection, const bson_t* filter);
// The primary shard of `db` (creating the database), or the config server for admin/config.
Target target_primary(Router& router, const std::string& db, bool create);

// The shard owning `key` under `routing`.
std::shared_ptr<RemoteSet> shard_for_key(Router& router, const CollectionRouting& routing, const bson_t* key,
                                         std::string* shard_id = nullptr);

}  // namespace sandbox::mongos
