// Catalog commands across the cluster: listDatabases and listCollections gather every shard's
// view; create goes to the primary shard; createIndexes/dropIndexes reach every shard holding
// the collection; drop and dropDatabase clean the shards and the config server's metadata.
#include <map>
#include <set>

#include "mongos/targeting.h"
#include "query/query.h"

namespace sandbox::mongos {
namespace {

bool is_namespace_not_found(const Doc& reply) { return get_number(reply.bson(), "code").value_or(0) == 26; }

// Every shard holding a collection: its chunk owners plus its database's primary.
Target collection_holders(RouterContext& context, const std::string& collection, bool create) {
  Target target = create ? target_write(context.router, context.db, collection, nullptr)
                         : target_read(context.router, context.db, collection, nullptr);
  if (!target.routing || is_config_database(context.db)) return target;
  if (auto entry = context.router.config().database(context.db)) {
    if (std::find(target.shard_ids.begin(), target.shard_ids.end(), entry->primary) == target.shard_ids.end()) {
      target.shard_ids.push_back(entry->primary);
      target.sets.push_back(context.router.shard(entry->primary));
    }
  }
  return target;
}

Doc list_databases(RouterContext& context) {
  Router& router = context.router;
  bool name_only = get_bool(context.cmd, "nameOnly", false);
  auto filter = get_document(context.cmd, "filter");
  Builder command;
  BSON_APPEND_INT32(command.get(), "listDatabases", 1);
  struct Entry {
    std::int64_t size = 0;
    std::map<std::string, std::int64_t> per_shard;
  };
  std::map<std::string, Entry> merged;
  auto gather = [&](const std::string& shard_id, const Doc& reply, bool config_server) {
    auto list = get_document(reply.bson(), "databases");
    if (!list) return;
    bson_iter_t iter;
    bson_iter_init(&iter, list->bson());
    while (bson_iter_next(&iter)) {
      Doc db = iter_document(&iter);
      std::string name = get_string(db.bson(), "name").value_or("");
      // admin and config come from the config server; local is each member's own.
      if (name == "local" || is_config_database(name) != config_server) continue;
      std::int64_t size = get_number(db.bson(), "sizeOnDisk").value_or(0);
      merged[name].size += size;
      merged[name].per_shard[shard_id] += size;
    }
  };
  std::vector<std::string> ids = router.shard_ids();
  auto replies = run_on_shards(router, ids, "admin", command.get());
  for (std::size_t i = 0; i < ids.size(); ++i) gather(ids[i], replies[i], false);
  gather("config", router.config().set().run_checked("admin", command.get()), true);

  Builder databases;
  std::int64_t total = 0;
  int index = 0;
  for (const auto& [name, entry] : merged) {
    Builder db;
    BSON_APPEND_UTF8(db.get(), "name", name.c_str());
    if (!name_only) {
      BSON_APPEND_INT64(db.get(), "sizeOnDisk", entry.size);
      BSON_APPEND_BOOL(db.get(), "empty", entry.size == 0);
      bson_t shards;
      BSON_APPEND_DOCUMENT_BEGIN(db.get(), "shards", &shards);
      for (const auto& [shard, size] : entry.per_shard) BSON_APPEND_INT64(&shards, shard.c_str(), size);
      bson_append_document_end(db.get(), &shards);
    }
    if (filter && !Matcher(filter->bson()).matches(db.get())) continue;
    total += entry.size;
    std::string position = std::to_string(index++);
    BSON_APPEND_DOCUMENT(databases.get(), position.c_str(), db.get());
  }
  Builder reply;
  BSON_APPEND_ARRAY(reply.get(), "databases", databases.get());
  if (!name_only) {
    BSON_APPEND_INT64(reply.get(), "totalSize", total);
    BSON_APPEND_INT64(reply.get(), "totalSizeMb", total / (1024 * 1024));
  }
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.doc();
}

// A cursor reply holding all of `docs` in its first batch.
Doc single_batch_cursor(const std::string& ns, const std::vector<Doc>& docs) {
  Builder reply, batch;
  for (std::size_t i = 0; i < docs.size(); ++i) BSON_APPEND_DOCUMENT(batch.get(), std::to_string(i).c_str(), docs[i].bson());
  bson_t cursor;
  BSON_APPEND_DOCUMENT_BEGIN(reply.get(), "cursor", &cursor);
  BSON_APPEND_INT64(&cursor, "id", 0);
  BSON_APPEND_UTF8(&cursor, "ns", ns.c_str());
  BSON_APPEND_ARRAY(&cursor, "firstBatch", batch.get());
  bson_append_document_end(reply.get(), &cursor);
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.doc();
}

Doc list_collections(RouterContext& context) {
  std::string ns = context.db + ".$cmd.listCollections";
  Target primary = target_primary(context.router, context.db, false);
  if (primary.sets.empty()) return single_batch_cursor(ns, {});
  Doc command = forwardable(context.cmd, {"cursor"});
  std::vector<std::string> ids = is_config_database(context.db) ? primary.shard_ids : context.router.shard_ids();
  std::vector<Doc> out;
  std::set<std::string> seen;
  // The primary shard first: its entry wins for collections several shards hold.
  std::vector<std::shared_ptr<RemoteSet>> sets = primary.sets;
  for (const std::string& id : ids) {
    if (id != primary.shard_ids.front()) sets.push_back(context.router.shard(id));
  }
  for (const auto& set : sets) {
    for (Doc& entry : read_all(*set, context.db, command.bson())) {
      if (seen.insert(get_string(entry.bson(), "name").value_or("")).second) out.push_back(std::move(entry));
    }
  }
  return single_batch_cursor(ns, out);
}

Doc list_indexes(RouterContext& context) {
  std::string collection = collection_argument(context);
  Target target = collection_holders(context, collection, false);
  if (target.sets.empty()) {
    throw CommandError(26, "NamespaceNotFound", "ns does not exist: " + context.db + "." + collection);
  }
  // The last holder is the primary shard for sharded collections, the only one otherwise.
  return router_reply(target.sets.back()->run(context.db, forwardable(context.cmd).bson()));
}

Doc create(RouterContext& context) {
  std::string collection = collection_argument(context);
  Target target = target_primary(context.router, context.db, true);
  return router_reply(target.sets.front()->run(context.db, forwardable(context.cmd).bson()));
}

// Runs the command on every holder; the first failing reply (or the last reply) is the answer.
Doc on_every_holder(RouterContext& context, bool create) {
  std::string collection = collection_argument(context);
  auto lock = context.router.lock_shared(context.db + "." + collection);
  Target target = collection_holders(context, collection, create);
  if (target.sets.empty()) {
    throw CommandError(26, "NamespaceNotFound", "ns does not exist: " + context.db + "." + collection);
  }
  Doc command = forwardable(context.cmd);
  Doc answer;
  for (const auto& set : target.sets) {
    answer = set->run(context.db, command.bson());
    if (!is_ok(answer)) break;
  }
  return router_reply(answer);
}

Doc create_indexes(RouterContext& context) { return on_every_holder(context, true); }
Doc drop_indexes(RouterContext& context) { return on_every_holder(context, false); }

// Removes a sharded collection's config.collections and config.chunks entries.
void forget_sharded_collection(Router& router, const CollectionRouting& routing) {
  Builder chunks, collection;
  append_uuid(chunks.get(), "uuid", routing.uuid);
  router.config().remove("chunks", chunks.get());
  BSON_APPEND_UTF8(collection.get(), "_id", routing.ns.c_str());
  router.config().remove("collections", collection.get());
}

Doc drop(RouterContext& context) {
  std::string collection = collection_argument(context);
  std::string ns = context.db + "." + collection;
  auto lock = context.router.lock_exclusive(ns);
  Target target = collection_holders(context, collection, false);
  if (!target.routing) {
    if (target.sets.empty()) return ok_document();
    return router_reply(target.sets.front()->run(context.db, forwardable(context.cmd).bson()));
  }
  Doc command = forwardable(context.cmd);
  for (const std::string& id : context.router.shard_ids()) {
    Doc reply = context.router.shard(id)->run(context.db, command.bson());
    if (!is_ok(reply) && !is_namespace_not_found(reply)) return router_reply(reply);
  }
  forget_sharded_collection(context.router, *target.routing);
  Builder reply;
  BSON_APPEND_UTF8(reply.get(), "ns", ns.c_str());
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.doc();
}

Doc drop_database(RouterContext& context) {
  if (is_config_database(context.db)) {
    throw CommandError(20, "IllegalOperation", "cannot drop the '" + context.db + "' database through mongos");
  }
  Router& router = context.router;
  for (const std::string& ns : router.config().sharded_namespaces(context.db)) {
    auto lock = router.lock_exclusive(ns);
    if (auto routing = router.config().collection(ns)) forget_sharded_collection(router, *routing);
  }
  Doc command = forwardable(context.cmd);
  for (const Doc& reply : run_on_shards(router, router.shard_ids(), context.db, command.bson())) {
    if (!is_ok(reply)) return router_reply(reply);
  }
  Builder filter;
  BSON_APPEND_UTF8(filter.get(), "_id", context.db.c_str());
  router.config().remove("databases", filter.get());
  Builder reply;
  BSON_APPEND_UTF8(reply.get(), "dropped", context.db.c_str());
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.doc();
}

}  // namespace

void add_router_ddl_commands(std::vector<RouterCommand>& table) {
  table.insert(table.end(), {
                                {"listDatabases", list_databases},
                                {"listCollections", list_collections},
                                {"listIndexes", list_indexes},
                                {"create", create},
                                {"createIndexes", create_indexes},
                                {"dropIndexes", drop_indexes},
                                {"drop", drop},
                                {"dropDatabase", drop_database},
                            });
}

}  // namespace sandbox::mongos
