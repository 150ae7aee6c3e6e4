// Causal consistency's metadata: the `$clusterTime` every replica-set member and mongos gossips
// in commands and replies, the `operationTime` of a reply, and the `readConcern` a read waits on
// (`afterClusterTime`). Shared by members (commands.cpp) and the router (mongos/).
#pragma once

#include <optional>
#include <string>

#include "server/bson_util.h"

namespace sandbox {

// The `clusterTime` inside a command's or reply's `$clusterTime`, if it carries one.
std::optional<Timestamp> gossiped_cluster_time(const bson_t* message);
// The reply's `operationTime`, if it has one.
std::optional<Timestamp> reply_operation_time(const bson_t* reply);

// The value of $clusterTime: {clusterTime, signature: {hash, keyId}}.
Doc cluster_time_document(Timestamp cluster_time);

// `reply` with {$clusterTime: {clusterTime, signature}, operationTime} at its end (replacing
// any it had). A null time is one the node does not know yet, and is left out, as MongoDB does.
Doc with_logical_times(const Doc& reply, Timestamp cluster_time, Timestamp operation_time);

struct ReadConcern {
  std::string level = "local";
  std::optional<Timestamp> after_cluster_time;
  // majority and snapshot reads see (and report) the majority commit point, local ones the
  // member's last applied optime.
  bool reads_majority_committed() const { return level == "majority" || level == "snapshot"; }
};

// The command's readConcern. Throws 9 FailedToParse for an unknown level, 14 TypeMismatch for a
// non-Timestamp afterClusterTime and 72 InvalidOptions for a null one, as mongod does.
ReadConcern parse_read_concern(const bson_t* command);

}  // namespace sandbox
