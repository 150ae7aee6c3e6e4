#include "agent/job_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>

#include "common/clock.h"
#include "storage/open.h"

namespace shardsafe::agent {
namespace {

constexpr std::size_t kMaxStatusFileBytes = 16 << 20;
constexpr const char* kStatusFolder = "jobs/";
// How long a job at a barrier waits for a coordinator that stopped polling it (params'
// "coordinator_timeout_s" overrides it): then a restore rolls back, a backup fails.
constexpr std::chrono::seconds kCoordinatorSilenceLimit{120};

std::string status_key(const std::string& id) { return kStatusFolder + id + ".json"; }

JobError to_job_error(const Error& error) { return {std::string(error.info().name), error.what()}; }

}  // namespace

// One job: its status, its thread, and the barrier where it waits for the coordinator.
class JobRunner::Job final : public JobContext {
 public:
  using Publish = std::function<void(const JobStatus&)>;

  Job(JobSpec spec, Publish publish) : spec_(std::move(spec)), publish_(std::move(publish)) {
    status_.id = spec_.id;
    status_.kind = spec_.kind;
    status_.started_at = iso8601_now();
    stamp();
  }
  // A job known only from its status file (a previous run of the agent).
  Job(JobStatus status, Publish publish) : publish_(std::move(publish)), status_(std::move(status)), live_(false) {
    spec_.id = status_.id;
    spec_.kind = status_.kind;
  }

  void launch(JobBody body) {
    {
      // Under the lock like every other publish: start() listed the job before launching it,
      // so the runner's ticker may be stamping and publishing it already.
      std::lock_guard lock(mutex_);
      publish_locked();
    }
    thread_ = std::jthread([this, body = std::move(body)] { run(body); });
  }

  const JobSpec& spec() const override { return spec_; }
  Progress& progress() override { return progress_; }

  void publish_result(nlohmann::json result) override {
    std::lock_guard lock(mutex_);
    status_.result = std::move(result);
    publish_locked();
  }

  nlohmann::json await_decision(nlohmann::json result) override {
    std::unique_lock lock(mutex_);
    status_.state = JobState::kAwaiting;
    status_.result = std::move(result);
    publish_locked();
    // The coordinator polls every job while it waits; one that stops polling died, and a job
    // holding a restore's set-aside data must not wait for it forever.
    const auto silence_limit = std::chrono::seconds(spec_.params.value("coordinator_timeout_s", kCoordinatorSilenceLimit.count()));
    polled_ = std::chrono::steady_clock::now();
    while (!decided_.wait_for(lock, std::chrono::milliseconds(200), [&] { return decision_.has_value() || progress_.cancelled(); })) {
      if (std::chrono::steady_clock::now() - polled_ > silence_limit) {
        throw Error(ErrorCode::kTimeout, "job \"" + spec_.id + "\": the coordinator stopped asking for it for " +
                                             std::to_string(silence_limit.count()) + " s while it awaited a decision");
      }
    }
    if (!decision_) throw Error(ErrorCode::kCancelled, "job \"" + spec_.id + "\" was cancelled");
    nlohmann::json decision = std::move(*decision_);
    decision_.reset();
    status_.state = JobState::kRunning;
    publish_locked();
    return decision;
  }

  JobStatus snapshot() {
    std::lock_guard lock(mutex_);
    return snapshot_locked();
  }

  // What a coordinator's poll does: its status, and a sign that the coordinator is alive.
  JobStatus poll() {
    std::lock_guard lock(mutex_);
    polled_ = std::chrono::steady_clock::now();
    return snapshot_locked();
  }

  // Refreshes the status file of a job still under way: its progress and heartbeat.
  void tick() {
    std::lock_guard lock(mutex_);
    if (!is_final(status_.state)) publish_locked();
  }

  void cancel() {
    std::lock_guard lock(mutex_);
    if (is_final(status_.state)) return;
    progress_.cancel();
    decided_.notify_all();
  }

  void resume(const nlohmann::json& decision) {
    std::lock_guard lock(mutex_);
    if (status_.state != JobState::kAwaiting || decision_) {
      throw Error(ErrorCode::kConflict, "job \"" + spec_.id + "\" is " + std::string(job_state_name(status_.state)) +
                                            ", not awaiting a decision");
    }
    decision_ = decision.is_null() ? nlohmann::json::object() : decision;
    decided_.notify_all();
  }

 private:
  void run(const JobBody& body) {
    set_state(JobState::kRunning);
    try {
      nlohmann::json result = body(*this);
      std::lock_guard lock(mutex_);
      status_.result = std::move(result);
      status_.state = JobState::kSucceeded;
      publish_locked();
    } catch (const Error& error) {
      finish_with(error.code() == ErrorCode::kCancelled ? JobState::kCancelled : JobState::kFailed, to_job_error(error));
    } catch (const std::exception& error) {
      finish_with(JobState::kFailed, {"internal", error.what()});
    }
  }

  void finish_with(JobState state, JobError error) {
    spdlog::log(state == JobState::kCancelled ? spdlog::level::info : spdlog::level::err, "job \"{}\" {}: {}", spec_.id,
                job_state_name(state), error.message);
    std::lock_guard lock(mutex_);
    status_.state = state;
    status_.error = std::move(error);
    publish_locked();
  }

  void set_state(JobState state) {
    std::lock_guard lock(mutex_);
    status_.state = state;
    publish_locked();
  }

  void stamp() {
    status_.heartbeat_ms = unix_ms();
    status_.updated_at = iso8601_now();
  }

  JobStatus snapshot_locked() {
    if (live_) status_.progress = progress_.snapshot();
    return status_;
  }

  void publish_locked() {
    stamp();
    publish(snapshot_locked());
  }

  void publish(const JobStatus& status) {
    try {
      publish_(status);
    } catch (const std::exception& error) {
      spdlog::warn("cannot write the status file of job \"{}\": {}", status.id, error.what());
    }
  }

  JobSpec spec_;
  Publish publish_;
  Progress progress_;
  std::mutex mutex_;  // guards status_ and decision_
  std::condition_variable decided_;
  JobStatus status_;
  std::optional<nlohmann::json> decision_;
  std::chrono::steady_clock::time_point polled_ = std::chrono::steady_clock::now();
  bool live_ = true;  // run by this runner; false for a job read back from its status file
  std::jthread thread_;  // last: joined before the rest is destroyed
};

JobRunner::JobRunner(JobKinds kinds, JobRunnerOptions options) : kinds_(std::move(kinds)), options_(std::move(options)) {
  if (options_.data_dir) {
    std::filesystem::create_directories(*options_.data_dir);
    status_files_ = storage::open_storage("file://" + std::filesystem::absolute(*options_.data_dir).string());
    load_status_files();
  }
  ticker_ = std::jthread([this](std::stop_token stop) { tick_until_stopped(stop); });
}

JobRunner::~JobRunner() {
  ticker_.request_stop();
  ticker_ = {};
  std::lock_guard lock(mutex_);
  for (auto& [id, job] : jobs_) job->cancel();
  jobs_.clear();  // joins each job's thread
}

void JobRunner::load_status_files() {
  for (const auto& object : storage::list_all(*status_files_, kStatusFolder)) {
    if (!object.key.ends_with(".json")) continue;
    try {
      JobStatus status = job_status_from_json(
          nlohmann::json::parse(storage::read_object(*status_files_, object.key, kMaxStatusFileBytes)), "\"" + object.key + "\"");
      if (!is_final(status.state)) {
        status.error = JobError{"cancelled", "the agent stopped while the job was " + std::string(job_state_name(status.state)) +
                                                 " (phase \"" + status.progress.phase + "\"): it did not finish"};
        status.state = JobState::kLost;
        save(status);
        spdlog::warn("job \"{}\" was under way when the agent stopped: reported lost", status.id);
      }
      const std::string id = status.id;
      jobs_[id] = std::make_shared<Job>(std::move(status), [this](const JobStatus& s) { save(s); });
    } catch (const std::exception& error) {
      spdlog::error("ignoring status file \"{}\": {}", object.key, error.what());
    }
  }
}

void JobRunner::save(const JobStatus& status) {
  if (status_files_) storage::write_object(*status_files_, status_key(status.id), to_json(status).dump(2) + "\n");
}

void JobRunner::tick_until_stopped(std::stop_token stop) {
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(sleep_mutex);
      sleeper.wait_for(lock, stop, options_.tick, [] { return false; });
    }
    if (stop.stop_requested()) return;
    std::vector<std::shared_ptr<Job>> jobs;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, job] : jobs_) jobs.push_back(job);
    }
    for (const auto& job : jobs) job->tick();
  }
}

JobStatus JobRunner::start(const JobSpec& given) {
  validate_job_id(given.id);
  JobSpec spec = given;
  if (spec.params.is_null()) spec.params = nlohmann::json::object();  // `{}` in C++ initialises JSON null
  const auto kind = kinds_.find(spec.kind);
  if (kind == kinds_.end()) throw Error(ErrorCode::kInvalidArgument, "unknown job kind \"" + spec.kind + "\"");
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mutex_);
    if (const auto existing = jobs_.find(spec.id); existing != jobs_.end()) return existing->second->snapshot();
    forget_old_finished_jobs_locked();
    job = std::make_shared<Job>(spec, [this](const JobStatus& s) { save(s); });
    jobs_[spec.id] = job;
  }
  spdlog::info("job \"{}\" ({}) started", spec.id, spec.kind);
  job->launch(kind->second);
  return job->snapshot();
}

void JobRunner::forget_old_finished_jobs_locked() {
  std::vector<JobStatus> finished;
  for (const auto& [id, job] : jobs_) {
    JobStatus status = job->snapshot();
    if (is_final(status.state)) finished.push_back(std::move(status));
  }
  if (finished.size() <= options_.keep_finished) return;
  std::sort(finished.begin(), finished.end(), [](const auto& a, const auto& b) { return a.heartbeat_ms < b.heartbeat_ms; });
  std::vector<std::string> files;
  for (std::size_t i = 0; i < finished.size() - options_.keep_finished; ++i) {
    jobs_.erase(finished[i].id);
    files.push_back(status_key(finished[i].id));
  }
  try {
    if (status_files_) status_files_->remove(files);
  } catch (const std::exception& error) {
    spdlog::warn("could not remove the status files of old jobs: {}", error.what());
  }
}

std::shared_ptr<JobRunner::Job> JobRunner::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto job = jobs_.find(id);
  if (job == jobs_.end()) throw Error(ErrorCode::kNotFound, "job \"" + id + "\" not found");
  return job->second;
}

JobStatus JobRunner::status(const std::string& id) { return find(id)->poll(); }

std::vector<JobStatus> JobRunner::list() {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, job] : jobs_) jobs.push_back(job);
  }
  std::vector<JobStatus> out;
  for (const auto& job : jobs) out.push_back(job->snapshot());
  return out;
}

void JobRunner::cancel(const std::string& id) { find(id)->cancel(); }

void JobRunner::resume(const std::string& id, const nlohmann::json& decision) { find(id)->resume(decision); }

}  // namespace shardsafe::agent
