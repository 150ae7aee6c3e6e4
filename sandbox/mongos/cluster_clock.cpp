#include "mongos/cluster_clock.h"

#include "server/cluster_time.h"

namespace sandbox::mongos {
namespace {

thread_local OperationTimes* current_times = nullptr;

}  // namespace

ClusterClock& ClusterClock::instance() {
  static ClusterClock clock;
  return clock;
}

void ClusterClock::advance(Timestamp seen) {
  std::lock_guard lock(mutex_);
  if (seen > time_) time_ = seen;
}

Timestamp ClusterClock::now() const {
  std::lock_guard lock(mutex_);
  return time_;
}

void ClusterClock::gossip_in(const bson_t* message) {
  if (auto seen = gossiped_cluster_time(message)) advance(*seen);
}

OperationTimes::Scope::Scope(OperationTimes& times) : previous_(current_times) { current_times = &times; }

OperationTimes::Scope::~Scope() { current_times = previous_; }

OperationTimes* OperationTimes::current() { return current_times; }

void OperationTimes::note(const bson_t* reply) {
  auto time = reply_operation_time(reply);
  if (!time) return;
  std::lock_guard lock(mutex_);
  if (!greatest_ || *time > *greatest_) greatest_ = time;
}

std::optional<Timestamp> OperationTimes::greatest() const {
  std::lock_guard lock(mutex_);
  return greatest_;
}

void gossip_reply(const bson_t* reply) {
  ClusterClock::instance().gossip_in(reply);
  if (OperationTimes* times = OperationTimes::current()) times->note(reply);
}

}  // namespace sandbox::mongos
