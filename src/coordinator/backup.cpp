#include "coordinator/backup.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/parallel.h"
#include "coordinator/lock.h"
#include "mongo/topology.h"
#include "version.h"

namespace shardsafe::coordinator {
namespace {

// One replica set of the deployment being backed up.
struct SetToDump {
  std::string shard;  // shard id; "config" for the config server; empty for a plain set
  std::unique_ptr<dump::ReplicaSetDumper> dumper;
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

// Dumps every set and lines their oplogs up on one consistency point, which it returns.
mongo::Timestamp dump_sets(std::vector<SetToDump>& sets, const std::string& prefix, const BackupRequest& request,
                           Progress& progress, catalog::Manifest& manifest) {
  const auto all = sets.size();
  const int everyone = static_cast<int>(all);
  parallel_for(all, everyone, [&](std::size_t i) {
    sets[i].dumper->begin();
    sets[i].dumper->set_prefix(prefix + sets[i].dumper->replica_set() + "/");
  });
  std::uint64_t bytes = 0, namespaces = 0;
  for (const auto& set : sets) {
    bytes += set.dumper->planned_bytes();
    namespaces += set.dumper->planned_namespaces();
  }
  progress.start_phase("dump", bytes, namespaces);
  parallel_for(all, everyone, [&](std::size_t i) { sets[i].dumper->dump_collections(); });

  // T must be at or after every set's dump end (a dump may already hold writes up to its end,
  // and replay cannot undo them) and inside every set's captured oplog.
  std::vector<mongo::Timestamp> ends(all);
  parallel_for(all, everyone, [&](std::size_t i) { ends[i] = sets[i].dumper->newest_optime(); });
  const mongo::Timestamp consistency_point = *std::max_element(ends.begin(), ends.end());

  progress.start_phase("oplog", 0, all);
  std::vector<catalog::ReplicaSetBackup> results(all);
  parallel_for(all, everyone, [&](std::size_t i) {
    sets[i].dumper->wait_for_optime(consistency_point, request.consistency_timeout);
    results[i] = sets[i].dumper->finish(consistency_point);
    results[i].shard = sets[i].shard;
    progress.unit_done();
  });
  manifest.replica_sets = std::move(results);
  return consistency_point;
}

void back_up_replica_set(const mongo::Uri& uri, const BackupRequest& request, storage::Storage& storage,
                         Progress& progress, const std::string& prefix, catalog::Manifest& manifest) {
  OperationLock lock(uri, "backup");
  std::vector<SetToDump> sets;
  sets.push_back({"", std::make_unique<dump::ReplicaSetDumper>(uri, storage, prefix, request.dump, progress)});
  manifest.topology = "replset";
  manifest.consistency_point = dump_sets(sets, prefix, request, progress, manifest);
}

void back_up_cluster(const mongo::Uri& mongos, const BackupRequest& request, storage::Storage& storage,
                     Progress& progress, const std::string& prefix, catalog::Manifest& manifest) {
  const auto cluster = mongo::discover_cluster(mongos);
  OperationLock lock(cluster.config.uri, "backup");
  BalancerPause balancer(mongos);
  std::vector<SetToDump> sets;
  for (const auto& shard : cluster.shards) {
    sets.push_back({shard.id, std::make_unique<dump::ReplicaSetDumper>(shard.uri, storage, prefix, request.dump, progress)});
  }
  sets.push_back({"config", std::make_unique<dump::ReplicaSetDumper>(cluster.config.uri, storage, prefix, request.dump, progress)});
  manifest.topology = "sharded";
  manifest.consistency_point = dump_sets(sets, prefix, request, progress, manifest);
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
