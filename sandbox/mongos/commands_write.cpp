// Routed writes: insert, update and delete. Writes to an unsharded collection go to the
// database's primary shard as they came. For a sharded collection every inserted document goes
// to the shard owning its key's chunk; every update or delete statement goes to the shard its
// filter targets, or to all owning shards (multi) or one after another until one matches
// (single-document writes without the shard key). Results are merged with writeErrors indexes
// mapped back to the client's statements.
#include <algorithm>
#include <map>

#include "mongos/targeting.h"

namespace sandbox::mongos {
namespace {

// Sub-batches stay well under a shard's 16 MB command limit.
constexpr std::size_t kMaxBatchBytes = 8 * 1024 * 1024;
constexpr std::size_t kMaxBatchCount = 10000;

// Accumulates the parts of a write reply ({n, nModified, upserted, writeErrors, writeConcernError}).
class WriteResult {
 public:
  // Adds one shard reply whose statement i is the client's statement index_map[i]. Returns
  // false when the reply carries write errors (or is a command error).
  bool add(const Doc& reply, const std::vector<std::size_t>& index_map) {
    if (!is_ok(reply)) {
      command_error_ = reply;
      return false;
    }
    n_ += get_number(reply.bson(), "n").value_or(0);
    modified_ += get_number(reply.bson(), "nModified").value_or(0);
    if (!concern_error_) concern_error_ = get_document(reply.bson(), "writeConcernError");
    bool clean = true;
    for (const char* field : {"upserted", "writeErrors"}) {
      auto list = get_document(reply.bson(), field);
      if (!list) continue;
      bson_iter_t iter;
      bson_iter_init(&iter, list->bson());
      while (bson_iter_next(&iter)) {
        Doc entry = iter_document(&iter);
        std::size_t index = index_map.at(static_cast<std::size_t>(get_number(entry.bson(), "index").value_or(0)));
        Builder remapped;
        bson_iter_t part;
        bson_iter_init(&part, entry.bson());
        while (bson_iter_next(&part)) {
          if (std::string_view(bson_iter_key(&part)) == "index") {
            BSON_APPEND_INT32(remapped.get(), "index", static_cast<int>(index));
          } else {
            append_iter(remapped.get(), bson_iter_key(&part), &part);
          }
        }
        (std::string_view(field) == "upserted" ? upserted_ : errors_).emplace_back(index, remapped.doc());
        if (std::string_view(field) == "writeErrors") clean = false;
      }
    }
    return clean;
  }
  Doc reply(bool with_modified) {
    if (command_error_) return router_reply(*command_error_);
    Builder out;
    BSON_APPEND_INT64(out.get(), "n", n_);
    if (with_modified) BSON_APPEND_INT64(out.get(), "nModified", modified_);
    append_list(out.get(), "upserted", upserted_);
    append_list(out.get(), "writeErrors", errors_);
    if (concern_error_) append_doc(out.get(), "writeConcernError", concern_error_->bson());
    BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
    return out.doc();
  }

 private:
  static void append_list(bson_t* out, const char* key, std::vector<std::pair<std::size_t, Doc>>& entries) {
    if (entries.empty()) return;
    std::stable_sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.first < b.first; });
    Builder array;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      BSON_APPEND_DOCUMENT(array.get(), std::to_string(i).c_str(), entries[i].second.bson());
    }
    BSON_APPEND_ARRAY(out, key, array.get());
  }

  std::int64_t n_ = 0;
  std::int64_t modified_ = 0;
  std::vector<std::pair<std::size_t, Doc>> upserted_;
  std::vector<std::pair<std::size_t, Doc>> errors_;
  std::optional<Doc> concern_error_;
  std::optional<Doc> command_error_;
};

std::vector<Doc> array_items(const bson_t* command, const char* field) {
  auto array = get_document(command, field);
  if (!array) throw CommandError(9, "FailedToParse", std::string("missing array '") + field + "'");
  std::vector<Doc> items;
  bson_iter_t iter;
  bson_iter_init(&iter, array->bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) throw CommandError(14, "TypeMismatch", std::string("'") + field + "' must hold objects");
    items.push_back(iter_document(&iter));
  }
  return items;
}

// MongoDB 5.0+ applies the implicit default write concern {w: "majority"} to writes that name
// none, so an acknowledged write survives a shard's failover.
void append_default_write_concern(bson_t* out, const bson_t* command) {
  if (find_field(command, "writeConcern")) return;
  bson_t concern;
  BSON_APPEND_DOCUMENT_BEGIN(out, "writeConcern", &concern);
  BSON_APPEND_UTF8(&concern, "w", "majority");
  bson_append_document_end(out, &concern);
}

// The command with `field` replaced by the given items.
Doc with_items(const bson_t* command, const char* field, const std::vector<Doc>& items,
               const std::vector<std::size_t>& indexes) {
  Builder out, array;
  Doc base = forwardable(command, {field});
  bson_concat(out.get(), base.bson());
  append_default_write_concern(out.get(), command);
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    BSON_APPEND_DOCUMENT(array.get(), std::to_string(i).c_str(), items[indexes[i]].bson());
  }
  BSON_APPEND_ARRAY(out.get(), field, array.get());
  return out.doc();
}

// Sends `indexes` of `items` to one set in sub-batches. Returns false when it stopped on an
// error of an ordered write.
bool send_batches(RemoteSet& set, const RouterContext& context, const char* field, const std::vector<Doc>& items,
                  const std::vector<std::size_t>& indexes, bool ordered, WriteResult& result) {
  std::size_t start = 0;
  while (start < indexes.size()) {
    std::vector<std::size_t> batch;
    std::size_t bytes = 0;
    while (start < indexes.size() && batch.size() < kMaxBatchCount &&
           (batch.empty() || bytes + items[indexes[start]].size() < kMaxBatchBytes)) {
      bytes += items[indexes[start]].size();
      batch.push_back(indexes[start++]);
    }
    Doc reply = set.run(context.db, with_items(context.cmd, field, items, batch).bson());
    if (!result.add(reply, batch) && (ordered || !is_ok(reply))) return false;
  }
  return true;
}

Doc insert(RouterContext& context) {
  std::string collection = collection_argument(context);
  auto lock = context.router.lock_shared(context.db + "." + collection);
  std::vector<Doc> documents = array_items(context.cmd, "documents");
  bool ordered = get_bool(context.cmd, "ordered", true);
  Target target = target_write(context.router, context.db, collection, nullptr);
  // Documents grouped by destination, in the client's order within each group.
  std::map<std::string, std::vector<std::size_t>> groups;
  std::vector<std::string> group_order;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    std::string id = target.shard_ids.front();
    if (target.routing) {
      Doc key = extract_key(documents[i].bson(), target.routing->key_pattern.bson());
      id = target.routing->chunk_for(key.bson()).shard;
    }
    if (!groups.count(id)) group_order.push_back(id);
    groups[id].push_back(i);
  }
  WriteResult result;
  for (const std::string& id : group_order) {
    auto set = target.routing ? context.router.shard(id) : target.sets.front();
    if (!send_batches(*set, context, "documents", documents, groups[id], ordered, result) && ordered) break;
  }
  return result.reply(false);
}

// Runs one statement (`field` is "updates" or "deletes") of a sharded collection.
// Returns false when it produced a write error.
bool run_sharded_statement(RouterContext& context, const Target& target, const char* field,
                           const std::vector<Doc>& statements, std::size_t index, WriteResult& result) {
  const bson_t* statement = statements[index].bson();
  Doc filter = get_document(statement, "q").value_or(Doc::empty());
  bool is_update = std::string_view(field) == "updates";
  bool multi = is_update ? get_bool(statement, "multi", false) : get_number(statement, "limit").value_or(0) == 0;
  std::vector<std::size_t> one{index};
  Doc command = with_items(context.cmd, field, statements, one);
  if (auto key = key_from_filter(filter.bson(), target.routing->key_pattern.bson())) {
    auto set = shard_for_key(context.router, *target.routing, key->bson());
    return result.add(set->run(context.db, command.bson()), one);
  }
  if (is_update && get_bool(statement, "upsert", false)) {
    throw CommandError(61, "ShardKeyNotFound",
                       "Failed to target upsert by query :: could not extract exact shard key from " + json(filter.bson()));
  }
  for (const std::string& id : target.shard_ids) {
    Doc reply = context.router.shard(id)->run(context.db, command.bson());
    if (!result.add(reply, one)) return false;
    // A single-document write is done once one shard matched.
    if (!multi && get_number(reply.bson(), "n").value_or(0) > 0) break;
  }
  return true;
}

Doc update_or_delete(RouterContext& context, const char* field) {
  std::string collection = collection_argument(context);
  auto lock = context.router.lock_shared(context.db + "." + collection);
  std::vector<Doc> statements = array_items(context.cmd, field);
  bool ordered = get_bool(context.cmd, "ordered", true);
  Target target = target_write(context.router, context.db, collection, nullptr);
  WriteResult result;
  if (!target.routing) {
    std::vector<std::size_t> all(statements.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    send_batches(*target.sets.front(), context, field, statements, all, ordered, result);
  } else {
    for (std::size_t i = 0; i < statements.size(); ++i) {
      if (!run_sharded_statement(context, target, field, statements, i, result) && ordered) break;
    }
  }
  return result.reply(std::string_view(field) == "updates");
}

Doc update(RouterContext& context) { return update_or_delete(context, "updates"); }
Doc remove(RouterContext& context) { return update_or_delete(context, "deletes"); }

// findAndModify: to the shard the query targets; without the shard key, to each owning shard
// in turn until one finds a document (an upsert then needs the key, as for update).
Doc find_and_modify(RouterContext& context) {
  std::string collection = collection_argument(context);
  auto lock = context.router.lock_shared(context.db + "." + collection);
  Doc query = get_document(context.cmd, "query").value_or(Doc::empty());
  Target target = target_write(context.router, context.db, collection, query.bson());
  Builder with_concern;
  Doc base = forwardable(context.cmd);
  bson_concat(with_concern.get(), base.bson());
  append_default_write_concern(with_concern.get(), context.cmd);
  Doc command = with_concern.doc();
  if (target.sets.size() == 1) return router_reply(target.sets.front()->run(context.db, command.bson()));
  if (get_bool(context.cmd, "upsert", false)) {
    throw CommandError(61, "ShardKeyNotFound",
                       "findAndModify with upsert must target one shard: its query needs the full shard key");
  }
  Doc reply;
  for (const auto& set : target.sets) {
    reply = set->run(context.db, command.bson());
    if (!is_ok(reply)) break;
    auto last_error = get_document(reply.bson(), "lastErrorObject");
    if (last_error && get_number(last_error->bson(), "n").value_or(0) > 0) break;
  }
  return router_reply(reply);
}

}  // namespace

void add_router_write_commands(std::vector<RouterCommand>& table) {
  table.insert(table.end(), {
                                {"insert", insert},
                                {"update", update},
                                {"delete", remove},
                                {"findAndModify", find_and_modify},
                            });
}

}  // namespace sandbox::mongos
