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
#include "version.h"

namespace shardsafe::coordinator {
namespace {

// One replica set of the deployment being backed up.
struct SetToDump {
  std::string shard;  // shard id; "config" for the config server; empty for a plain set
  mongo::Uri uri;
};

void remove_partial_backup(storage::Storage& storage, const std::string& prefix) noexcept {
  try {
    std::vector<std::string> keys;
    for (const auto& object : storage::list_all(storage, prefix)) keys.push_back(object.key);
    storage.remove(keys);
  } catch (const std::exception& error) {
    spdlog::warn("could not remove the partial backup under \"{}\": {} (it has no manifest, so it is not listed)",
                 prefix, error.what());
  }
}

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

// Dumps every set through its job and lines their oplogs up on one consistency point.
mongo::Timestamp dump_sets(const std::vector<SetToDump>& sets, const std::string& prefix, const BackupRequest& request,
                           storage::Storage& storage, Progress& progress, catalog::Manifest& manifest) {
  JobDispatcher dispatcher(storage, request.storage_location, request.agents);
  std::vector<SetJob> jobs = plan_jobs(sets, request, dispatcher, manifest, prefix);
  OperationTracker tracker(storage, "backup-" + manifest.id, "backup", manifest.id);
  try {
    start_and_await(jobs, "dump", request.limits, progress, tracker);
    // T must be at or after every set's dump end (a dump may already hold writes up to its
    // end, and replay cannot undo them) and inside every set's captured oplog.
    mongo::Timestamp consistency_point;
    for (const auto& job : jobs) consistency_point = std::max(consistency_point, agent::timestamp_from(job.last.result.at("dump_end")));
    const nlohmann::json decision = {{"up_to", agent::timestamp_json(consistency_point)},
                                     {"timeout_s", request.consistency_timeout.count()}};
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

void back_up_replica_set(const mongo::Uri& uri, const BackupRequest& request, storage::Storage& storage,
                         Progress& progress, const std::string& prefix, catalog::Manifest& manifest) {
  OperationLock lock(uri, "backup", request.lock_lease);
  manifest.topology = "replset";
  manifest.consistency_point = dump_sets({{"", uri}}, prefix, request, storage, progress, manifest);
}

void back_up_cluster(const mongo::Uri& mongos, const BackupRequest& request, storage::Storage& storage,
                     Progress& progress, const std::string& prefix, catalog::Manifest& manifest) {
  const auto cluster = mongo::discover_cluster(mongos);
  OperationLock lock(cluster.config.uri, "backup", request.lock_lease);
  BalancerPause balancer(mongos, lock);
  std::vector<SetToDump> sets;
  for (const auto& shard : cluster.shards) sets.push_back({shard.id, shard.uri});
  sets.push_back({"config", cluster.config.uri});
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
    if (is_mongos(uri)) {
      back_up_cluster(uri, request, storage, progress, prefix, manifest);
    } else {
      back_up_replica_set(uri, request, storage, progress, prefix, manifest);
    }
    manifest.finished_at = iso8601_now();
    catalog.commit(manifest);
  } catch (...) {
    remove_partial_backup(storage, prefix);
    throw;
  }
  spdlog::info("backup \"{}\" committed: {} documents, consistent at {}", manifest.id, manifest.total_documents(),
               manifest.consistency_point.to_string());
  return manifest;
}

}  // namespace shardsafe::coordinator
