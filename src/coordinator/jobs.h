// How the coordinator runs one job per replica set and waits for each phase: where each job
// runs (in-process, or in the agent serving that replica set), polling every job of a phase in
// parallel with a deadline and a heartbeat, and cancelling the others when one fails.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/client.h"
#include "agent/job_runner.h"
#include "catalog/operations.h"
#include "common/error.h"
#include "common/progress.h"
#include "mongo/topology.h"
#include "storage/open.h"
#include "storage/pipeline.h"

namespace shardsafe::coordinator {

// Where the agents' jobs find the storage: the URL and driver settings the coordinator opened
// its own storage with. Sent to agents with each job (over TLS when the agent has it), never
// logged or written to status files.
struct StorageLocation {
  std::string url;
  storage::StorageSettings settings;
};

// Agent mode: which agents serve which replica set. Keys are shard ids ("shard0"), replica set
// names ("rs0") or "config"; several agents may serve one set (one per member).
struct AgentSettings {
  std::map<std::string, std::vector<std::string>> agents;
  std::string token;
  std::string ca_file;
  bool enabled() const { return !agents.empty(); }
};

// One replica set's job in an operation.
struct SetJob {
  std::string replica_set;  // for messages and the operation record
  agent::JobService* service = nullptr;
  agent::JobSpec spec;
  agent::JobStatus last;    // as last polled
  bool answered = false;    // whether the last poll got an answer: `last` is current
  std::chrono::steady_clock::time_point last_heard;  // when the job last reported progress
};

// Called with the operation's record (catalog/operations.h) at every poll of its jobs, from the
// coordinator's thread: a caller that shows each replica set's progress live (the server). Must
// not throw.
using OperationObserver = std::function<void(const catalog::OperationRecord&)>;

struct PhaseLimits {
  std::chrono::seconds deadline{std::chrono::hours(12)};
  // A job whose heartbeat does not move for this long (or whose agent does not answer) fails
  // its phase: its agent is gone or stuck.
  std::chrono::seconds heartbeat_timeout{30};
  // Polls start 10 ms apart and back off to this: short phases end without waiting out a
  // whole interval, long ones cost a poll per job every 250 ms.
  std::chrono::milliseconds poll_interval{250};
};

// Which JobService runs each replica set's job, and which member it reads.
class JobDispatcher {
 public:
  // Local mode when `agents` is empty: jobs run in this process on `storage`. Agent mode needs
  // `location`, which is sent to the agents.
  JobDispatcher(storage::Storage& storage, StorageLocation location, AgentSettings agents);
  ~JobDispatcher();

  struct Placement {
    agent::JobService* service;
    std::string member;  // the member the job reads ("" in local mode: the job chooses)
  };
  // The service for replica set `set` (shard `shard`). In agent mode, the agent whose mongod
  // is `preferred_member` if one is, else one that fronts a healthy member of the set.
  // Error(kInvalidArgument) naming the set when no agent serves it, or when the agents listed
  // for it front no member of it; Error(kConnection) / Error(kUnauthorized) from the agents.
  Placement place(const std::string& shard, const mongo::ReplicaSetTopology& set, const std::string& preferred_member);

  // The params every job needs: the storage (agent mode) and the key.
  void add_common_params(nlohmann::json& params, const std::optional<storage::EncryptionKey>& key) const;
  bool agent_mode() const { return agents_.enabled(); }

 private:
  agent::AgentClient& client_for(const std::string& address);

  StorageLocation location_;
  AgentSettings agents_;
  std::unique_ptr<agent::JobRunner> local_;
  std::map<std::string, std::unique_ptr<agent::AgentClient>> clients_;
};

// "<operation>.<set>.<kind>.<random>", with any character a job id may not hold replaced by
// '_'. Each run's ids are new: a start is idempotent by id, so a run reusing an earlier run's id
// (backup ids have one-second resolution, and a failed backup's id is free again) would be
// answered with that run's job.
std::string job_id(const std::string& operation, const std::string& set, const std::string& kind);

// Starts every job (a start is idempotent, so a retry after a lost answer is harmless).
void start_jobs(std::vector<SetJob>& jobs);

// Polls every job in parallel until each is in state `until` (awaiting or succeeded) and
// answers so in the same round (a job whose agent died at the barrier is not there any more),
// calling `on_poll` after each round (progress, the operation record). When a job fails, is
// cancelled or lost, stops answering or stops moving for heartbeat_timeout, or the deadline
// passes: cancels the other jobs, waits for them to stop (a restore job rolls back first), and
// throws an Error with the first failure's code and every replica set's state.
void wait_for_phase(std::vector<SetJob>& jobs, agent::JobState until, const PhaseLimits& limits,
                    const std::function<void()>& on_poll);
// The same wait, but it leaves the jobs alone when one fails: returns that failure (nullopt
// once every job is in state `until`). For a phase no job may be cancelled in: a commit.
std::optional<Error> await_phase(std::vector<SetJob>& jobs, agent::JobState until, const PhaseLimits& limits,
                                 const std::function<void()>& on_poll);

// Cancels every job not yet final and waits (up to `limit`) until each is; never throws.
void cancel_and_wait(std::vector<SetJob>& jobs, std::chrono::seconds limit) noexcept;

// Sums the jobs' progress into `progress`, whose phase the caller started.
class ProgressSum {
 public:
  explicit ProgressSum(Progress& progress) : progress_(progress) {}
  void update(const std::vector<SetJob>& jobs);

 private:
  Progress& progress_;
  std::uint64_t bytes_ = 0, documents_ = 0;
};

}  // namespace shardsafe::coordinator
