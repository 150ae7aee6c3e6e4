// The router (mongos): what it knows and the commands it runs.
//
// The router keeps no catalog of its own: the config server holds the metadata (ConfigStore),
// the shards hold the data (a RemoteSet each). What lives here is per-process: client pools
// for the shards, the clients' cursors, the locks that keep a namespace's writes out while a
// chunk of it migrates, and the balancer's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mongos/config_store.h"
#include "mongos/router_cursor.h"
#include "server/peer.h"
#include "server/wire.h"

namespace sandbox::mongos {

struct RouterOptions {
  std::string bind_ip = "127.0.0.1";
  int port = 27017;
  std::string configdb;  // "cfg/h1:p,h2:p"
  std::string logpath;
  std::int64_t balancer_interval_ms = 1000;  // pause between balancer rounds
  std::string self_host() const { return bind_ip + ":" + std::to_string(port); }
};

struct BalancerCounters {
  std::atomic<bool> in_round{false};
  std::atomic<std::int64_t> rounds{0};
  std::atomic<std::int64_t> migrations{0};
};

class Router {
 public:
  explicit Router(RouterOptions options);

  const RouterOptions& options() const { return options_; }
  ConfigStore& config() { return config_; }
  CursorManager& cursors() { return cursors_; }
  BalancerCounters& balancer() { return balancer_; }
  std::mutex& balancer_round_mutex() { return balancer_round_mutex_; }
  std::int64_t start_ms() const { return start_ms_; }

  // The shard's client. Unknown ids refresh the registry from config.shards once; still
  // unknown throws 70 ShardNotFound.
  std::shared_ptr<RemoteSet> shard(const std::string& id);
  std::vector<std::string> shard_ids();
  void refresh_shards();

  // The database's catalog entry, creating it (primary: the shard with fewest databases, or
  // `preferred_primary`) when absent, as MongoDB creates databases on first use.
  DatabaseEntry ensure_database(const std::string& db, const std::string& preferred_primary = "");

  // Operations on a namespace hold its lock shared; a chunk migration holds it exclusively,
  // so no write lands on the donor between the copy and the delete.
  std::shared_lock<std::shared_mutex> lock_shared(const std::string& ns);
  std::unique_lock<std::shared_mutex> lock_exclusive(const std::string& ns);

 private:
  std::shared_ptr<std::shared_mutex> namespace_mutex(const std::string& ns);

  RouterOptions options_;
  ConfigStore config_;
  CursorManager cursors_;
  BalancerCounters balancer_;
  std::mutex balancer_round_mutex_;  // held for a whole balancer round
  std::int64_t start_ms_;

  std::mutex shards_mutex_;
  std::map<std::string, std::shared_ptr<RemoteSet>> shards_;
  std::mutex ns_mutex_;
  std::map<std::string, std::shared_ptr<std::shared_mutex>> ns_locks_;
  std::mutex database_create_mutex_;
};

struct RouterContext {
  Router& router;
  const Request& request;
  const bson_t* cmd;
  const std::string& db;
  std::int64_t connection_id;
};

using RouterHandler = Doc (*)(RouterContext&);

struct RouterCommand {
  std::string_view name;
  RouterHandler handler;
};

// Runs one request; never throws (errors become {ok:0, errmsg, code, codeName}).
Doc run_router_command(Router& router, const Request& request, std::int64_t connection_id);

void add_router_admin_commands(std::vector<RouterCommand>& table);
void add_router_read_commands(std::vector<RouterCommand>& table);
void add_router_write_commands(std::vector<RouterCommand>& table);
void add_router_ddl_commands(std::vector<RouterCommand>& table);
void add_router_sharding_commands(std::vector<RouterCommand>& table);
void add_router_balancer_commands(std::vector<RouterCommand>& table);

// Helpers shared by the command files.
std::string collection_argument(const RouterContext& context);  // {find: "c"} -> "c"; 73 otherwise
std::string namespace_argument(const RouterContext& context);   // {shardCollection: "db.c"}
// The command without the fields a router answers itself or that must not reach a shard
// ($db, lsid, $clusterTime, txnNumber, $readPreference...), and without `drop` fields.
Doc forwardable(const bson_t* command, std::initializer_list<std::string_view> drop = {});
// The shard reply, minus fields describing that shard rather than the cluster.
Doc router_reply(const Doc& shard_reply);
Doc ok_document();
// Runs `command` on each shard, returning the replies in order (throws on unreachable shards).
std::vector<Doc> run_on_shards(Router& router, const std::vector<std::string>& shards, const std::string& db,
                               const bson_t* command);

// Runs a command carrying `autocommit` (a transaction's statement, commitTransaction or
// abortTransaction) as the transaction router (transaction_router.cpp).
Doc run_transaction_command(RouterContext& context);

// The balancer thread (started once by run_router).
void start_balancer(Router& router);
// Moves one chunk to `to_shard`: copies its documents, updates config.chunks, deletes them on
// the donor. REQUIRES: the namespace's exclusive lock is NOT held by the caller.
void move_chunk(Router& router, const std::string& ns, const Doc& chunk_min, const std::string& to_shard);

// Runs the router process until SIGTERM/SIGINT. Returns the exit code.
int run_router(const RouterOptions& options);

}  // namespace sandbox::mongos
