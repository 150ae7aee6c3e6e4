// Runs the server's jobs: at most one per cluster at a time, each on its own thread, recorded
// in the job history (job_store.h) when it is queued, starts and ends.
//
// A job is independent of the request that started it: a client that disconnects cancels
// nothing. Cancelling a job stops it at its next safe point (a restore rolls back; a backup
// removes what it wrote). Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "server/config.h"
#include "server/job_store.h"

namespace shardsafe::server {

class JobManager {
 public:
  // `config` and `store` must outlive the manager. `on_finished(cluster)` is called after each
  // job of `cluster` ended (its backups may have changed).
  JobManager(const ServerConfig& config, JobStore& store, std::function<void(const std::string&)> on_finished);
  // Cancels and waits for every job (see shutdown()).
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Starts job `kind` on `cluster` with checked `params` (cluster_jobs.h). Error(kNotFound) for
  // an unknown cluster; Error(kConflict) naming the job already running on it; Error(kCancelled)
  // once shutting down.
  JobRecord submit(const std::string& cluster, const std::string& kind, const nlohmann::json& params, const std::string& trigger);
  // The job's record, live while it runs. Error(kNotFound).
  JobRecord get(std::int64_t id);
  // Newest first (job_store.h), running jobs live.
  std::vector<JobRecord> list(std::size_t limit, std::int64_t before);
  // Asks a running job to stop; a finished job is left as it is. Error(kNotFound).
  JobRecord cancel(std::int64_t id);
  // The running job's id of `cluster`, if any.
  std::optional<std::int64_t> busy(const std::string& cluster);
  std::size_t running();

  // SIGTERM: refuses new jobs, cancels the running ones and waits up to `grace` for each to
  // reach a safe point; those still running are recorded failed ("interrupted"). Returns
  // whether every job stopped.
  bool shutdown(std::chrono::seconds grace);

 private:
  struct Active;
  void run(std::shared_ptr<Active> active);
  void finish(Active& active, const std::string& state, const std::string& code, const std::string& message);
  void log(Active& active, const std::string& line);

  const ServerConfig& config_;
  JobStore& store_;
  std::function<void(const std::string&)> on_finished_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::int64_t, std::shared_ptr<Active>> active_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                                    // GUARDED_BY(mutex_)
};

}  // namespace shardsafe::server
