#include "server/scheduler.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "server/cluster_jobs.h"

namespace shardsafe::server {
namespace {

using Clock = std::chrono::system_clock;

std::int64_t unix_seconds(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

}  // namespace

Scheduler::Scheduler(const ServerConfig& config, JobStore& store, JobManager& jobs) : store_(store), jobs_(jobs) {
  const auto now = Clock::now();
  for (const auto& [name, cluster] : config.clusters) {
    for (const auto& [kind, schedule] : {std::pair{kFull, &cluster.full_schedule}, std::pair{kIncremental, &cluster.incremental_schedule}}) {
      if (!*schedule) continue;
      const auto last = store_.last_fire(name, kind);
      if (!last) store_.set_last_fire(name, kind, unix_seconds(now));
      entries_.push_back({name, kind, &**schedule, last ? Clock::time_point(std::chrono::seconds(*last)) : now});
    }
  }
  catch_up();
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::catch_up() {
  const auto now = Clock::now();
  for (auto& entry : entries_) {
    const auto due = entry.schedule->next_after(entry.last);
    if (due > now) continue;
    spdlog::info("server: the {} backup of cluster \"{}\" due at {} was missed while the server was down: running it now", entry.kind,
                 entry.cluster, iso8601(due));
    fire(entry, now);
  }
}

void Scheduler::fire(Entry& entry, Clock::time_point due) {
  entry.last = due;
  store_.set_last_fire(entry.cluster, entry.kind, unix_seconds(due));
  try {
    const auto record = jobs_.submit(entry.cluster, entry.kind, {{"kind", entry.kind}}, "schedule");
    spdlog::info("server: scheduled {} backup of cluster \"{}\" started as job {}", entry.kind, entry.cluster, record.id);
  } catch (const Error& error) {
    spdlog::warn("server: scheduled {} backup of cluster \"{}\" skipped: {}", entry.kind, entry.cluster, error.what());
  }
}

void Scheduler::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_ && !entries_.empty()) {
    auto next = Clock::time_point::max();
    for (const auto& entry : entries_) next = std::min(next, entry.schedule->next_after(entry.last));
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
    const auto now = Clock::now();
    lock.unlock();
    for (auto& entry : entries_) {
      const auto due = entry.schedule->next_after(entry.last);
      if (due <= now) fire(entry, now);
    }
    lock.lock();
  }
}

}  // namespace shardsafe::server
