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
  OperationTracker(storage::Storage& storage, std::string id, std::string kind, std::string backup_id);
  // Records the jobs' states; written at most every 2 s (and on a change of phase).
  void update(const std::string& phase, const std::vector<SetJob>& jobs);
  // The final record: succeeded, or failed with `error`. Never throws.
  void finish(const std::string& error) noexcept;

 private:
  void save() noexcept;

  storage::Storage& storage_;
  catalog::OperationRecord record_;
  std::chrono::steady_clock::time_point last_saved_{};
};

}  // namespace shardsafe::coordinator
