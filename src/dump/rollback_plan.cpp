#include "dump/rollback_plan.h"

#include <spdlog/spdlog.h>

#include <set>

#include "common/error.h"
#include "dump/metadata.h"
#include "dump/namespace_filter.h"
#include "dump/users_roles.h"
#include "mongo/topology.h"

namespace shardsafe::dump {
namespace {

const mongo::Bson kMajority = mongo::BsonBuilder().append("w", "majority").build();

void drop_restored(mongo::Client& client, const RollbackPlan& plan) {
  for (const auto& ns : plan.restored) {
    try {
      drop_collection(client, ns);
    } catch (const std::exception& error) {
      spdlog::error("rollback: could not drop restored \"{}\": {}", ns, error.what());
    }
  }
}

// Collections the oplog replay created are those the target holds now and did not before it.
void drop_what_replay_created(mongo::Client& client, const RollbackPlan& plan) {
  if (!plan.before_replay) return;
  const std::set<std::string> before(plan.before_replay->begin(), plan.before_replay->end());
  for (const auto& [ns, uuid] : list_namespaces(client)) {
    if (before.contains(ns)) continue;
    try {
      drop_collection(client, ns);
    } catch (const std::exception& error) {
      spdlog::error("rollback: could not drop \"{}\", which the oplog replay created: {}", ns, error.what());
    }
  }
}

void rename_holdings_back(mongo::Client& client, const RollbackPlan& plan) {
  for (const auto& [target_ns, holding_ns] : plan.holdings) {
    if (holding_ns.empty()) continue;
    try {
      rename_collection(client, holding_ns, target_ns);
    } catch (const std::exception& error) {
      const auto* server = dynamic_cast<const ServerError*>(&error);
      if (server && server->server_code() == 26) continue;  // NamespaceNotFound: renamed back by an earlier undo
      spdlog::error("rollback: could not rename \"{}\" back to \"{}\": {} (the data is safe under the holding name)",
                    holding_ns, target_ns, error.what());
    }
  }
}

void put_back_users_and_roles(mongo::Client& client, const RollbackPlan& plan) {
  if (plan.saved_users.empty() && plan.saved_roles.empty()) return;
  try {
    merge_users_and_roles(client, plan.saved_users, plan.saved_roles, /*drop=*/true);
  } catch (const std::exception& error) {
    spdlog::error("rollback: could not put the users and roles back: {} (they are kept in \"admin.{}\" and \"admin.{}\")",
                  error.what(), plan.saved_users, plan.saved_roles);
    return;
  }
  for (const std::string* saved : {&plan.saved_users, &plan.saved_roles}) {
    try {
      drop_collection(client, "admin." + *saved);
    } catch (const std::exception& error) {
      spdlog::error("rollback: could not drop \"admin.{}\": {}", *saved, error.what());
    }
  }
}

}  // namespace

std::map<std::string, std::string> list_namespaces(mongo::Client& client) {
  std::map<std::string, std::string> namespaces;
  for (const auto& [db, entry] : mongo::list_all_collections(client)) {
    if (db != "local") namespaces[db + "." + mongo::BsonView(entry).string("name").value_or("")] = uuid_of_listing(entry);
  }
  return namespaces;
}

void rename_collection(mongo::Client& client, const std::string& from, const std::string& to) {
  client.command("admin", mongo::BsonBuilder()
                              .append("renameCollection", from)
                              .append("to", to)
                              .append("writeConcern", kMajority)
                              .build());
}

void drop_collection(mongo::Client& client, const std::string& ns) {
  const auto [db, name] = split_namespace(ns);
  try {
    client.command(db, mongo::BsonBuilder().append("drop", name).append("writeConcern", kMajority).build());
  } catch (const ServerError& error) {
    if (error.server_code() != 26) throw;  // NamespaceNotFound: already gone
  }
}

nlohmann::json rollback_plan_to_json(const RollbackPlan& plan) {
  nlohmann::json holdings = nlohmann::json::array();
  for (const auto& [target, holding] : plan.holdings) holdings.push_back({{"target", target}, {"holding", holding}});
  nlohmann::json out = {
      {"restored", plan.restored}, {"holdings", holdings}, {"saved_users", plan.saved_users}, {"saved_roles", plan.saved_roles}};
  if (plan.before_replay) out["before_replay"] = *plan.before_replay;
  return out;
}

RollbackPlan rollback_plan_from_json(const nlohmann::json& value) {
  try {
    RollbackPlan plan;
    plan.restored = value.at("restored").get<std::vector<std::string>>();
    for (const auto& holding : value.at("holdings")) plan.holdings.emplace_back(holding.at("target"), holding.at("holding"));
    plan.saved_users = value.at("saved_users");
    plan.saved_roles = value.at("saved_roles");
    if (value.contains("before_replay")) plan.before_replay = value.at("before_replay").get<std::vector<std::string>>();
    return plan;
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorCode::kCorruptData, std::string("a restore's rollback plan is malformed: ") + error.what());
  }
}

void undo_restore(mongo::Client& client, const RollbackPlan& plan) noexcept {
  try {
    drop_what_replay_created(client, plan);
    drop_restored(client, plan);
    rename_holdings_back(client, plan);
    put_back_users_and_roles(client, plan);
  } catch (const std::exception& error) {
    spdlog::error("rollback failed: {}", error.what());
  }
}

std::vector<std::string> finish_restore(mongo::Client& client, const RollbackPlan& plan, bool keep_previous) {
  std::vector<std::string> previous;
  for (const auto& [target_ns, holding_ns] : plan.holdings) {
    if (!holding_ns.empty()) previous.push_back(holding_ns);
  }
  for (const std::string* saved : {&plan.saved_users, &plan.saved_roles}) {
    if (!saved->empty()) previous.push_back("admin." + *saved);
  }
  if (keep_previous) return previous;
  for (const auto& ns : previous) drop_collection(client, ns);
  return {};
}

}  // namespace shardsafe::dump
