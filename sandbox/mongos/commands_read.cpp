// Routed reads: find/getMore/killCursors, count and aggregate. A read that reaches one shard
// is that shard's answer; a scatter-gather read is merged here (sorted merge, skip and limit
// after the merge, partial $group/$count results combined).
#include <algorithm>

#include "mongos/targeting.h"
#include "query/query.h"

namespace sandbox::mongos {
namespace {

constexpr std::int64_t kDefaultFirstBatch = 101;

// A cursor on each targeted set, on the member the client's $readPreference selects (a shard
// secondary for mode secondary, as with mongos), with the client's readConcern forwarded.
std::vector<std::unique_ptr<RemoteCursor>> open_cursors(const RouterContext& context, const Target& target,
                                                        const bson_t* command) {
  auto read_preference = get_document(context.cmd, "$readPreference");
  std::vector<std::unique_ptr<RemoteCursor>> cursors;
  for (const auto& set : target.sets) {
    cursors.push_back(std::make_unique<RemoteCursor>(set, context.db, command,
                                                     read_preference ? read_preference->bson() : nullptr));
  }
  return cursors;
}

bool sorts_by_fields(const std::optional<Doc>& sort) {
  return sort && !bson_empty(sort->bson()) && !find_field(sort->bson(), "$natural");
}

Doc find(RouterContext& context) {
  std::string collection = collection_argument(context);
  std::string ns = context.db + "." + collection;
  auto lock = context.router.lock_shared(ns);
  Doc filter = get_document(context.cmd, "filter").value_or(Doc::empty());
  Target target = target_read(context.router, context.db, collection, filter.bson());
  std::int64_t batch_size = get_number(context.cmd, "batchSize").value_or(kDefaultFirstBatch);
  bool single_batch = get_bool(context.cmd, "singleBatch", false);
  std::int64_t limit = get_number(context.cmd, "limit").value_or(0);
  if (limit < 0) {  // legacy negative limit: one batch of at most |limit|
    limit = -limit;
    single_batch = true;
  }
  std::vector<std::unique_ptr<RemoteCursor>> sources;
  MergeOptions merge;
  if (target.sets.size() == 1) {
    Doc command = forwardable(context.cmd, {"batchSize", "singleBatch"});
    sources = open_cursors(context, target, command.bson());
  } else if (!target.sets.empty()) {
    merge.skip = get_number(context.cmd, "skip").value_or(0);
    merge.limit = limit;
    auto sort = get_document(context.cmd, "sort");
    if (sorts_by_fields(sort)) merge.sort = sort;
    // The merge compares sort fields, so a projection that might hide them runs here instead.
    bool defer_projection = merge.sort.has_value() && get_document(context.cmd, "projection").has_value();
    if (defer_projection) merge.projection = get_document(context.cmd, "projection");
    Builder command;
    Doc base = defer_projection ? forwardable(context.cmd, {"skip", "limit", "batchSize", "singleBatch", "projection"})
                                : forwardable(context.cmd, {"skip", "limit", "batchSize", "singleBatch"});
    bson_concat(command.get(), base.bson());
    if (limit > 0) BSON_APPEND_INT64(command.get(), "limit", limit + merge.skip);
    sources = open_cursors(context, target, command.get());
  }
  auto cursor = std::make_shared<RouterCursor>(ns, std::move(sources), std::move(merge));
  return cursor_batch_reply(context.router.cursors(), cursor, 0, batch_size, true, single_batch);
}

Doc get_more(RouterContext& context) {
  auto id = get_number(context.cmd, "getMore");
  if (!id) throw CommandError(14, "TypeMismatch", "getMore must name a cursor id (a number)");
  auto cursor = context.router.cursors().find(*id);
  if (!cursor) throw CommandError(43, "CursorNotFound", "cursor id " + std::to_string(*id) + " not found");
  std::lock_guard lock(cursor->mutex);
  try {
    return cursor_batch_reply(context.router.cursors(), cursor, *id, get_number(context.cmd, "batchSize").value_or(0),
                              false);
  } catch (...) {
    context.router.cursors().remove(*id);
    throw;
  }
}

Doc kill_cursors(RouterContext& context) {
  Builder killed, not_found;
  int killed_count = 0, not_found_count = 0;
  if (auto ids = get_document(context.cmd, "cursors")) {
    bson_iter_t iter;
    bson_iter_init(&iter, ids->bson());
    while (bson_iter_next(&iter)) {
      std::int64_t id = iter_number(&iter).value_or(0);
      if (context.router.cursors().remove(id)) {
        std::string position = std::to_string(killed_count++);
        BSON_APPEND_INT64(killed.get(), position.c_str(), id);
      } else {
        std::string position = std::to_string(not_found_count++);
        BSON_APPEND_INT64(not_found.get(), position.c_str(), id);
      }
    }
  }
  Builder reply, empty;
  BSON_APPEND_ARRAY(reply.get(), "cursorsKilled", killed.get());
  BSON_APPEND_ARRAY(reply.get(), "cursorsNotFound", not_found.get());
  BSON_APPEND_ARRAY(reply.get(), "cursorsAlive", empty.get());
  BSON_APPEND_ARRAY(reply.get(), "cursorsUnknown", empty.get());
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.doc();
}

// count and distinct: under the collection's routing lock, target the shards its `query` can
// touch; one shard gets the command whole, several are merged by `merge_shards(target)`.
template <typename MergeShards>
Doc route_by_query(RouterContext& context, MergeShards merge_shards) {
  std::string collection = collection_argument(context);
  auto lock = context.router.lock_shared(context.db + "." + collection);
  Doc query = get_document(context.cmd, "query").value_or(Doc::empty());
  Target target = target_read(context.router, context.db, collection, query.bson());
  if (target.sets.size() == 1) return router_reply(target.sets.front()->run_checked(context.db, forwardable(context.cmd).bson()));
  return merge_shards(target);
}

Doc count(RouterContext& context) {
  return route_by_query(context, [&](const Target& target) {
    // Each shard counts up to skip+limit without skipping; the skip and limit apply to the sum.
    std::int64_t skip = get_number(context.cmd, "skip").value_or(0);
    std::int64_t limit = std::abs(get_number(context.cmd, "limit").value_or(0));
    Builder command;
    Doc base = forwardable(context.cmd, {"skip", "limit"});
    bson_concat(command.get(), base.bson());
    if (limit > 0) BSON_APPEND_INT64(command.get(), "limit", skip + limit);
    std::int64_t total = 0;
    for (const Doc& reply : run_on_shards(context.router, target.shard_ids, context.db, command.get())) {
      if (!is_ok(reply)) return router_reply(reply);
      total += get_number(reply.bson(), "n").value_or(0);
    }
    total = std::max<std::int64_t>(total - skip, 0);
    if (limit > 0) total = std::min(total, limit);
    Builder reply;
    BSON_APPEND_INT64(reply.get(), "n", total);
    BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
    return reply.doc();
  });
}

// distinct: every targeted shard's values, merged without duplicates in MongoDB's order.
Doc merge_distinct(RouterContext& context, const Target& target) {
  std::vector<Doc> values;  // each {v: value}
  for (const Doc& reply : run_on_shards(context.router, target.shard_ids, context.db, forwardable(context.cmd).bson())) {
    if (!is_ok(reply)) return router_reply(reply);
    bson_iter_t iter, value;
    if (!bson_iter_init_find(&iter, reply.bson(), "values") || !bson_iter_recurse(&iter, &value)) continue;
    while (bson_iter_next(&value)) values.push_back(single_value("v", &value));
  }
  auto value_of = [](const Doc& doc) {
    bson_iter_t iter;
    bson_iter_init_find(&iter, doc.bson(), "v");
    return iter;
  };
  auto compare = [&](const Doc& a, const Doc& b) {
    bson_iter_t left = value_of(a), right = value_of(b);
    return compare_values(&left, &right);
  };
  std::sort(values.begin(), values.end(), [&](const Doc& a, const Doc& b) { return compare(a, b) < 0; });
  values.erase(std::unique(values.begin(), values.end(), [&](const Doc& a, const Doc& b) { return compare(a, b) == 0; }),
               values.end());
  Builder out, array;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bson_iter_t value = value_of(values[i]);
    append_iter(array.get(), std::to_string(i), &value);
  }
  BSON_APPEND_ARRAY(out.get(), "values", array.get());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc distinct(RouterContext& context) {
  return route_by_query(context, [&](const Target& target) { return merge_distinct(context, target); });
}

// A pipeline split for scatter-gather: what every shard runs and what the router runs on the
// union of their results.
struct SplitPipeline {
  Doc match;                    // the leading $match stages, combined ({} when none)
  std::vector<Doc> shard_part;  // stages each shard runs
  std::vector<Doc> router_part; // stages the router runs after the union
  bool sum_counts = false;      // router_part starts by summing the shards' $count documents
  std::string count_field;
};

std::vector<Doc> stages_of(const Doc& pipeline) {
  std::vector<Doc> stages;
  bson_iter_t iter;
  bson_iter_init(&iter, pipeline.bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) throw CommandError(14, "TypeMismatch", "each pipeline stage must be an object");
    stages.push_back(iter_document(&iter));
  }
  return stages;
}

// {$group} whose accumulators can be combined from per-shard partial groups: the router's
// re-grouping stage, or nullopt.
std::optional<Doc> regroup_stage(const bson_t* group) {
  Builder merged;
  BSON_APPEND_UTF8(merged.get(), "_id", "$_id");
  bson_iter_t field;
  bson_iter_init(&field, group);
  while (bson_iter_next(&field)) {
    std::string name = bson_iter_key(&field);
    if (name == "_id") continue;
    if (!BSON_ITER_HOLDS_DOCUMENT(&field)) return std::nullopt;
    Doc accumulator = iter_document(&field);
    std::string op = first_key(accumulator.bson());
    if (op != "$sum" && op != "$min" && op != "$max" && op != "$count") return std::nullopt;
    bson_t spec;
    BSON_APPEND_DOCUMENT_BEGIN(merged.get(), name.c_str(), &spec);
    BSON_APPEND_UTF8(&spec, op == "$count" ? "$sum" : op.c_str(), ("$" + name).c_str());
    bson_append_document_end(merged.get(), &spec);
  }
  Builder stage;
  append_doc(stage.get(), "$group", merged.get());
  return stage.doc();
}

SplitPipeline split_pipeline(const std::vector<Doc>& stages) {
  SplitPipeline split;
  std::size_t i = 0;
  Builder matches;
  int match_count = 0;
  for (; i < stages.size() && first_key(stages[i].bson()) == "$match"; ++i) {
    split.shard_part.push_back(stages[i]);
    if (auto filter = get_document(stages[i].bson(), "$match")) {
      std::string position = std::to_string(match_count++);
      BSON_APPEND_DOCUMENT(matches.get(), position.c_str(), filter->bson());
    }
  }
  Builder match;
  if (match_count > 0) BSON_APPEND_ARRAY(match.get(), "$and", matches.get());
  split.match = match.doc();
  if (i < stages.size()) {
    std::string name = first_key(stages[i].bson());
    if (name == "$count") {
      split.shard_part.push_back(stages[i]);
      split.sum_counts = true;
      split.count_field = get_string(stages[i].bson(), "$count").value_or("count");
      ++i;
    } else if (name == "$group") {
      if (auto regroup = regroup_stage(get_document(stages[i].bson(), "$group")->bson())) {
        split.shard_part.push_back(stages[i]);
        split.router_part.push_back(*regroup);
        ++i;
      }
    }
  }
  split.router_part.insert(split.router_part.end(), stages.begin() + static_cast<std::ptrdiff_t>(i), stages.end());
  return split;
}

Doc pipeline_array(const std::vector<Doc>& stages) {
  Builder array;
  for (std::size_t i = 0; i < stages.size(); ++i) BSON_APPEND_DOCUMENT(array.get(), std::to_string(i).c_str(), stages[i].bson());
  return array.doc();
}

// The union of every shard's results for the shard part, combined by the router part.
std::vector<Doc> scatter_aggregate(RouterContext& context, const Target& target, const SplitPipeline& split) {
  Builder command;
  Doc base = forwardable(context.cmd, {"pipeline", "cursor", "explain"});
  bson_concat(command.get(), base.bson());
  BSON_APPEND_ARRAY(command.get(), "pipeline", pipeline_array(split.shard_part).bson());
  Builder cursor_options;
  append_doc(command.get(), "cursor", cursor_options.get());
  std::vector<Doc> gathered;
  for (const auto& set : target.sets) {
    for (Doc& doc : read_all(*set, context.db, command.get())) gathered.push_back(std::move(doc));
  }
  if (split.sum_counts) {
    std::int64_t total = 0;
    for (const Doc& doc : gathered) total += get_number(doc.bson(), split.count_field).value_or(0);
    gathered.clear();
    if (total > 0) {  // $count emits no document for an empty input
      Builder counted;
      BSON_APPEND_INT64(counted.get(), split.count_field.c_str(), total);
      gathered.push_back(counted.doc());
    }
  }
  if (split.router_part.empty()) return gathered;
  return run_pipeline(std::move(gathered), pipeline_array(split.router_part).bson());
}

Doc aggregate(RouterContext& context) {
  auto name = find_field(context.cmd, "aggregate");
  if (!name || !BSON_ITER_HOLDS_UTF8(&*name)) {
    throw CommandError(115, "CommandNotSupported", "the sandbox mongos runs collection aggregations only");
  }
  std::string collection = collection_argument(context);
  std::string ns = context.db + "." + collection;
  auto lock = context.router.lock_shared(ns);
  auto pipeline = get_document(context.cmd, "pipeline");
  if (!pipeline) throw CommandError(9, "FailedToParse", "'pipeline' option must be specified as an array");
  SplitPipeline split = split_pipeline(stages_of(*pipeline));
  Target target = target_read(context.router, context.db, collection, split.match.bson());
  std::int64_t batch_size = kDefaultFirstBatch;
  if (auto cursor = get_document(context.cmd, "cursor")) batch_size = get_number(cursor->bson(), "batchSize").value_or(batch_size);
  std::shared_ptr<RouterCursor> cursor;
  if (target.sets.size() == 1) {
    // One shard holds every input document: it runs the whole pipeline.
    Doc command = forwardable(context.cmd);
    cursor = std::make_shared<RouterCursor>(ns, open_cursors(context, target, command.bson()), MergeOptions{});
  } else {
    cursor = std::make_shared<RouterCursor>(ns, target.sets.empty() ? std::vector<Doc>{}
                                                                    : scatter_aggregate(context, target, split));
  }
  return cursor_batch_reply(context.router.cursors(), cursor, 0, batch_size, true);
}

}  // namespace

void add_router_read_commands(std::vector<RouterCommand>& table) {
  table.insert(table.end(), {
                                {"find", find},
                                {"getMore", get_more},
                                {"killCursors", kill_cursors},
                                {"count", count},
                                {"distinct", distinct},
                                {"aggregate", aggregate},
                            });
}

}  // namespace sandbox::mongos
