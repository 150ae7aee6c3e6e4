#include "server/cluster_jobs.h"

#include "agent/jobs.h"
#include "catalog/catalog.h"
#include "catalog/retention.h"
#include "catalog/summary_json.h"
#include "coordinator/backup.h"
#include "coordinator/restore.h"
#include "dump/namespace_filter.h"
#include "oplog/time_point.h"
#include "storage/open.h"

namespace shardsafe::server {
namespace {

using nlohmann::json;

[[noreturn]] void bad_field(const std::string& field, const std::string& why) {
  throw Error(ErrorCode::kInvalidArgument, "field \"" + field + "\" " + why);
}

void allow_only(const json& body, std::initializer_list<const char*> fields) {
  for (const auto& item : body.items()) {
    // A named key, not a structured binding: clang 14 (the sanitizer builds) cannot capture one.
    const std::string& name = item.key();
    if (std::none_of(fields.begin(), fields.end(), [&](const char* field) { return name == field; })) bad_field(name, "is not known");
  }
}

std::string string_field(const json& body, const std::string& field) {
  if (!body.at(field).is_string() || body.at(field).get<std::string>().empty()) bad_field(field, "must be a non-empty string");
  return body.at(field);
}

std::vector<std::string> patterns(const json& value) {
  if (value.is_string()) return {value.get<std::string>()};
  if (!value.is_array() || !std::all_of(value.begin(), value.end(), [](const json& item) { return item.is_string(); })) {
    bad_field("ns_include", "must be a list of namespace patterns (db.coll, * wildcards)");
  }
  return value.get<std::vector<std::string>>();
}

coordinator::StorageLocation agent_location(const ClusterConfig& cluster) {
  return cluster.agents.enabled() ? cluster.storage : coordinator::StorageLocation{};
}

json apply_retention(const ClusterConfig& cluster, storage::Storage& storage, JobEnvironment& environment) {
  catalog::Catalog catalog(storage);
  const auto plan = catalog::plan_retention(catalog, *cluster.retention, std::chrono::system_clock::now());
  catalog::apply_retention(catalog, plan);
  environment.log("retention deleted " + std::to_string(plan.remove.size()) + " backups, kept " + std::to_string(plan.keep.size()));
  return {{"deleted", plan.remove}, {"kept", plan.keep.size()}};
}

json run_backup(const json& params, JobEnvironment& environment) {
  const ClusterConfig& cluster = environment.cluster;
  auto storage = storage::open_storage(cluster.storage.url, cluster.storage.settings);
  coordinator::BackupRequest request;
  request.uri = cluster.uri;
  request.incremental = params.at("kind") == kIncremental;
  request.dump.stream.encryption = environment.key;
  request.agents = cluster.agents;
  request.storage_location = agent_location(cluster);
  request.observer = environment.observer;
  const auto manifest = coordinator::run_backup(request, *storage, environment.progress);
  environment.log("backup " + manifest.id + " committed");
  json result = catalog::backup_result_json(manifest);
  if (cluster.retention) result["retention"] = apply_retention(cluster, *storage, environment);
  return result;
}

json run_restore(const json& params, JobEnvironment& environment) {
  const ClusterConfig& cluster = environment.cluster;
  auto storage = storage::open_storage(cluster.storage.url, cluster.storage.settings);
  coordinator::RestoreRequest request;
  request.backup_id = params.value("backup", "");
  if (params.contains("to_time")) request.to_time = oplog::parse_time_point(params.at("to_time").get<std::string>());
  request.target_uri = cluster.uri;
  request.options.drop = params.value("drop", false);
  request.options.key = environment.key;
  request.namespaces.include = params.value("ns_include", std::vector<std::string>{});
  request.agents = cluster.agents;
  request.storage_location = agent_location(cluster);
  request.observer = environment.observer;
  const auto summary = coordinator::run_restore(request, *storage, environment.progress);
  environment.log("restore finished: " + std::to_string(summary.documents) + " documents");
  return agent::restore_summary_json(summary);
}

}  // namespace

json backup_params(const json& body) {
  allow_only(body, {"kind"});
  const std::string kind = body.contains("kind") ? string_field(body, "kind") : kFull;
  if (kind != kFull && kind != kIncremental) bad_field("kind", "must be \"full\" or \"incremental\"");
  return {{"kind", kind}};
}

json restore_params(const json& body) {
  allow_only(body, {"backup", "to_time", "drop", "ns_include"});
  json params = json::object();
  if (body.contains("backup")) {
    const std::string backup = string_field(body, "backup");
    catalog::Catalog::validate_backup_id(backup);
    params["backup"] = backup;
  }
  if (body.contains("to_time")) {
    const std::string to_time = string_field(body, "to_time");
    static_cast<void>(oplog::parse_time_point(to_time));  // a bad time is refused now
    params["to_time"] = to_time;
  }
  if (params.empty()) throw Error(ErrorCode::kInvalidArgument, "a restore needs field \"backup\" or \"to_time\"");
  if (body.contains("drop")) {
    if (!body["drop"].is_boolean()) bad_field("drop", "must be true or false");
    params["drop"] = body["drop"];
  }
  if (body.contains("ns_include")) {
    const auto include = patterns(body["ns_include"]);
    static_cast<void>(dump::NamespaceFilter(include, {}, {}, {}));  // a bad pattern is refused now
    params["ns_include"] = include;
  }
  return params;
}

json run_job(const std::string& kind, const json& params, JobEnvironment& environment) {
  return kind == kRestore ? run_restore(params, environment) : run_backup(params, environment);
}

}  // namespace shardsafe::server
