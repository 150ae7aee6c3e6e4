// What undoing one replica set's restore takes, fixed once the target's data is set aside. The
// restorer undoes its own restore from it, and a restore job publishes it in its status, so
// that when the agent running the job dies before it could roll back, the coordinator undoes
// the restore itself: the data set aside is never left under holding names.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "mongo/client.h"

namespace shardsafe::dump {

struct RollbackPlan {
  std::vector<std::string> restored;  // every namespace the restore writes (dropped on undo)
  std::vector<std::pair<std::string, std::string>> holdings;  // (target, holding): renamed back
  std::string saved_users, saved_roles;  // admin copies of the target's users and roles, if taken
};

nlohmann::json rollback_plan_to_json(const RollbackPlan& plan);
// Throws Error(kCorruptData) naming the field when `value` is not a plan.
RollbackPlan rollback_plan_from_json(const nlohmann::json& value);

// Drops what the restore wrote, renames the holdings back and merges the saved users and roles
// back. Every step is one that a repeated or partial undo can run again. Never throws: logs
// what it could not undo (the data set aside stays safe under its holding name).
void undo_restore(mongo::Client& client, const RollbackPlan& plan) noexcept;

// The namespace commands the restore uses, with majority write concern.
void rename_collection(mongo::Client& client, const std::string& from, const std::string& to);
// NamespaceNotFound is not an error: the collection is gone either way.
void drop_collection(mongo::Client& client, const std::string& ns);

}  // namespace shardsafe::dump
