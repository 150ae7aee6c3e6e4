#include "coordinator/lock.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <thread>

#include "common/clock.h"
#include "common/error.h"
#include "common/process.h"
#include "dump/dumper.h"

namespace shardsafe::coordinator {

OperationLock::OperationLock(const mongo::Uri& uri, std::string operation, std::chrono::seconds lease, std::chrono::seconds wait)
    : lease_(lease), client_(uri), owner_(this_process()) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (const auto held = try_acquire(operation)) {
    if (std::chrono::steady_clock::now() >= deadline) throw Error(ErrorCode::kConflict, *held);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  spdlog::debug("lock taken for {} by {}", operation, owner_);
  renewer_ = std::jthread([this](std::stop_token stop) { renew_until_released(stop); });
}

std::optional<std::string> OperationLock::try_acquire(const std::string& operation) {
  const std::int64_t now = unix_ms();
  // Take the lock if nobody holds it or the holder's lease ran out: one atomic upsert whose
  // filter only matches a free or expired lock. A live lock makes the upsert collide on _id.
  // The document it replaced (an expired holder's) says whether that holder left the balancer
  // stopped.
  const mongo::Bson filter = mongo::BsonBuilder()
                                 .append("_id", "shardsafe")
                                 .append("expires_at", mongo::BsonBuilder().append_date("$lt", now).build())
                                 .build();
  const mongo::Bson fields = mongo::BsonBuilder()
                                 .append("operation", operation)
                                 .append("owner", owner_)
                                 .append_date("acquired_at", now)
                                 .append_date("expires_at", now + std::chrono::duration_cast<std::chrono::milliseconds>(lease_).count())
                                 .append("balancer_was_running", false)
                                 .build();
  try {
    const mongo::Bson reply = client_.command("admin", mongo::BsonBuilder()
                                                          .append("findAndModify", dump::kLockCollection)
                                                          .append("query", filter)
                                                          .append("update", mongo::BsonBuilder().append("$set", fields).build())
                                                          .append("upsert", true)
                                                          .append("writeConcern", mongo::BsonBuilder().append("w", "majority").build())
                                                          .build());
    if (const auto previous = mongo::BsonView(reply).document("value")) {
      inherited_running_balancer_ = mongo::BsonView(*previous).boolean("balancer_was_running").value_or(false);
      spdlog::warn("took over the shardsafe lock of {} (operation {}), whose lease had expired",
                   mongo::BsonView(*previous).string("owner").value_or("?"), mongo::BsonView(*previous).string("operation").value_or("?"));
    }
    return std::nullopt;
  } catch (const ServerError& error) {
    if (error.server_code() != 11000) throw;
  }
  mongo::Cursor cursor = client_.find("admin", dump::kLockCollection, mongo::BsonBuilder().append("_id", "shardsafe").build());
  const bson_t* holder = cursor.next();
  const std::string held_by = holder ? mongo::BsonView(holder).string("owner").value_or("?") : "?";
  const std::string held_for = holder ? mongo::BsonView(holder).string("operation").value_or("?") : "?";
  return "another shardsafe " + held_for + " holds the lock (owner " + held_by +
         "): wait for it to finish, or for its lease to expire if it died";
}

void OperationLock::update_lease(const mongo::Bson& set_fields) {
  const mongo::Bson update = mongo::BsonBuilder()
                                 .append("q", mongo::BsonBuilder().append("_id", "shardsafe").append("owner", owner_).build())
                                 .append("u", mongo::BsonBuilder().append("$set", set_fields).build())
                                 .build();
  std::lock_guard lock(mutex_);
  client_.command("admin", mongo::BsonBuilder()
                               .append("update", dump::kLockCollection)
                               .append_array("updates", std::vector<mongo::Bson>{update})
                               .append("writeConcern", mongo::BsonBuilder().append("w", "majority").build())
                               .build());
}

void OperationLock::renew_until_released(std::stop_token stop) {
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  while (true) {
    {
      std::unique_lock lock(sleep_mutex);
      if (sleeper.wait_for(lock, stop, lease_ / 4, [&] { return stop.stop_requested(); })) return;
    }
    try {
      const std::int64_t expires = unix_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(lease_).count();
      update_lease(mongo::BsonBuilder().append_date("expires_at", expires).build());
    } catch (const std::exception& error) {
      spdlog::warn("could not renew the shardsafe lock: {} (retrying)", error.what());
    }
  }
}

void OperationLock::record_balancer_was_running(bool running) {
  update_lease(mongo::BsonBuilder().append("balancer_was_running", running).build());
}

OperationLock::~OperationLock() {
  renewer_ = {};  // stops renewing before the lease is deleted
  try {
    client_.command("admin", mongo::BsonBuilder()
                                 .append("delete", dump::kLockCollection)
                                 .append_array("deletes", std::vector<mongo::Bson>{mongo::BsonBuilder()
                                                                                         .append("q", mongo::BsonBuilder()
                                                                                                          .append("_id", "shardsafe")
                                                                                                          .append("owner", owner_)
                                                                                                          .build())
                                                                                         .append("limit", 1)
                                                                                         .build()})
                                 .build());
  } catch (const std::exception& error) {
    spdlog::warn("could not release the shardsafe lock ({}); it expires with its lease", error.what());
  }
}

BalancerPause::BalancerPause(const mongo::Uri& mongos, OperationLock& lock, std::chrono::seconds timeout) : client_(mongos) {
  const mongo::Bson status = client_.command("admin", mongo::BsonBuilder().append("balancerStatus", 1).build());
  was_running_ = mongo::BsonView(status).string("mode").value_or("off") != "off" || lock.inherited_running_balancer();
  if (lock.inherited_running_balancer()) spdlog::warn("the run that died had stopped a running balancer: it is started again at the end");
  lock.record_balancer_was_running(was_running_);
  client_.command("admin", mongo::BsonBuilder().append("balancerStop", 1).build());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const mongo::Bson now = client_.command("admin", mongo::BsonBuilder().append("balancerStatus", 1).build());
    if (!mongo::BsonView(now).boolean("inBalancerRound").value_or(false)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      throw Error(ErrorCode::kTimeout, "the balancer round did not end within " + std::to_string(timeout.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

BalancerPause::~BalancerPause() {
  if (!was_running_) return;
  try {
    client_.command("admin", mongo::BsonBuilder().append("balancerStart", 1).build());
  } catch (const std::exception& error) {
    spdlog::error("could not restart the balancer: {} (run sh.startBalancer())", error.what());
  }
}

}  // namespace shardsafe::coordinator
