#include "coordinator/restore.h"

#include <spdlog/spdlog.h>

#include <random>

#include "agent/jobs.h"
#include "catalog/catalog.h"
#include "catalog/manifest_json.h"
#include "common/clock.h"
#include "common/error.h"
#include "coordinator/lock.h"
#include "coordinator/operation.h"
#include "coordinator/point_in_time.h"
#include "dump/metadata.h"
#include "dump/namespace_filter.h"
#include "dump/rollback_plan.h"
#include "mongo/topology.h"
#include "storage/hash.h"

namespace shardsafe::coordinator {
namespace {

const std::set<std::string> kSystemDatabases = {"admin", "config", "local"};

void check_key_matches(const catalog::Manifest& manifest, const dump::RestoreOptions& options) {
  if (manifest.encryption_key_id.empty()) return;
  if (!options.key) {
    throw Error(ErrorCode::kWrongKey, "backup \"" + manifest.id +
                                          "\" is encrypted: pass its key with --encryption-key-file or --encryption-key-env");
  }
  if (options.key->id != manifest.encryption_key_id) {
    throw Error(ErrorCode::kWrongKey, "the key given is not the key backup \"" + manifest.id + "\" was encrypted with (key id " +
                                          options.key->id + ", backup key id " + manifest.encryption_key_id + ")");
  }
}

// Every object the manifest lists is in storage with its size (or, with verify_first, has its
// checksum): a restore that would hit a missing object halfway is refused before it starts.
void check_objects(catalog::Catalog& catalog, const catalog::Manifest& manifest, bool verify_first) {
  if (verify_first) {
    const auto report = catalog.verify(manifest.id);
    if (!report.ok()) {
      const auto& bad = report.bad_objects.front();
      throw Error(ErrorCode::kChecksumMismatch, "backup \"" + manifest.id + "\" is damaged: object \"" + bad.key + "\" " +
                                                    bad.problem + " (" + std::to_string(report.bad_objects.size()) + " bad objects)");
    }
    return;
  }
  if (auto problem = catalog.find_unstored(manifest)) {
    throw Error(problem->missing ? ErrorCode::kNotFound : ErrorCode::kChecksumMismatch,
                "backup \"" + manifest.id + "\" cannot be restored: " + problem->problem);
  }
}

// The replica set of the backup to restore into a replica set: the only one, or the one named
// by --replica-set (a shard's name or id, or "config").
const catalog::ReplicaSetBackup& choose_replica_set(const catalog::Manifest& manifest, const std::string& wanted) {
  if (wanted.empty() && manifest.replica_sets.size() == 1) return manifest.replica_sets.front();
  std::string names;
  for (const auto& set : manifest.replica_sets) {
    if (set.name == wanted || (!set.shard.empty() && set.shard == wanted)) return set;
    names += (names.empty() ? "" : ", ") + set.name;
  }
  if (wanted.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "backup \"" + manifest.id + "\" is of a sharded cluster (" + names +
                                                 "): restore it through a mongos (--uri mongodb://<mongos>), or pick one "
                                                 "replica set with --replica-set");
  }
  throw Error(ErrorCode::kNotFound, "backup \"" + manifest.id + "\" has no replica set \"" + wanted + "\" (it has " + names + ")");
}

std::string random_uuid() {
  std::random_device device;
  std::array<std::uint8_t, 16> bytes{};
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(device());
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return storage::to_hex(bytes);
}

// The restore's jobs and what they share.
class RestoreRun {
 public:
  RestoreRun(const RestoreRequest& request, storage::Storage& storage, Progress& progress, const catalog::Manifest& manifest)
      : request_(request),
        progress_(progress),
        manifest_(manifest),
        operation_id_("restore-" + manifest.id + "-" + utc_time(std::chrono::system_clock::now(), "%Y%m%dT%H%M%SZ")),
        dispatcher_(storage, request.storage_location, request.agents),
        tracker_(storage, operation_id_, "restore", manifest.id, request.observer) {}

  // Adds the job restoring the namespaces `ns` selects of `set` into the replica set behind
  // `target` (shard `shard`).
  void add(const catalog::ReplicaSetBackup& set, const mongo::Uri& target, const std::string& shard, const dump::RestoreOptions& options,
           const NamespaceSelection& ns) {
    const auto topology = mongo::discover_replica_set(target);
    const auto placement = dispatcher_.place(shard, topology, topology.primary);
    nlohmann::json params = {{"uri", target.secret_text()},
                             {"backup_id", manifest_.id},
                             {"operation_id", operation_id_},
                             {"set", catalog::replica_set_backup_to_json(set)},
                             {"options", agent::restore_options_json(options, ns.include, ns.exclude, ns.from, ns.to)}};
    dispatcher_.add_common_params(params, request_.options.key);
    jobs_.push_back({set.name + " -> " + topology.name, placement.service,
                     {job_id(operation_id_, topology.name, "restore"), "restore", params}, {}, {}});
  }

  // Runs every job to its commit point, calls `before_commit` (the config server's metadata),
  // then commits them all; on any failure before the decision rolls every set back (and calls
  // `roll_back_extra`).
  dump::RestoreSummary run(const std::function<void()>& before_commit, const std::function<void()>& roll_back_extra) {
    try {
      start_and_await(jobs_, "restore", request_.limits, progress_, tracker_);
      before_commit();
      // Every set still awaits (before_commit may have taken long), and its wait restarts now:
      // none gives up on this coordinator between here and the decision on record.
      wait_for_phase(jobs_, agent::JobState::kAwaiting, request_.limits, [&] { tracker_.update("restore", jobs_); });
      tracker_.record_decision("commit");
    } catch (const std::exception& error) {
      tracker_.update("roll back", jobs_);  // saved at once: a decision that failed to record is gone from it
      cancel_and_wait(jobs_, std::chrono::minutes(10));
      undo_lost_jobs();
      roll_back_extra();
      tracker_.finish(error.what());
      throw;
    }
    const std::string left_behind = commit_all();
    tracker_.finish(left_behind);
    if (!left_behind.empty()) throw Error(ErrorCode::kInternal, left_behind);
    return summary();
  }

 private:
  // After the decision every set's data is in place and only dropping what was set aside
  // remains, so nothing rolls back any more. A set whose job cannot end it (its agent died or
  // stopped answering, or the job failed) has it done from here, from the plan it published.
  // Returns what could not be done ("" when everything was).
  std::string commit_all() {
    const nlohmann::json decision = {{"commit", true}};
    progress_.start_phase("commit", 0, jobs_.size());
    std::vector<SetJob> pending = jobs_;
    std::string left_behind;
    while (const auto failure = await_phase(pending, agent::JobState::kSucceeded, request_.limits, [&] {
             resume_awaiting(pending, decision);
             tracker_.update("commit", pending);
           })) {
      const auto gone = std::stable_partition(pending.begin(), pending.end(), [&](const SetJob& job) { return !given_up(job); });
      // Only the deadline passed: no job is worth waiting for any more.
      const auto first_done_here = gone == pending.end() ? pending.begin() : gone;
      for (auto job = first_done_here; job != pending.end(); ++job) {
        spdlog::warn("{}: finishing the commit of replica set \"{}\" from here", failure->what(), job->replica_set);
        left_behind += commit_from_here(*job);
        keep_state(*job);
      }
      pending.erase(first_done_here, pending.end());
    }
    for (const auto& job : pending) keep_state(job);
    return left_behind;
  }

  // Tells every job that awaits the decision (again: an earlier resume may not have reached it).
  static void resume_awaiting(std::vector<SetJob>& jobs, const nlohmann::json& decision) {
    for (auto& job : jobs) {
      if (!job.answered || job.last.state != agent::JobState::kAwaiting) continue;
      try {
        job.service->resume(job.spec.id, decision);
      } catch (const std::exception& error) {
        spdlog::debug("replica set \"{}\": {}", job.replica_set, error.what());
      }
    }
  }

  bool given_up(const SetJob& job) const {
    if (job.last.state == agent::JobState::kSucceeded) return false;
    return agent::is_final(job.last.state) || std::chrono::steady_clock::now() - job.last_heard > request_.limits.heartbeat_timeout;
  }

  // The replica set `job` restores into, and the rollback plan it published: what the
  // coordinator needs to end (commit or undo) a restore whose job cannot.
  static mongo::Client target_of(const SetJob& job) { return mongo::Client{mongo::Uri(job.spec.params.at("uri").get<std::string>())}; }
  static dump::RollbackPlan published_plan(const SetJob& job) {
    return dump::rollback_plan_from_json(job.last.result.at("rollback"));
  }

  // Drops what `job`'s set had set aside, as its commit would have. "" when done, else what is left.
  std::string commit_from_here(const SetJob& job) {
    try {
      mongo::Client client = target_of(job);
      const auto kept = dump::finish_restore(client, published_plan(job), request_.options.keep_previous);
      holdings_kept_.insert(holdings_kept_.end(), kept.begin(), kept.end());
      return "";
    } catch (const std::exception& error) {
      return (std::string("replica set \"") + job.replica_set + "\" is restored, but its previous data could not be dropped (" +
              error.what() + "): drop its collections named \"<name>.shardsafe-hold-<token>\" yourself. ");
    }
  }

  void keep_state(const SetJob& ended) {
    for (auto& job : jobs_) {
      if (job.spec.id == ended.spec.id) job.last = ended.last;
    }
  }

  // The sets' summaries: a job committed from here left the one it published while it awaited.
  dump::RestoreSummary summary() const {
    dump::RestoreSummary total;
    total.holdings_kept = holdings_kept_;
    for (const auto& job : jobs_) {
      const auto& result = job.last.result;
      const auto summary = agent::restore_summary_from_json(result.contains("summary") ? result.at("summary") : result);
      total.collections += summary.collections;
      total.documents += summary.documents;
      total.indexes += summary.indexes;
      total.oplog_applied += summary.oplog_applied;
      total.uuids_preserved += summary.uuids_preserved;
      total.users_and_roles = total.users_and_roles || summary.users_and_roles;
      total.holdings_kept.insert(total.holdings_kept.end(), summary.holdings_kept.begin(), summary.holdings_kept.end());
    }
    return total;
  }

  // A job lost with its agent (killed, or gone from the network) could not roll its replica set
  // back: the coordinator undoes that restore itself, from the plan the job published once it
  // had set the set's data aside.
  void undo_lost_jobs() noexcept {
    for (const auto& job : jobs_) {
      if (job.last.state != agent::JobState::kLost || !job.last.result.contains("rollback")) continue;
      spdlog::warn("the job restoring replica set \"{}\" was lost with its agent: rolling the set back from here", job.replica_set);
      try {
        mongo::Client client = target_of(job);
        dump::undo_restore(client, published_plan(job));
      } catch (const std::exception& error) {
        spdlog::error("could not roll back replica set \"{}\": {} (its previous data is kept under names ending in "
                      "\".shardsafe-hold-<token>\")", job.replica_set, error.what());
      }
    }
  }

  const RestoreRequest& request_;
  Progress& progress_;
  const catalog::Manifest& manifest_;
  std::string operation_id_;
  JobDispatcher dispatcher_;
  OperationTracker tracker_;
  std::vector<SetJob> jobs_;
  std::vector<std::string> holdings_kept_;  // by commits finished here, with keep_previous
};

dump::RestoreSummary restore_replica_set(const RestoreRequest& request, storage::Storage& storage, Progress& progress,
                                         const catalog::Manifest& manifest) {
  const mongo::Uri target(request.target_uri);
  OperationLock lock(target, "restore", request.lock_lease);
  RestoreRun run(request, storage, progress, manifest);
  run.add(choose_replica_set(manifest, request.replica_set), target, "", request.options, request.namespaces);
  return run.run([] {}, [] {});
}

// Every namespace the shards' dumps hold that the selection restores (user databases only).
std::set<std::string> restored_namespaces(const catalog::Manifest& manifest, const dump::NamespaceFilter& filter) {
  std::set<std::string> out;
  for (const auto& set : manifest.replica_sets) {
    if (set.shard == "config") continue;
    for (const auto& collection : set.collections) {
      const std::string ns = collection.db + "." + collection.name;
      if (!kSystemDatabases.contains(collection.db) && filter.selected(ns)) out.insert(ns);
    }
  }
  return out;
}

bool holds_users_or_roles(const catalog::ReplicaSetBackup& set) {
  return std::any_of(set.collections.begin(), set.collections.end(), [](const catalog::CollectionEntry& collection) {
    return collection.db == "admin" && (collection.name == "system.users" || collection.name == "system.roles");
  });
}

// UUIDs of every collection on every shard of the target.
std::set<std::string> uuids_in_use(const mongo::ClusterTopology& cluster) {
  std::set<std::string> uuids;
  for (const auto& shard : cluster.shards) {
    mongo::Client client(shard.uri);
    for (const auto& [db, entry] : mongo::list_all_collections(client)) {
      const std::string uuid = dump::uuid_of_listing(entry);
      if (!uuid.empty()) uuids.insert(uuid);
    }
  }
  return uuids;
}

// Each sharded collection gets one UUID on every shard and in the metadata: its dumped one when
// no collection of the target holds it (a fresh cluster), else a new one (the live collection
// set aside keeps its UUID until the restore commits).
std::map<std::string, std::string> choose_sharded_uuids(ConfigMetadata& metadata, const mongo::ClusterTopology& cluster) {
  const auto in_use = uuids_in_use(cluster);
  std::map<std::string, std::string> chosen;
  for (const auto& [ns, uuid] : metadata.sharded_uuids()) {
    chosen[ns] = uuid.empty() || in_use.contains(uuid) ? random_uuid() : uuid;
  }
  for (const auto& [ns, uuid] : chosen) metadata.set_uuid(ns, uuid);
  return chosen;
}

const mongo::ShardInfo& target_shard(const mongo::ClusterTopology& cluster, const std::string& id) {
  for (const auto& shard : cluster.shards) {
    if (shard.id == id) return shard;
  }
  throw Error(ErrorCode::kInternal, "shard \"" + id + "\" vanished from the target");
}

// Every router drops its cached routing: the one given, and those registered in config.mongos.
void refresh_routers(const mongo::Uri& mongos, mongo::Client& config) {
  const mongo::Bson flush = mongo::BsonBuilder().append("flushRouterConfig", 1).build();
  mongo::Client given(mongos);
  given.command("admin", flush);
  mongo::Cursor routers = config.find("config", "mongos", mongo::Bson());
  while (const bson_t* router = routers.next()) {
    const std::string host = mongo::BsonView(router).string("_id").value_or("");
    try {
      mongo::Client client(mongos.direct_to(host));
      client.command("admin", flush);
    } catch (const Error& error) {
      spdlog::warn("could not refresh router {}: {} (restart it, or run flushRouterConfig on it)", host, error.what());
    }
  }
}

dump::RestoreSummary restore_cluster(const RestoreRequest& request, storage::Storage& storage, Progress& progress,
                                     const catalog::Manifest& manifest) {
  if (!request.namespaces.from.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "--ns-from/--ns-to rename collections, which a whole-cluster restore does not "
                                             "support (the sharding metadata names them): restore one replica set with --replica-set");
  }
  const mongo::Uri mongos(request.target_uri);
  const auto cluster = mongo::discover_cluster(mongos);
  std::vector<std::string> backup_shards, target_shards;
  const catalog::ReplicaSetBackup* config_set = nullptr;
  for (const auto& set : manifest.replica_sets) {
    if (set.shard == "config") config_set = &set;
    else backup_shards.push_back(set.shard);
  }
  for (const auto& shard : cluster.shards) target_shards.push_back(shard.id);
  if (!config_set) throw Error(ErrorCode::kCorruptData, "backup \"" + manifest.id + "\" is sharded but holds no config server");
  const ShardMap shards = resolve_shard_map(backup_shards, target_shards, request.shard_map);

  const dump::NamespaceFilter filter(request.namespaces.include, request.namespaces.exclude, {}, {});
  const auto namespaces = restored_namespaces(manifest, filter);
  ConfigMetadata metadata(*config_set, storage, request.options.key, manifest.consistency_point,
                          [&](const std::string& ns) { return filter.selected(ns); });

  OperationLock lock(cluster.config.uri, "restore", request.lock_lease);
  BalancerPause balancer(mongos, lock);
  mongo::Client config(cluster.config.uri);
  metadata.check_database_primaries(config, shards);
  dump::RestoreOptions options = request.options;
  options.collection_uuids = choose_sharded_uuids(metadata, cluster);
  options.also_set_aside = namespaces;
  options.up_to = options.up_to.value_or(manifest.consistency_point);

  RestoreRun run(request, storage, progress, manifest);
  for (const auto& set : manifest.replica_sets) {
    if (set.shard == "config") continue;
    const auto& shard = target_shard(cluster, shards.at(set.shard));
    run.add(set, shard.uri, shard.id, options, request.namespaces);
  }
  // A cluster's users and roles live on the config server; a whole restore brings them back
  // as mongorestore does (merged; replaced with --drop).
  if (request.namespaces.include.empty() && request.namespaces.exclude.empty() && holds_users_or_roles(*config_set)) {
    dump::RestoreOptions users = request.options;
    users.up_to = manifest.consistency_point;
    run.add(*config_set, cluster.config.uri, "config", users, {{"admin.system.users", "admin.system.roles"}, {}, {}, {}});
  }
  auto summary = run.run([&] { metadata.apply(config, shards); }, [&] { metadata.roll_back(config); });
  refresh_routers(mongos, config);
  spdlog::info("cluster restored from backup \"{}\" at {}: {} shards, {} sharded collections", manifest.id,
               manifest.consistency_point.to_string(), backup_shards.size(), metadata.sharded_uuids().size());
  return summary;
}

bool is_mongos(const std::string& uri) {
  mongo::Client client{mongo::Uri(uri)};
  return mongo::hello(client).kind == mongo::ServerKind::kMongos;
}

}  // namespace

dump::RestoreSummary run_restore(const RestoreRequest& given, storage::Storage& storage, Progress& progress) {
  catalog::Catalog catalog(storage);
  RestoreRequest request = given;
  if (request.to_time) request.options.up_to = request.to_time;
  const catalog::Manifest manifest =
      request.to_time ? plan_point_in_time(catalog, *request.to_time, request.backup_id) : catalog.load(request.backup_id);
  check_key_matches(manifest, request.options);
  check_objects(catalog, manifest, request.verify_first);
  const bool whole_cluster = manifest.topology == "sharded" && request.replica_set.empty();
  if (whole_cluster && !is_mongos(request.target_uri)) {
    throw Error(ErrorCode::kInvalidArgument, "backup \"" + manifest.id + "\" is of a sharded cluster: restore it through a "
                                             "mongos of the target cluster, or pick one replica set with --replica-set");
  }
  const auto summary = whole_cluster ? restore_cluster(request, storage, progress, manifest)
                                     : restore_replica_set(request, storage, progress, manifest);
  spdlog::info("backup \"{}\" restored: {} collections, {} documents, {} oplog entries replayed", manifest.id,
               summary.collections, summary.documents, summary.oplog_applied);
  return summary;
}

}  // namespace shardsafe::coordinator
