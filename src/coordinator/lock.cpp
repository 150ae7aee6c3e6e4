#include "coordinator/lock.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <thread>

#include "common/error.h"
#include "dump/dumper.h"

namespace shardsafe::coordinator {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string this_process() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace

OperationLock::OperationLock(const mongo::Uri& uri, std::string operation, std::chrono::seconds lease)
    : client_(uri), owner_(this_process()) {
  const std::int64_t now = now_ms();
  const std::int64_t expires = now + std::chrono::duration_cast<std::chrono::milliseconds>(lease).count();
  // Take the lock if nobody holds it or the holder's lease ran out: one atomic upsert whose
  // filter only matches a free or expired lock. A live lock makes the upsert collide on _id.
  const mongo::Bson filter = mongo::BsonBuilder()
                                 .append("_id", "shardsafe")
                                 .append("expires_at", mongo::BsonBuilder().append_date("$lt", now).build())
                                 .build();
  const mongo::Bson fields = mongo::BsonBuilder()
                                 .append("operation", operation)
                                 .append("owner", owner_)
                                 .append_date("acquired_at", now)
                                 .append_date("expires_at", expires)
                                 .build();
  const mongo::Bson update = mongo::BsonBuilder()
                                 .append("q", filter)
                                 .append("u", mongo::BsonBuilder().append("$set", fields).build())
                                 .append("upsert", true)
                                 .build();
  try {
    client_.command("admin", mongo::BsonBuilder()
                                 .append("update", dump::kLockCollection)
                                 .append_array("updates", std::vector<mongo::Bson>{update})
                                 .append("writeConcern", mongo::BsonBuilder().append("w", "majority").build())
                                 .build());
  } catch (const ServerError& error) {
    if (error.server_code() != 11000) throw;
    mongo::Cursor cursor = client_.find("admin", dump::kLockCollection, mongo::BsonBuilder().append("_id", "shardsafe").build());
    const bson_t* holder = cursor.next();
    const std::string held_by = holder ? mongo::BsonView(holder).string("owner").value_or("?") : "?";
    const std::string held_for = holder ? mongo::BsonView(holder).string("operation").value_or("?") : "?";
    throw Error(ErrorCode::kConflict, "another shardsafe " + held_for + " holds the lock (owner " + held_by +
                                          "): wait for it to finish, or for its lease to expire if it died");
  }
  spdlog::debug("lock taken for {} by {}", operation, owner_);
}

OperationLock::~OperationLock() {
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

BalancerPause::BalancerPause(const mongo::Uri& mongos, std::chrono::seconds timeout) : client_(mongos) {
  const mongo::Bson status = client_.command("admin", mongo::BsonBuilder().append("balancerStatus", 1).build());
  was_running_ = mongo::BsonView(status).string("mode").value_or("off") != "off";
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
