// The server's job history: one SQLite row per job (backups, restores), kept across restarts,
// and when each schedule last fired.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server/sqlite.h"

namespace shardsafe::server {

// The states of a job, as the API shows them.
inline constexpr const char* kQueued = "queued";
inline constexpr const char* kRunning = "running";
inline constexpr const char* kSucceeded = "succeeded";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kCancelled = "cancelled";

struct JobRecord {
  std::int64_t id = 0;
  std::string cluster;
  std::string kind;               // "full", "incremental" (backups) or "restore"
  std::string trigger;            // "api" or "schedule"
  nlohmann::json params = nlohmann::json::object();  // what was asked (never secrets)
  std::string state = kQueued;
  std::string created_at, started_at, finished_at;   // ISO 8601 UTC
  double duration_s = 0;
  std::string error_code;         // stable error name (common/error.h), "" unless failed/cancelled
  std::string error_message;
  nlohmann::json result = nlohmann::json::object();    // backup: id, bytes...; restore: summary
  nlohmann::json progress = nlohmann::json::object();  // {"phase", "replica_sets": [...]}
  std::vector<std::string> log;   // "2026-12-07T16:00:00Z started", ...
};

// Figures per cluster and job kind, for /metrics.
struct KindStats {
  std::string cluster, kind;
  std::int64_t last_success_unix = 0;  // finished_at of the newest success; 0 when none
  double last_duration_s = 0;
  std::int64_t last_bytes = 0;         // result.stored_bytes of the newest success
  std::int64_t failures = 0;
};

class JobStore {
 public:
  // Opens (creating) `<path>`, with its schema.
  explicit JobStore(const std::string& path);

  // Assigns record.id.
  void insert(JobRecord& record);
  void update(const JobRecord& record);
  std::optional<JobRecord> get(std::int64_t id);
  // Newest first: at most `limit` jobs with id < `before` (0: from the newest).
  std::vector<JobRecord> list(std::size_t limit, std::int64_t before = 0);
  // After a restart: every job left queued or running becomes failed ("interrupted").
  // Returns how many.
  int mark_interrupted();
  std::vector<KindStats> stats();

  // When the schedule of `cluster`'s `kind` backups last fired (unix seconds), if ever.
  std::optional<std::int64_t> last_fire(const std::string& cluster, const std::string& kind);
  void set_last_fire(const std::string& cluster, const std::string& kind, std::int64_t unix_seconds);

 private:
  std::mutex mutex_;
  Database db_;
};

nlohmann::json to_json(const JobRecord& record);

}  // namespace shardsafe::server
