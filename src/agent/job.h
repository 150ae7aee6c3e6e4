// The job model: every replica set's part of a backup or a restore is a job with an id, run
// in-process (local mode) or by `shardsafe agent` on the database host (agent mode). Both run
// the same job code (agent/jobs.h); only the transport differs (agent/job_service.h).
//
// A job's life: queued -> running -> [awaiting -> running]* -> succeeded | failed | cancelled.
// `awaiting` is a barrier: the job has done its part of a phase and waits for the coordinator's
// decision, which depends on every other job (the consistency point T after every set's dump;
// commit or roll back after every set's restore). `lost` is never set by a running job: it is
// what an agent reports, after a restart, for a job whose status file says it was still running
// when the agent died.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/progress.h"

namespace shardsafe::agent {

enum class JobState { kQueued, kRunning, kAwaiting, kSucceeded, kFailed, kCancelled, kLost };

std::string_view job_state_name(JobState state);
// Throws Error(kCorruptData) naming the text when it is no state's name.
JobState parse_job_state(std::string_view name);
// Succeeded, failed, cancelled and lost jobs never change again.
bool is_final(JobState state);

// What a coordinator asks for. `params` are kind-specific (see agent/jobs.h); they may hold
// secrets (storage keys, the encryption key, a MongoDB password), so they are never logged and
// never written to a status file.
struct JobSpec {
  std::string id;    // [A-Za-z0-9._-], 1..128 characters: also a file name
  std::string kind;  // "backup" or "restore"
  nlohmann::json params = nlohmann::json::object();
};

struct JobError {
  std::string code;     // ErrorCodeInfo::name
  std::string message;  // never holds secrets (see common/error.h)
};

// What a job reports: the content of its status file, and of the agent's status answers.
struct JobStatus {
  std::string id;
  std::string kind;
  JobState state = JobState::kQueued;
  ProgressSnapshot progress;       // phase, bytes, documents, units
  nlohmann::json result = nlohmann::json::object();  // kind-specific; set at awaiting and at success
  std::optional<JobError> error;   // set when failed, cancelled or lost
  std::string started_at;          // ISO 8601 UTC
  std::string updated_at;
  std::int64_t heartbeat_ms = 0;   // wall clock (ms since the epoch) of the last update: its age tells a live job from a stuck one
};

nlohmann::json to_json(const JobStatus& status);
// Throws Error(kCorruptData) naming `source` and the field when the document is malformed.
JobStatus job_status_from_json(const nlohmann::json& value, const std::string& source);

// Throws Error(kInvalidArgument) quoting the id unless it is 1..128 of [A-Za-z0-9._-], not "." or "..".
void validate_job_id(const std::string& id);

// The error a failed, cancelled or lost job reports, as the Error it was.
Error job_error(const JobStatus& status);

}  // namespace shardsafe::agent
