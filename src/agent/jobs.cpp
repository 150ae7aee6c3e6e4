#include "agent/jobs.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "catalog/manifest_json.h"
#include "catalog/operations.h"
#include "dump/dumper.h"
#include "dump/namespace_filter.h"
#include "dump/restorer.h"
#include "mongo/topology.h"
#include "oplog/capture.h"
#include "oplog/slice.h"
#include "storage/hash.h"
#include "storage/open.h"

namespace shardsafe::agent {
namespace {

using nlohmann::json;

std::optional<storage::EncryptionKey> key_from(const json& params) {
  const std::string hex = params.value("key", "");
  if (hex.empty()) return std::nullopt;
  return storage::key_from_hex(hex, "the job's key");
}

std::vector<std::string> strings(const json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const auto& item : value) out.push_back(item.get<std::string>());
  }
  return out;
}

dump::DumpOptions dump_options(const json& params) {
  const json dump = params.value("dump", json::object());
  dump::DumpOptions options;
  options.parallel_collections = dump.value("parallel", options.parallel_collections);
  options.read_preference = mongo::parse_read_preference(dump.value("read_preference", std::string("primary")));
  options.member = params.value("member", "");
  options.stream.compression = storage::parse_compression(dump.value("compression", std::string("zstd")));
  options.stream.compression_level = dump.value("compression_level", options.stream.compression_level);
  options.stream.compression_threads = dump.value("compression_threads", options.stream.compression_threads);
  options.stream.part_size = dump.value("part_size", options.stream.part_size);
  options.stream.encryption = key_from(params);
  return options;
}

// A set reports, with its newest optime, the cluster time its member gossips (Extended JSON;
// null when it gossips none). The coordinator hands back the one of the set whose optime is the
// cluster's point, so a set behind it gets there with one no-op (oplog::wait_for_optime).
json cluster_time_json(const std::optional<mongo::Bson>& cluster_time) {
  return cluster_time ? json(cluster_time->canonical_json()) : json(nullptr);
}

std::optional<mongo::Bson> cluster_time_from(const json& decision) {
  const json given = decision.value("cluster_time", json(nullptr));
  if (!given.is_string()) return std::nullopt;
  return mongo::Bson::from_json(given.get<std::string>());
}

// Dump, report the dump's end, await the consistency point, capture the oplog up to it.
json back_up_replica_set(JobContext& job, storage::Storage& storage) {
  const json& params = job.spec().params;
  const std::string prefix = params.at("prefix").get<std::string>();
  dump::ReplicaSetDumper dumper(mongo::Uri(params.at("uri").get<std::string>()), storage, prefix, dump_options(params),
                                job.progress());
  dumper.begin();
  dumper.set_prefix(prefix + dumper.replica_set() + "/");
  job.progress().start_phase("dump", dumper.planned_bytes(), dumper.planned_namespaces());
  dumper.dump_collections();
  const mongo::Timestamp dump_end = dumper.newest_optime();
  const json decision = job.await_decision(
      {{"replica_set", dumper.replica_set()}, {"dump_end", timestamp_json(dump_end)}, {"cluster_time", cluster_time_json(dumper.cluster_time())}});
  const mongo::Timestamp up_to = timestamp_from(decision.at("up_to"));
  job.progress().start_phase("oplog", 0, 1);
  dumper.wait_for_optime(up_to, std::chrono::seconds(decision.value("timeout_s", 60)), cluster_time_from(decision));
  catalog::ReplicaSetBackup result = dumper.finish(up_to);
  result.shard = params.value("shard", "");
  job.progress().unit_done();
  return {{"replica_set_backup", catalog::replica_set_backup_to_json(result)}};
}

// Writes everything to both sinks; finishes neither (each is finished by its owner).
class TeeSink : public storage::Sink {
 public:
  TeeSink(storage::Sink& first, storage::Sink& second) : first_(first), second_(second) {}
  void write(std::span<const std::uint8_t> bytes) override {
    first_.write(bytes);
    second_.write(bytes);
  }
  void finish() override {}

 private:
  storage::Sink& first_;
  storage::Sink& second_;
};

// Captures one oplog slice of an incremental backup: (after, up_to] of the set, where `after`
// is where the chain's previous backup ended on this set and up_to the cluster's new point.
json capture_increment(JobContext& job, storage::Storage& storage) {
  const json& params = job.spec().params;
  const mongo::Uri uri(params.at("uri").get<std::string>());
  const auto topology = mongo::discover_replica_set(uri);
  const std::string member = params.value("member", std::string()).empty() ? topology.primary : params.at("member").get<std::string>();
  mongo::Client client(uri.direct_to(member));
  const mongo::Timestamp after = timestamp_from(params.at("after"));
  oplog::ensure_oplog_holds(client, topology.name, after);
  // An idle set gets a no-op past `after`, so every slice holds a non-empty range.
  const auto deadline = [&](const json& from) { return std::chrono::steady_clock::now() + std::chrono::seconds(from.value("timeout_s", 60)); };
  const mongo::Timestamp newest = oplog::wait_for_optime(client, {after.seconds, after.increment + 1}, deadline(params));
  const json decision = job.await_decision({{"replica_set", topology.name},
                                            {"newest", timestamp_json(newest)},
                                            {"cluster_time", cluster_time_json(mongo::gossiped_cluster_time(client))}});
  const mongo::Timestamp up_to = timestamp_from(decision.at("up_to"));
  job.progress().start_phase("oplog", 0, 1);
  oplog::wait_for_optime(client, up_to, deadline(decision), cluster_time_from(decision));

  const dump::DumpOptions options = dump_options(params);
  auto writer = storage::write_stream(storage, oplog::slice_key(topology.name, after, up_to), options.stream);
  storage::Md5Sink md5;
  TeeSink tee(*writer, md5);
  const auto captured = oplog::capture_oplog(client, topology.name, after, up_to, tee);
  md5.finish();
  catalog::ReplicaSetBackup slice;
  slice.name = topology.name;
  slice.shard = params.value("shard", "");
  slice.source_host = member;
  slice.server_version = mongo::server_version(client);
  slice.start_optime = after;
  slice.end_optime = up_to;
  slice.oplog = writer->commit();
  slice.oplog_entries = captured.entries;
  slice.oplog_md5 = md5.hex();
  slice.source_oldest_optime = mongo::oldest_oplog_ts(client);
  job.progress().add(captured.bytes, captured.entries);
  job.progress().unit_done();
  return {{"replica_set_backup", catalog::replica_set_backup_to_json(slice)}};
}

dump::RestoreOptions restore_options(const json& params) {
  const json options_json = params.value("options", json::object());
  dump::RestoreOptions options;
  options.drop = options_json.value("drop", false);
  options.keep_previous = options_json.value("keep_previous", false);
  options.parallel_collections = options_json.value("parallel", options.parallel_collections);
  options.insertion_workers = options_json.value("insertion_workers", options.insertion_workers);
  options.preserve_uuids = options_json.value("preserve_uuids", true);
  options.replay_oplog = options_json.value("replay_oplog", true);
  if (options_json.contains("up_to")) options.up_to = timestamp_from(options_json["up_to"]);
  const auto include = strings(options_json.value("ns_include", json::array()));
  const auto exclude = strings(options_json.value("ns_exclude", json::array()));
  const auto from = strings(options_json.value("ns_from", json::array()));
  const auto to = strings(options_json.value("ns_to", json::array()));
  if (!include.empty() || !exclude.empty() || !from.empty()) {
    auto filter = std::make_shared<dump::NamespaceFilter>(include, exclude, from, to);
    options.map_namespace = [filter](const std::string& ns) -> std::optional<std::string> {
      if (!filter->selected(ns)) return std::nullopt;
      return filter->rename(ns);
    };
  }
  const json uuids = options_json.value("collection_uuids", json::object());
  for (const auto& [ns, uuid] : uuids.items()) {
    options.collection_uuids[ns] = uuid.get<std::string>();
  }
  for (const auto& ns : strings(options_json.value("also_set_aside", json::array()))) options.also_set_aside.insert(ns);
  options.key = key_from(params);
  return options;
}

// What a coordinator that loses the job needs to undo its restore (dump/rollback_plan.h).
json rollback_result(const catalog::ReplicaSetBackup& set, const dump::ReplicaSetRestorer& restorer) {
  return {{"replica_set", set.name}, {"rollback", dump::rollback_plan_to_json(restorer.rollback_plan())}};
}

// The decision of a coordinator that went silent, from its operation's record. The coordinator
// records a commit there before it tells any set, so a commit on record means other sets may
// have committed already and this one must too, and none on record means none did.
bool committed_on_record(JobContext& job, storage::Storage& storage) {
  const std::string operation = job.spec().params.value("operation_id", "");
  if (operation.empty()) return false;
  while (true) {
    try {
      const auto record = catalog::load_operation(storage, operation);
      return record && record->decision == "commit";
    } catch (const std::exception& error) {
      // Not knowing is not "no": rolling back a set the others committed would split the cluster.
      spdlog::error("job \"{}\": cannot read the decision of operation \"{}\": {}; asking again in 5 s", job.spec().id,
                    operation, error.what());
    }
    for (int i = 0; i < 50; ++i) {
      if (job.progress().cancelled()) throw Error(ErrorCode::kCancelled, "job \"" + job.spec().id + "\" was cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// Whether the coordinator decided to commit the whole cluster's restore. A cancel asks the
// record too: the coordinator cancels only before it decides, and a cancel from anyone else
// must not undo one set of a cluster whose restore was committed.
bool await_commit(JobContext& job, storage::Storage& storage, const json& result) {
  try {
    return job.await_decision(result).value("commit", false);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kTimeout && error.code() != ErrorCode::kCancelled) throw;
    spdlog::warn("{}: reading the decision from the operation's record", error.what());
    return committed_on_record(job, storage);
  }
}

// Restore and replay, await the coordinator's verdict on the whole cluster, then commit or
// roll back. The restorer's steps are those of a replica-set restore (dump/restorer.h).
json restore_replica_set(JobContext& job, storage::Storage& storage) {
  const json& params = job.spec().params;
  const catalog::ReplicaSetBackup set =
      catalog::replica_set_backup_from_json(params.at("set"), params.value("backup_id", std::string("?")));
  dump::ReplicaSetRestorer restorer(set, storage, mongo::Uri(params.at("uri").get<std::string>()), restore_options(params),
                                    job.progress());
  job.progress().start_phase("check", 0, 0);
  restorer.check_target();
  bool commit = false;
  try {
    restorer.set_aside();
    job.publish_result(rollback_result(set, restorer));
    restorer.restore_collections();
    job.publish_result(rollback_result(set, restorer));  // now with what the replay may create
    restorer.replay_oplog();
    json awaiting = rollback_result(set, restorer);
    awaiting["summary"] = restore_summary_json(restorer.summary());
    commit = await_commit(job, storage, awaiting);
  } catch (...) {
    spdlog::error("restore of replica set \"{}\" failed: rolling back", set.name);
    restorer.roll_back();
    throw;
  }
  if (!commit) {
    restorer.roll_back();
    throw Error(ErrorCode::kCancelled, "the restore of replica set \"" + set.name +
                                           "\" was rolled back: the coordinator did not commit (another replica set failed, "
                                           "or the coordinator was lost before it decided)");
  }
  return restore_summary_json(restorer.commit());
}

}  // namespace

json restore_options_json(const dump::RestoreOptions& options, const std::vector<std::string>& ns_include,
                          const std::vector<std::string>& ns_exclude, const std::vector<std::string>& ns_from,
                          const std::vector<std::string>& ns_to) {
  json out = {{"drop", options.drop},
              {"keep_previous", options.keep_previous},
              {"parallel", options.parallel_collections},
              {"insertion_workers", options.insertion_workers},
              {"preserve_uuids", options.preserve_uuids},
              {"replay_oplog", options.replay_oplog},
              {"ns_include", ns_include},
              {"ns_exclude", ns_exclude},
              {"ns_from", ns_from},
              {"ns_to", ns_to},
              {"collection_uuids", options.collection_uuids},
              {"also_set_aside", options.also_set_aside}};
  if (options.up_to) out["up_to"] = timestamp_json(*options.up_to);
  return out;
}

json restore_summary_json(const dump::RestoreSummary& summary) {
  return {{"collections", summary.collections},       {"documents", summary.documents},
          {"indexes", summary.indexes},               {"oplog_applied", summary.oplog_applied},
          {"uuids_preserved", summary.uuids_preserved}, {"users_and_roles", summary.users_and_roles},
          {"holdings_kept", summary.holdings_kept}};
}

dump::RestoreSummary restore_summary_from_json(const json& value) {
  dump::RestoreSummary summary;
  summary.collections = value.value("collections", std::uint64_t{0});
  summary.documents = value.value("documents", std::uint64_t{0});
  summary.indexes = value.value("indexes", std::uint64_t{0});
  summary.oplog_applied = value.value("oplog_applied", std::uint64_t{0});
  summary.uuids_preserved = value.value("uuids_preserved", std::uint64_t{0});
  summary.users_and_roles = value.value("users_and_roles", false);
  summary.holdings_kept = strings(value.value("holdings_kept", json::array()));
  return summary;
}

std::shared_ptr<storage::Storage> open_storage_from_params(const nlohmann::json& params) {
  const json location = params.value("storage", json::object());
  storage::StorageSettings settings;
  const json given = location.value("settings", json::object());
  for (const auto& [name, value] : given.items()) settings[name] = value.get<std::string>();
  return storage::open_storage(location.value("url", std::string()), settings);
}

JobKinds replica_set_job_kinds(StorageProvider storage) {
  return {
      {"backup", [storage](JobContext& job) { return back_up_replica_set(job, *storage(job.spec().params)); }},
      {"restore", [storage](JobContext& job) { return restore_replica_set(job, *storage(job.spec().params)); }},
      {"increment", [storage](JobContext& job) { return capture_increment(job, *storage(job.spec().params)); }},
  };
}

json timestamp_json(const mongo::Timestamp& ts) { return {{"t", ts.seconds}, {"i", ts.increment}}; }

mongo::Timestamp timestamp_from(const json& value) {
  try {
    return {value.at("t").get<std::uint32_t>(), value.at("i").get<std::uint32_t>()};
  } catch (const json::exception&) {
    throw Error(ErrorCode::kInvalidArgument, "expected a timestamp {\"t\": seconds, \"i\": increment}, got " + value.dump());
  }
}

std::string key_hex(const std::optional<storage::EncryptionKey>& key) { return key ? storage::to_hex(key->bytes) : ""; }

}  // namespace shardsafe::agent
