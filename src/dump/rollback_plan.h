// What undoing one replica set's restore takes, fixed once the target's data is set aside. The
// restorer undoes its own restore from it, and a restore job publishes it in its status, so
// that when the agent running the job dies before it could roll back, the coordinator undoes
// the restore itself: the data set aside is never left under holding names.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mongo/client.h"

namespace shardsafe::dump {

struct RollbackPlan {
  std::vector<std::string> restored;  // every namespace the restore writes (dropped on undo)
  std::vector<std::pair<std::string, std::string>> holdings;  // (target, holding): renamed back
  std::string saved_users, saved_roles;  // admin copies of the target's users and roles, if taken
  // Every namespace of the target once the dump was restored, before the oplog replay began:
  // the replay may create any collection the dump's oplog did, and an undo drops those too.
  std::optional<std::vector<std::string>> before_replay;
};

nlohmann::json rollback_plan_to_json(const RollbackPlan& plan);
// Throws Error(kCorruptData) naming the field when `value` is not a plan.
RollbackPlan rollback_plan_from_json(const nlohmann::json& value);

// Drops what the restore wrote (and what its oplog replay created), renames the holdings back
// and merges the saved users and roles back. Every step is one that a repeated or partial undo
// can run again. Never throws: logs what it could not undo (the data set aside stays safe under
// its holding name).
void undo_restore(mongo::Client& client, const RollbackPlan& plan) noexcept;

// Ends a restore that succeeded: drops the data set aside and the saved users and roles, or with
// `keep_previous` returns the namespaces they stay under. Every drop can run again, so the
// coordinator can finish a commit its agent began and did not end. Throws on a failed drop.
std::vector<std::string> finish_restore(mongo::Client& client, const RollbackPlan& plan, bool keep_previous);

// Every namespace of the target (but local's) with its collection UUID (empty for views).
std::map<std::string, std::string> list_namespaces(mongo::Client& client);

// The namespace commands the restore uses, with majority write concern.
void rename_collection(mongo::Client& client, const std::string& from, const std::string& to);
// NamespaceNotFound is not an error: the collection is gone either way.
void drop_collection(mongo::Client& client, const std::string& ns);

}  // namespace shardsafe::dump
