// Where jobs run, as the coordinator sees it: in this process (JobRunner) or in an agent on a
// database host (AgentClient, over HTTP). The coordinator drives both through this interface.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "agent/job.h"

namespace shardsafe::agent {

class JobService {
 public:
  virtual ~JobService() = default;
  // Starts the job, or, when a job with this id exists already, returns its status and starts
  // nothing (a retried start is harmless). Error(kInvalidArgument) for an unknown kind or id.
  virtual JobStatus start(const JobSpec& spec) = 0;
  // Error(kNotFound) naming the id when the service knows no such job. Asking is also the
  // coordinator's sign of life: a job awaiting a decision that nobody asks about for
  // "coordinator_timeout_s" (params; 120 s by default) gives up (a restore rolls back).
  virtual JobStatus status(const std::string& id) = 0;
  virtual std::vector<JobStatus> list() = 0;
  // Asks the job to stop at its next batch; a job in a final state is left as it is.
  virtual void cancel(const std::string& id) = 0;
  // Answers a job that is awaiting a decision. Error(kConflict) when it is not awaiting one.
  virtual void resume(const std::string& id, const nlohmann::json& decision) = 0;
  // "in-process" or "agent 10.0.0.5:8746", for messages.
  virtual std::string describe() const = 0;
};

}  // namespace shardsafe::agent
