// Copies a replica set's oplog range, mongodump --oplog style, and extends it to a chosen point.
//
// A backup of a replica set is a dump plus the oplog written while it ran: restoring the dump
// and replaying that range lands on one consistent point. The range must be whole: if the
// capped oplog rolled over past its start, entries are gone and the backup must fail rather
// than look complete.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "mongo/bson.h"
#include "mongo/client.h"
#include "storage/stream.h"

namespace shardsafe::oplog {

struct CaptureResult {
  std::uint64_t entries = 0;
  mongo::Timestamp first, last;  // of the entries copied; null when none
  std::uint64_t bytes = 0;
};

// Writes every entry of `member`'s local.oplog.rs with after < ts <= up_to to `sink`, raw BSON
// back to back (mongodump's oplog.bson), in oplog order. `replset` names the set in errors.
// REQUIRES: after is not null, after <= up_to, and the member's newest entry is at or after
// up_to (see wait_for_optime): otherwise Error(kInvalidArgument), since entries up to `up_to`
// could still arrive.
// Throws Error(kChainGap) when the oplog no longer holds `after` before or after copying (it
// rolled over: entries are gone), Error(kCorruptData) for entries out of order.
// Does not finish `sink`: the caller finishes (commits) it only when this returns.
CaptureResult capture_oplog(mongo::Client& member, const std::string& replset, mongo::Timestamp after,
                            mongo::Timestamp up_to, storage::Sink& sink);

// Throws Error(kChainGap) unless `member`'s oldest oplog entry is at or before `after`.
void ensure_oplog_holds(mongo::Client& member, const std::string& replset, mongo::Timestamp after);

// Waits until `member`'s newest oplog entry is at or after `ts` and returns that entry's ts.
// An idle set does not advance, so while waiting it writes a no-op with the documented
// {appendOplogNote:1, data:{msg:"shardsafe consistency point"}} (on a secondary the note fails
// and the wait relies on the primary's writes and periodic no-ops). Throws Error(kTimeout)
// naming both optimes when `deadline` passes first.
// `cluster_time`, a $clusterTime document gossiped by the set that holds `ts` (the deployment
// time at or after it), goes with the note: the member's logical clock jumps to it, so a single
// note lands at or after `ts`. Without it, a member whose clock is behind `ts` within the same
// second (its increments lag another set's) needs a note per increment or the next second.
mongo::Timestamp wait_for_optime(mongo::Client& member, mongo::Timestamp ts,
                                 std::chrono::steady_clock::time_point deadline,
                                 const std::optional<mongo::Bson>& cluster_time = std::nullopt);

}  // namespace shardsafe::oplog
