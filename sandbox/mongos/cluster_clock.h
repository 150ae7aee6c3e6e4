// The router's side of causal consistency. mongos has no oplog: its cluster time is the
// greatest $clusterTime it has seen from clients, shards and the config server, which it passes
// on to every node it sends a command to and returns to every client. A reply's operationTime is
// the greatest operationTime among the shard replies that command used.
#pragma once

#include <mutex>
#include <optional>

#include "server/bson_util.h"

namespace sandbox::mongos {

// One clock per router process (threads serving clients, cursors and the balancer share it),
// as mongos keeps one logical clock.
class ClusterClock {
 public:
  static ClusterClock& instance();
  void advance(Timestamp seen);
  Timestamp now() const;
  // Advances from a command's or reply's $clusterTime, if it carries one.
  void gossip_in(const bson_t* message);

 private:
  mutable std::mutex mutex_;
  Timestamp time_;
};

// The greatest operationTime of the replies one client command received. A Scope makes a
// tracker the current one of its thread; threads working for the same command (scatter-gather
// workers) enter the same tracker.
class OperationTimes {
 public:
  class Scope {
   public:
    explicit Scope(OperationTimes& times);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    OperationTimes* previous_;
  };

  static OperationTimes* current();  // nullptr outside any scope (the balancer's own work)
  void note(const bson_t* reply);    // its operationTime, if it has one
  std::optional<Timestamp> greatest() const;

 private:
  mutable std::mutex mutex_;
  std::optional<Timestamp> greatest_;
};

// What a node sends back to the router: its cluster time advances the router's clock and its
// operationTime counts for the current command.
void gossip_reply(const bson_t* reply);

}  // namespace sandbox::mongos
