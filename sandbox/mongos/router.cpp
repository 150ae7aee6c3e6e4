#include "mongos/router.h"

#include <algorithm>
#include <thread>

#include "mongos/cluster_clock.h"
#include "server/cluster_time.h"
#include "server/log.h"
#include "server/peer.h"

namespace sandbox::mongos {
namespace {

const std::vector<RouterCommand>& command_table() {
  static const std::vector<RouterCommand> table = [] {
    std::vector<RouterCommand> all;
    add_router_admin_commands(all);
    add_router_read_commands(all);
    add_router_write_commands(all);
    add_router_ddl_commands(all);
    add_router_sharding_commands(all);
    add_router_balancer_commands(all);
    return all;
  }();
  return table;
}

// Command names are matched as MongoDB does for the legacy spellings drivers still send.
std::string canonical_name(std::string name) {
  if (name == "ismaster") return "isMaster";
  return name;
}

// Fields a client sends for its session or the router, never meant for a shard.
constexpr std::string_view kRouterOnlyFields[] = {
    "$db", "lsid", "$clusterTime", "txnNumber", "autocommit", "startTransaction", "$readPreference",
    "apiVersion", "apiStrict", "apiDeprecationErrors", "$audit", "$client", "maxTimeMSOpOnly"};

// Shard reply fields that describe the shard's replica set, not the cluster.
constexpr std::string_view kShardOnlyFields[] = {"$clusterTime", "operationTime", "$gleStats", "lastCommittedOpTime",
                                                 "$configTime", "$topologyTime", "electionId", "opTime"};

}  // namespace

Router::Router(RouterOptions options)
    : options_(std::move(options)), config_(parse_set_address(options_.configdb)), start_ms_(now_millis()) {}

std::shared_ptr<RemoteSet> Router::shard(const std::string& id) {
  {
    std::lock_guard lock(shards_mutex_);
    if (auto found = shards_.find(id); found != shards_.end()) return found->second;
  }
  refresh_shards();
  std::lock_guard lock(shards_mutex_);
  if (auto found = shards_.find(id); found != shards_.end()) return found->second;
  throw CommandError(70, "ShardNotFound", "shard '" + id + "' not found");
}

std::vector<std::string> Router::shard_ids() {
  std::vector<std::string> ids;
  for (const ShardEntry& entry : config_.shards()) ids.push_back(entry.id);
  return ids;
}

void Router::refresh_shards() {
  auto entries = config_.shards();
  std::lock_guard lock(shards_mutex_);
  for (const ShardEntry& entry : entries) {
    auto found = shards_.find(entry.id);
    // A shard whose member list changed gets a new pool; cursors keep the old one alive.
    if (found == shards_.end() || found->second->address().to_string() != entry.address.to_string()) {
      shards_[entry.id] = std::make_shared<RemoteSet>(entry.address);
    }
  }
}

DatabaseEntry Router::ensure_database(const std::string& db, const std::string& preferred_primary) {
  if (auto existing = config_.database(db)) return *existing;
  if (db.empty() || db.find_first_of("/\\. \"$") != std::string::npos) {
    throw CommandError(73, "InvalidNamespace", "invalid database name '" + db + "'");
  }
  std::lock_guard lock(database_create_mutex_);
  if (auto existing = config_.database(db)) return *existing;
  std::string primary = preferred_primary;
  if (primary.empty()) {
    std::map<std::string, int> load;
    for (const std::string& id : shard_ids()) load[id] = 0;
    if (load.empty()) throw CommandError(70, "ShardNotFound", "the cluster has no shards (run addShard first)");
    for (const DatabaseEntry& entry : config_.databases()) {
      if (load.count(entry.primary)) ++load[entry.primary];
    }
    primary = std::min_element(load.begin(), load.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  } else {
    shard(primary);  // throws ShardNotFound
  }
  Builder entry, version;
  BSON_APPEND_UTF8(entry.get(), "_id", db.c_str());
  BSON_APPEND_UTF8(entry.get(), "primary", primary.c_str());
  append_uuid(version.get(), "uuid", new_uuid());
  append_timestamp(version.get(), "timestamp", config_.next_timestamp());
  BSON_APPEND_INT32(version.get(), "lastMod", 1);
  append_doc(entry.get(), "version", version.get());
  try {
    config_.insert("databases", entry.get());
  } catch (const CommandError& error) {
    if (error.code() != 11000) throw;  // another router created it first: use theirs
    if (auto existing = config_.database(db)) return *existing;
    throw;
  }
  log_line("created database " + db + " with primary shard " + primary);
  return DatabaseEntry{db, primary};
}

std::shared_ptr<std::shared_mutex> Router::namespace_mutex(const std::string& ns) {
  std::lock_guard lock(ns_mutex_);
  auto& slot = ns_locks_[ns];
  if (!slot) slot = std::make_shared<std::shared_mutex>();
  return slot;
}

std::shared_lock<std::shared_mutex> Router::lock_shared(const std::string& ns) {
  return std::shared_lock(*namespace_mutex(ns));  // the map never drops entries: the mutex outlives the lock
}

std::unique_lock<std::shared_mutex> Router::lock_exclusive(const std::string& ns) {
  return std::unique_lock(*namespace_mutex(ns));
}

namespace {

Doc dispatch(Router& router, const Request& request, std::int64_t connection_id) {
  std::string name = canonical_name(first_key(request.command.bson()));
  if (find_field(request.command.bson(), "autocommit")) {
    RouterContext context{router, request, request.command.bson(), request.db, connection_id};
    return run_transaction_command(context);
  }
  const auto& table = command_table();
  auto spec = std::find_if(table.begin(), table.end(), [&](const RouterCommand& c) { return c.name == name; });
  if (spec == table.end()) {
    return error_reply(59, "CommandNotFound", "no such command: '" + name + "'");
  }
  try {
    RouterContext context{router, request, request.command.bson(), request.db, connection_id};
    return spec->handler(context);
  } catch (const CommandError& error) {
    return error_reply(error);
  } catch (const std::exception& error) {
    log_line("command " + name + " failed: " + error.what());
    return error_reply(1, "InternalError", error.what());
  }
}

}  // namespace

// A client's $clusterTime advances the router's clock before the command runs; every reply,
// errors included, carries the clock and an operationTime: the greatest one among the replies
// the command used, or, when it used none, the cluster time (later than the operation, so safe
// for a causally consistent session to wait on).
Doc run_router_command(Router& router, const Request& request, std::int64_t connection_id) {
  ClusterClock& clock = ClusterClock::instance();
  clock.gossip_in(request.command.bson());
  OperationTimes times;
  OperationTimes::Scope scope(times);
  Doc reply = dispatch(router, request, connection_id);
  Timestamp now = clock.now();
  return with_logical_times(reply, now, times.greatest().value_or(now));
}

std::string collection_argument(const RouterContext& context) {
  bson_iter_t iter;
  if (!bson_iter_init(&iter, context.cmd) || !bson_iter_next(&iter) || !BSON_ITER_HOLDS_UTF8(&iter) ||
      bson_iter_utf8(&iter, nullptr)[0] == '\0') {
    throw CommandError(73, "InvalidNamespace", "collection name must be a non-empty string");
  }
  return bson_iter_utf8(&iter, nullptr);
}

std::string namespace_argument(const RouterContext& context) {
  std::string ns = collection_argument(context);
  auto dot = ns.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == ns.size()) {
    throw CommandError(73, "InvalidNamespace", "'" + ns + "' is not a full namespace (db.collection)");
  }
  return ns;
}

Doc forwardable(const bson_t* command, std::initializer_list<std::string_view> drop) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, command);
  while (bson_iter_next(&iter)) {
    std::string_view key = bson_iter_key(&iter);
    if (std::find(std::begin(kRouterOnlyFields), std::end(kRouterOnlyFields), key) != std::end(kRouterOnlyFields) ||
        std::find(drop.begin(), drop.end(), key) != drop.end()) {
      continue;
    }
    append_iter(out.get(), key, &iter);
  }
  return out.doc();
}

Doc router_reply(const Doc& shard_reply) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, shard_reply.bson());
  while (bson_iter_next(&iter)) {
    std::string_view key = bson_iter_key(&iter);
    if (std::find(std::begin(kShardOnlyFields), std::end(kShardOnlyFields), key) != std::end(kShardOnlyFields)) continue;
    append_iter(out.get(), key, &iter);
  }
  return out.doc();
}

Doc ok_document() {
  Builder out;
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

std::vector<Doc> run_on_shards(Router& router, const std::vector<std::string>& shards, const std::string& db,
                               const bson_t* command) {
  std::vector<Doc> replies(shards.size());
  std::vector<std::exception_ptr> failures(shards.size());
  std::vector<std::thread> workers;
  OperationTimes* times = OperationTimes::current();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    workers.emplace_back([&, i] {
      std::optional<OperationTimes::Scope> scope;
      if (times) scope.emplace(*times);
      try {
        replies[i] = router.shard(shards[i])->run(db, command);
      } catch (...) {
        failures[i] = std::current_exception();
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
  return replies;
}

}  // namespace sandbox::mongos
