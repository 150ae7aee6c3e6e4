#include "coordinator/operation.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"

namespace shardsafe::coordinator {
namespace {

constexpr auto kSaveInterval = std::chrono::seconds(2);

}  // namespace

OperationTracker::OperationTracker(storage::Storage& storage, std::string id, std::string kind, std::string backup_id,
                                   OperationObserver observer)
    : storage_(storage), observer_(std::move(observer)) {
  record_.id = std::move(id);
  record_.kind = std::move(kind);
  record_.backup_id = std::move(backup_id);
  record_.state = "running";
  record_.started_at = iso8601_now();
  save();
}

void OperationTracker::update(const std::string& phase, const std::vector<SetJob>& jobs) {
  const bool new_phase = phase != record_.phase;
  record_.phase = phase;
  record_.sets.clear();
  for (const auto& job : jobs) {
    record_.sets.push_back({job.replica_set, job.service->describe(), job.spec.id, std::string(agent::job_state_name(job.last.state)),
                            job.last.progress.phase, job.last.progress.bytes, job.last.progress.documents,
                            job.last.error ? job.last.error->message : ""});
  }
  if (observer_) observer_(record_);
  if (new_phase || std::chrono::steady_clock::now() - last_saved_ >= kSaveInterval) save();
}

void OperationTracker::record_decision(const std::string& decision) {
  record_.decision = decision;
  try {
    write();
  } catch (...) {
    record_.decision.clear();
    throw;
  }
}

OperationTracker::~OperationTracker() {
  if (record_.state == "running") finish("failed before its jobs finished");
}

void OperationTracker::finish(const std::string& error) noexcept {
  record_.state = error.empty() ? "succeeded" : "failed";
  record_.error = error;
  if (observer_) observer_(record_);
  save();
  try {
    catalog::prune_operations(storage_);
  } catch (const std::exception& failure) {
    spdlog::warn("could not prune old operation records: {}", failure.what());
  }
}

void OperationTracker::write() {
  last_saved_ = std::chrono::steady_clock::now();
  record_.updated_at = iso8601_now();
  record_.heartbeat_ms = unix_ms();
  catalog::save_operation(storage_, record_);
}

void OperationTracker::save() noexcept {
  try {
    write();
  } catch (const std::exception& error) {
    spdlog::warn("could not record the state of operation \"{}\": {}", record_.id, error.what());
  }
}

void start_and_await(std::vector<SetJob>& jobs, const std::string& phase, const PhaseLimits& limits, Progress& progress,
                     OperationTracker& tracker) {
  start_jobs(jobs);
  progress.start_phase(phase, 0, jobs.size());
  ProgressSum sum(progress);
  wait_for_phase(jobs, agent::JobState::kAwaiting, limits, [&] {
    sum.update(jobs);
    tracker.update(phase, jobs);
  });
}

void resume_and_finish(std::vector<SetJob>& jobs, const nlohmann::json& decision, const std::string& phase,
                       const PhaseLimits& limits, Progress& progress, OperationTracker& tracker) {
  for (auto& job : jobs) {
    try {
      job.service->resume(job.spec.id, decision);
    } catch (const Error& error) {
      throw Error(error.code(), "replica set \"" + job.replica_set + "\": " + error.what());
    }
  }
  progress.start_phase(phase, 0, jobs.size());
  wait_for_phase(jobs, agent::JobState::kSucceeded, limits, [&] { tracker.update(phase, jobs); });
}

}  // namespace shardsafe::coordinator
