// Records of running and finished operations (backups, restores), for `shardsafe status`:
// `operations/<id>.json` in the storage, rewritten by the coordinator every few seconds while
// the operation runs and once when it ends. A record still "running" whose heartbeat is old
// belongs to a coordinator that died: `status` shows it as abandoned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace shardsafe::catalog {

struct OperationSet {
  std::string replica_set;
  std::string runs_on;   // "in-process" or "agent host:port"
  std::string job;       // the job id
  std::string state;     // the job's state (agent/job.h)
  std::string phase;
  std::uint64_t bytes = 0;
  std::uint64_t documents = 0;
  std::string error;
};

struct OperationRecord {
  std::string id;        // "backup-<backup id>" or "restore-<backup id>-<time>"
  std::string kind;      // "backup" or "restore"
  std::string backup_id;
  std::string state;     // "running", "succeeded" or "failed"
  std::string phase;
  std::string started_at;
  std::string updated_at;
  std::int64_t heartbeat_ms = 0;  // wall clock of the last update
  std::vector<OperationSet> sets;
  std::string error;
  // A restore's commit decision ("commit"), recorded before any replica set is told: an agent
  // whose coordinator went silent while it awaited the decision reads it here (agent/jobs.cpp).
  std::string decision;
};

// A coordinator records every 2 s while it runs: a "running" record older than this belongs
// to one that died.
inline constexpr std::int64_t kOperationAbandonedAfterMs = 15'000;

// "running" (its coordinator is alive), "abandoned" (it died), "succeeded" or "failed".
std::string operation_state(const OperationRecord& record, std::int64_t now_ms);

// Whether incomplete backup `backup_id` is still being written by a live coordinator.
bool backup_in_progress(const std::vector<OperationRecord>& records, const std::string& backup_id, std::int64_t now_ms);

// How many operation records `prune_operations` keeps: a few weeks of a 10-minute PITR span.
inline constexpr std::size_t kKeptOperationRecords = 5000;
// The id of backup `backup_id`'s record: removed with the committed backup (Catalog::remove),
// so that continuous slicing, a backup every few minutes, does not pile records up for `status`.
inline std::string backup_operation_id(const std::string& backup_id) { return "backup-" + backup_id; }
std::string operation_key(const std::string& id);  // "operations/<id>.json"

void save_operation(storage::Storage& storage, const OperationRecord& record);
// Removes the oldest records beyond the newest `keep` (by their objects' modification times, so
// without reading them). A record saved within kOperationAbandonedAfterMs may belong to a live
// coordinator and is never removed. Returns how many went.
std::size_t prune_operations(storage::Storage& storage, std::size_t keep = kKeptOperationRecords);
// Record `id`, or nullopt when there is none; throws Error when storage cannot say.
std::optional<OperationRecord> load_operation(storage::Storage& storage, const std::string& id);
// Every record, newest first; a record that does not parse is skipped with a warning.
std::vector<OperationRecord> list_operations(storage::Storage& storage);

}  // namespace shardsafe::catalog
