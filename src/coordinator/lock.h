// Operation locks and balancer control: what keeps two shardsafe runs, or a backup and the
// balancer, from stepping on each other.
#pragma once

#include <chrono>
#include <string>

#include "mongo/client.h"

namespace shardsafe::coordinator {

// A lease document {_id:"shardsafe", operation, owner, acquired_at, expires_at} in the `admin`
// database of a replica set (the config server's for a cluster, the set's own otherwise).
// Acquired in the constructor, released in the destructor. A lease that expired (its holder
// died) is taken over; a live one is Error(kConflict) naming its operation and owner.
// The lease is long enough for any phase; renew() extends it between phases.
class OperationLock {
 public:
  OperationLock(const mongo::Uri& uri, std::string operation, std::chrono::seconds lease = std::chrono::hours(6));
  ~OperationLock();
  OperationLock(const OperationLock&) = delete;
  OperationLock& operator=(const OperationLock&) = delete;

 private:
  mongo::Client client_;
  std::string owner_;
};

// Stops the balancer through a mongos and waits for the round in progress to end; the
// destructor starts it again only if it was running before, so a user's stopped balancer stays
// stopped. Throws Error(kTimeout) when a round does not end within `timeout`.
class BalancerPause {
 public:
  BalancerPause(const mongo::Uri& mongos, std::chrono::seconds timeout = std::chrono::minutes(5));
  ~BalancerPause();
  BalancerPause(const BalancerPause&) = delete;
  BalancerPause& operator=(const BalancerPause&) = delete;
  bool was_running() const { return was_running_; }

 private:
  mongo::Client client_;
  bool was_running_ = false;
};

}  // namespace shardsafe::coordinator
