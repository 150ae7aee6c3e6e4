#include "server/job_manager.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "common/clock.h"
#include "common/progress.h"
#include "server/cluster_jobs.h"

namespace shardsafe::server {
namespace {

// Each replica set's state in `operation`. A set's counters restart with each phase of its job
// (dump, then oplog): bytes and documents keep the most `previous` saw, the dump's totals.
nlohmann::json progress_json(const catalog::OperationRecord& operation, const nlohmann::json& previous) {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> peaks;
  for (const auto& set : previous.value("replica_sets", nlohmann::json::array())) {
    peaks[set.at("name")] = {set.at("bytes"), set.at("documents")};
  }
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& set : operation.sets) {
    const auto [bytes, documents] = peaks[set.replica_set];
    sets.push_back({{"name", set.replica_set}, {"runs_on", set.runs_on}, {"state", set.state}, {"phase", set.phase},
                    {"bytes", std::max(bytes, set.bytes)}, {"documents", std::max(documents, set.documents)}, {"error", set.error}});
  }
  return {{"phase", operation.phase}, {"replica_sets", sets}};
}

std::string describe(const JobRecord& record) {
  return "job " + std::to_string(record.id) + " (" + record.kind + ", " + record.state + ")";
}

}  // namespace

struct JobManager::Active {
  JobRecord record;  // GUARDED_BY(JobManager::mutex_)
  Progress progress;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

JobManager::JobManager(const ServerConfig& config, JobStore& store, std::function<void(const std::string&)> on_finished)
    : config_(config), store_(store), on_finished_(std::move(on_finished)) {}

JobManager::~JobManager() { shutdown(std::chrono::hours(24)); }

JobRecord JobManager::submit(const std::string& cluster, const std::string& kind, const nlohmann::json& params,
                             const std::string& trigger) {
  if (!config_.clusters.count(cluster)) throw Error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" is not configured");
  auto active = std::make_shared<Active>();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error(ErrorCode::kCancelled, "the server is shutting down");
    for (const auto& [id, other] : active_) {
      if (other->record.cluster == cluster) {
        throw Error(ErrorCode::kConflict, "cluster \"" + cluster + "\" is busy with " + describe(other->record));
      }
    }
    JobRecord& record = active->record;
    record.cluster = cluster;
    record.kind = kind;
    record.trigger = trigger;
    record.params = params;
    record.created_at = iso8601_now();
    record.log.push_back(record.created_at + " queued (" + trigger + ")");
    store_.insert(record);
    active_[record.id] = active;
  }
  // Logged before the job's thread starts: from then on it writes the record under mutex_.
  spdlog::info("server: {} of cluster \"{}\" queued ({})", describe(active->record), cluster, trigger);
  std::thread([this, active] { run(active); }).detach();
  std::lock_guard lock(mutex_);
  return active->record;
}

void JobManager::log(Active& active, const std::string& line) {
  std::lock_guard lock(mutex_);
  active.record.log.push_back(iso8601_now() + " " + line);
}

void JobManager::run(std::shared_ptr<Active> active) {
  JobRecord snapshot;
  {
    std::lock_guard lock(mutex_);
    active->record.state = kRunning;
    active->record.started_at = iso8601_now();
    active->record.log.push_back(active->record.started_at + " started");
    snapshot = active->record;
  }
  store_.update(snapshot);
  const ClusterConfig& cluster = config_.clusters.at(snapshot.cluster);
  JobEnvironment environment{cluster, config_.key, active->progress,
                             [this, active](const catalog::OperationRecord& operation) {
                               std::lock_guard lock(mutex_);
                               if (operation.phase != active->record.progress.value("phase", "")) {
                                 active->record.log.push_back(iso8601_now() + " phase " + operation.phase);
                               }
                               active->record.progress = progress_json(operation, active->record.progress);
                             },
                             [this, active](const std::string& line) { log(*active, line); }};
  try {
    const auto result = run_job(snapshot.kind, snapshot.params, environment);
    {
      std::lock_guard lock(mutex_);
      active->record.result = result;
    }
    finish(*active, kSucceeded, "", "");
  } catch (const Error& error) {
    finish(*active, error.code() == ErrorCode::kCancelled ? kCancelled : kFailed, std::string(error.info().name), error.what());
  } catch (const std::exception& error) {
    finish(*active, kFailed, "internal", error.what());
  }
}

void JobManager::finish(Active& active, const std::string& state, const std::string& code, const std::string& message) {
  JobRecord snapshot;
  {
    std::lock_guard lock(mutex_);
    JobRecord& record = active.record;
    record.state = state;
    record.error_code = code;
    record.error_message = message;
    record.finished_at = iso8601_now();
    record.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - active.started).count();
    record.log.push_back(record.finished_at + " " + state + (message.empty() ? "" : ": " + message));
    snapshot = record;
  }
  try {
    store_.update(snapshot);
  } catch (const std::exception& error) {
    spdlog::error("server: cannot record the end of {}: {}", describe(snapshot), error.what());
  }
  spdlog::info("server: {} of cluster \"{}\" ended{}", describe(snapshot), snapshot.cluster, message.empty() ? "" : ": " + message);
  on_finished_(snapshot.cluster);
  std::lock_guard lock(mutex_);
  active_.erase(snapshot.id);
  // Under the lock: once active_ is empty, shutdown() may return and the manager (changed_ with
  // it) be destroyed, so after the unlock this thread must not touch `this` at all.
  changed_.notify_all();
}

JobRecord JobManager::get(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (const auto it = active_.find(id); it != active_.end()) {
      JobRecord record = it->second->record;
      const auto snapshot = it->second->progress.snapshot();
      record.progress["bytes"] = snapshot.bytes;
      record.progress["documents"] = snapshot.documents;
      return record;
    }
  }
  auto record = store_.get(id);
  if (!record) throw Error(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  return *record;
}

std::vector<JobRecord> JobManager::list(std::size_t limit, std::int64_t before) {
  auto records = store_.list(limit, before);
  std::lock_guard lock(mutex_);
  for (auto& record : records) {
    if (const auto it = active_.find(record.id); it != active_.end()) record = it->second->record;
  }
  return records;
}

JobRecord JobManager::cancel(std::int64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (const auto it = active_.find(id); it != active_.end()) {
      it->second->progress.cancel();
      it->second->record.log.push_back(iso8601_now() + " cancel requested");
    }
  }
  return get(id);
}

std::optional<std::int64_t> JobManager::busy(const std::string& cluster) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, active] : active_) {
    if (active->record.cluster == cluster) return id;
  }
  return std::nullopt;
}

std::size_t JobManager::running() {
  std::lock_guard lock(mutex_);
  return active_.size();
}

bool JobManager::shutdown(std::chrono::seconds grace) {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  for (auto& [id, active] : active_) active->progress.cancel();
  if (changed_.wait_for(lock, grace, [this] { return active_.empty(); })) return true;
  for (auto& [id, active] : active_) {
    spdlog::error("server: job {} did not reach a safe point in time; recorded as interrupted", id);
  }
  lock.unlock();
  store_.mark_interrupted();
  return false;
}

}  // namespace shardsafe::server
