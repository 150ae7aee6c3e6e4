// What a server job does: a backup or a restore of one configured cluster, through the same
// coordinator calls as `shardsafe backup` and `shardsafe restore`, and retention after a backup.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/progress.h"
#include "coordinator/jobs.h"
#include "server/config.h"

namespace shardsafe::server {

// The kinds of job, as POST bodies and the job history name them.
inline constexpr const char* kFull = "full";
inline constexpr const char* kIncremental = "incremental";
inline constexpr const char* kRestore = "restore";

// Checks a request body and returns the params to run and record; Error(kInvalidArgument)
// naming the field for an unknown field, a wrong type or a bad value.
//   backup:  {"kind": "full"|"incremental"}   (default full)
//   restore: {"backup": ID} and/or {"to_time": T}, "drop": bool, "ns_include": [patterns]
nlohmann::json backup_params(const nlohmann::json& body);
nlohmann::json restore_params(const nlohmann::json& body);

struct JobEnvironment {
  const ClusterConfig& cluster;
  const std::optional<storage::EncryptionKey>& key;
  Progress& progress;                        // cancel() stops the job at its next safe point
  coordinator::OperationObserver observer;   // each replica set's state, live
  std::function<void(const std::string&)> log;
};

// Runs job `kind` with `params` (from the functions above) and returns its result:
//   backup:  catalog::backup_result_json, plus "retention": {"deleted": [...]} when the cluster
//            has a policy (applied after the backup succeeded; its failure fails the job);
//   restore: agent::restore_summary_json.
// Throws the coordinator's errors.
nlohmann::json run_job(const std::string& kind, const nlohmann::json& params, JobEnvironment& environment);

}  // namespace shardsafe::server
