// Oplog slices: the increments of incremental backups and point-in-time restore.
//
// A slice holds one replica set's oplog entries with start < ts <= end, raw BSON back to back
// (the same bytes capture_oplog writes). Slices of a set form a chain when each starts exactly
// where the previous one ended; restoring to time X replays a full backup's oplog, then every
// slice of the chain in order up to X.
//
// Storage key: "oplog/<replset>/<start>-<end>.bson", each timestamp written as
// "<seconds>.<increment>" with both parts zero-padded to 10 digits (the width of a uint32):
// "oplog/rs0/1732573800.0000000005-1732574400.0000000012.bson". Equal widths make keys sort by
// time, so a listing of "oplog/<replset>/" is already in chain order. A compressed or encrypted
// object appends its filters' extensions after ".bson" (".bson.zst").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongo/bson.h"

namespace shardsafe::oplog {

struct OplogSlice {
  std::string replset;
  mongo::Timestamp start;  // exclusive
  mongo::Timestamp end;    // inclusive
  std::uint64_t entries = 0;
  std::string sha256;      // lowercase hex of the stored object
  std::string key;
};

// "1732573800.0000000005": a timestamp as slice keys write it.
std::string slice_timestamp(mongo::Timestamp ts);

// The storage key of a slice. Throws Error(kInvalidArgument) for an empty replset name or one
// holding '/', or when start >= end.
std::string slice_key(const std::string& replset, mongo::Timestamp start, mongo::Timestamp end);

// The replset, start and end a slice key encodes (entries and sha256 left empty), or nullopt
// when `key` is not a slice key. Accepts filter extensions after ".bson".
std::optional<OplogSlice> parse_slice_key(std::string_view key);

// Checks that `slices` (any order, all of one replica set) form a chain that covers every entry
// with from < ts <= to, and returns the slices needed for it in chain order. Slices entirely
// outside the range are left out; an exact duplicate (same range, entries and sha256) counts once.
// Throws Error(kChainGap) naming the replica set and the missing range when a slice does not
// start where the previous one ended, the chain starts after `from` or ends before `to`, or
// slices overlap any other way; Error(kInvalidArgument) for from > to or mixed replica sets.
std::vector<OplogSlice> validate_chain(const std::vector<OplogSlice>& slices, mongo::Timestamp from,
                                       mongo::Timestamp to);

}  // namespace shardsafe::oplog
