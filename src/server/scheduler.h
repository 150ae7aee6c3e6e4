// Runs each cluster's scheduled backups (config: schedule.full / schedule.incremental, cron in
// UTC) through the JobManager, on a thread of its own.
//
// When each schedule last fired is kept in the job history, so the schedule goes on across
// restarts: a run that fell due while the server was down runs once when it starts (not once
// per missed time). On a schedule's first start nothing counts as missed. When a full and an
// incremental backup fall due at once, the full one runs; a run that finds its cluster busy is
// skipped with a warning (the next one is due soon enough). Retention runs after each backup
// (cluster_jobs.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/config.h"
#include "server/job_manager.h"
#include "server/job_store.h"

namespace shardsafe::server {

class Scheduler {
 public:
  // Starts the thread; catches up on missed runs first.
  Scheduler(const ServerConfig& config, JobStore& store, JobManager& jobs);
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void stop();

 private:
  struct Entry {
    std::string cluster;
    std::string kind;
    const CronSchedule* schedule;
    std::chrono::system_clock::time_point last;  // when it last fired
  };
  void loop();
  void catch_up();
  void fire(Entry& entry, std::chrono::system_clock::time_point due);

  JobStore& store_;
  JobManager& jobs_;
  std::vector<Entry> entries_;  // per cluster: full before incremental
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace shardsafe::server
