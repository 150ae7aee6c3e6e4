#include "oplog/capture.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "common/error.h"
#include "mongo/topology.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;
using mongo::Timestamp;

Bson range_filter(Timestamp after, Timestamp up_to) {
  return BsonBuilder()
      .append("ts", BsonBuilder().append("$gt", after).append("$lte", up_to).build())
      .build();
}

void append_oplog_note(mongo::Client& member, const std::optional<Bson>& cluster_time) {
  const Bson note = BsonBuilder()
                        .append("appendOplogNote", 1)
                        .append("data", BsonBuilder().append("msg", "shardsafe consistency point").build())
                        .build();
  try {
    if (cluster_time) {
      try {
        member.command_after("admin", note, *cluster_time);
        return;
      } catch (const ServerError& error) {
        // A cluster time the member will not take (its signature, or this user's rights): the
        // plain note still moves the oplog, one increment at a time.
        spdlog::debug("appendOplogNote with the cluster's time refused: {}", error.what());
      }
    }
    member.command("admin", note);
  } catch (const ServerError&) {
    // Not the primary (or the note is refused): the set advances by other writes and the
    // primary's periodic no-ops; the deadline bounds the wait.
  }
}

[[noreturn]] void throw_rolled_over(const std::string& replset, Timestamp after, const std::string& detail) {
  throw Error(ErrorCode::kChainGap, "oplog of replica set \"" + replset + "\" rolled over: entries after " +
                                        after.to_string() + " are gone; " + detail +
                                        ". Enlarge the oplog (replSetResizeOplog) or back up more often");
}

// The server reports an oplog overwritten under a reading cursor as CappedPositionLost.
constexpr int kCappedPositionLost = 136;

const bson_t* next_entry(mongo::Cursor& cursor, const std::string& replset, Timestamp after) {
  try {
    return cursor.next();
  } catch (const ServerError& e) {
    if (e.server_code() == kCappedPositionLost) throw_rolled_over(replset, after, "the copy lost its position");
    throw;
  }
}

}  // namespace

void ensure_oplog_holds(mongo::Client& member, const std::string& replset, Timestamp after) {
  const Timestamp oldest = mongo::oldest_oplog_ts(member);
  if (oldest > after) throw_rolled_over(replset, after, "its oldest entry is now " + oldest.to_string());
}

CaptureResult capture_oplog(mongo::Client& member, const std::string& replset, Timestamp after, Timestamp up_to,
                            storage::Sink& sink) {
  if (after.is_null() || up_to < after) {
    throw Error(ErrorCode::kInvalidArgument, "invalid oplog range (" + after.to_string() + ", " + up_to.to_string() +
                                                 "] for replica set \"" + replset + "\"");
  }
  const Timestamp newest = mongo::newest_oplog_ts(member);
  if (newest < up_to) {
    throw Error(ErrorCode::kInvalidArgument, "oplog of replica set \"" + replset + "\" ends at " + newest.to_string() +
                                                 ", before " + up_to.to_string() + ": wait for it to get there first");
  }
  ensure_oplog_holds(member, replset, after);

  const Bson options = BsonBuilder().append("sort", BsonBuilder().append("$natural", 1).build()).build();
  mongo::Cursor cursor = member.find("local", "oplog.rs", range_filter(after, up_to), options);
  CaptureResult result;
  while (const bson_t* entry = next_entry(cursor, replset, after)) {
    const Timestamp ts = BsonView(entry).timestamp("ts").value_or(Timestamp{});
    if (ts <= (result.entries == 0 ? after : result.last)) {
      throw Error(ErrorCode::kCorruptData, "oplog of replica set \"" + replset + "\" returned entry " +
                                               ts.to_string() + " out of order");
    }
    sink.write({bson_get_data(entry), entry->len});
    if (result.entries == 0) result.first = ts;
    result.last = ts;
    ++result.entries;
    result.bytes += entry->len;
  }
  // Entries may have been overwritten while we read: the copy is only whole if `after` survived.
  ensure_oplog_holds(member, replset, after);
  return result;
}

Timestamp wait_for_optime(mongo::Client& member, Timestamp ts, std::chrono::steady_clock::time_point deadline,
                          const std::optional<Bson>& cluster_time) {
  auto pause = std::chrono::milliseconds(20);
  for (;;) {
    const std::optional<Timestamp> newest = mongo::newest_oplog_entry_ts(member);
    if (newest && *newest >= ts) return *newest;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(ErrorCode::kTimeout, "the oplog of " + member.redacted_uri() + " did not reach " + ts.to_string() +
                                           " in time: " +
                                           (newest ? "its newest entry is " + newest->to_string() : "it is empty"));
    }
    append_oplog_note(member, cluster_time);
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - std::chrono::steady_clock::now()));
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
}

}  // namespace shardsafe::oplog
