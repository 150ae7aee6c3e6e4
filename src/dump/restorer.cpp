#include "dump/restorer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "common/blocking_queue.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/random.h"
#include "storage/bson_stream.h"
#include "dump/metadata.h"
#include "dump/namespace_filter.h"
#include "dump/rollback_plan.h"
#include "dump/users_roles.h"
#include "mongo/topology.h"
#include "oplog/replay.h"

namespace shardsafe::dump {
namespace {

const mongo::Bson kMajority = mongo::BsonBuilder().append("w", "majority").build();

std::string read_all(storage::Source& source) {
  std::string out;
  std::uint8_t buffer[1 << 14];
  while (const std::size_t n = source.read(buffer)) out.append(reinterpret_cast<const char*>(buffer), n);
  return out;
}

bool collection_has_documents(mongo::Client& client, const std::string& db, const std::string& name) {
  mongo::Cursor cursor = client.find(db, name, mongo::Bson(), mongo::BsonBuilder().append("limit", std::int64_t{1}).build());
  return cursor.next() != nullptr;
}

}  // namespace

struct ReplicaSetRestorer::Target {
  const catalog::CollectionEntry* entry;
  std::string db;
  std::string name;
  CollectionMetadata metadata;
  std::string ns() const { return db + "." + name; }
};

ReplicaSetRestorer::ReplicaSetRestorer(const catalog::ReplicaSetBackup& backup, storage::Storage& storage,
                                       const mongo::Uri& target, RestoreOptions options, Progress& progress)
    : backup_(backup),
      storage_(storage),
      target_uri_(target),
      options_(std::move(options)),
      progress_(progress),
      token_(random_token(8)),  // holding names of concurrent or failed restores never collide
      holding_suffix_(".shardsafe-hold-" + token_) {}

ReplicaSetRestorer::~ReplicaSetRestorer() = default;

void ReplicaSetRestorer::check_target() {
  const auto topology = mongo::discover_replica_set(target_uri_);
  spdlog::info("restoring replica set \"{}\" into \"{}\" (primary {})", backup_.name, topology.name, topology.primary);
  pool_ = std::make_unique<mongo::ClientPool>(target_uri_, options_.parallel_collections * (options_.insertion_workers + 1) + 2);
  mongo::Client client = pool_->acquire();
  const auto existing = list_namespaces(client);
  for (const auto& [ns, uuid] : existing) {
    if (!uuid.empty()) uuids_in_use_.insert(uuid);
  }
  std::vector<std::string> conflicts;
  for (const auto& entry : backup_.collections) {
    // admin.system.version describes the server itself (auth schema, FCV): never overwritten.
    if (entry.db == "admin" && entry.name == "system.version") continue;
    std::string target_ns = entry.db + "." + entry.name;
    if (options_.map_namespace) {
      const auto mapped = options_.map_namespace(target_ns);
      if (!mapped) continue;
      target_ns = *mapped;
    }
    auto [db, name] = split_namespace(target_ns);
    if (db.empty() || name.empty()) {
      throw Error(ErrorCode::kInvalidArgument, "invalid target namespace \"" + target_ns + "\": expected <db>.<collection>");
    }
    auto metadata_source = storage::read_stream(storage_, entry.metadata, options_.key);
    Target target{&entry, db, name, parse_metadata_json(read_all(*metadata_source), entry.metadata.key)};
    if (is_users_or_roles(entry.db, entry.name)) {
      // Merged by the server, like mongorestore does: never a conflict, replaced with --drop.
      if (target_ns != entry.db + "." + entry.name) continue;
      std::string& temp = entry.name == "system.users" ? temp_users_ : temp_roles_;
      temp = "shardsafe.restore-" + entry.name.substr(7) + "-" + token_;
      target.name = temp;
      targets_.push_back(std::move(target));
      continue;
    }
    if (existing.contains(target_ns)) {
      if (!options_.drop && (entry.type == "view" || collection_has_documents(client, db, name))) {
        conflicts.push_back(target_ns);
      }
      holdings_.emplace_back(target_ns, "");
    }
    targets_.push_back(std::move(target));
  }
  set_aside_namespaces_of_other_sets(client, existing, conflicts);
  if (!conflicts.empty()) {
    holdings_.clear();
    std::string names;
    for (std::size_t i = 0; i < std::min<std::size_t>(conflicts.size(), 5); ++i) names += (i ? ", \"" : "\"") + conflicts[i] + "\"";
    if (conflicts.size() > 5) names += " and " + std::to_string(conflicts.size() - 5) + " more";
    throw Error(ErrorCode::kAlreadyExists, "the target already holds data in " + names +
                                               ": restore with --drop to replace it (the old data is kept until the restore succeeds)");
  }
}

void ReplicaSetRestorer::set_aside_namespaces_of_other_sets(mongo::Client& client,
                                                              const std::map<std::string, std::string>& existing,
                                                              std::vector<std::string>& conflicts) {
  for (const auto& ns : options_.also_set_aside) {
    const bool restored_here = std::any_of(targets_.begin(), targets_.end(), [&](const Target& t) { return t.ns() == ns; });
    if (restored_here || !existing.contains(ns)) continue;
    const auto [db, name] = split_namespace(ns);
    if (!options_.drop && collection_has_documents(client, db, name)) conflicts.push_back(ns);
    holdings_.emplace_back(ns, "");
  }
}

void ReplicaSetRestorer::set_aside() {
  mongo::Client client = pool_->acquire();
  set_aside_begun_ = true;
  for (auto& [target_ns, holding_ns] : holdings_) {
    const std::string holding = target_ns + holding_suffix_;
    rename_collection(client, target_ns, holding);
    holding_ns = holding;
  }
  if (!restores_users_or_roles()) return;
  saved_users_ = "shardsafe.saved-users-" + token_;
  copy_admin_collection(client, "system.users", saved_users_);
  saved_roles_ = "shardsafe.saved-roles-" + token_;
  copy_admin_collection(client, "system.roles", saved_roles_);
}

void ReplicaSetRestorer::restore_collections() {
  std::uint64_t total = 0;
  for (const auto& target : targets_) total += target.entry->bytes;
  progress_.start_phase("restore " + backup_.name, total, targets_.size());
  // Views last, once every collection is in: their definitions may name collections restored
  // here. Two passes over pointers, not stable_partition: libstdc++'s scratch buffer is 16-byte
  // aligned and a Target (the bson_t in its Bson) asks for 128 (UBSan: misaligned reference).
  for (const bool views : {false, true}) {
    std::vector<Target*> pass;
    for (Target& target : targets_) {
      if ((target.entry->type == "view") == views) pass.push_back(&target);
    }
    parallel_for(pass.size(), options_.parallel_collections, [&](std::size_t i) { restore_one(*pass[i]); });
  }
  if (restores_users_or_roles()) merge_restored_users_and_roles();
  // From here the oplog replay may create collections: a rollback drops any not listed now.
  mongo::Client client = pool_->acquire();
  before_replay_.emplace();
  for (const auto& [ns, uuid] : list_namespaces(client)) before_replay_->push_back(ns);
}

void ReplicaSetRestorer::merge_restored_users_and_roles() {
  mongo::Client client = pool_->acquire();
  merge_users_and_roles(client, temp_users_, temp_roles_, options_.drop);
  summary_.users_and_roles = true;
  for (const std::string* temp : {&temp_users_, &temp_roles_}) {
    if (temp->empty()) continue;
    drop_collection(client, "admin." + *temp);
  }
}

void ReplicaSetRestorer::restore_one(const Target& target) {
  mongo::Client client = pool_->acquire();
  create_collection(client, target);
  if (target.entry->type != "view") {
    insert_documents(target);
    build_indexes(client, target);
  }
  progress_.unit_done();
}

void ReplicaSetRestorer::create_collection(mongo::Client& client, const Target& target) {
  const bool with_uuid = create_with_dumped_uuid(client, target);
  if (!with_uuid) {
    client.command(target.db, mongo::BsonBuilder()
                                  .append("create", target.name)
                                  .append_fields_of(target.metadata.options)
                                  .append("writeConcern", kMajority)
                                  .build());
  }
  std::lock_guard lock(mutex_);
  summary_.collections++;
  if (with_uuid) summary_.uuids_preserved++;
}

// The documented way to choose a collection's UUID is an applyOps `create` entry carrying
// `ui` (mongorestore --preserveUUID does the same). Never with a UUID the target already
// holds: mongod would rename that collection instead, and it may be one set aside here.
bool ReplicaSetRestorer::create_with_dumped_uuid(mongo::Client& client, const Target& target) {
  if (const auto chosen = options_.collection_uuids.find(target.ns()); chosen != options_.collection_uuids.end()) {
    create_with_uuid(client, target, chosen->second);
    return true;
  }
  const std::string& uuid = target.metadata.uuid;
  if (!options_.preserve_uuids || uuid.empty() || target.entry->type != "collection" ||
      target.name != target.entry->name || uuids_in_use_.contains(uuid)) {
    return false;
  }
  try {
    create_with_uuid(client, target, uuid);
    return true;
  } catch (const ServerError& error) {
    spdlog::warn("\"{}\" gets a new UUID: the server refused to create it with its dumped one ({})", target.ns(),
                 error.what());
    return false;
  }
}

void ReplicaSetRestorer::create_with_uuid(mongo::Client& client, const Target& target, const std::string& uuid) {
  const mongo::Bson create = mongo::BsonBuilder()
                                 .append("op", "c")
                                 .append("ns", target.db + ".$cmd")
                                 .append_uuid("ui", uuid)
                                 .append("o", mongo::BsonBuilder()
                                                  .append("create", target.name)
                                                  .append_fields_of(target.metadata.options)
                                                  .build())
                                 .build();
  client.command("admin", mongo::BsonBuilder()
                              .append_array("applyOps", std::vector<mongo::Bson>{create})
                              .append("writeConcern", kMajority)
                              .build());
}

void ReplicaSetRestorer::insert_documents(const Target& target) {
  BlockingQueue<mongo::InsertBatch> queue(static_cast<std::size_t>(options_.insertion_workers));
  std::atomic<std::uint64_t> inserted{0};
  std::exception_ptr worker_error;
  std::mutex error_mutex;
  auto insert_batches = [&] {
    try {
      mongo::Client client = pool_->acquire();
      while (auto batch = queue.pop()) {
        const auto result = client.insert(*batch);
        if (!result.write_errors.empty()) {
          const mongo::BsonView first(result.write_errors.front());
          throw Error(ErrorCode::kServer, "inserting into \"" + target.ns() + "\" failed for " +
                                              std::to_string(result.write_errors.size()) + " documents, first: " +
                                              first.string("errmsg").value_or("unknown error"));
        }
        inserted += static_cast<std::uint64_t>(result.inserted);
        progress_.add(batch->bytes(), batch->documents());
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!worker_error) worker_error = std::current_exception();
      queue.close();
    }
  };
  std::vector<std::jthread> workers;
  for (int i = 0; i < options_.insertion_workers; ++i) workers.emplace_back(insert_batches);

  try {
    auto source = storage::read_stream(storage_, target.entry->data, options_.key);
    storage::BsonStreamReader reader(*source, target.entry->data.key);
    auto new_batch = [&] { return mongo::InsertBatch(target.db, target.name, /*majority=*/true); };
    mongo::InsertBatch batch = new_batch();
    while (auto document = reader.next()) {
      if (batch.documents() > 0 && (batch.bytes() + document->size() > options_.batch_bytes ||
                                    batch.documents() >= options_.batch_documents)) {
        if (!queue.push(std::move(batch))) break;  // a worker failed: its error is reported below
        batch = new_batch();
      }
      batch.add(*document);
    }
    if (batch.documents() > 0) queue.push(std::move(batch));
  } catch (...) {
    queue.close();
    workers.clear();
    throw;
  }
  queue.close();
  workers.clear();  // joins
  if (worker_error) std::rethrow_exception(worker_error);
  if (inserted != target.entry->documents) {
    throw Error(ErrorCode::kCorruptData, "\"" + target.entry->data.key + "\" held " + std::to_string(inserted.load()) +
                                             " documents, the manifest says " + std::to_string(target.entry->documents));
  }
  std::lock_guard lock(mutex_);
  summary_.documents += inserted;
}

void ReplicaSetRestorer::build_indexes(mongo::Client& client, const Target& target) {
  std::vector<mongo::Bson> specs;
  for (const auto& index : target.metadata.indexes) {
    if (mongo::BsonView(index).string("name") == "_id_") continue;  // created with the collection
    // Old servers put "ns" in index specs; current ones reject it.
    mongo::BsonBuilder spec;
    bson_iter_t field;
    bson_iter_init(&field, index.get());
    while (bson_iter_next(&field)) {
      if (std::string_view(bson_iter_key(&field)) != "ns") spec.append_iter(bson_iter_key(&field), &field);
    }
    specs.push_back(spec.build());
  }
  if (specs.empty()) return;
  client.command(target.db, mongo::BsonBuilder()
                                .append("createIndexes", target.name)
                                .append_array("indexes", specs)
                                .append("writeConcern", kMajority)
                                .build());
  std::lock_guard lock(mutex_);
  summary_.indexes += specs.size();
}

void ReplicaSetRestorer::replay_oplog() {
  const auto segments = oplog::oplog_segments(backup_, storage_, options_.key);
  if (!options_.replay_oplog || segments.empty()) return;
  progress_.start_phase("replay " + backup_.name, 0, 1);
  mongo::Client client = pool_->acquire();
  oplog::ReplayOptions replay;
  replay.up_to = options_.up_to.value_or(backup_.end_optime);
  if (options_.map_namespace) {
    replay.include_namespace = [this](const std::string& ns) { return options_.map_namespace(ns) == ns; };
  }
  const auto result = oplog::replay_oplog_chain(segments, client, replay);
  summary_.oplog_applied = result.applied;
  progress_.unit_done();
}

RestoreSummary ReplicaSetRestorer::commit() {
  mongo::Client client = pool_->acquire();
  summary_.holdings_kept = finish_restore(client, rollback_plan(), options_.keep_previous);
  // Committed: nothing is left to roll back.
  holdings_.clear();
  set_aside_begun_ = false;
  return summary_;
}

// Only what the restore may have written is dropped: nothing before set_aside() began, and
// never a namespace whose existing data was not (yet) renamed to its holding.
RollbackPlan ReplicaSetRestorer::rollback_plan() const {
  if (!set_aside_begun_) return {};
  RollbackPlan plan{
      .holdings = holdings_, .saved_users = saved_users_, .saved_roles = saved_roles_, .before_replay = before_replay_};
  std::set<std::string> still_in_place;
  for (const auto& [target_ns, holding_ns] : holdings_) {
    if (holding_ns.empty()) still_in_place.insert(target_ns);
  }
  for (const auto& target : targets_) {
    if (!still_in_place.contains(target.ns())) plan.restored.push_back(target.ns());
  }
  return plan;
}

void ReplicaSetRestorer::roll_back() noexcept {
  if (!pool_ || !set_aside_begun_) return;
  try {
    mongo::Client client = pool_->acquire();
    undo_restore(client, rollback_plan());
  } catch (const std::exception& error) {
    spdlog::error("rollback of replica set \"{}\" failed: {}", backup_.name, error.what());
  }
}

}  // namespace shardsafe::dump
