#include "catalog/catalog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "catalog/manifest_json.h"
#include "catalog/operations.h"
#include "common/clock.h"
#include "common/error.h"
#include "storage/hash.h"

namespace shardsafe::catalog {
namespace {

constexpr std::string_view kBackupsPrefix = "backups/";
constexpr std::string_view kManifestName = "manifest.json";
constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kMaxManifestBytes = 256u << 20;  // ~250k collections; anything bigger is not ours
constexpr std::size_t kRemoveBatch = 1000;
constexpr std::size_t kReadChunk = 1 << 20;

bool is_id_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::string utc_id(std::chrono::system_clock::time_point now) { return utc_time(now, "%Y-%m-%dT%H-%M-%SZ"); }

void append_parts(const storage::StoredStream& stream, std::vector<storage::StoredPart>& out) {
  out.insert(out.end(), stream.parts.begin(), stream.parts.end());
}

}  // namespace

std::vector<storage::StoredPart> manifest_objects(const Manifest& manifest) {
  std::vector<storage::StoredPart> out;
  for (const auto& set : manifest.replica_sets) {
    for (const auto& collection : set.collections) {
      append_parts(collection.data, out);
      append_parts(collection.metadata, out);
    }
    append_parts(set.oplog, out);
    for (const auto& slice : set.later_oplog) append_parts(slice.oplog, out);
  }
  return out;
}

void Catalog::validate_backup_id(const std::string& id) {
  const bool valid = !id.empty() && id.size() <= kMaxIdLength && id != "." && id != ".." &&
                     std::all_of(id.begin(), id.end(), is_id_character);
  if (!valid) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid backup id \"" + id + "\": expected 1 to 128 characters of letters, digits, '.', '_' or '-'");
  }
}

std::string Catalog::backup_prefix(const std::string& id) {
  validate_backup_id(id);
  return std::string(kBackupsPrefix) + id + "/";
}

std::string Catalog::manifest_key(const std::string& id) { return backup_prefix(id) + std::string(kManifestName); }

std::string Catalog::new_backup_id(std::chrono::system_clock::time_point now) {
  const std::string base = utc_id(now);
  for (int attempt = 1;; ++attempt) {
    std::string id = base;
    if (attempt > 1) id += (attempt < 10 ? "-0" : "-") + std::to_string(attempt);
    if (storage_.list(backup_prefix(id)).objects.empty()) return id;
  }
}

void Catalog::commit(const Manifest& manifest) {
  const std::string key = manifest_key(manifest.id);
  if (storage_.stat(key)) {
    throw Error(ErrorCode::kAlreadyExists, "backup \"" + manifest.id + "\" is already committed");
  }
  if (auto problem = find_unstored(manifest)) {
    throw Error(ErrorCode::kStorage, "refusing to commit backup \"" + manifest.id + "\": " + problem->problem);
  }
  storage::write_object(storage_, key, manifest_to_json(manifest));
}

std::optional<Catalog::UnstoredObject> Catalog::find_unstored(const Manifest& manifest) {
  // One listing of the prefix answers for every object written under it; others (slices) are stat'ed.
  const std::string prefix = backup_prefix(manifest.id);
  std::map<std::string, std::uint64_t> stored;
  for (const auto& object : storage::list_all(storage_, prefix)) stored.emplace(object.key, object.size);
  for (const auto& part : manifest_objects(manifest)) {
    std::optional<std::uint64_t> size;
    if (part.key.starts_with(prefix)) {
      if (const auto it = stored.find(part.key); it != stored.end()) size = it->second;
    } else if (const auto info = storage_.stat(part.key)) {
      size = info->size;
    }
    if (size != part.size) {
      return UnstoredObject{"object \"" + part.key + "\" " +
                                (size ? "has " + std::to_string(*size) + " bytes, the manifest says " + std::to_string(part.size)
                                      : std::string("is missing from storage")),
                            !size};
    }
  }
  return std::nullopt;
}

Manifest Catalog::load(const std::string& id) {
  const std::string key = manifest_key(id);
  std::string text;
  try {
    text = storage::read_object(storage_, key, kMaxManifestBytes);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kNotFound) throw;
    throw Error(ErrorCode::kNotFound, "backup \"" + id + "\" not found in " + storage_.describe());
  }
  Manifest manifest = manifest_from_json(text, id);
  if (manifest.id != id) {
    throw Error(ErrorCode::kCorruptData,
                "manifest of backup \"" + id + "\" records the id \"" + manifest.id + "\": it was moved or tampered with");
  }
  return manifest;
}

std::vector<std::pair<std::string, bool>> Catalog::scan_backups() {
  std::map<std::string, bool> ids;  // sorted by id
  for (const auto& object : storage::list_all(storage_, std::string(kBackupsPrefix))) {
    const std::string_view rest = std::string_view(object.key).substr(kBackupsPrefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) continue;
    const bool is_manifest = rest.substr(slash + 1) == kManifestName;
    ids[std::string(rest.substr(0, slash))] |= is_manifest;
  }
  return {ids.begin(), ids.end()};
}

BackupSummary Catalog::summarize(const std::string& id) {
  BackupSummary summary;
  summary.id = id;
  Manifest manifest;
  try {
    manifest = load(id);
  } catch (const Error& error) {
    if (error.retryable()) throw;  // storage trouble is not a property of this backup
    summary.problem = error.what();
    return summary;
  }
  summary.kind = manifest.kind;
  summary.base = manifest.base;
  if (manifest.kind == "incremental") {
    for (const auto& set : manifest.replica_sets) summary.chain_start = std::max(summary.chain_start, set.start_optime);
  }
  summary.topology = manifest.topology;
  summary.started_at = manifest.started_at;
  summary.finished_at = manifest.finished_at;
  summary.consistency_point = manifest.consistency_point;
  summary.compression = manifest.compression;
  summary.encrypted = !manifest.encryption_key_id.empty();
  for (const auto& set : manifest.replica_sets) {
    summary.replica_sets.push_back(set.name);
    summary.collections += set.collections.size();
  }
  summary.documents = manifest.total_documents();
  summary.raw_bytes = manifest.total_raw_bytes();
  summary.stored_bytes = manifest.total_stored_bytes();
  return summary;
}

std::vector<BackupSummary> Catalog::list() {
  std::vector<BackupSummary> out;
  for (const auto& [id, committed] : scan_backups()) {
    if (!committed) continue;
    try {
      validate_backup_id(id);
    } catch (const Error& error) {
      out.push_back({.id = id, .problem = error.what()});
      continue;
    }
    out.push_back(summarize(id));
  }
  return out;
}

std::vector<std::string> Catalog::list_committed_ids() {
  std::vector<std::string> out;
  for (const auto& [id, committed] : scan_backups()) {
    if (committed) out.push_back(id);
  }
  return out;
}

std::vector<std::string> Catalog::list_orphan_slices() {
  std::set<std::string> listed;
  for (const auto& backup : list()) {
    if (!backup.problem.empty()) return {};  // an unreadable manifest may list any slice: judge none
    if (backup.kind != "incremental") continue;  // a full backup's oplog lives under its own prefix
    for (const auto& part : manifest_objects(load(backup.id))) listed.insert(part.key);
  }
  std::vector<std::string> out;
  for (const auto& object : storage::list_all(storage_, "oplog/")) {
    if (!listed.count(object.key)) out.push_back(object.key);
  }
  return out;
}

std::vector<std::string> Catalog::list_incomplete() {
  std::vector<std::string> out;
  for (const auto& [id, committed] : scan_backups()) {
    if (!committed) out.push_back(id);
  }
  return out;
}

void Catalog::remove(const std::string& id) {
  const std::string manifest = manifest_key(id);
  std::vector<std::string> rest;
  bool has_manifest = false;
  for (const auto& object : storage::list_all(storage_, backup_prefix(id))) {
    if (object.key == manifest) {
      has_manifest = true;
    } else {
      rest.push_back(object.key);
    }
  }
  if (!has_manifest && rest.empty()) {
    throw Error(ErrorCode::kNotFound, "backup \"" + id + "\" not found in " + storage_.describe());
  }
  // An incremental backup's slices live outside its prefix ("oplog/<set>/..."): only its
  // manifest knows them.
  if (has_manifest) {
    try {
      for (const auto& part : manifest_objects(load(id))) {
        if (!part.key.starts_with(backup_prefix(id))) rest.push_back(part.key);
      }
    } catch (const Error& error) {
      if (error.retryable()) throw;  // an unreadable manifest cannot say which slices are its own
    }
  }
  // A committed backup's record has nothing left to tell `status`; an incomplete one's (failed,
  // abandoned) stays: it says why the backup is incomplete.
  if (has_manifest) rest.push_back(operation_key(backup_operation_id(id)));
  // The manifest goes first: from then on the backup is incomplete, never complete with holes.
  if (has_manifest) storage_.remove({manifest});
  for (std::size_t begin = 0; begin < rest.size(); begin += kRemoveBatch) {
    const auto end = std::min(rest.size(), begin + kRemoveBatch);
    storage_.remove({rest.begin() + static_cast<std::ptrdiff_t>(begin), rest.begin() + static_cast<std::ptrdiff_t>(end)});
  }
}

std::optional<std::string> Catalog::check_part(const storage::StoredPart& part, VerifyReport& report) {
  std::unique_ptr<storage::Source> source;
  try {
    source = storage_.open(part.key);
  } catch (const Error& error) {
    if (error.code() == ErrorCode::kNotFound) return "missing";
    throw;
  }
  storage::Digest digest(storage::DigestAlgorithm::kSha256);
  std::vector<std::uint8_t> chunk(kReadChunk);
  std::uint64_t size = 0;
  while (const std::size_t n = source->read(chunk)) {
    digest.update(std::span(chunk).first(n));
    size += n;
  }
  report.bytes_checked += size;
  if (size != part.size) {
    return "size " + std::to_string(size) + " differs from the manifest's " + std::to_string(part.size);
  }
  const std::string sha256 = digest.final_hex();
  if (sha256 != part.sha256) return "sha-256 " + sha256 + " differs from the manifest's " + part.sha256;
  return std::nullopt;
}

VerifyReport Catalog::verify(const std::string& id) {
  const Manifest manifest = load(id);
  VerifyReport report;
  report.id = id;
  for (const auto& part : manifest_objects(manifest)) {
    ++report.objects_checked;
    if (auto problem = check_part(part, report)) report.bad_objects.push_back({part.key, std::move(*problem)});
  }
  return report;
}

void remove_partial_backup(storage::Storage& storage, const std::string& prefix) noexcept {
  try {
    std::vector<std::string> keys;
    for (const auto& object : storage::list_all(storage, prefix)) keys.push_back(object.key);
    storage.remove(keys);
  } catch (const std::exception& error) {
    spdlog::warn("could not remove the partial backup under \"{}\": {} (it has no manifest, so it is not listed)",
                 prefix, error.what());
  }
}

}  // namespace shardsafe::catalog
