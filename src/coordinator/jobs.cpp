#include "coordinator/jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "agent/jobs.h"
#include "common/parallel.h"
#include "common/random.h"

namespace shardsafe::coordinator {
namespace {

using agent::JobState;

std::string describe_job(const SetJob& job) {
  std::string text = "replica set \"" + job.replica_set + "\" (" + job.service->describe() + ", job \"" + job.spec.id +
                     "\"): " + std::string(agent::job_state_name(job.last.state));
  if (job.last.error) text += ": " + job.last.error->message;
  return text;
}

// Polls one job; an unreachable agent counts as silence, judged by the heartbeat timeout.
void poll(SetJob& job) {
  try {
    agent::JobStatus status = job.service->status(job.spec.id);
    if (status.heartbeat_ms != job.last.heartbeat_ms || status.state != job.last.state) {
      job.last_heard = std::chrono::steady_clock::now();
    }
    job.last = std::move(status);
    job.answered = true;
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kConnection && error.code() != ErrorCode::kTimeout) throw;
    job.answered = false;
    spdlog::warn("{}: {}", job.replica_set, error.what());
  }
}

// The first problem that fails the phase, or nullopt while it may still succeed.
std::optional<Error> phase_failure(const std::vector<SetJob>& jobs, JobState until, const PhaseLimits& limits,
                                   std::chrono::steady_clock::time_point deadline) {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& job : jobs) {
    // Arrived for good: a final state's heartbeat never moves again, and it need not. (A job
    // awaiting a decision still beats: it may die there.)
    if (job.last.state == until && agent::is_final(until)) continue;
    if (agent::is_final(job.last.state)) {
      return job.last.error ? agent::job_error(job.last)
                            : Error(ErrorCode::kInternal, "job \"" + job.spec.id + "\" ended " +
                                                              std::string(agent::job_state_name(job.last.state)));
    }
    if (now - job.last_heard > limits.heartbeat_timeout) {
      return Error(ErrorCode::kTimeout, "replica set \"" + job.replica_set + "\": " + job.service->describe() +
                                            " has not reported job \"" + job.spec.id + "\" for " +
                                            std::to_string(limits.heartbeat_timeout.count()) + " s");
    }
  }
  if (now > deadline) return Error(ErrorCode::kTimeout, "the phase did not end within its deadline");
  return std::nullopt;
}

void poll_all(std::vector<SetJob>& jobs) {
  parallel_for(jobs.size(), static_cast<int>(jobs.size()), [&](std::size_t i) { poll(jobs[i]); });
}

}  // namespace

JobDispatcher::JobDispatcher(storage::Storage& storage, StorageLocation location, AgentSettings agents)
    : location_(std::move(location)), agents_(std::move(agents)) {
  if (agents_.enabled()) {
    if (location_.url.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "agents need the storage's URL to reach it themselves");
    }
    return;
  }
  // In-process jobs share the coordinator's storage; it outlives the dispatcher.
  std::shared_ptr<storage::Storage> shared(&storage, [](storage::Storage*) {});
  local_ = std::make_unique<agent::JobRunner>(agent::replica_set_job_kinds([shared](const nlohmann::json&) { return shared; }),
                                              agent::JobRunnerOptions{});
}

JobDispatcher::~JobDispatcher() = default;

agent::AgentClient& JobDispatcher::client_for(const std::string& address) {
  auto& client = clients_[address];
  if (!client) client = std::make_unique<agent::AgentClient>(agent::AgentEndpoint{address, agents_.token, agents_.ca_file});
  return *client;
}

JobDispatcher::Placement JobDispatcher::place(const std::string& shard, const mongo::ReplicaSetTopology& set,
                                              const std::string& preferred_member) {
  if (!agents_.enabled()) return {local_.get(), ""};
  std::vector<std::string> addresses;
  for (const auto& key : {shard, set.name}) {
    if (const auto found = agents_.agents.find(key); !key.empty() && found != agents_.agents.end()) {
      addresses.insert(addresses.end(), found->second.begin(), found->second.end());
    }
  }
  if (addresses.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "no agent serves replica set \"" + set.name + "\"" +
                                                 (shard.empty() ? "" : " (shard \"" + shard + "\")") +
                                                 ": add it to --agents (" + (shard.empty() ? set.name : shard) + "=host:port)");
  }
  std::optional<Placement> fallback;
  std::string fronted;
  for (const auto& address : addresses) {
    auto& client = client_for(address);
    const nlohmann::json health = client.health();
    const std::string me = health.contains("mongod") ? health["mongod"].value("me", "") : "";
    if (me.empty()) {
      spdlog::warn("agent \"{}\" does not say which mongod it runs beside (no --mongod-uri): trusting it with \"{}\"", address, set.name);
      fallback = fallback.value_or(Placement{&client, preferred_member});
      continue;
    }
    fronted += (fronted.empty() ? "" : ", ") + address + " fronts " + me;
    if (me == preferred_member) return {&client, me};
    const bool healthy_member = me == set.primary || std::count(set.secondaries.begin(), set.secondaries.end(), me) > 0;
    if (healthy_member && !fallback) fallback = Placement{&client, me};
  }
  if (fallback) return *fallback;
  throw Error(ErrorCode::kInvalidArgument, "no agent listed for replica set \"" + set.name +
                                               "\" runs beside a healthy member of it (" + fronted + ")");
}

void JobDispatcher::add_common_params(nlohmann::json& params, const std::optional<storage::EncryptionKey>& key) const {
  if (key) params["key"] = agent::key_hex(key);
  if (agents_.enabled()) {
    nlohmann::json settings = nlohmann::json::object();
    for (const auto& [name, value] : location_.settings) settings[name] = value;
    params["storage"] = {{"url", location_.url}, {"settings", settings}};
  }
}

std::string job_id(const std::string& operation, const std::string& set, const std::string& kind) {
  std::string id = (operation + "." + set + "." + kind).substr(0, 120);
  for (char& c : id) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!allowed) c = '_';
  }
  return id + "." + random_token(6);
}

void start_jobs(std::vector<SetJob>& jobs) {
  for (auto& job : jobs) {
    // An agent dying while it starts the job fails the start with the agent's address only
    // (e.g. a killed agent's unanswered request): name the set, as every later phase does.
    try {
      job.last = job.service->start(job.spec);
    } catch (const Error& error) {
      throw Error(error.code(), "replica set \"" + job.replica_set + "\": " + error.what());
    }
    job.last_heard = std::chrono::steady_clock::now();
  }
}

std::optional<Error> await_phase(std::vector<SetJob>& jobs, JobState until, const PhaseLimits& limits,
                                 const std::function<void()>& on_poll) {
  const auto deadline = std::chrono::steady_clock::now() + limits.deadline;
  for (auto& job : jobs) job.last_heard = std::chrono::steady_clock::now();
  std::chrono::milliseconds interval{10};
  while (true) {
    poll_all(jobs);
    on_poll();
    if (std::all_of(jobs.begin(), jobs.end(), [&](const SetJob& job) { return job.answered && job.last.state == until; })) {
      return std::nullopt;
    }
    if (auto failure = phase_failure(jobs, until, limits, deadline)) return failure;
    std::this_thread::sleep_for(interval);
    interval = std::min(interval * 2, limits.poll_interval);
  }
}

void wait_for_phase(std::vector<SetJob>& jobs, JobState until, const PhaseLimits& limits,
                    const std::function<void()>& on_poll) {
  const auto failure = await_phase(jobs, until, limits, on_poll);
  if (!failure) return;
  spdlog::error("{}: cancelling the other jobs", failure->what());
  cancel_and_wait(jobs, std::chrono::minutes(10));
  std::string states;
  for (const auto& job : jobs) states += "\n  " + describe_job(job);
  throw Error(failure->code(), jobs.size() == 1 ? std::string(failure->what())
                                                : std::string(failure->what()) + "; every replica set:" + states);
}

void cancel_and_wait(std::vector<SetJob>& jobs, std::chrono::seconds limit) noexcept {
  for (auto& job : jobs) {
    if (agent::is_final(job.last.state)) continue;
    try {
      job.service->cancel(job.spec.id);
    } catch (const std::exception& error) {
      spdlog::error("could not cancel job \"{}\" of replica set \"{}\": {}", job.spec.id, job.replica_set, error.what());
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all_final = true;
    for (auto& job : jobs) {
      if (agent::is_final(job.last.state)) continue;
      try {
        job.last = job.service->status(job.spec.id);
      } catch (const std::exception& error) {
        spdlog::warn("job \"{}\" of replica set \"{}\": {}", job.spec.id, job.replica_set, error.what());
        job.last.state = JobState::kLost;  // unreachable: nothing more to wait for
      }
      all_final = all_final && agent::is_final(job.last.state);
    }
    if (all_final) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  spdlog::error("some jobs did not stop within {} s of being cancelled", limit.count());
}

void ProgressSum::update(const std::vector<SetJob>& jobs) {
  std::uint64_t bytes = 0, documents = 0;
  for (const auto& job : jobs) {
    bytes += job.last.progress.bytes;
    documents += job.last.progress.documents;
  }
  progress_.add(bytes > bytes_ ? bytes - bytes_ : 0, documents > documents_ ? documents - documents_ : 0);
  bytes_ = std::max(bytes, bytes_);
  documents_ = std::max(documents, documents_);
}

}  // namespace shardsafe::coordinator
