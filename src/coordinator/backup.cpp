#include "coordinator/backup.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "agent/jobs.h"
#include "catalog/catalog.h"
#include "catalog/manifest_json.h"
#include "common/clock.h"
#include "common/error.h"
#include "coordinator/lock.h"
#include "coordinator/operation.h"
#include "mongo/topology.h"
#include "oplog/time_point.h"
#include "version.h"

namespace shardsafe::coordinator {
namespace {

// One replica set of the deployment being backed up.
struct SetToDump {
  std::string shard;  // shard id; "config" for the config server; empty for a plain set
  mongo::Uri uri;
};

bool is_mongos(const mongo::Uri& uri) {
  mongo::Client client(uri);
  return mongo::hello(client).kind == mongo::ServerKind::kMongos;
}

// The member a dump should read, as the read preference asks.
std::string preferred_member(const mongo::ReplicaSetTopology& set, mongo::ReadPreference preference) {
  const bool secondary = preference == mongo::ReadPreference::kSecondary || preference == mongo::ReadPreference::kSecondaryPreferred;
  return secondary && !set.secondaries.empty() ? set.secondaries.front() : set.primary;
}

nlohmann::json dump_params(const dump::DumpOptions& dump, const std::string& read_preference) {
  return {{"parallel", dump.parallel_collections},
          {"read_preference", read_preference},
          {"compression", storage::compression_name(dump.stream.compression)},
          {"compression_level", dump.stream.compression_level},
          {"compression_threads", dump.stream.compression_threads},
          {"part_size", dump.stream.part_size}};
}

std::string read_preference_name(mongo::ReadPreference preference) {
  switch (preference) {
    case mongo::ReadPreference::kPrimary: return "primary";
    case mongo::ReadPreference::kPrimaryPreferred: return "primaryPreferred";
    case mongo::ReadPreference::kSecondary: return "secondary";
    case mongo::ReadPreference::kSecondaryPreferred: return "secondaryPreferred";
    case mongo::ReadPreference::kNearest: return "nearest";
  }
  return "primary";
}

std::vector<SetJob> plan_jobs(const std::vector<SetToDump>& sets, const BackupRequest& request, JobDispatcher& dispatcher,
                              const catalog::Manifest& manifest, const std::string& prefix) {
  std::vector<SetJob> jobs;
  for (const auto& set : sets) {
    const auto topology = mongo::discover_replica_set(set.uri);
    const auto placement = dispatcher.place(set.shard, topology, preferred_member(topology, request.dump.read_preference));
    nlohmann::json params = {{"uri", set.uri.secret_text()},
                             {"member", placement.member},
                             {"shard", set.shard},
                             {"backup_id", manifest.id},
                             {"prefix", prefix},
                             {"dump", dump_params(request.dump, read_preference_name(request.dump.read_preference))}};
    dispatcher.add_common_params(params, request.dump.stream.encryption);
    jobs.push_back({topology.name, placement.service, {job_id(manifest.id, topology.name, "backup"), "backup", params}, {}, {}});
  }
  return jobs;
}

// The cluster's point: the latest optime the sets reported under `key` at the barrier. The
// decision carries it, and the cluster time gossiped by the set that reported it, so that every
// other set reaches it with one no-op (agent/jobs.cpp).
std::pair<mongo::Timestamp, nlohmann::json> consistency_decision(const std::vector<SetJob>& jobs, const std::string& key,
                                                                 std::chrono::seconds timeout) {
  mongo::Timestamp point;
  nlohmann::json cluster_time;
  for (const auto& job : jobs) {
    const mongo::Timestamp reported = agent::timestamp_from(job.last.result.at(key));
    if (reported < point) continue;
    point = reported;
    cluster_time = job.last.result.value("cluster_time", nlohmann::json(nullptr));
  }
  return {point, {{"up_to", agent::timestamp_json(point)}, {"timeout_s", timeout.count()}, {"cluster_time", cluster_time}}};
}

// Dumps every set through its job and lines their oplogs up on one consistency point.
mongo::Timestamp dump_sets(const std::vector<SetToDump>& sets, const std::string& prefix, const BackupRequest& request,
                           storage::Storage& storage, Progress& progress, catalog::Manifest& manifest) {
  JobDispatcher dispatcher(storage, request.storage_location, request.agents);
  std::vector<SetJob> jobs = plan_jobs(sets, request, dispatcher, manifest, prefix);
  OperationTracker tracker(storage, catalog::backup_operation_id(manifest.id), "backup", manifest.id, request.observer);
  try {
    start_and_await(jobs, "dump", request.limits, progress, tracker);
    // T must be at or after every set's dump end (a dump may already hold writes up to its
    // end, and replay cannot undo them) and inside every set's captured oplog.
    const auto [consistency_point, decision] = consistency_decision(jobs, "dump_end", request.consistency_timeout);
    resume_and_finish(jobs, decision, "oplog", request.limits, progress, tracker);
    for (const auto& job : jobs) {
      manifest.replica_sets.push_back(catalog::replica_set_backup_from_json(job.last.result.at("replica_set_backup"), manifest.id));
    }
    tracker.finish("");
    return consistency_point;
  } catch (const std::exception& error) {
    cancel_and_wait(jobs, std::chrono::minutes(10));
    tracker.finish(error.what());
    throw;
  }
}

std::vector<std::string> sorted_names(const std::vector<SetToDump>& sets) {
  std::vector<std::string> names;
  for (const auto& set : sets) names.push_back(mongo::discover_replica_set(set.uri).name);
  std::sort(names.begin(), names.end());
  return names;
}

// Whether every set's oplog still holds where `base` ended on it.
bool oplogs_hold(const std::vector<SetToDump>& sets, const catalog::Manifest& base) {
  for (const auto& set : sets) {
    mongo::Client client(set.uri);
    const std::string name = mongo::hello(client).set_name;
    for (const auto& backed_up : base.replica_sets) {
      if (backed_up.name == name && mongo::oldest_oplog_ts(client) > backed_up.end_optime) return false;
    }
  }
  return true;
}

// The backup an incremental backup continues: the newest increment of the deployment, so the
// chain stays continuous across full backups taken meanwhile; the newest full backup when there
// is none or the oplog rolled over past its end (a new chain: the time between is a gap).
// Error(kNotFound) without any backup, Error(kChainGap) when the oplog no longer holds either.
catalog::Manifest chain_base(catalog::Catalog& catalog, const std::vector<SetToDump>& sets, storage::Storage& storage) {
  const auto names = sorted_names(sets);
  const auto backups = catalog.list();
  const catalog::BackupSummary* newest[2] = {nullptr, nullptr};  // incremental, full
  for (const auto& backup : backups) {
    auto backup_names = backup.replica_sets;
    std::sort(backup_names.begin(), backup_names.end());
    if (!backup.problem.empty() || backup_names != names) continue;
    const catalog::BackupSummary*& slot = newest[backup.kind == "incremental" ? 0 : 1];
    if (!slot || backup.consistency_point >= slot->consistency_point) slot = &backup;
  }
  if (!newest[0] && !newest[1]) {
    std::string listed;
    for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
    throw Error(ErrorCode::kNotFound, "no backup of this deployment (replica sets " + listed + ") in " + storage.describe() +
                                          " for an incremental backup to continue: take a full backup first");
  }
  std::string tried;
  for (const auto* candidate : newest) {
    if (!candidate) continue;
    catalog::Manifest base = catalog.load(candidate->id);
    if (oplogs_hold(sets, base)) return base;
    tried += (tried.empty() ? "" : ", ") + ("\"" + base.id + "\" (ends at " + oplog::describe_time_point(base.consistency_point) + ")");
    spdlog::warn("the oplog rolled over past the end of backup \"{}\": the chain cannot continue from it", base.id);
  }
  throw Error(ErrorCode::kChainGap, "the oplog rolled over past the end of every backup an incremental backup could continue (" + tried +
                                        "): take a full backup; enlarge the oplog (replSetResizeOplog) or back up more often");
}

// `expected` (a continuous run's previous slice) when it is still the newest committed backup,
// of these sets, and their oplogs still hold its end: then it is what chain_base would choose,
// found without reading every manifest (thousands, after weeks of slicing every few minutes).
std::optional<catalog::Manifest> expected_base(catalog::Catalog& catalog, const std::string& expected,
                                               const std::vector<SetToDump>& sets) {
  if (expected.empty()) return std::nullopt;
  const auto ids = catalog.list_committed_ids();
  if (ids.empty() || ids.back() != expected) return std::nullopt;
  catalog::Manifest base = catalog.load(expected);
  std::vector<std::string> names;
  for (const auto& set : base.replica_sets) names.push_back(set.name);
  std::sort(names.begin(), names.end());
  if (base.kind != "incremental" || names != sorted_names(sets) || !oplogs_hold(sets, base)) return std::nullopt;
  return base;
}

const catalog::ReplicaSetBackup& base_set(const catalog::Manifest& base, const std::string& name) {
  for (const auto& set : base.replica_sets) {
    if (set.name == name) return set;
  }
  throw Error(ErrorCode::kInternal, "replica set \"" + name + "\" vanished from backup \"" + base.id + "\"");
}

std::vector<SetJob> plan_increment_jobs(const std::vector<SetToDump>& sets, const BackupRequest& request,
                                        JobDispatcher& dispatcher, const catalog::Manifest& manifest, const catalog::Manifest& base) {
  std::vector<SetJob> jobs;
  for (const auto& set : sets) {
    const auto topology = mongo::discover_replica_set(set.uri);
    const auto placement = dispatcher.place(set.shard, topology, preferred_member(topology, request.dump.read_preference));
    nlohmann::json params = {{"uri", set.uri.secret_text()},
                             {"member", placement.member},
                             {"shard", set.shard},
                             {"backup_id", manifest.id},
                             {"after", agent::timestamp_json(base_set(base, topology.name).end_optime)},
                             {"timeout_s", request.consistency_timeout.count()},
                             {"dump", dump_params(request.dump, read_preference_name(request.dump.read_preference))}};
    dispatcher.add_common_params(params, request.dump.stream.encryption);
    jobs.push_back({topology.name, placement.service, {job_id(manifest.id, topology.name, "increment"), "increment", params}, {}, {}});
  }
  return jobs;
}

// Removes the slices the jobs stored (an increment that failed leaves no slice behind).
void remove_slices(storage::Storage& storage, const std::vector<SetJob>& jobs) noexcept {
  for (const auto& job : jobs) {
    try {
      if (!job.last.result.contains("replica_set_backup")) continue;
      const auto set = catalog::replica_set_backup_from_json(job.last.result["replica_set_backup"], job.spec.id);
      std::vector<std::string> keys;
      for (const auto& part : set.oplog.parts) keys.push_back(part.key);
      storage.remove(keys);
    } catch (const std::exception& error) {
      spdlog::warn("could not remove the slice of a failed incremental backup ({}): {}", job.replica_set, error.what());
    }
  }
}

// Captures every set's slice from where `base` ended to one new cluster point T: the latest
// newest optime across sets, which every set then reaches (idle sets by a no-op).
mongo::Timestamp capture_slices(const std::vector<SetToDump>& sets, const BackupRequest& request, storage::Storage& storage,
                                Progress& progress, const catalog::Manifest& base, catalog::Manifest& manifest) {
  JobDispatcher dispatcher(storage, request.storage_location, request.agents);
  std::vector<SetJob> jobs = plan_increment_jobs(sets, request, dispatcher, manifest, base);
  OperationTracker tracker(storage, catalog::backup_operation_id(manifest.id), "incremental", manifest.id, request.observer);
  try {
    start_and_await(jobs, "capture", request.limits, progress, tracker);
    const auto [point, decision] = consistency_decision(jobs, "newest", request.consistency_timeout);
    resume_and_finish(jobs, decision, "oplog", request.limits, progress, tracker);
    for (const auto& job : jobs) {
      manifest.replica_sets.push_back(catalog::replica_set_backup_from_json(job.last.result.at("replica_set_backup"), manifest.id));
    }
    tracker.finish("");
    return point;
  } catch (const std::exception& error) {
    cancel_and_wait(jobs, std::chrono::minutes(10));
    remove_slices(storage, jobs);
    tracker.finish(error.what());
    throw;
  }
}

// A cluster's shards, then its config server.
std::vector<SetToDump> cluster_sets(const mongo::ClusterTopology& cluster) {
  std::vector<SetToDump> sets;
  for (const auto& shard : cluster.shards) sets.push_back({shard.id, shard.uri});
  sets.push_back({"config", cluster.config.uri});
  return sets;
}

// The replica sets of the deployment behind `uri`: itself, or a cluster's.
std::vector<SetToDump> deployment_sets(const mongo::Uri& uri, bool mongos) {
  if (!mongos) return {{"", uri}};
  return cluster_sets(mongo::discover_cluster(uri));
}

void back_up_increment(const mongo::Uri& uri, const BackupRequest& request, storage::Storage& storage, Progress& progress,
                       catalog::Manifest& manifest) {
  const bool mongos = is_mongos(uri);
  const auto sets = deployment_sets(uri, mongos);
  // The lock keeps increments from interleaving with restores (which must not be sliced) and
  // with each other; the balancer may run: every set is cut at one cluster time. It is taken
  // before the base is chosen: a run that waited for it continues the backup that held it.
  OperationLock lock(mongos ? sets.back().uri : uri, "incremental backup", request.lock_lease, request.lock_wait);
  catalog::Catalog catalog(storage);
  auto expected = expected_base(catalog, request.expected_base, sets);
  const catalog::Manifest base = expected ? std::move(*expected) : chain_base(catalog, sets, storage);
  manifest.kind = "incremental";
  manifest.base = base.id;
  manifest.topology = base.topology;
  manifest.consistency_point = capture_slices(sets, request, storage, progress, base, manifest);
  spdlog::info("incremental backup of {} replica sets from {} to {}", sets.size(), base.consistency_point.to_string(),
               oplog::describe_time_point(manifest.consistency_point));
}

void back_up_replica_set(const mongo::Uri& uri, const BackupRequest& request, storage::Storage& storage,
                         Progress& progress, const std::string& prefix, catalog::Manifest& manifest) {
  OperationLock lock(uri, "backup", request.lock_lease, request.lock_wait);
  manifest.topology = "replset";
  manifest.consistency_point = dump_sets({{"", uri}}, prefix, request, storage, progress, manifest);
}

void back_up_cluster(const mongo::Uri& mongos, const BackupRequest& request, storage::Storage& storage,
                     Progress& progress, const std::string& prefix, catalog::Manifest& manifest) {
  const auto cluster = mongo::discover_cluster(mongos);
  OperationLock lock(cluster.config.uri, "backup", request.lock_lease, request.lock_wait);
  BalancerPause balancer(mongos, lock);
  const auto sets = cluster_sets(cluster);
  manifest.topology = "sharded";
  manifest.consistency_point = dump_sets(sets, prefix, request, storage, progress, manifest);
  spdlog::info("cluster of {} shards consistent at {}", cluster.shards.size(), manifest.consistency_point.to_string());
}

}  // namespace

catalog::Manifest run_backup(const BackupRequest& request, storage::Storage& storage, Progress& progress) {
  const mongo::Uri uri(request.uri);
  catalog::Catalog catalog(storage);
  catalog::Manifest manifest;
  manifest.id = catalog.new_backup_id(std::chrono::system_clock::now());
  manifest.started_at = iso8601_now();
  manifest.compression = request.dump.stream.compression;
  manifest.encryption_key_id = request.dump.stream.encryption ? request.dump.stream.encryption->id : "";
  manifest.tool_version = kVersion;
  const std::string prefix = catalog::Catalog::backup_prefix(manifest.id);
  try {
    if (request.incremental) {
      back_up_increment(uri, request, storage, progress, manifest);
    } else if (is_mongos(uri)) {
      back_up_cluster(uri, request, storage, progress, prefix, manifest);
    } else {
      back_up_replica_set(uri, request, storage, progress, prefix, manifest);
    }
    manifest.finished_at = iso8601_now();
    catalog.commit(manifest);
  } catch (...) {
    catalog::remove_partial_backup(storage, prefix);
    throw;
  }
  spdlog::info("backup \"{}\" committed: {} documents, consistent at {}", manifest.id, manifest.total_documents(),
               manifest.consistency_point.to_string());
  return manifest;
}

}  // namespace shardsafe::coordinator
