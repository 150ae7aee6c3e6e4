// Targeting and merging of transaction statements on the router (see transaction_router.h).
#include <algorithm>
#include <set>

#include "mongos/targeting.h"
#include "mongos/transaction_router.h"
#include "query/query.h"
#include "server/bson_util.h"

namespace sandbox::mongos {
namespace {

std::vector<Doc> array_items(const bson_t* doc, const char* field) {
  std::vector<Doc> items;
  auto array = get_document(doc, field);
  bson_iter_t iter;
  if (!array || !bson_iter_init(&iter, array->bson())) return items;
  while (bson_iter_next(&iter)) {
    if (BSON_ITER_HOLDS_DOCUMENT(&iter)) items.push_back(iter_document(&iter));
  }
  return items;
}

// {"0": items[0], ...}: the body of a BSON array.
Doc array_of(const std::vector<Doc>& items) {
  Builder array;
  for (std::size_t i = 0; i < items.size(); ++i) append_doc(array.get(), std::to_string(i), items[i].bson());
  return array.doc();
}

// `command` with `field` replaced by the array `items`.
Doc with_array(const bson_t* command, const char* field, const std::vector<Doc>& items) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, command);
  while (bson_iter_next(&iter)) {
    if (std::string_view(bson_iter_key(&iter)) != field) append_iter(out.get(), bson_iter_key(&iter), &iter);
  }
  append_array(out.get(), field, array_of(items).bson());
  return out.doc();
}

std::vector<ShardPart> split_insert(RouterContext& context, const Doc& command) {
  std::string coll = collection_argument(context);
  Target target = target_write(context.router, context.db, coll, nullptr);
  std::map<std::string, std::vector<Doc>> by_shard;
  for (Doc& doc : array_items(context.cmd, "documents")) {
    std::string shard = target.shard_ids.front();
    if (target.routing) shard_for_key(context.router, *target.routing, extract_key(doc.bson(), target.routing->key_pattern.bson()).bson(), &shard);
    by_shard[shard].push_back(std::move(doc));
  }
  std::vector<ShardPart> parts;
  for (const auto& [shard, docs] : by_shard) parts.push_back({shard, with_array(command.bson(), "documents", docs)});
  return parts;
}

// The filter a statement targets by (null: every shard holding the collection).
std::optional<Doc> statement_filter(const std::string& name, const bson_t* cmd) {
  if (name == "find" || name == "count" || name == "distinct") {
    return get_document(cmd, name == "find" ? "filter" : "query");
  }
  if (name == "findAndModify") return get_document(cmd, "query");
  if (name == "aggregate") {
    auto stages = array_items(cmd, "pipeline");
    if (!stages.empty()) return get_document(stages.front().bson(), "$match");
  }
  return std::nullopt;
}

std::vector<std::string> filter_targets(RouterContext& context, const std::string& name) {
  std::string coll = collection_argument(context);
  if (name == "update" || name == "delete") {
    std::set<std::string> shards;
    for (const Doc& statement : array_items(context.cmd, name == "update" ? "updates" : "deletes")) {
      auto filter = get_document(statement.bson(), "q");
      for (const auto& id : target_write(context.router, context.db, coll, filter ? filter->bson() : nullptr).shard_ids) {
        shards.insert(id);
      }
    }
    return {shards.begin(), shards.end()};
  }
  auto filter = statement_filter(name, context.cmd);
  const bson_t* filter_bson = filter ? filter->bson() : nullptr;
  bool writes = name == "findAndModify" || name == "create" || name == "createIndexes";
  return (writes ? target_write : target_read)(context.router, context.db, coll, filter_bson).shard_ids;
}

std::string cursor_shard(const RouterTransaction& txn, std::int64_t id) {
  auto found = txn.cursors.find(id);
  if (found == txn.cursors.end()) throw CommandError(43, "CursorNotFound", "cursor id " + std::to_string(id) + " not found");
  return found->second;
}

std::vector<Doc> first_batch(const Doc& reply) {
  auto cursor = get_document(reply.bson(), "cursor");
  return cursor ? array_items(cursor->bson(), "firstBatch") : std::vector<Doc>{};
}

// A pipeline's leading $match stages (what shards run when several take part) and the rest (what
// the router runs on their results).
std::pair<std::vector<Doc>, std::vector<Doc>> split_matches(const bson_t* cmd) {
  std::vector<Doc> stages = array_items(cmd, "pipeline");
  auto rest = std::find_if(stages.begin(), stages.end(), [](const Doc& stage) { return first_key(stage.bson()) != "$match"; });
  return {{stages.begin(), rest}, {rest, stages.end()}};
}

// Several shards' cursors as one exhausted cursor (their first batches hold everything: the
// parts asked for no batch limit), an aggregate's remaining stages run on the router.
Doc merge_cursors(const bson_t* cmd, const std::vector<Doc>& replies) {
  std::vector<Doc> docs;
  for (const Doc& reply : replies) {
    for (Doc& doc : first_batch(reply)) docs.push_back(std::move(doc));
  }
  if (first_key(cmd) == "aggregate") {
    docs = run_pipeline(std::move(docs), array_of(split_matches(cmd).second).bson());
  }
  Builder out;
  bson_t cursor;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "cursor", &cursor);
  append_array(&cursor, "firstBatch", array_of(docs).bson());
  BSON_APPEND_INT64(&cursor, "id", 0);
  auto first = get_document(replies.front().bson(), "cursor");
  BSON_APPEND_UTF8(&cursor, "ns", get_string(first->bson(), "ns").value_or("").c_str());
  bson_append_document_end(out.get(), &cursor);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc merge_counts(const std::vector<Doc>& replies) {
  std::int64_t n = 0, modified = 0;
  std::vector<Doc> errors;
  for (const Doc& reply : replies) {
    n += get_number(reply.bson(), "n").value_or(0);
    modified += get_number(reply.bson(), "nModified").value_or(0);
    for (Doc& error : array_items(reply.bson(), "writeErrors")) errors.push_back(std::move(error));
  }
  Builder out;
  BSON_APPEND_INT32(out.get(), "n", static_cast<std::int32_t>(n));
  if (find_field(replies.front().bson(), "nModified")) BSON_APPEND_INT32(out.get(), "nModified", static_cast<std::int32_t>(modified));
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return errors.empty() ? out.doc() : with_array(out.get(), "writeErrors", errors);
}

Doc merge_distinct(const std::vector<Doc>& replies) {
  std::set<std::string> seen;
  Builder out;
  bson_t values;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "values", &values);
  int index = 0;
  for (const Doc& reply : replies) {
    auto array = get_document(reply.bson(), "values");
    bson_iter_t iter;
    if (!array || !bson_iter_init(&iter, array->bson())) continue;
    while (bson_iter_next(&iter)) {
      Doc value = single_value("v", &iter);
      if (seen.insert(json(value.bson())).second) append_iter(&values, std::to_string(index++), &iter);
    }
  }
  bson_append_array_end(out.get(), &values);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// Without a batch limit, so one reply per shard holds its whole result; an aggregate's shards
// run only its leading $match stages.
Doc unbatched(const std::string& name, const Doc& command) {
  if (name == "find") return forwardable(command.bson(), {"batchSize", "singleBatch"});
  Builder out;
  Doc rest = forwardable(command.bson(), {"cursor", "pipeline"});
  bson_concat(out.get(), rest.bson());
  append_array(out.get(), "pipeline", array_of(split_matches(command.bson()).first).bson());
  bson_t cursor;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "cursor", &cursor);
  bson_append_document_end(out.get(), &cursor);
  return out.doc();
}

}  // namespace

std::vector<ShardPart> split_statement(RouterContext& context, const RouterTransaction& txn) {
  std::string name = first_key(context.cmd);
  Doc command = forwardable(context.cmd, {"readConcern", "writeConcern"});
  if (name == "getMore") return {{cursor_shard(txn, get_number(context.cmd, "getMore").value_or(0)), command}};
  if (name == "killCursors") {
    auto ids = get_document(context.cmd, "cursors");
    bson_iter_t iter;
    if (!ids || !bson_iter_init(&iter, ids->bson()) || !bson_iter_next(&iter)) return {};
    return {{cursor_shard(txn, iter_number(&iter).value_or(0)), command}};
  }
  if (name == "insert") return split_insert(context, command);
  std::vector<std::string> shards = filter_targets(context, name);
  if (shards.empty()) throw CommandError(26, "NamespaceNotFound", "database " + context.db + " not found");
  bool cursor_command = name == "find" || name == "aggregate";
  if (name == "findAndModify" && shards.size() > 1) shards.resize(1);  // the key pins it, or the first shard tries
  std::vector<ShardPart> parts;
  for (const std::string& shard : shards) {
    parts.push_back({shard, cursor_command && shards.size() > 1 ? unbatched(name, command) : command});
  }
  return parts;
}

Doc merge_statement_replies(const bson_t* cmd, const std::vector<Doc>& replies) {
  std::string name = first_key(cmd);
  if (replies.size() == 1) return router_reply(replies.front());
  if (name == "find" || name == "aggregate") return merge_cursors(cmd, replies);
  if (name == "distinct") return merge_distinct(replies);
  return merge_counts(replies);  // insert, update, delete, count
}

}  // namespace sandbox::mongos
