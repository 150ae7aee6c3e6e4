// Describing what exists: listDatabases, listCollections, listIndexes, collStats, dbStats.
// Options and index specs come back exactly as they were created.
#include "server/commands.h"

namespace sandbox {
namespace {

std::int64_t database_size(Catalog& catalog, const std::string& db) {
  std::int64_t size = 0;
  for (Collection* coll : catalog.collections(db)) size += coll->data_size() + coll->index_size();
  return size;
}

Doc list_databases(CommandContext& context) {
  Catalog& catalog = context.engine.catalog();
  bool name_only = get_bool(context.cmd, "nameOnly", false);
  auto filter = get_document(context.cmd, "filter");
  std::optional<Matcher> matcher;
  if (filter) matcher.emplace(filter->bson());
  Builder out;
  bson_t databases;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "databases", &databases);
  std::int64_t total = 0;
  int i = 0;
  for (const std::string& db : catalog.database_names()) {
    Builder entry;
    BSON_APPEND_UTF8(entry.get(), "name", db.c_str());
    std::int64_t size = database_size(catalog, db);
    if (!name_only) {
      BSON_APPEND_INT64(entry.get(), "sizeOnDisk", size);
      BSON_APPEND_BOOL(entry.get(), "empty", size == 0);
    }
    if (matcher && !matcher->matches(entry.get())) continue;
    total += size;
    append_doc(&databases, std::to_string(i++), entry.get());
  }
  bson_append_array_end(out.get(), &databases);
  if (!name_only) {
    BSON_APPEND_INT64(out.get(), "totalSize", total);
    BSON_APPEND_INT64(out.get(), "totalSizeMb", total / (1024 * 1024));
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc collection_info(const Collection& coll, bool name_only) {
  Builder entry;
  BSON_APPEND_UTF8(entry.get(), "name", coll.name().c_str());
  BSON_APPEND_UTF8(entry.get(), "type", coll.is_view() ? "view" : "collection");
  if (name_only) return entry.doc();
  append_doc(entry.get(), "options", coll.options().bson());
  bson_t info;
  BSON_APPEND_DOCUMENT_BEGIN(entry.get(), "info", &info);
  BSON_APPEND_BOOL(&info, "readOnly", coll.is_view());
  if (!coll.is_view()) append_uuid(&info, "uuid", coll.uuid());
  bson_append_document_end(entry.get(), &info);
  if (!coll.indexes().empty() && coll.indexes().front().name == "_id_") {
    append_doc(entry.get(), "idIndex", coll.indexes().front().spec.bson());
  }
  return entry.doc();
}

Doc list_collections(CommandContext& context) {
  bool name_only = get_bool(context.cmd, "nameOnly", false);
  auto filter = get_document(context.cmd, "filter");
  std::optional<Matcher> matcher;
  if (filter) matcher.emplace(filter->bson());
  std::deque<Record> results;
  for (Collection* coll : context.engine.catalog().collections(context.db)) {
    // The filter sees the full document even with nameOnly, as it may test options or type.
    Doc full = collection_info(*coll, false);
    if (matcher && !matcher->matches(full.bson())) continue;
    results.push_back(std::make_shared<const Doc>(name_only ? collection_info(*coll, true) : std::move(full)));
  }
  std::int64_t batch_size = kDefaultFirstBatch;
  if (auto cursor = get_document(context.cmd, "cursor")) {
    batch_size = get_number(cursor->bson(), "batchSize").value_or(kDefaultFirstBatch);
  }
  return cursor_reply_for(context.engine, context.db + ".$cmd.listCollections", std::move(results), batch_size, false);
}

Doc list_indexes(CommandContext& context) {
  std::string name = command_collection(context);
  Collection& coll = context.engine.catalog().require(context.db, name);
  if (coll.is_view()) throw_error(166, "CommandNotSupportedOnView", "Namespace " + coll.ns() + " is a view, not a collection");
  std::deque<Record> results;
  for (const Index& index : coll.indexes()) results.push_back(std::make_shared<const Doc>(index.spec));
  std::int64_t batch_size = kDefaultFirstBatch;
  if (auto cursor = get_document(context.cmd, "cursor")) {
    batch_size = get_number(cursor->bson(), "batchSize").value_or(kDefaultFirstBatch);
  }
  return cursor_reply_for(context.engine, context.db + ".$cmd.listIndexes." + name, std::move(results), batch_size, false);
}

Doc coll_stats(CommandContext& context) {
  std::string name = command_collection(context);
  Collection& coll = context.engine.catalog().require(context.db, name);
  auto count = static_cast<std::int64_t>(coll.count());
  Builder out;
  BSON_APPEND_UTF8(out.get(), "ns", coll.ns().c_str());
  BSON_APPEND_INT64(out.get(), "size", coll.data_size());
  BSON_APPEND_INT64(out.get(), "count", count);
  BSON_APPEND_INT64(out.get(), "avgObjSize", count == 0 ? 0 : coll.data_size() / count);
  BSON_APPEND_INT64(out.get(), "storageSize", coll.data_size());
  BSON_APPEND_INT32(out.get(), "nindexes", static_cast<std::int32_t>(coll.indexes().size()));
  BSON_APPEND_INT64(out.get(), "totalIndexSize", coll.index_size());
  bson_t sizes;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "indexSizes", &sizes);
  for (const Index& index : coll.indexes()) {
    BSON_APPEND_INT64(&sizes, index.name.c_str(), static_cast<std::int64_t>(coll.count() * 32));
  }
  bson_append_document_end(out.get(), &sizes);
  BSON_APPEND_BOOL(out.get(), "capped", coll.is_capped());
  if (coll.is_capped()) {
    BSON_APPEND_INT64(out.get(), "maxSize", get_number(coll.options().bson(), "size").value_or(0));
    if (auto max = get_number(coll.options().bson(), "max")) BSON_APPEND_INT64(out.get(), "max", *max);
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc db_stats(CommandContext& context) {
  std::int64_t collections = 0, views = 0, objects = 0, data = 0, indexes = 0, index_size = 0;
  for (Collection* coll : context.engine.catalog().collections(context.db)) {
    if (coll->is_view()) {
      ++views;
      continue;
    }
    ++collections;
    objects += static_cast<std::int64_t>(coll->count());
    data += coll->data_size();
    indexes += static_cast<std::int64_t>(coll->indexes().size());
    index_size += coll->index_size();
  }
  Builder out;
  BSON_APPEND_UTF8(out.get(), "db", context.db.c_str());
  BSON_APPEND_INT64(out.get(), "collections", collections);
  BSON_APPEND_INT64(out.get(), "views", views);
  BSON_APPEND_INT64(out.get(), "objects", objects);
  BSON_APPEND_DOUBLE(out.get(), "avgObjSize", objects == 0 ? 0.0 : static_cast<double>(data) / static_cast<double>(objects));
  BSON_APPEND_INT64(out.get(), "dataSize", data);
  BSON_APPEND_INT64(out.get(), "storageSize", data);
  BSON_APPEND_INT64(out.get(), "indexes", indexes);
  BSON_APPEND_INT64(out.get(), "indexSize", index_size);
  BSON_APPEND_INT64(out.get(), "totalSize", data + index_size);
  BSON_APPEND_DOUBLE(out.get(), "scaleFactor", 1.0);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

}  // namespace

void add_catalog_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"listDatabases", list_databases, CommandKind::kRead},
      {"listCollections", list_collections, CommandKind::kRead},
      {"listIndexes", list_indexes, CommandKind::kRead},
      {"collStats", coll_stats, CommandKind::kRead},
      {"dbStats", db_stats, CommandKind::kRead},
  });
}

}  // namespace sandbox
