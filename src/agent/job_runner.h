// Runs jobs on threads of this process and, given a data directory, keeps a durable status
// file for each: `<data-dir>/jobs/<id>.json`, written atomically (temporary file, fsync,
// rename, fsync of the directory) at every state change and every progress tick.
//
// After a restart the runner reads the status files back. A job whose file says it was still
// queued, running or awaiting is reported `lost` (its file rewritten so), never dropped: the
// coordinator polling it then fails its phase instead of waiting for a job that will not end.
//
// Thread-safe: every method may be called from any thread (the agent's HTTP handlers, the
// coordinator's pollers).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/job_service.h"
#include "storage/storage.h"

namespace shardsafe::agent {

// What a job's code sees of the runner.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const JobSpec& spec() const = 0;
  // Counters for the status (phase, bytes, documents); cancelling the job cancels it too.
  virtual Progress& progress() = 0;
  // Publishes `result` with state `awaiting` and blocks until the coordinator resumes the job,
  // returning its decision. Throws Error(kCancelled) when the job is cancelled meanwhile.
  virtual nlohmann::json await_decision(nlohmann::json result) = 0;
  // Publishes `result` while the job runs (and in its status file): what the coordinator needs
  // should the job's process die, such as a restore's rollback plan.
  virtual void publish_result(nlohmann::json result) = 0;
};

// A job's code: returns the job's final result, or throws (an Error's code and message become
// the job's error). Error(kCancelled) makes the job `cancelled` rather than `failed`.
using JobBody = std::function<nlohmann::json(JobContext&)>;
using JobKinds = std::map<std::string, JobBody, std::less<>>;

struct JobRunnerOptions {
  std::optional<std::filesystem::path> data_dir;  // none: no status files (in-process jobs)
  std::chrono::milliseconds tick{1000};            // how often running jobs' files are refreshed
  // Finished jobs kept (in memory and as status files); older ones are forgotten when a new
  // job starts, so an agent serving a PITR slice every few minutes does not grow forever.
  std::size_t keep_finished = 1000;
};

class JobRunner : public JobService {
 public:
  JobRunner(JobKinds kinds, JobRunnerOptions options);
  // Cancels the jobs still running and waits for them to end.
  ~JobRunner() override;
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  JobStatus start(const JobSpec& spec) override;
  JobStatus status(const std::string& id) override;
  std::vector<JobStatus> list() override;
  void cancel(const std::string& id) override;
  void resume(const std::string& id, const nlohmann::json& decision) override;
  std::string describe() const override { return "in-process"; }

 private:
  class Job;
  std::shared_ptr<Job> find(const std::string& id);
  void load_status_files();
  void forget_old_finished_jobs_locked();
  void save(const JobStatus& status);
  void tick_until_stopped(std::stop_token stop);

  JobKinds kinds_;
  JobRunnerOptions options_;
  std::unique_ptr<storage::Storage> status_files_;  // file:// rooted at the data directory
  std::mutex mutex_;                                 // guards jobs_
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::jthread ticker_;                              // last: stopped first
};

}  // namespace shardsafe::agent
