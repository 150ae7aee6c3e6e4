#include "coordinator/config_metadata.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/error.h"
#include "dump/namespace_filter.h"
#include "oplog/chain_reader.h"
#include "oplog/update_diff.h"
#include "storage/bson_stream.h"

namespace shardsafe::coordinator {
namespace {

const mongo::Bson kMajority = mongo::BsonBuilder().append("w", "majority").build();
constexpr std::array kMetadataCollections = {"databases", "collections", "chunks"};

// The documents of one collection of the config server's dump, keyed by their _id.
using DocumentsById = std::map<std::string, mongo::Bson>;

std::string id_key(const bson_t* document) {
  bson_iter_t id;
  if (!bson_iter_init_find(&id, document, "_id")) throw Error(ErrorCode::kCorruptData, "a sharding metadata document has no _id");
  return mongo::BsonBuilder().append_iter("_id", &id).build().canonical_json();
}

DocumentsById read_collection(const catalog::ReplicaSetBackup& set, const std::string& name, storage::Storage& storage,
                              const std::optional<storage::EncryptionKey>& key) {
  DocumentsById documents;
  for (const auto& collection : set.collections) {
    if (collection.db != "config" || collection.name != name) continue;
    auto source = storage::read_stream(storage, collection.data, key);
    storage::BsonStreamReader reader(*source, collection.data.key);
    while (const auto raw = reader.next()) {
      mongo::Bson document = mongo::Bson::from_bytes(*raw);
      documents[id_key(document.get())] = std::move(document);
    }
  }
  return documents;
}

// An update entry: a replacement, or a `$v:2` diff (chunk migrations and splits log these).
void apply_update(DocumentsById& documents, const mongo::BsonView& entry, const mongo::Bson& object, const std::string& ns,
                  mongo::Timestamp ts) {
  const std::string id = id_key(entry.document("o2").value_or(mongo::Bson()).get());
  const mongo::BsonView update(object);
  if (!update.has("$v")) {
    documents[id] = object;
    return;
  }
  const auto diff = update.document("diff");
  const auto found = documents.find(id);
  if (update.integer("$v") != 2 || !diff) {
    throw Error(ErrorCode::kUnsupportedVersion, "oplog entry " + ts.to_string() + " updates \"" + ns + "\" in a form shardsafe does not know");
  }
  if (found == documents.end()) return;  // an update of a document the restore does not keep
  found->second = oplog::apply_update_diff(found->second, *diff);
}

// Applies the config server's oplog entries on the metadata collections up to T, in order.
void apply_metadata_writes(const catalog::ReplicaSetBackup& set, storage::Storage& storage,
                           const std::optional<storage::EncryptionKey>& key, mongo::Timestamp up_to,
                           std::map<std::string, DocumentsById>& metadata) {
  oplog::OplogChainReader reader(oplog::oplog_segments(set, storage, key));
  while (const auto raw = reader.next()) {
    const mongo::Bson entry = mongo::Bson::from_bytes(*raw);
    const mongo::BsonView view(entry);
    const auto ts = view.timestamp("ts");
    if (!ts || *ts > up_to) return;
    const std::string ns = view.string("ns").value_or("");
    if (!ns.starts_with("config.") || !metadata.contains(ns.substr(7))) continue;
    DocumentsById& documents = metadata[ns.substr(7)];
    const std::string op = view.string("op").value_or("");
    const mongo::Bson object = view.document("o").value_or(mongo::Bson());
    if (op == "i") {
      documents[id_key(object.get())] = object;
    } else if (op == "d") {
      documents.erase(id_key(object.get()));
    } else if (op == "u") {
      apply_update(documents, view, object, ns, *ts);
    }
  }
}

// `document` with its field `key` replaced by what `append` writes, in the same place.
mongo::Bson with_field(const mongo::Bson& document, std::string_view key, const std::function<void(mongo::BsonBuilder&)>& append) {
  mongo::BsonBuilder out;
  bson_iter_t field;
  bson_iter_init(&field, document.get());
  while (bson_iter_next(&field)) {
    if (std::string_view(bson_iter_key(&field)) == key) {
      append(out);
    } else {
      out.append_iter(bson_iter_key(&field), &field);
    }
  }
  return out.build();
}

std::string mapped(const ShardMap& shards, const std::string& shard) {
  const auto found = shards.find(shard);
  return found == shards.end() ? shard : found->second;
}

mongo::Bson map_string_field(const mongo::Bson& document, const char* key, const ShardMap& shards) {
  const auto value = mongo::BsonView(document).string(key);
  if (!value) return document;
  return with_field(document, key, [&](mongo::BsonBuilder& out) { out.append(key, mapped(shards, *value)); });
}

mongo::Bson map_chunk(const mongo::Bson& chunk, const ShardMap& shards) {
  mongo::Bson out = map_string_field(chunk, "shard", shards);
  if (!mongo::BsonView(out).has("history")) return out;
  std::vector<mongo::Bson> history;
  for (const auto& entry : mongo::BsonView(out).documents("history")) history.push_back(map_string_field(entry, "shard", shards));
  return with_field(out, "history", [&](mongo::BsonBuilder& builder) { builder.append_array("history", history); });
}

std::vector<mongo::Bson> find_all(mongo::Client& config, const std::string& collection, const mongo::Bson& filter) {
  std::vector<mongo::Bson> out;
  mongo::Cursor cursor = config.find("config", collection, filter);
  while (const bson_t* document = cursor.next()) out.push_back(mongo::Bson::copy_of(document));
  return out;
}

mongo::Bson in_filter(const std::string& field, const std::vector<std::string>& values_of) {
  return mongo::BsonBuilder().append(field, mongo::BsonBuilder().append_array("$in", values_of).build()).build();
}

void insert_all(mongo::Client& config, const std::string& collection, const std::vector<mongo::Bson>& documents) {
  if (documents.empty()) return;
  std::vector<std::span<const std::uint8_t>> raw;
  for (const auto& document : documents) raw.push_back(document.bytes());
  config.insert_many("config", collection, raw, /*ordered=*/true, kMajority);
}

// Deletes `documents` (by _id) from config.<collection>.
void delete_all(mongo::Client& config, const std::string& collection, const std::vector<mongo::Bson>& documents) {
  if (documents.empty()) return;
  std::vector<mongo::Bson> ids;
  for (const auto& document : documents) {
    bson_iter_t id;
    if (bson_iter_init_find(&id, document.get(), "_id")) ids.push_back(mongo::BsonBuilder().append_iter("_id", &id).build());
  }
  std::vector<mongo::Bson> deletes;
  for (const auto& id : ids) deletes.push_back(mongo::BsonBuilder().append("q", id).append("limit", 1).build());
  config.command("config", mongo::BsonBuilder()
                               .append("delete", collection)
                               .append_array("deletes", deletes)
                               .append("writeConcern", kMajority)
                               .build());
}

}  // namespace

ConfigMetadata::ConfigMetadata(const catalog::ReplicaSetBackup& config_set, storage::Storage& storage,
                               const std::optional<storage::EncryptionKey>& key, mongo::Timestamp consistency_point,
                               const NamespacePredicate& selected) {
  std::map<std::string, DocumentsById> metadata;
  for (const char* name : kMetadataCollections) metadata[name] = read_collection(config_set, name, storage, key);
  apply_metadata_writes(config_set, storage, key, consistency_point, metadata);
  std::set<std::string> uuids;
  for (const auto& [id, collection] : metadata["collections"]) {
    const std::string ns = mongo::BsonView(collection).string("_id").value_or("");
    if (!selected(ns)) continue;
    const std::string uuid = mongo::BsonView(collection).uuid("uuid").value_or("");
    sharded_uuids_[ns] = uuid;
    uuids.insert(uuid);
    databases_.insert(dump::split_namespace(ns).first);
    backup_.collections.push_back(collection);
  }
  for (const auto& [id, chunk] : metadata["chunks"]) {
    if (uuids.contains(mongo::BsonView(chunk).uuid("uuid").value_or(""))) backup_.chunks.push_back(chunk);
  }
  for (const auto& [id, database] : metadata["databases"]) {
    const std::string name = mongo::BsonView(database).string("_id").value_or("");
    if (selected(name + ".*") || databases_.contains(name)) {
      databases_.insert(name);
      backup_.databases.push_back(database);
    }
  }
}

void ConfigMetadata::set_uuid(const std::string& ns, const std::string& uuid) {
  const std::string old = sharded_uuids_.at(ns);
  auto set_field = [&](mongo::Bson& document) {
    document = with_field(document, "uuid", [&](mongo::BsonBuilder& out) { out.append_uuid("uuid", uuid); });
  };
  for (auto& collection : backup_.collections) {
    if (mongo::BsonView(collection).string("_id") == ns) set_field(collection);
  }
  for (auto& chunk : backup_.chunks) {
    if (mongo::BsonView(chunk).uuid("uuid") == old) set_field(chunk);
  }
  sharded_uuids_[ns] = uuid;
}

void ConfigMetadata::check_database_primaries(mongo::Client& config, const ShardMap& shards) const {
  for (const auto& database : backup_.databases) {
    const std::string name = mongo::BsonView(database).string("_id").value_or("");
    const std::string wanted = mapped(shards, mongo::BsonView(database).string("primary").value_or(""));
    for (const auto& existing : find_all(config, "databases", mongo::BsonBuilder().append("_id", name).build())) {
      const std::string primary = mongo::BsonView(existing).string("primary").value_or("");
      if (primary != wanted) {
        throw Error(ErrorCode::kConflict, "database \"" + name + "\" has its primary shard on \"" + primary +
                                              "\" in the target but on \"" + wanted + "\" in the backup: its unsharded "
                                              "collections would land on the wrong shard (run movePrimary first, or "
                                              "restore into a cluster without that database)");
      }
    }
  }
}

// Only the entries of the databases and namespaces this restore writes: another database's
// entries are none of its business.
ConfigMetadata::Entries ConfigMetadata::target_entries(mongo::Client& config) const {
  Entries entries;
  const std::vector<std::string> names(databases_.begin(), databases_.end());
  std::vector<std::string> namespaces;
  for (const auto& [ns, uuid] : sharded_uuids_) namespaces.push_back(ns);
  entries.databases = find_all(config, "databases", in_filter("_id", names));
  entries.collections = find_all(config, "collections", in_filter("_id", namespaces));
  for (const auto& collection : entries.collections) {
    const auto uuid = mongo::BsonView(collection).uuid("uuid");
    if (!uuid) continue;
    auto chunks = find_all(config, "chunks", mongo::BsonBuilder().append_uuid("uuid", *uuid).build());
    std::move(chunks.begin(), chunks.end(), std::back_inserter(entries.chunks));
  }
  return entries;
}

void ConfigMetadata::replace(mongo::Client& config, const Entries& remove, const Entries& insert) {
  delete_all(config, "chunks", remove.chunks);
  delete_all(config, "collections", remove.collections);
  delete_all(config, "databases", remove.databases);
  insert_all(config, "databases", insert.databases);
  insert_all(config, "collections", insert.collections);
  insert_all(config, "chunks", insert.chunks);
}

void ConfigMetadata::apply(mongo::Client& config, const ShardMap& shards) {
  saved_ = target_entries(config);
  for (const auto& database : backup_.databases) written_.databases.push_back(map_string_field(database, "primary", shards));
  written_.collections = backup_.collections;
  for (const auto& chunk : backup_.chunks) written_.chunks.push_back(map_chunk(chunk, shards));
  replace(config, *saved_, written_);
  spdlog::info("config server: {} databases, {} sharded collections, {} chunks restored", written_.databases.size(),
               written_.collections.size(), written_.chunks.size());
}

void ConfigMetadata::roll_back(mongo::Client& config) noexcept {
  if (!saved_) return;
  try {
    replace(config, written_, *saved_);
  } catch (const std::exception& error) {
    spdlog::error("rollback: could not put the config server's sharding metadata back: {}", error.what());
  }
}

ShardMap resolve_shard_map(const std::vector<std::string>& backup_shards, const std::vector<std::string>& target_shards,
                           const ShardMap& given) {
  auto listed = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
  };
  const std::string shapes = "the backup has shards " + listed(backup_shards) + ", the target " + listed(target_shards);
  if (backup_shards.size() != target_shards.size()) {
    throw Error(ErrorCode::kInvalidArgument, "the target cluster has " + std::to_string(target_shards.size()) +
                                                 " shards, the backup " + std::to_string(backup_shards.size()) + " (" + shapes +
                                                 "): a cluster restore needs the same number");
  }
  auto exists = [&](const std::string& shard) { return std::count(target_shards.begin(), target_shards.end(), shard) > 0; };
  ShardMap map;
  std::set<std::string> used;
  for (const auto& shard : backup_shards) {
    const auto given_target = given.find(shard);
    const std::string target = given_target != given.end() ? given_target->second : shard;
    if (!exists(target)) {
      throw Error(ErrorCode::kInvalidArgument, "backup shard \"" + shard + "\" has no counterpart in the target (" + shapes +
                                                   "): pass --shard-map " + shard + "=<target shard>,...");
    }
    if (!used.insert(target).second) {
      throw Error(ErrorCode::kInvalidArgument, "--shard-map maps two backup shards onto \"" + target + "\"");
    }
    map[shard] = target;
  }
  return map;
}

}  // namespace shardsafe::coordinator
