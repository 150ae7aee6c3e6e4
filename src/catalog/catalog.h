// The catalog: which backups exist in a storage, and their manifests.
//
// Layout (catalog/README.md): every object of backup <id> lives under "backups/<id>/", and
// "backups/<id>/manifest.json" is written last: a backup without it is incomplete (a crash or a
// failure mid-backup) and is never listed as a backup. Removal deletes the manifest first, so a
// half-removed backup is incomplete too, never a complete backup with holes.
//
// Thread safety: a Catalog holds no state besides the storage reference; calls may run from
// several threads as the storage allows. Two processes must not commit the same id at once:
// new_backup_id() avoids ids in use, but the coordinator's lock is what makes backups exclusive.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "storage/storage.h"

namespace shardsafe::catalog {

// What `list` shows about one committed backup.
struct BackupSummary {
  std::string id;
  std::string kind;
  std::string base;                   // incremental: the backup it continues
  // Incremental: where its slices start (they cover chain_start < ts <= consistency_point).
  mongo::Timestamp chain_start;
  std::string topology;
  std::string started_at;
  std::string finished_at;
  mongo::Timestamp consistency_point;
  storage::Compression compression = storage::Compression::kNone;
  bool encrypted = false;
  std::vector<std::string> replica_sets;
  std::uint64_t collections = 0;
  std::uint64_t documents = 0;
  std::uint64_t raw_bytes = 0;
  std::uint64_t stored_bytes = 0;
  // Empty when the manifest loaded; otherwise why it did not (corrupt, newer format...). Such
  // a backup is listed so the user sees it, with only `id` set.
  std::string problem;
};

// One object of a backup that failed verification.
struct BadObject {
  std::string key;
  std::string problem;  // "missing", "size 10 differs from the manifest's 12", "sha-256 differs ..."
};

struct VerifyReport {
  std::string id;
  std::uint64_t objects_checked = 0;
  std::uint64_t bytes_checked = 0;
  std::vector<BadObject> bad_objects;
  bool ok() const { return bad_objects.empty(); }
};

class Catalog {
 public:
  // `storage` must outlive the catalog.
  explicit Catalog(storage::Storage& storage) : storage_(storage) {}

  // "2026-11-25T22-10-00Z" for `now` (UTC, to the second). When that id already has objects,
  // "...Z-02", "...Z-03"... so ids stay unique and still sort by time.
  std::string new_backup_id(std::chrono::system_clock::time_point now);

  // Throws Error(kInvalidArgument) quoting the id unless it is 1..128 characters of
  // [A-Za-z0-9._-] and not "." or "..": an id can never name a key outside its prefix.
  static void validate_backup_id(const std::string& id);
  // "backups/<id>/". REQUIRES: a valid id (checked).
  static std::string backup_prefix(const std::string& id);
  static std::string manifest_key(const std::string& id);

  // Writes backups/<id>/manifest.json: the commit point. Checks first that every object the
  // manifest lists exists with the recorded size (Error(kStorage) naming the first that does
  // not) and that the backup is not already committed (Error(kAlreadyExists)).
  void commit(const Manifest& manifest);

  // The first object `manifest` lists (slices of later_oplog included) that is missing from
  // storage or has another size.
  struct UnstoredObject {
    std::string problem;  // "object "K" is missing from storage" / "object "K" has N bytes, the manifest says M"
    bool missing = false;
  };
  std::optional<UnstoredObject> find_unstored(const Manifest& manifest);

  // The committed manifest of `id`. Error(kNotFound) 'backup "id" not found in <storage>' when
  // there is no manifest; the errors of manifest_from_json() when it does not parse;
  // Error(kCorruptData) when it records another id.
  Manifest load(const std::string& id);

  // Committed backups, sorted by id (so by time).
  std::vector<BackupSummary> list();
  // Ids of committed backups, sorted, from the listing alone (no manifest is read).
  std::vector<std::string> list_committed_ids();
  // Ids with objects but no manifest: failed or interrupted backups (or removals), sorted.
  std::vector<std::string> list_incomplete();

  // Objects under "oplog/" that no committed manifest lists: the slices of incremental backups
  // that failed or were killed before their commit, or of one being written now. Sorted. None
  // while a committed manifest cannot be read (it might list any of them).
  std::vector<std::string> list_orphan_slices();

  // Deletes every object of backup `id`, the manifest first. Error(kNotFound) when the id has
  // no objects at all.
  void remove(const std::string& id);

  // Re-reads every object the manifest lists and checks its size and SHA-256 against it.
  // Problems with objects are reported, not thrown; errors loading the manifest are thrown.
  VerifyReport verify(const std::string& id);

 private:
  // Ids under "backups/", each with whether it has a manifest.
  std::vector<std::pair<std::string, bool>> scan_backups();
  BackupSummary summarize(const std::string& id);
  std::optional<std::string> check_part(const storage::StoredPart& part, VerifyReport& report);

  storage::Storage& storage_;
};

// Removes every object under `prefix` (a failed backup's or import's "backups/<id>/"), best
// effort: what cannot be removed is logged, not thrown, because the caller is already failing
// and a backup without a manifest is never listed anyway.
void remove_partial_backup(storage::Storage& storage, const std::string& prefix) noexcept;

// Every object a manifest lists: data and metadata parts of each collection, oplog parts.
std::vector<storage::StoredPart> manifest_objects(const Manifest& manifest);

}  // namespace shardsafe::catalog
