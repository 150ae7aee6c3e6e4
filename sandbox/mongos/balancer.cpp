// The balancer: a thread in the router that, while config.settings {_id:"balancer"} is not
// `stopped`, evens out chunk counts: each round moves one chunk per collection from the shard
// with the most chunks to the one with the fewest, when they differ by two or more.
// With several routers, only the holder of the lease in config.locks {_id:"balancer"} balances.
// balancerStop returns only after the running round ends, so no chunk moves after it returns
// (for balancing done by this router).
#include <algorithm>
#include <map>
#include <thread>

#include "mongos/targeting.h"
#include "server/log.h"

namespace sandbox::mongos {
namespace {

constexpr std::int64_t kLeaseMs = 15000;  // another router takes over a silent holder's lease

void append_date(bson_t* out, const char* key, std::int64_t millis) { BSON_APPEND_DATE_TIME(out, key, millis); }

bool hold_lease(Router& router) {
  std::string me = router.options().self_host();
  std::int64_t now = now_millis();
  Builder filter, either, mine, expired, expired_when, set, update;
  BSON_APPEND_UTF8(filter.get(), "_id", "balancer");
  BSON_APPEND_UTF8(mine.get(), "process", me.c_str());
  append_date(expired_when.get(), "$lt", now - kLeaseMs);
  append_doc(expired.get(), "when", expired_when.get());
  BSON_APPEND_DOCUMENT(either.get(), "0", mine.get());
  BSON_APPEND_DOCUMENT(either.get(), "1", expired.get());
  BSON_APPEND_ARRAY(filter.get(), "$or", either.get());
  BSON_APPEND_UTF8(set.get(), "process", me.c_str());
  append_date(set.get(), "when", now);
  BSON_APPEND_INT32(set.get(), "state", 2);
  append_doc(update.get(), "$set", set.get());
  if (router.config().update("locks", filter.get(), update.get(), false) > 0) return true;
  Builder lease;
  BSON_APPEND_UTF8(lease.get(), "_id", "balancer");
  bson_concat(lease.get(), set.get());
  try {
    router.config().insert("locks", lease.get());
    return true;
  } catch (const CommandError& error) {
    if (error.code() == 11000) return false;  // another router holds it
    throw;
  }
}

// Moves at most one chunk of `ns`. Returns whether it moved one.
bool balance_collection(Router& router, const std::vector<std::string>& shards, const std::string& ns) {
  auto routing = router.config().collection(ns);
  if (!routing || routing->no_balance) return false;
  std::map<std::string, int> counts;
  for (const std::string& id : shards) counts[id] = 0;
  for (const Chunk& chunk : routing->chunks) ++counts[chunk.shard];
  auto by_count = [](auto& a, auto& b) { return a.second < b.second; };
  auto most = *std::max_element(counts.begin(), counts.end(), by_count);
  auto fewest = *std::min_element(counts.begin(), counts.end(), by_count);
  if (most.second - fewest.second < 2) return false;
  for (const Chunk& chunk : routing->chunks) {
    if (chunk.shard != most.first) continue;
    move_chunk(router, ns, chunk.min, fewest.first);
    return true;
  }
  return false;
}

void balancer_round(Router& router) {
  std::vector<std::string> shards = router.shard_ids();
  if (shards.size() < 2) return;
  for (const std::string& ns : router.config().sharded_namespaces()) {
    if (router.config().balancer_stopped()) return;
    if (balance_collection(router, shards, ns)) ++router.balancer().migrations;
  }
}

void balancer_loop(Router& router) {
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(router.options().balancer_interval_ms));
    try {
      if (router.config().balancer_stopped() || !hold_lease(router)) continue;
      std::lock_guard round(router.balancer_round_mutex());
      if (router.config().balancer_stopped()) continue;  // stopped while we waited
      router.balancer().in_round = true;
      balancer_round(router);
      router.balancer().in_round = false;
      ++router.balancer().rounds;
    } catch (const std::exception& error) {
      router.balancer().in_round = false;
      log_line(std::string("balancer round failed: ") + error.what());
    }
  }
}

void set_balancer(Router& router, bool stopped) {
  Builder filter, set, update;
  BSON_APPEND_UTF8(filter.get(), "_id", "balancer");
  BSON_APPEND_BOOL(set.get(), "stopped", stopped);
  BSON_APPEND_UTF8(set.get(), "mode", stopped ? "off" : "full");
  append_doc(update.get(), "$set", set.get());
  router.config().update("settings", filter.get(), update.get(), true);
}

Doc balancer_start(RouterContext& context) {
  set_balancer(context.router, false);
  return ok_document();
}

Doc balancer_stop(RouterContext& context) {
  set_balancer(context.router, true);
  std::lock_guard wait_for_round(context.router.balancer_round_mutex());
  return ok_document();
}

Doc balancer_status(RouterContext& context) {
  Builder out;
  BSON_APPEND_UTF8(out.get(), "mode", context.router.config().balancer_stopped() ? "off" : "full");
  BSON_APPEND_BOOL(out.get(), "inBalancerRound", context.router.balancer().in_round.load());
  BSON_APPEND_INT64(out.get(), "numBalancerRounds", context.router.balancer().rounds.load());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

}  // namespace

void start_balancer(Router& router) { std::thread(balancer_loop, std::ref(router)).detach(); }

void add_router_balancer_commands(std::vector<RouterCommand>& table) {
  table.insert(table.end(), {
                                {"balancerStart", balancer_start},
                                {"balancerStop", balancer_stop},
                                {"balancerStatus", balancer_status},
                                {"_configsvrBalancerStart", balancer_start},
                                {"_configsvrBalancerStop", balancer_stop},
                                {"_configsvrBalancerStatus", balancer_status},
                            });
}

}  // namespace sandbox::mongos
