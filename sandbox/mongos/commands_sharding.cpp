// Cluster administration: addShard, listShards, getShardMap, enableSharding,
// shardCollection, split, moveChunk, flushRouterConfig. All metadata is written to the config
// server in MongoDB's documented shapes (see config_store.h).
#include <algorithm>

#include "mongos/targeting.h"
#include "server/log.h"

namespace sandbox::mongos {
namespace {

void append_object_id(bson_t* out, const char* key) {
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  BSON_APPEND_OID(out, key, &oid);
}

// addShard: checks the set answers with the name it was given, then records it.
Doc add_shard(RouterContext& context) {
  Router& router = context.router;
  SetAddress given = parse_set_address(get_string(context.cmd, "addShard").value_or(""));
  std::string name = get_string(context.cmd, "name").value_or(given.name);
  RemoteSet set(given);
  Builder hello;
  BSON_APPEND_INT32(hello.get(), "hello", 1);
  Doc reply = set.run_checked("admin", hello.get());
  std::string set_name = get_string(reply.bson(), "setName").value_or("");
  if (set_name != given.name) {
    throw CommandError(96, "OperationFailed", "host " + given.to_string() + " belongs to replica set '" + set_name +
                                                  "', not '" + given.name + "'");
  }
  // Record every member the set reports, as MongoDB does.
  SetAddress recorded{given.name, {}};
  if (auto hosts = get_document(reply.bson(), "hosts")) {
    bson_iter_t iter;
    bson_iter_init(&iter, hosts->bson());
    while (bson_iter_next(&iter)) recorded.hosts.push_back(bson_iter_utf8(&iter, nullptr));
  }
  if (recorded.hosts.empty()) recorded.hosts = given.hosts;
  for (const ShardEntry& existing : router.config().shards()) {
    if (existing.id == name || existing.address.name == given.name) {
      if (existing.id == name && existing.address.name == given.name) {
        Builder out;  // adding the same shard again is a no-op, as in MongoDB
        BSON_APPEND_UTF8(out.get(), "shardAdded", name.c_str());
        BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
        return out.doc();
      }
      throw CommandError(96, "OperationFailed", "a shard named '" + existing.id + "' already uses replica set " +
                                                    existing.address.name);
    }
  }
  Builder entry;
  BSON_APPEND_UTF8(entry.get(), "_id", name.c_str());
  BSON_APPEND_UTF8(entry.get(), "host", recorded.to_string().c_str());
  BSON_APPEND_INT32(entry.get(), "state", 1);
  append_timestamp(entry.get(), "topologyTime", router.config().next_timestamp());
  router.config().insert("shards", entry.get());
  router.refresh_shards();
  log_line("added shard " + name + " at " + recorded.to_string());
  Builder out;
  BSON_APPEND_UTF8(out.get(), "shardAdded", name.c_str());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc list_shards(RouterContext& context) {
  Builder shards;
  auto entries = context.router.config().shard_documents();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    BSON_APPEND_DOCUMENT(shards.get(), std::to_string(i).c_str(), entries[i].bson());
  }
  Builder out;
  BSON_APPEND_ARRAY(out.get(), "shards", shards.get());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// getShardMap: {map: {shardId|config: "rs/h:p,..."}, hosts: {"h:p": id}, connStrings: {cs: id}}.
Doc get_shard_map(RouterContext& context) {
  std::vector<std::pair<std::string, SetAddress>> sets;
  for (const ShardEntry& entry : context.router.config().shards()) sets.emplace_back(entry.id, entry.address);
  sets.emplace_back("config", context.router.config().set().address());
  Builder map, hosts, conn_strings;
  for (const auto& [id, address] : sets) {
    BSON_APPEND_UTF8(map.get(), id.c_str(), address.to_string().c_str());
    BSON_APPEND_UTF8(conn_strings.get(), address.to_string().c_str(), id.c_str());
    for (const std::string& host : address.hosts) BSON_APPEND_UTF8(hosts.get(), host.c_str(), id.c_str());
  }
  Builder out;
  append_doc(out.get(), "map", map.get());
  append_doc(out.get(), "hosts", hosts.get());
  append_doc(out.get(), "connStrings", conn_strings.get());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc enable_sharding(RouterContext& context) {
  std::string db = get_string(context.cmd, "enableSharding").value_or("");
  if (is_config_database(db)) throw CommandError(20, "IllegalOperation", "cannot shard the '" + db + "' database");
  context.router.ensure_database(db, get_string(context.cmd, "primaryShard").value_or(""));
  return ok_document();
}

// Checks a shard key pattern: non-empty, every value 1 (range) — hashed keys are refused.
void check_key_pattern(const bson_t* key) {
  if (bson_empty(key)) throw CommandError(2, "BadValue", "the shard key must name at least one field");
  bson_iter_t iter;
  bson_iter_init(&iter, key);
  while (bson_iter_next(&iter)) {
    if (BSON_ITER_HOLDS_UTF8(&iter) && std::string_view(bson_iter_utf8(&iter, nullptr)) == "hashed") {
      throw CommandError(2, "BadValue", "hashed shard keys are not supported by the sandbox mongos; use a range key");
    }
    if (iter_number(&iter).value_or(0) != 1) {
      throw CommandError(2, "BadValue", std::string("shard key field '") + bson_iter_key(&iter) + "' must be 1 (ascending)");
    }
  }
}

bool is_id_key(const bson_t* key) {
  bson_iter_t iter;
  return bson_count_keys(key) == 1 && bson_iter_init_find(&iter, key, "_id") && BSON_ITER_HOLDS_NUMBER(&iter) &&
         bson_iter_as_int64(&iter) == 1;
}

// Creates the shard key index on the primary unless an index starting with the key exists.
// Every collection has its _id index: a key of {_id: 1} only needs the collection to exist.
void ensure_shard_key_index(RemoteSet& primary, const std::string& db, const std::string& collection,
                            const bson_t* key, bool unique) {
  if (is_id_key(key)) {
    Builder create_collection;
    BSON_APPEND_UTF8(create_collection.get(), "create", collection.c_str());
    try {
      primary.run_checked(db, create_collection.get());
    } catch (const CommandError& error) {
      if (error.code() != 48) throw;  // NamespaceExists: already there, with its _id index
    }
    return;
  }
  Builder list;
  BSON_APPEND_UTF8(list.get(), "listIndexes", collection.c_str());
  try {
    for (const Doc& index : read_all(primary, db, list.get())) {
      auto index_key = get_document(index.bson(), "key");
      if (index_key && compare_keys(index_key->bson(), key) == 0 && is_full_key(index_key->bson(), key)) return;
    }
  } catch (const CommandError& error) {
    if (error.code() != 26) throw;  // NamespaceNotFound: createIndexes creates the collection
  }
  std::string name;
  bson_iter_t iter;
  bson_iter_init(&iter, key);
  while (bson_iter_next(&iter)) name += (name.empty() ? "" : "_") + std::string(bson_iter_key(&iter)) + "_1";
  Builder create, indexes, index;
  BSON_APPEND_UTF8(create.get(), "createIndexes", collection.c_str());
  BSON_APPEND_DOCUMENT(index.get(), "key", key);
  BSON_APPEND_UTF8(index.get(), "name", name.c_str());
  if (unique) BSON_APPEND_BOOL(index.get(), "unique", true);
  BSON_APPEND_DOCUMENT(indexes.get(), "0", index.get());
  BSON_APPEND_ARRAY(create.get(), "indexes", indexes.get());
  primary.run_checked(db, create.get());
}

// The collection's UUID as the primary shard knows it (a new one if it has none).
Uuid collection_uuid(RemoteSet& primary, const std::string& db, const std::string& collection) {
  Builder list, filter;
  BSON_APPEND_INT32(list.get(), "listCollections", 1);
  BSON_APPEND_UTF8(filter.get(), "name", collection.c_str());
  append_doc(list.get(), "filter", filter.get());
  for (const Doc& entry : read_all(primary, db, list.get())) {
    if (auto info = get_document(entry.bson(), "info")) {
      if (auto uuid = get_uuid(info->bson(), "uuid")) return *uuid;
    }
  }
  return new_uuid();
}

Doc shard_collection(RouterContext& context) {
  Router& router = context.router;
  std::string ns = namespace_argument(context);
  std::string db = ns.substr(0, ns.find('.'));
  std::string collection = ns.substr(ns.find('.') + 1);
  if (is_config_database(db)) throw CommandError(20, "IllegalOperation", "cannot shard collections of '" + db + "'");
  auto key = get_document(context.cmd, "key");
  if (!key) throw CommandError(9, "FailedToParse", "shardCollection needs a 'key'");
  check_key_pattern(key->bson());
  bool unique = get_bool(context.cmd, "unique", false);
  auto lock = router.lock_exclusive(ns);
  if (auto existing = router.config().collection(ns)) {
    if (compare_keys(existing->key_pattern.bson(), key->bson()) == 0 && is_full_key(existing->key_pattern.bson(), key->bson())) {
      Builder out;  // already sharded the same way: MongoDB answers ok
      BSON_APPEND_UTF8(out.get(), "collectionsharded", ns.c_str());
      BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
      return out.doc();
    }
    throw CommandError(23, "AlreadyInitialized", "collection " + ns + " is already sharded with key " +
                                                     json(existing->key_pattern.bson()));
  }
  DatabaseEntry database = router.ensure_database(db);
  auto primary = router.shard(database.primary);
  ensure_shard_key_index(*primary, db, collection, key->bson(), unique);
  Uuid uuid = collection_uuid(*primary, db, collection);
  Timestamp now = router.config().next_timestamp();

  Builder chunk, history, first_history;
  append_object_id(chunk.get(), "_id");
  append_uuid(chunk.get(), "uuid", uuid);
  append_doc(chunk.get(), "min", global_min(key->bson()).bson());
  append_doc(chunk.get(), "max", global_max(key->bson()).bson());
  BSON_APPEND_UTF8(chunk.get(), "shard", database.primary.c_str());
  append_timestamp(chunk.get(), "lastmod", Timestamp{1, 0});
  append_timestamp(chunk.get(), "onCurrentShardSince", now);
  append_timestamp(first_history.get(), "validAfter", now);
  BSON_APPEND_UTF8(first_history.get(), "shard", database.primary.c_str());
  BSON_APPEND_DOCUMENT(history.get(), "0", first_history.get());
  BSON_APPEND_ARRAY(chunk.get(), "history", history.get());
  router.config().insert("chunks", chunk.get());

  Builder entry;
  BSON_APPEND_UTF8(entry.get(), "_id", ns.c_str());
  append_object_id(entry.get(), "lastmodEpoch");
  BSON_APPEND_DATE_TIME(entry.get(), "lastmod", now_millis());
  append_timestamp(entry.get(), "timestamp", now);
  append_uuid(entry.get(), "uuid", uuid);
  append_doc(entry.get(), "key", key->bson());
  BSON_APPEND_BOOL(entry.get(), "unique", unique);
  BSON_APPEND_BOOL(entry.get(), "noBalance", false);
  router.config().insert("collections", entry.get());
  log_line("sharded " + ns + " on " + json(key->bson()));

  Builder out;
  BSON_APPEND_UTF8(out.get(), "collectionsharded", ns.c_str());
  append_uuid(out.get(), "collectionUUID", uuid);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// The chunk a split or moveChunk names: by `find` (a document whose key it holds) or by
// `bounds` ([min, max], exactly a chunk's range).
const Chunk& named_chunk(const CollectionRouting& routing, const bson_t* command) {
  if (auto find = get_document(command, "find")) {
    Doc key = extract_key(find->bson(), routing.key_pattern.bson());
    return routing.chunk_for(key.bson());
  }
  if (auto bounds = get_document(command, "bounds")) {
    bson_iter_t iter;
    bson_iter_init(&iter, bounds->bson());
    if (bson_iter_next(&iter) && BSON_ITER_HOLDS_DOCUMENT(&iter)) {
      Doc min = iter_document(&iter);
      for (const Chunk& chunk : routing.chunks) {
        if (compare_keys(chunk.min.bson(), min.bson()) == 0) return chunk;
      }
    }
    throw CommandError(2, "BadValue", "no chunk of " + routing.ns + " has the bounds " + json(bounds->bson()));
  }
  throw CommandError(9, "FailedToParse", "name the chunk with 'find' or 'bounds'");
}

// The median shard key of the chunk's documents (for split {find} / {bounds}).
Doc median_key(Router& router, const CollectionRouting& routing, const Chunk& chunk) {
  std::string db = routing.ns.substr(0, routing.ns.find('.'));
  Builder find;
  BSON_APPEND_UTF8(find.get(), "find", routing.ns.substr(db.size() + 1).c_str());
  std::vector<Doc> keys;
  for (const Doc& doc : read_all(*router.shard(chunk.shard), db, find.get())) {
    Doc key = extract_key(doc.bson(), routing.key_pattern.bson());
    if (compare_keys(key.bson(), chunk.min.bson()) >= 0 && compare_keys(key.bson(), chunk.max.bson()) < 0) {
      keys.push_back(std::move(key));
    }
  }
  std::sort(keys.begin(), keys.end(), [](const Doc& a, const Doc& b) { return compare_keys(a.bson(), b.bson()) < 0; });
  if (keys.empty() || compare_keys(keys[keys.size() / 2].bson(), chunk.min.bson()) == 0) {
    throw CommandError(2, "BadValue", "chunk " + json(chunk.min.bson()) + " of " + routing.ns +
                                          " has too few distinct keys to split");
  }
  return keys[keys.size() / 2];
}

// Splits `chunk` at `middle`: inserts the upper half first, then shrinks the lower half, so a
// reader sees a consistent routing table at every step (the upper chunk wins for its keys).
void split_chunk(Router& router, const CollectionRouting& routing, const Chunk& chunk, const Doc& middle) {
  if (compare_keys(middle.bson(), chunk.min.bson()) <= 0 || compare_keys(middle.bson(), chunk.max.bson()) >= 0) {
    throw CommandError(2, "BadValue", "split point " + json(middle.bson()) + " is not inside chunk [" +
                                          json(chunk.min.bson()) + ", " + json(chunk.max.bson()) + ")");
  }
  Timestamp version = routing.version();
  Builder upper;
  bson_iter_t iter;
  bson_iter_init(&iter, chunk.entry.bson());
  while (bson_iter_next(&iter)) {
    std::string_view key = bson_iter_key(&iter);
    if (key == "_id") {
      append_object_id(upper.get(), "_id");
    } else if (key == "min") {
      append_doc(upper.get(), "min", middle.bson());
    } else if (key == "lastmod") {
      append_timestamp(upper.get(), "lastmod", Timestamp{version.secs, version.inc + 2});
    } else {
      append_iter(upper.get(), key, &iter);
    }
  }
  router.config().insert("chunks", upper.get());
  Builder set, update;
  append_doc(set.get(), "max", middle.bson());
  append_timestamp(set.get(), "lastmod", Timestamp{version.secs, version.inc + 1});
  append_doc(update.get(), "$set", set.get());
  router.config().update("chunks", chunk.id.bson(), update.get(), false);
}

CollectionRouting sharded_routing(Router& router, const std::string& ns) {
  auto routing = router.config().collection(ns);
  if (!routing) throw CommandError(118, "NamespaceNotSharded", ns + " is not sharded");
  return *routing;
}

Doc split(RouterContext& context) {
  Router& router = context.router;
  std::string ns = namespace_argument(context);
  auto lock = router.lock_exclusive(ns);
  CollectionRouting routing = sharded_routing(router, ns);
  if (auto middle = get_document(context.cmd, "middle")) {
    if (!is_full_key(middle->bson(), routing.key_pattern.bson())) {
      throw CommandError(2, "BadValue", "split point " + json(middle->bson()) + " does not match the shard key " +
                                            json(routing.key_pattern.bson()));
    }
    split_chunk(router, routing, routing.chunk_for(middle->bson()), *middle);
  } else {
    const Chunk& chunk = named_chunk(routing, context.cmd);
    split_chunk(router, routing, chunk, median_key(router, routing, chunk));
  }
  return ok_document();
}

Doc move_chunk_command(RouterContext& context) {
  std::string ns = namespace_argument(context);
  auto to = get_string(context.cmd, "to");
  if (!to) throw CommandError(9, "FailedToParse", "moveChunk needs 'to' (a shard id)");
  context.router.shard(*to);  // ShardNotFound before anything moves
  CollectionRouting routing = sharded_routing(context.router, ns);
  const Chunk& chunk = named_chunk(routing, context.cmd);
  std::int64_t started = now_millis();
  move_chunk(context.router, ns, chunk.min, *to);
  Builder out;
  BSON_APPEND_INT64(out.get(), "millis", now_millis() - started);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc flush_router_config(RouterContext& context) {
  context.router.refresh_shards();
  Builder out;
  BSON_APPEND_BOOL(out.get(), "flushed", true);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

}  // namespace

void add_router_sharding_commands(std::vector<RouterCommand>& table) {
  table.insert(table.end(), {
                                {"addShard", add_shard},
                                {"listShards", list_shards},
                                {"getShardMap", get_shard_map},
                                {"enableSharding", enable_sharding},
                                {"shardCollection", shard_collection},
                                {"split", split},
                                {"moveChunk", move_chunk_command},
                                {"flushRouterConfig", flush_router_config},
                            });
}

}  // namespace sandbox::mongos
