// Reads: find, getMore (including tailable awaitData cursors on capped collections),
// killCursors, count, distinct, aggregate.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "query/value.h"
#include "server/commands.h"

namespace sandbox {
namespace {

constexpr std::int64_t kDefaultAwaitMs = 1000;

struct FindOptions {
  Doc filter = Doc::empty();
  std::optional<Doc> sort;
  std::optional<Doc> projection;
  std::int64_t skip = 0;
  std::int64_t limit = 0;  // 0: none
  int natural = 1;         // scan direction from {$natural: ±1}
};

bool is_empty(const std::optional<Doc>& doc) { return !doc || bson_count_keys(doc->bson()) == 0; }

// Splits a sort spec: {$natural: -1} sets the scan direction, anything else sorts.
void read_sort(FindOptions& options) {
  if (is_empty(options.sort)) {
    options.sort.reset();
    return;
  }
  if (auto natural = get_number(options.sort->bson(), "$natural")) {
    options.natural = *natural < 0 ? -1 : 1;
    options.sort.reset();
  }
}

// The documents of a view: its pipeline (and its source's, recursively) over the source.
std::vector<Doc> view_documents(Engine& engine, const Collection& view, int depth = 0) {
  if (depth > 20) throw_error(2, "BadValue", "view nesting too deep");
  std::string source = get_string(view.options().bson(), "viewOn").value_or("");
  std::vector<Doc> input;
  if (Collection* base = engine.catalog().find(view.db(), source)) {
    if (base->is_view()) {
      input = view_documents(engine, *base, depth + 1);
    } else {
      for (const auto& [id, record] : base->records()) input.push_back(*record);
    }
  }
  Doc pipeline = get_document(view.options().bson(), "pipeline").value_or(Doc::empty());
  return run_pipeline(std::move(input), pipeline.bson());
}

// Collects matching records walking [first, last) in order, stopping after `enough` matches.
template <typename Iterator>
void collect_matches(Iterator first, Iterator last, const Matcher& matcher, std::size_t enough,
                     std::vector<Record>& matched) {
  for (; first != last && matched.size() < enough; ++first) {
    if (matcher.matches(first->second->bson())) matched.push_back(first->second);
  }
}

// The `ts` a forward oplog query starts at: {ts: {$gt: T}} or {ts: {$gte: T}}, at the top of
// the filter or in a top-level $and.
std::optional<Timestamp> oplog_lower_bound(const bson_t* filter) {
  bson_iter_t it;
  if (!bson_iter_init(&it, filter)) return std::nullopt;
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    bson_t sub;
    if (key == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t clause;
      bson_iter_recurse(&it, &clause);
      while (bson_iter_next(&clause)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&clause)) continue;
        init_static_from_iter(&clause, &sub);
        if (auto bound = oplog_lower_bound(&sub)) return bound;
      }
    } else if (key == "ts" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      init_static_from_iter(&it, &sub);
      for (const char* op : {"$gt", "$gte"}) {
        auto value = find_field(&sub, op);
        if (!value || !BSON_ITER_HOLDS_TIMESTAMP(&*value)) continue;
        Timestamp ts;
        bson_iter_timestamp(&*value, &ts.secs, &ts.inc);
        return ts;
      }
    }
  }
  return std::nullopt;
}

// Where a forward scan of `coll` may start. mongod starts an oplog scan bounded below on `ts`
// at that bound, not at the oldest entry; the oplog is in `ts` order, so walking back from
// the newest entry finds it at a cost in proportion to what the query returns, which is what
// keeps "the oplog since T" cheap on a full oplog.
auto forward_scan_start(const Collection& coll, const bson_t* filter) {
  const auto& records = coll.records();
  auto start = records.begin();
  if (coll.ns() != "local.oplog.rs") return start;
  const auto bound = oplog_lower_bound(filter);
  if (!bound) return start;
  start = records.end();
  while (start != records.begin() && entry_timestamp(std::prev(start)->second->bson()) >= *bound) --start;
  return start;
}

// Matching documents of a collection or view, in natural order (or reversed). Like a real
// server, an unsorted query stops scanning once it has `enough` (skip + limit) matches: a
// {$natural: -1} limit 1 read of the oplog's newest entry costs one step, not a full scan.
std::vector<Record> scan(Engine& engine, const Collection& coll, const bson_t* filter, const Matcher& matcher,
                         int natural, std::size_t enough = SIZE_MAX) {
  std::vector<Record> matched;
  if (coll.is_view()) {
    for (Doc& doc : view_documents(engine, coll)) {
      if (matcher.matches(doc.bson())) matched.push_back(std::make_shared<const Doc>(std::move(doc)));
    }
  } else if (auto id = matcher.id_equality()) {
    if (auto record_id = coll.find_by_id(*id)) {
      const Record& record = coll.records().at(*record_id);
      if (matcher.matches(record->bson())) matched.push_back(record);
    }
  } else if (natural < 0) {
    collect_matches(coll.records().rbegin(), coll.records().rend(), matcher, enough, matched);
    return matched;
  } else {
    collect_matches(forward_scan_start(coll, filter), coll.records().end(), matcher, enough, matched);
  }
  if (natural < 0) std::reverse(matched.begin(), matched.end());
  return matched;
}

std::deque<Record> shape_results(std::vector<Record> matched, const FindOptions& options) {
  if (options.sort) {
    const bson_t* spec = options.sort->bson();
    std::stable_sort(matched.begin(), matched.end(), [spec](const Record& a, const Record& b) {
      return compare_for_sort(a->bson(), b->bson(), spec) < 0;
    });
  }
  std::deque<Record> results;
  std::size_t begin = std::min<std::size_t>(static_cast<std::size_t>(options.skip), matched.size());
  for (std::size_t i = begin; i < matched.size(); ++i) {
    if (options.limit > 0 && static_cast<std::int64_t>(results.size()) >= options.limit) break;
    if (is_empty(options.projection)) {
      results.push_back(std::move(matched[i]));
    } else {
      results.push_back(std::make_shared<const Doc>(project(matched[i]->bson(), options.projection->bson())));
    }
  }
  return results;
}

FindOptions read_find_options(const bson_t* cmd) {
  FindOptions options;
  options.filter = get_document(cmd, "filter").value_or(Doc::empty());
  options.sort = get_document(cmd, "sort");
  options.projection = get_document(cmd, "projection");
  options.skip = get_number(cmd, "skip").value_or(0);
  options.limit = get_number(cmd, "limit").value_or(0);
  if (options.skip < 0) throw_error(2, "BadValue", "skip value must be non-negative");
  read_sort(options);
  return options;
}

// Reads the next documents of a tailable cursor after its position. Throws 136 when the
// capped collection has deleted the position.
std::vector<Record> read_tail(Engine& engine, Cursor& cursor, std::int64_t batch_size) {
  Collection* coll = engine.catalog().find(cursor.db, cursor.coll);
  if (coll == nullptr || coll->uuid() != cursor.uuid) {
    throw_error(175, "QueryPlanKilled", "collection dropped while the cursor was open");
  }
  const auto& records = coll->records();
  if (cursor.last_record_id != 0 && (records.empty() || records.begin()->first > cursor.last_record_id)) {
    const std::string message =
        "CollectionScan died due to position in capped collection being deleted. "
        "Last seen record id: RecordId(" + std::to_string(cursor.last_record_id) + ")";
    engine.cursors().close(cursor.id);  // frees `cursor`: nothing may read it after this
    throw_error(136, "CappedPositionLost", message);
  }
  std::vector<Record> batch;
  std::size_t bytes = 0;
  for (auto it = records.upper_bound(cursor.last_record_id); it != records.end(); ++it) {
    if (batch_size > 0 && static_cast<std::int64_t>(batch.size()) >= batch_size) break;
    if (!batch.empty() && bytes + it->second->size() > kMaxBatchBytes) break;
    cursor.last_record_id = it->first;
    if (cursor.filter && !cursor.filter->matches(it->second->bson())) continue;
    const Record& record = it->second;
    batch.push_back(cursor.projection ? std::make_shared<const Doc>(project(record->bson(), cursor.projection->bson()))
                                      : record);
    bytes += record->size();
  }
  return batch;
}

Doc tailable_batch(Engine& engine, Cursor& cursor, std::vector<Record> batch, bool first) {
  for (Record& record : batch) cursor.results.push_back(std::move(record));
  return cursor_reply(engine, cursor, 0, first);
}

Doc find_tailable(CommandContext& context, Collection& coll, const FindOptions& options,
                  std::int64_t batch_size) {
  if (!coll.is_capped()) {
    throw_error(2, "BadValue", "error processing query: tailable cursor requested on non capped collection");
  }
  if (options.sort) throw_error(2, "BadValue", "cannot use tailable option with a sort other than {$natural: 1}");
  Cursor cursor;
  cursor.ns = coll.ns();
  cursor.tailable = true;
  cursor.await_data = get_bool(context.cmd, "awaitData", false);
  cursor.db = coll.db();
  cursor.coll = coll.name();
  cursor.uuid = coll.uuid();
  cursor.filter = std::make_shared<Matcher>(options.filter.bson());
  if (!is_empty(options.projection)) cursor.projection = options.projection;
  if (coll.records().empty()) {
    // Like a real server: a tailable cursor on an empty collection is dead at once.
    cursor.tailable = false;
    return cursor_reply(context.engine, cursor, 0, true);
  }
  Cursor& open = context.engine.cursors().open(std::move(cursor));
  auto batch = read_tail(context.engine, open, batch_size);
  return tailable_batch(context.engine, open, std::move(batch), true);
}

Doc find(CommandContext& context) {
  std::string name = command_collection(context);
  FindOptions options = read_find_options(context.cmd);
  std::int64_t batch_size = get_number(context.cmd, "batchSize").value_or(kDefaultFirstBatch);
  if (batch_size < 0) throw_error(2, "BadValue", "batchSize must be non-negative");
  bool single_batch = get_bool(context.cmd, "singleBatch", false);
  if (options.limit < 0) {
    options.limit = -options.limit;
    single_batch = true;
  }
  if (options.limit > 0 && (batch_size == 0 || batch_size > options.limit)) batch_size = options.limit;
  Collection* coll = context.engine.catalog().find(context.db, name);
  std::string ns = context.db + "." + name;
  if (coll == nullptr) return cursor_reply_for(context.engine, ns, {}, batch_size, true);
  if (get_bool(context.cmd, "tailable", false)) return find_tailable(context, *coll, options, batch_size);
  Matcher matcher(options.filter.bson());
  const std::size_t enough = (options.limit > 0 && !options.sort)
                                 ? static_cast<std::size_t>(options.skip + options.limit)
                                 : SIZE_MAX;
  auto results = shape_results(scan(context.engine, *coll, options.filter.bson(), matcher, options.natural, enough), options);
  return cursor_reply_for(context.engine, ns, std::move(results), batch_size, single_batch);
}

Doc get_more(CommandContext& context) {
  auto id_field = find_field(context.cmd, "getMore");
  if (!id_field || !BSON_ITER_HOLDS_INT64(&*id_field)) {
    throw_error(14, "TypeMismatch", "BSON field 'getMore' is the wrong type, expected type 'long'");
  }
  std::int64_t id = bson_iter_int64(&*id_field);
  Cursor* cursor = context.engine.cursors().find(id);
  if (cursor == nullptr) throw_error(43, "CursorNotFound", "cursor id " + std::to_string(id) + " not found");
  std::int64_t batch_size = get_number(context.cmd, "batchSize").value_or(0);
  if (!cursor->tailable) return cursor_reply(context.engine, *cursor, batch_size, false);

  std::int64_t wait_ms = get_number(context.cmd, "maxTimeMS").value_or(kDefaultAwaitMs);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    auto batch = read_tail(context.engine, *cursor, batch_size);
    if (!batch.empty() || !cursor->await_data ||
        std::chrono::steady_clock::now() >= deadline) {
      return tailable_batch(context.engine, *cursor, std::move(batch), false);
    }
    context.engine.changed.wait_until(context.lock, deadline);
    cursor = context.engine.cursors().find(id);  // killCursors may have run while waiting
    if (cursor == nullptr) throw_error(43, "CursorNotFound", "cursor id " + std::to_string(id) + " not found");
  }
}

Doc kill_cursors(CommandContext& context) {
  Builder killed, not_found;
  int killed_count = 0, missing_count = 0;
  if (auto ids = get_document(context.cmd, "cursors")) {
    bson_iter_t iter;
    bson_iter_init(&iter, ids->bson());
    while (bson_iter_next(&iter)) {
      std::int64_t id = iter_number(&iter).value_or(0);
      bool closed = context.engine.cursors().close(id);
      bson_t* list = closed ? killed.get() : not_found.get();
      int& count = closed ? killed_count : missing_count;
      std::string key = std::to_string(count);
      ++count;
      BSON_APPEND_INT64(list, key.c_str(), id);
    }
  }
  Builder out;
  append_array(out.get(), "cursorsKilled", killed.get());
  append_array(out.get(), "cursorsNotFound", not_found.get());
  Builder empty;
  append_array(out.get(), "cursorsAlive", empty.get());
  append_array(out.get(), "cursorsUnknown", empty.get());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc count(CommandContext& context) {
  std::string name = command_collection(context);
  Collection* coll = context.engine.catalog().find(context.db, name);
  std::int64_t n = 0;
  if (coll != nullptr) {
    Doc query = get_document(context.cmd, "query").value_or(Doc::empty());
    if (bson_count_keys(query.bson()) == 0 && !coll->is_view()) {
      n = static_cast<std::int64_t>(coll->count());
    } else {
      Matcher matcher(query.bson());
      n = static_cast<std::int64_t>(scan(context.engine, *coll, query.bson(), matcher, 1).size());
    }
    std::int64_t skip = get_number(context.cmd, "skip").value_or(0);
    std::int64_t limit = get_number(context.cmd, "limit").value_or(0);
    n = std::max<std::int64_t>(0, n - skip);
    if (limit != 0) n = std::min(n, limit < 0 ? -limit : limit);
  }
  Builder out;
  BSON_APPEND_INT32(out.get(), "n", static_cast<std::int32_t>(n));
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// Adds `value` to `values` unless an equal value (MongoDB comparison) is already there.
void add_distinct(std::vector<Doc>& values, const bson_iter_t* value) {
  Doc candidate = single_value("", value);
  for (const Doc& existing : values) {
    if (!KeyLess{}(existing, candidate) && !KeyLess{}(candidate, existing)) return;
  }
  values.push_back(std::move(candidate));
}

Doc distinct(CommandContext& context) {
  std::string name = command_collection(context);
  auto key = get_string(context.cmd, "key");
  if (!key) throw_error(40414, "Location40414", "BSON field 'distinct.key' is missing but a required field");
  std::vector<Doc> values;
  if (Collection* coll = context.engine.catalog().find(context.db, name)) {
    const Doc query = get_document(context.cmd, "query").value_or(Doc::empty());
    Matcher matcher(query.bson());
    for (const Record& record : scan(context.engine, *coll, query.bson(), matcher, 1)) {
      bson_iter_t root, value;
      bson_iter_init(&root, record->bson());
      if (!bson_iter_find_descendant(&root, key->c_str(), &value)) continue;
      if (BSON_ITER_HOLDS_ARRAY(&value)) {
        bson_iter_t element;
        bson_iter_recurse(&value, &element);
        while (bson_iter_next(&element)) add_distinct(values, &element);
      } else {
        add_distinct(values, &value);
      }
    }
  }
  std::sort(values.begin(), values.end(), KeyLess{});
  Builder out;
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "values", &array);
  for (std::size_t i = 0; i < values.size(); ++i) {
    bson_iter_t iter;
    bson_iter_init(&iter, values[i].bson());
    bson_iter_next(&iter);
    append_iter(&array, std::to_string(i), &iter);
  }
  bson_append_array_end(out.get(), &array);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc aggregate(CommandContext& context) {
  auto pipeline = get_document(context.cmd, "pipeline");
  if (!pipeline) throw_error(9, "FailedToParse", "'pipeline' option must be specified as an array");
  auto cursor_options = get_document(context.cmd, "cursor");
  if (!cursor_options && !get_bool(context.cmd, "explain", false)) {
    throw_error(9, "FailedToParse", "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  std::int64_t batch_size = cursor_options ? get_number(cursor_options->bson(), "batchSize").value_or(kDefaultFirstBatch)
                                           : kDefaultFirstBatch;
  std::vector<Doc> input;
  std::string ns = context.db + ".$cmd.aggregate";
  if (auto target = find_field(context.cmd, "aggregate"); target && BSON_ITER_HOLDS_UTF8(&*target)) {
    std::string name = bson_iter_utf8(&*target, nullptr);
    ns = context.db + "." + name;
    if (Collection* coll = context.engine.catalog().find(context.db, name)) {
      if (coll->is_view()) {
        input = view_documents(context.engine, *coll);
      } else {
        input.reserve(coll->count());
        for (const auto& [id, record] : coll->records()) input.push_back(*record);
      }
    }
  }
  std::deque<Record> results;
  for (Doc& doc : run_pipeline(std::move(input), pipeline->bson())) {
    results.push_back(std::make_shared<const Doc>(std::move(doc)));
  }
  return cursor_reply_for(context.engine, ns, std::move(results), batch_size, false);
}

}  // namespace

void add_read_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"find", find, CommandKind::kRead},
      {"getMore", get_more, CommandKind::kRead},
      {"killCursors", kill_cursors, CommandKind::kAny},
      {"count", count, CommandKind::kRead},
      {"distinct", distinct, CommandKind::kRead},
      {"aggregate", aggregate, CommandKind::kRead},
  });
}

}  // namespace sandbox
