#include "catalog/manifest_json.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "storage/hash.h"

namespace shardsafe::catalog {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;  // the file keeps fields in the documented order

constexpr const char* kChecksumField = "checksum";
constexpr const char* kVersionField = "format_version";

ordered_json timestamp_to_json(const mongo::Timestamp& ts) { return {{"t", ts.seconds}, {"i", ts.increment}}; }

ordered_json stream_to_json(const storage::StoredStream& stream) {
  ordered_json parts = ordered_json::array();
  for (const auto& part : stream.parts) parts.push_back({{"key", part.key}, {"size", part.size}, {"sha256", part.sha256}});
  return {{"key", stream.key},
          {"parts", std::move(parts)},
          {"raw_size", stream.raw_size},
          {"compression", storage::compression_name(stream.compression)},
          {"encryption_key_id", stream.encryption_key_id}};
}

ordered_json collection_to_json(const CollectionEntry& collection) {
  return {{"db", collection.db},
          {"name", collection.name},
          {"type", collection.type},
          {"data", stream_to_json(collection.data)},
          {"metadata", stream_to_json(collection.metadata)},
          {"documents", collection.documents},
          {"bytes", collection.bytes}};
}

ordered_json replica_set_to_json(const ReplicaSetBackup& set) {
  ordered_json collections = ordered_json::array();
  for (const auto& collection : set.collections) collections.push_back(collection_to_json(collection));
  ordered_json out = {{"name", set.name},
                      {"shard", set.shard},
                      {"source_host", set.source_host},
                      {"server_version", set.server_version},
                      {"start_optime", timestamp_to_json(set.start_optime)},
                      {"end_optime", timestamp_to_json(set.end_optime)},
                      {"collections", std::move(collections)},
                      {"oplog", stream_to_json(set.oplog)},
                      {"oplog_entries", set.oplog_entries}};
  if (!set.oplog_md5.empty()) {
    out["oplog_md5"] = set.oplog_md5;
    out["source_oldest_optime"] = timestamp_to_json(set.source_oldest_optime);
  }
  if (!set.later_oplog.empty()) {
    ordered_json later = ordered_json::array();
    for (const auto& slice : set.later_oplog) {
      later.push_back({{"oplog", stream_to_json(slice.oplog)}, {"entries", slice.entries}, {"md5", slice.md5}});
    }
    out["later_oplog"] = std::move(later);
  }
  return out;
}

// The canonical bytes the checksum covers: compact, keys sorted (nlohmann::json's std::map).
std::string checksum_of(const json& without_checksum) {
  return storage::sha256_hex(storage::as_bytes(without_checksum.dump()));
}

// Reads typed fields out of the parsed manifest, naming the JSON path of whatever is wrong.
class FieldReader {
 public:
  explicit FieldReader(std::string_view backup_id) : backup_id_(backup_id) {}

  const json& field(const json& object, const char* name, const std::string& path) const {
    const auto it = object.find(name);
    if (it == object.end()) fail(path + name, "is missing");
    return *it;
  }
  std::string string(const json& object, const char* name, const std::string& path = "") const {
    const json& value = field(object, name, path);
    if (!value.is_string()) fail(path + name, "is not a string");
    return value.get<std::string>();
  }
  std::uint64_t unsigned_number(const json& object, const char* name, const std::string& path = "") const {
    const json& value = field(object, name, path);
    if (!value.is_number_unsigned()) fail(path + name, "is not a non-negative integer");
    return value.get<std::uint64_t>();
  }
  std::uint32_t uint32(const json& object, const char* name, const std::string& path) const {
    const std::uint64_t value = unsigned_number(object, name, path);
    if (value > 0xFFFFFFFFu) fail(path + name, "does not fit in 32 bits");
    return static_cast<std::uint32_t>(value);
  }
  const json& array(const json& object, const char* name, const std::string& path = "") const {
    const json& value = field(object, name, path);
    if (!value.is_array()) fail(path + name, "is not an array");
    return value;
  }
  const json& object(const json& parent, const char* name, const std::string& path = "") const {
    const json& value = field(parent, name, path);
    if (!value.is_object()) fail(path + name, "is not an object");
    return value;
  }
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw Error(ErrorCode::kCorruptData,
                "manifest of backup \"" + std::string(backup_id_) + "\" is invalid: field \"" + path + "\" " + problem);
  }

 private:
  std::string_view backup_id_;
};

mongo::Timestamp timestamp_from_json(const FieldReader& reader, const json& parent, const char* name,
                                     const std::string& path) {
  const json& value = reader.object(parent, name, path);
  const std::string inner = path + name + ".";
  return {reader.uint32(value, "t", inner), reader.uint32(value, "i", inner)};
}

storage::Compression compression_from_json(const FieldReader& reader, const json& parent, const std::string& path) {
  const std::string name = reader.string(parent, "compression", path);
  try {
    return storage::parse_compression(name);
  } catch (const Error&) {
    reader.fail(path + "compression", "names an unknown compression \"" + name + "\"");
  }
}

storage::StoredStream stream_from_json(const FieldReader& reader, const json& parent, const char* name,
                                       const std::string& path) {
  const json& value = reader.object(parent, name, path);
  const std::string inner = path + name + ".";
  storage::StoredStream stream;
  stream.key = reader.string(value, "key", inner);
  const json& parts = reader.array(value, "parts", inner);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string part_path = inner + "parts[" + std::to_string(i) + "].";
    if (!parts[i].is_object()) reader.fail(part_path, "is not an object");
    stream.parts.push_back({reader.string(parts[i], "key", part_path), reader.unsigned_number(parts[i], "size", part_path),
                            reader.string(parts[i], "sha256", part_path)});
  }
  stream.raw_size = reader.unsigned_number(value, "raw_size", inner);
  stream.compression = compression_from_json(reader, value, inner);
  stream.encryption_key_id = reader.string(value, "encryption_key_id", inner);
  return stream;
}


CollectionEntry collection_from_json(const FieldReader& reader, const json& value, const std::string& path) {
  if (!value.is_object()) reader.fail(path, "is not an object");
  CollectionEntry collection;
  collection.db = reader.string(value, "db", path);
  collection.name = reader.string(value, "name", path);
  collection.type = reader.string(value, "type", path);
  collection.data = stream_from_json(reader, value, "data", path);
  collection.metadata = stream_from_json(reader, value, "metadata", path);
  collection.documents = reader.unsigned_number(value, "documents", path);
  collection.bytes = reader.unsigned_number(value, "bytes", path);
  return collection;
}

ReplicaSetBackup replica_set_from_json(const FieldReader& reader, const json& value, const std::string& path) {
  if (!value.is_object()) reader.fail(path, "is not an object");
  ReplicaSetBackup set;
  set.name = reader.string(value, "name", path);
  set.shard = reader.string(value, "shard", path);
  set.source_host = reader.string(value, "source_host", path);
  set.server_version = reader.string(value, "server_version", path);
  set.start_optime = timestamp_from_json(reader, value, "start_optime", path);
  set.end_optime = timestamp_from_json(reader, value, "end_optime", path);
  const json& collections = reader.array(value, "collections", path);
  for (std::size_t i = 0; i < collections.size(); ++i) {
    set.collections.push_back(
        collection_from_json(reader, collections[i], path + "collections[" + std::to_string(i) + "]."));
  }
  set.oplog = stream_from_json(reader, value, "oplog", path);
  set.oplog_entries = reader.unsigned_number(value, "oplog_entries", path);
  if (value.contains("oplog_md5")) {
    set.oplog_md5 = reader.string(value, "oplog_md5", path);
    set.source_oldest_optime = timestamp_from_json(reader, value, "source_oldest_optime", path);
  }
  if (value.contains("later_oplog")) {
    const json& later = reader.array(value, "later_oplog", path);
    for (std::size_t i = 0; i < later.size(); ++i) {
      const std::string inner = path + "later_oplog[" + std::to_string(i) + "].";
      if (!later[i].is_object()) reader.fail(inner, "is not an object");
      set.later_oplog.push_back({stream_from_json(reader, later[i], "oplog", inner), reader.unsigned_number(later[i], "entries", inner),
                                 reader.string(later[i], "md5", inner)});
    }
  }
  return set;
}

// format_version first: a newer format may checksum differently, and "upgrade shardsafe" is
// the useful message then, not "corrupt".
void check_version(const json& document, std::string_view backup_id) {
  const auto it = document.find(kVersionField);
  if (it == document.end() || !it->is_number_integer()) {
    throw Error(ErrorCode::kCorruptData,
                "manifest of backup \"" + std::string(backup_id) + "\" has no integer \"format_version\"");
  }
  const auto version = it->get<std::int64_t>();
  if (version < kOldestReadableManifestVersion || version > kManifestFormatVersion) {
    throw Error(ErrorCode::kUnsupportedVersion,
                "manifest of backup \"" + std::string(backup_id) + "\" has format version " + std::to_string(version) +
                    "; this build of shardsafe reads versions " + std::to_string(kOldestReadableManifestVersion) +
                    " to " + std::to_string(kManifestFormatVersion) +
                    (version > kManifestFormatVersion ? " (upgrade shardsafe to read it)" : ""));
  }
}

void check_checksum(json& document, std::string_view backup_id) {
  const auto it = document.find(kChecksumField);
  const std::string corrupt = "manifest of backup \"" + std::string(backup_id) + "\" is corrupt";
  if (it == document.end() || !it->is_string()) {
    throw Error(ErrorCode::kChecksumMismatch, corrupt + ": it has no \"checksum\"");
  }
  const std::string recorded = it->get<std::string>();
  document.erase(it);
  if (checksum_of(document) != recorded) {
    throw Error(ErrorCode::kChecksumMismatch, corrupt + ": its content does not match its SHA-256 checksum");
  }
}

}  // namespace

std::string manifest_to_json(const Manifest& manifest) {
  ordered_json replica_sets = ordered_json::array();
  for (const auto& set : manifest.replica_sets) replica_sets.push_back(replica_set_to_json(set));
  ordered_json document = {{kVersionField, manifest.format_version},
                   {"id", manifest.id},
                   {"kind", manifest.kind},
                   {"base", manifest.base},
                   {"topology", manifest.topology},
                   {"started_at", manifest.started_at},
                   {"finished_at", manifest.finished_at},
                   {"consistency_point", timestamp_to_json(manifest.consistency_point)},
                   {"compression", storage::compression_name(manifest.compression)},
                   {"encryption_key_id", manifest.encryption_key_id},
                   {"tool_version", manifest.tool_version},
                   {"replica_sets", std::move(replica_sets)}};
  document[kChecksumField] = checksum_of(json::parse(document.dump()));
  return document.dump(2) + "\n";
}

Manifest manifest_from_json(std::string_view text, std::string_view backup_id) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    throw Error(ErrorCode::kCorruptData, "manifest of backup \"" + std::string(backup_id) + "\" is not a JSON object");
  }
  check_version(document, backup_id);
  check_checksum(document, backup_id);

  const FieldReader reader(backup_id);
  Manifest manifest;
  manifest.format_version = document[kVersionField].get<int>();
  manifest.id = reader.string(document, "id");
  manifest.kind = reader.string(document, "kind");
  if (manifest.kind != "full" && manifest.kind != "incremental") reader.fail("kind", "is neither \"full\" nor \"incremental\"");
  if (manifest.format_version >= 2) manifest.base = reader.string(document, "base");
  if (manifest.kind == "incremental" && manifest.base.empty()) reader.fail("base", "is empty in an incremental backup");
  manifest.topology = reader.string(document, "topology");
  manifest.started_at = reader.string(document, "started_at");
  manifest.finished_at = reader.string(document, "finished_at");
  manifest.consistency_point = timestamp_from_json(reader, document, "consistency_point", "");
  manifest.compression = compression_from_json(reader, document, "");
  manifest.encryption_key_id = reader.string(document, "encryption_key_id");
  manifest.tool_version = reader.string(document, "tool_version");
  const json& sets = reader.array(document, "replica_sets");
  for (std::size_t i = 0; i < sets.size(); ++i) {
    manifest.replica_sets.push_back(replica_set_from_json(reader, sets[i], "replica_sets[" + std::to_string(i) + "]."));
  }
  return manifest;
}

nlohmann::json replica_set_backup_to_json(const ReplicaSetBackup& set) { return json::parse(replica_set_to_json(set).dump()); }

ReplicaSetBackup replica_set_backup_from_json(const nlohmann::json& value, std::string_view backup_id) {
  return replica_set_from_json(FieldReader(backup_id), value, "");
}

}  // namespace shardsafe::catalog
