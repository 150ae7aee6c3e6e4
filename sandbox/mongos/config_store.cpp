#include "mongos/config_store.h"

#include <mutex>

#include "server/peer.h"

namespace sandbox::mongos {
namespace {

constexpr const char* kConfigDb = "config";

void append_majority(bson_t* command) {
  bson_t concern;
  BSON_APPEND_DOCUMENT_BEGIN(command, "writeConcern", &concern);
  BSON_APPEND_UTF8(&concern, "w", "majority");
  bson_append_document_end(command, &concern);
}

// Throws the first writeErrors entry or writeConcernError of a write reply.
void check_write_reply(const Doc& reply) {
  auto first_error = [](const Doc& error) {
    throw CommandError(static_cast<int>(get_number(error.bson(), "code").value_or(8)),
                       get_string(error.bson(), "codeName").value_or("UnknownError"),
                       "config server: " + get_string(error.bson(), "errmsg").value_or("write failed"));
  };
  if (auto errors = get_document(reply.bson(), "writeErrors")) {
    bson_iter_t iter;
    if (bson_iter_init(&iter, errors->bson()) && bson_iter_next(&iter)) first_error(iter_document(&iter));
  }
  if (auto concern = get_document(reply.bson(), "writeConcernError")) first_error(*concern);
}

}  // namespace

void append_timestamp(bson_t* out, const char* key, Timestamp ts) { BSON_APPEND_TIMESTAMP(out, key, ts.secs, ts.inc); }

Timestamp get_timestamp(const bson_t* doc, const char* key) {
  bson_iter_t iter;
  Timestamp ts;
  if (bson_iter_init_find(&iter, doc, key) && BSON_ITER_HOLDS_TIMESTAMP(&iter)) bson_iter_timestamp(&iter, &ts.secs, &ts.inc);
  return ts;
}

Chunk chunk_from_document(const Doc& entry) {
  Chunk chunk;
  bson_iter_t iter;
  if (bson_iter_init_find(&iter, entry.bson(), "_id")) chunk.id = single_value("_id", &iter);
  chunk.min = get_document(entry.bson(), "min").value_or(Doc::empty());
  chunk.max = get_document(entry.bson(), "max").value_or(Doc::empty());
  chunk.shard = get_string(entry.bson(), "shard").value_or("");
  chunk.lastmod = get_timestamp(entry.bson(), "lastmod");
  chunk.entry = entry;
  return chunk;
}

std::vector<Doc> ConfigStore::find(const std::string& collection, const bson_t* filter, const bson_t* sort) {
  Builder command;
  BSON_APPEND_UTF8(command.get(), "find", collection.c_str());
  if (filter) append_doc(command.get(), "filter", filter);
  if (sort) append_doc(command.get(), "sort", sort);
  return read_all(set_, kConfigDb, command.get());
}

Doc ConfigStore::write(const bson_t* command) {
  Doc reply = set_.run_checked(kConfigDb, command);
  check_write_reply(reply);
  return reply;
}

std::vector<Doc> ConfigStore::shard_documents() {
  Builder sort;
  BSON_APPEND_INT32(sort.get(), "_id", 1);
  return find("shards", nullptr, sort.get());
}

std::vector<ShardEntry> ConfigStore::shards() {
  std::vector<ShardEntry> out;
  for (const Doc& entry : shard_documents()) {
    out.push_back({get_string(entry.bson(), "_id").value_or(""),
                   parse_set_address(get_string(entry.bson(), "host").value_or(""))});
  }
  return out;
}

std::optional<DatabaseEntry> ConfigStore::database(const std::string& name) {
  Builder filter;
  BSON_APPEND_UTF8(filter.get(), "_id", name.c_str());
  auto found = find("databases", filter.get());
  if (found.empty()) return std::nullopt;
  return DatabaseEntry{name, get_string(found.front().bson(), "primary").value_or("")};
}

std::vector<DatabaseEntry> ConfigStore::databases() {
  std::vector<DatabaseEntry> out;
  for (const Doc& entry : find("databases", nullptr)) {
    out.push_back({get_string(entry.bson(), "_id").value_or(""), get_string(entry.bson(), "primary").value_or("")});
  }
  return out;
}

std::optional<CollectionRouting> ConfigStore::collection(const std::string& ns) {
  Builder filter;
  BSON_APPEND_UTF8(filter.get(), "_id", ns.c_str());
  auto found = find("collections", filter.get());
  if (found.empty() || get_bool(found.front().bson(), "dropped", false)) return std::nullopt;
  const bson_t* entry = found.front().bson();
  CollectionRouting routing;
  routing.ns = ns;
  routing.key_pattern = get_document(entry, "key").value_or(Doc::empty());
  if (auto uuid = get_uuid(entry, "uuid")) routing.uuid = *uuid;
  routing.unique = get_bool(entry, "unique", false);
  routing.no_balance = get_bool(entry, "noBalance", false);
  Builder chunk_filter, sort;
  append_uuid(chunk_filter.get(), "uuid", routing.uuid);
  BSON_APPEND_INT32(sort.get(), "min", 1);
  for (const Doc& chunk : find("chunks", chunk_filter.get(), sort.get())) {
    routing.chunks.push_back(chunk_from_document(chunk));
  }
  // Sort by key order (the config server's sort on `min` compares documents, which agrees for
  // keys of one pattern, but the router's order is the one that matters).
  std::sort(routing.chunks.begin(), routing.chunks.end(),
            [](const Chunk& a, const Chunk& b) { return compare_keys(a.min.bson(), b.min.bson()) < 0; });
  if (routing.chunks.empty()) {
    throw CommandError(8, "UnknownError", "config.chunks holds no chunk for sharded collection " + ns);
  }
  return routing;
}

std::vector<std::string> ConfigStore::sharded_namespaces(const std::string& db_prefix) {
  std::vector<std::string> out;
  for (const Doc& entry : find("collections", nullptr)) {
    std::string ns = get_string(entry.bson(), "_id").value_or("");
    if (db_prefix.empty() || ns.rfind(db_prefix + ".", 0) == 0) out.push_back(ns);
  }
  return out;
}

bool ConfigStore::balancer_stopped() {
  Builder filter;
  BSON_APPEND_UTF8(filter.get(), "_id", "balancer");
  auto found = find("settings", filter.get());
  return !found.empty() && get_bool(found.front().bson(), "stopped", false);
}

void ConfigStore::insert(const std::string& collection, const bson_t* document) {
  Builder command;
  BSON_APPEND_UTF8(command.get(), "insert", collection.c_str());
  bson_t documents;
  BSON_APPEND_ARRAY_BEGIN(command.get(), "documents", &documents);
  BSON_APPEND_DOCUMENT(&documents, "0", document);
  bson_append_array_end(command.get(), &documents);
  append_majority(command.get());
  write(command.get());
}

std::int64_t ConfigStore::update(const std::string& collection, const bson_t* filter, const bson_t* update,
                                 bool upsert) {
  Builder command;
  BSON_APPEND_UTF8(command.get(), "update", collection.c_str());
  bson_t updates, statement;
  BSON_APPEND_ARRAY_BEGIN(command.get(), "updates", &updates);
  BSON_APPEND_DOCUMENT_BEGIN(&updates, "0", &statement);
  BSON_APPEND_DOCUMENT(&statement, "q", filter);
  BSON_APPEND_DOCUMENT(&statement, "u", update);
  BSON_APPEND_BOOL(&statement, "upsert", upsert);
  BSON_APPEND_BOOL(&statement, "multi", false);
  bson_append_document_end(&updates, &statement);
  bson_append_array_end(command.get(), &updates);
  append_majority(command.get());
  Doc reply = write(command.get());
  return get_number(reply.bson(), "n").value_or(0);
}

void ConfigStore::remove(const std::string& collection, const bson_t* filter) {
  Builder command;
  BSON_APPEND_UTF8(command.get(), "delete", collection.c_str());
  bson_t deletes, statement;
  BSON_APPEND_ARRAY_BEGIN(command.get(), "deletes", &deletes);
  BSON_APPEND_DOCUMENT_BEGIN(&deletes, "0", &statement);
  BSON_APPEND_DOCUMENT(&statement, "q", filter);
  BSON_APPEND_INT32(&statement, "limit", 0);
  bson_append_document_end(&deletes, &statement);
  bson_append_array_end(command.get(), &deletes);
  append_majority(command.get());
  write(command.get());
}

Timestamp ConfigStore::next_timestamp() {
  // Increasing within this router; seconds keep routers roughly ordered with each other.
  static std::mutex mutex;
  static Timestamp last;
  std::lock_guard lock(mutex);
  auto secs = static_cast<std::uint32_t>(now_millis() / 1000);
  last = secs > last.secs ? Timestamp{secs, 1} : Timestamp{last.secs, last.inc + 1};
  return last;
}

}  // namespace sandbox::mongos
