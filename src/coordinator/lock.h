// Operation locks and balancer control: what keeps two shardsafe runs, or a backup and the
// balancer, from stepping on each other.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "mongo/client.h"

namespace shardsafe::coordinator {

// A lease document {_id:"shardsafe", operation, owner, acquired_at, expires_at,
// balancer_was_running} in the `admin` database of a replica set (the config server's for a
// cluster, the set's own otherwise). Acquired in the constructor, released in the destructor.
// A thread renews the lease every lease/4 while the lock is held, so a live holder keeps it
// however long it runs, and a holder that died (kill -9) loses it within one lease. A lease
// that expired is taken over; a live one is retried every 500 ms for up to `wait` (a short
// operation such as an incremental tick then finishes first), then Error(kConflict) naming
// its operation and owner.
class OperationLock {
 public:
  OperationLock(const mongo::Uri& uri, std::string operation, std::chrono::seconds lease = std::chrono::seconds(60),
                std::chrono::seconds wait = std::chrono::seconds(0));
  ~OperationLock();
  OperationLock(const OperationLock&) = delete;
  OperationLock& operator=(const OperationLock&) = delete;

  // Whether the holder this lock was taken over from had stopped a running balancer and died
  // before starting it again: then this run must start it when it ends.
  bool inherited_running_balancer() const { return inherited_running_balancer_; }
  // Records in the lease whether the balancer was running before this run stopped it, so that
  // the next run can put it back if this one dies.
  void record_balancer_was_running(bool running);

 private:
  // Takes the lock, or returns why not (who holds it).
  std::optional<std::string> try_acquire(const std::string& operation);
  void renew_until_released(std::stop_token stop);
  void update_lease(const mongo::Bson& set_fields);

  std::chrono::seconds lease_;
  std::mutex mutex_;  // one command at a time on client_
  mongo::Client client_;
  std::string owner_;
  bool inherited_running_balancer_ = false;
  std::jthread renewer_;  // last: stopped before the lock is released
};

// Stops the balancer through a mongos and waits for the round in progress to end; the
// destructor starts it again only if it was running before (or `lock` inherited it running
// from a holder that died), so a user's stopped balancer stays stopped. Throws Error(kTimeout)
// when a round does not end within `timeout`.
class BalancerPause {
 public:
  BalancerPause(const mongo::Uri& mongos, OperationLock& lock, std::chrono::seconds timeout = std::chrono::minutes(5));
  ~BalancerPause();
  BalancerPause(const BalancerPause&) = delete;
  BalancerPause& operator=(const BalancerPause&) = delete;
  bool was_running() const { return was_running_; }

 private:
  mongo::Client client_;
  bool was_running_ = false;
};

}  // namespace shardsafe::coordinator
