// The router's side of multi-document transactions (MongoDB's "transaction router"): a client's
// statements (commands with lsid, txnNumber, autocommit:false) go to the shards they target,
// with the client's own lsid and txnNumber; a shard joins the transaction (startTransaction:true
// and the transaction's readConcern) with the first statement it receives. commitTransaction
// commits a one-shard transaction directly and runs two-phase commit over several shards:
// prepareTransaction on each, then commitTransaction with the greatest prepareTimestamp as the
// commitTimestamp (the router coordinates itself; MongoDB delegates this to a coordinator
// shard). abortTransaction aborts on every participant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mongos/router.h"

namespace sandbox::mongos {

struct RouterTransaction {
  enum class State { kActive, kCommitted, kAborted };
  Doc lsid;
  std::int64_t txn_number = 0;
  std::optional<Doc> read_concern;              // the first statement's, for each shard's first
  std::vector<std::string> participants;        // shard ids, in the order they joined
  std::map<std::int64_t, std::string> cursors;  // shard cursor id -> its shard (for getMore)
  State state = State::kActive;
};

// One statement's part for one shard: the command without session fields (the router adds them).
struct ShardPart {
  std::string shard;
  Doc command;
};

// Splits a statement into its shards' parts (txn_statements.cpp): inserts by document,
// other commands to the shards their filter targets, getMore/killCursors to their cursor's shard.
std::vector<ShardPart> split_statement(RouterContext& context, const RouterTransaction& txn);
// One reply for the client from the parts' replies (all ok).
Doc merge_statement_replies(const bson_t* cmd, const std::vector<Doc>& replies);

}  // namespace sandbox::mongos
