// Keeps an operation's record (catalog/operations.h) current while it runs, for `status`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "catalog/operations.h"
#include "coordinator/jobs.h"

namespace shardsafe::coordinator {

class OperationTracker {
 public:
  // `observer` (optional) sees the record at every update, before the throttled save.
  OperationTracker(storage::Storage& storage, std::string id, std::string kind, std::string backup_id,
                   OperationObserver observer = {});
  // Records the jobs' states; written at most every 2 s (and on a change of phase).
  void update(const std::string& phase, const std::vector<SetJob>& jobs);
  // Records a restore's commit decision, which agents that lose their coordinator read (see
  // catalog::OperationRecord::decision). Throws when it could not be written: then no set may
  // be told to commit, and the record that finish() writes no longer holds it.
  void record_decision(const std::string& decision);
  // The final record: succeeded, or failed with `error`. Never throws.
  void finish(const std::string& error) noexcept;
  // A record never finished (the operation failed before its jobs ran) is finished as failed.
  ~OperationTracker();
  OperationTracker(const OperationTracker&) = delete;
  OperationTracker& operator=(const OperationTracker&) = delete;

 private:
  void write();
  void save() noexcept;  // write(), logging a failure: a stale record only delays `status`

  storage::Storage& storage_;
  OperationObserver observer_;
  catalog::OperationRecord record_;
  std::chrono::steady_clock::time_point last_saved_{};
};

// Starts every job and waits until each awaits the coordinator's decision, summing their
// progress into `progress` (phase `phase`) and recording their states. Throws as
// wait_for_phase does.
void start_and_await(std::vector<SetJob>& jobs, const std::string& phase, const PhaseLimits& limits, Progress& progress,
                     OperationTracker& tracker);
// Resumes every job with `decision` and waits until each has succeeded, recording `phase`.
void resume_and_finish(std::vector<SetJob>& jobs, const nlohmann::json& decision, const std::string& phase,
                       const PhaseLimits& limits, Progress& progress, OperationTracker& tracker);

}  // namespace shardsafe::coordinator
