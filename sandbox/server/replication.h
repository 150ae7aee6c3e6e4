// Replica set machinery between members:
//  - heartbeats every 500 ms to every other member (replSetHeartbeat), which spread the
//    config after replSetInitiate, the term, each member's state and applied optime;
//  - elections: a secondary that has heard from no primary for the election timeout
//    (randomized 4-6 s) starts one: term+1, votes for itself, asks the others
//    (replSetRequestVotes); a member votes once per term, and only for a candidate whose
//    last applied optime is at least its own, so the most up-to-date member wins;
//  - oplog fetching on secondaries: initial sync by cloning the primary's collections, then a
//    tailable awaitData cursor on the primary's local.oplog.rs; each applied batch is
//    journalled and reported back with replSetUpdatePosition (w:"majority" waits on it);
//  - the primary's periodic no-op every 10 s, so an idle set's oplog advances.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "server/engine.h"

namespace sandbox {

// Command handlers (the receiving side). REQUIRE engine.mutex held.
Doc handle_heartbeat(Engine& engine, const bson_t* cmd);
Doc handle_vote_request(Engine& engine, const bson_t* cmd);
Doc handle_update_position(Engine& engine, const bson_t* cmd);

class Replication {
 public:
  explicit Replication(Engine& engine) : engine_(engine) {}
  ~Replication() { stop(); }
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  void start();
  void stop();  // joins the threads

 private:
  void heartbeat_loop();
  void sync_loop();
  void noop_loop();

  Engine& engine_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace sandbox
