#include "mongos/targeting.h"

namespace sandbox::mongos {
namespace {

std::shared_ptr<RemoteSet> config_set(Router& router) {
  // Aliasing, non-owning: the router owns its config server client for its whole life.
  return std::shared_ptr<RemoteSet>(std::shared_ptr<void>(), &router.config().set());
}

Target target(Router& router, const std::string& db, const std::string& collection, const bson_t* filter,
              bool create) {
  if (is_config_database(db)) return target_primary(router, db, create);
  auto routing = router.config().collection(db + "." + collection);
  if (!routing) return target_primary(router, db, create);
  Target out;
  if (filter) {
    if (auto key = key_from_filter(filter, routing->key_pattern.bson())) {
      std::string id;
      out.sets.push_back(shard_for_key(router, *routing, key->bson(), &id));
      out.shard_ids.push_back(id);
      out.targeted = true;
    }
  }
  if (!out.targeted) {
    for (const std::string& id : routing->owning_shards()) {
      out.sets.push_back(router.shard(id));
      out.shard_ids.push_back(id);
    }
  }
  out.routing = std::move(routing);
  return out;
}

}  // namespace

bool is_config_database(const std::string& db) { return db == "admin" || db == "config"; }

Target target_primary(Router& router, const std::string& db, bool create) {
  Target out;
  if (is_config_database(db)) {
    out.sets.push_back(config_set(router));
    out.shard_ids.push_back("config");
    return out;
  }
  std::optional<DatabaseEntry> entry = create ? router.ensure_database(db) : router.config().database(db);
  if (entry) {
    out.sets.push_back(router.shard(entry->primary));
    out.shard_ids.push_back(entry->primary);
  }
  return out;
}

Target target_read(Router& router, const std::string& db, const std::string& collection, const bson_t* filter) {
  return target(router, db, collection, filter, false);
}

Target target_write(Router& router, const std::string& db, const std::string& collection, const bson_t* filter) {
  return target(router, db, collection, filter, true);
}

std::shared_ptr<RemoteSet> shard_for_key(Router& router, const CollectionRouting& routing, const bson_t* key,
                                         std::string* shard_id) {
  const Chunk& chunk = routing.chunk_for(key);
  if (shard_id) *shard_id = chunk.shard;
  return router.shard(chunk.shard);
}

}  // namespace sandbox::mongos
