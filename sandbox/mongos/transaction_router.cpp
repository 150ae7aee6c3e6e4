#include "mongos/transaction_router.h"

#include <algorithm>
#include <chrono>
#include <mutex>

#include "mongos/cluster_clock.h"
#include "mongos/remote.h"
#include "server/cluster_time.h"
#include "server/commands.h"
#include "server/peer.h"
#include "server/transactions.h"

namespace sandbox::mongos {
namespace {

using namespace std::chrono_literals;

// The router's transactions by session. One mutex for all: a transaction command holds it
// while it talks to the shards (shards never make a statement wait, so this cannot deadlock).
struct TransactionTable {
  std::mutex mutex;
  std::map<std::string, RouterTransaction> sessions;
};

TransactionTable& table() {
  static TransactionTable instance;
  return instance;
}

[[noreturn]] void throw_aborted(const RouterTransaction& txn) {
  throw CommandError(251, "NoSuchTransaction", "Transaction " + std::to_string(txn.txn_number) + " has been aborted.");
}

[[noreturn]] void throw_reply(const Doc& reply) {
  throw CommandError(static_cast<int>(get_number(reply.bson(), "code").value_or(8)),
                     get_string(reply.bson(), "codeName").value_or("UnknownError"),
                     get_string(reply.bson(), "errmsg").value_or("command failed"));
}

// Sends `command` with the transaction's session fields to the shard's primary, over a plain
// connection: libmongoc would replace the client's lsid with one of its own.
Doc send(Router& router, const std::string& shard, const RouterTransaction& txn, const Doc& command,
         bool first_for_shard, const std::string& db = "admin") {
  Builder full;
  bson_concat(full.get(), command.bson());
  append_doc(full.get(), "lsid", txn.lsid.bson());
  BSON_APPEND_INT64(full.get(), "txnNumber", txn.txn_number);
  BSON_APPEND_BOOL(full.get(), "autocommit", false);
  if (first_for_shard) {
    BSON_APPEND_BOOL(full.get(), "startTransaction", true);
    if (txn.read_concern) append_doc(full.get(), "readConcern", txn.read_concern->bson());
  }
  Doc clock = cluster_time_document(ClusterClock::instance().now());
  append_doc(full.get(), "$clusterTime", clock.bson());
  PeerConnection connection;
  std::string host = router.shard(shard)->primary_host();
  if (!connection.connect(host, 5s)) throw CommandError(6, "HostUnreachable", "cannot reach " + host);
  Doc reply = connection.run(with_db(full.get(), db.c_str()), 60s);
  gossip_reply(reply.bson());
  return reply;
}

// Sends one part of a statement; the shard joins the transaction with its first part.
Doc send_part(Router& router, RouterTransaction& txn, const ShardPart& part, const std::string& db) {
  bool first = std::find(txn.participants.begin(), txn.participants.end(), part.shard) == txn.participants.end();
  if (first) txn.participants.push_back(part.shard);
  return send(router, part.shard, txn, part.command, first, db);
}

void abort_participants(Router& router, RouterTransaction& txn) {
  Builder abort;
  BSON_APPEND_INT32(abort.get(), "abortTransaction", 1);
  for (const std::string& shard : txn.participants) {
    try {
      send(router, shard, txn, abort.doc(), false);
    } catch (const std::exception&) {
      // An unreachable participant aborts the transaction itself when it times out.
    }
  }
  txn.state = RouterTransaction::State::kAborted;
}

void note_cursor(RouterTransaction& txn, const std::string& shard, const Doc& reply) {
  auto cursor = get_document(reply.bson(), "cursor");
  std::int64_t id = cursor ? get_number(cursor->bson(), "id").value_or(0) : 0;
  if (id != 0) txn.cursors[id] = shard;
}

Doc run_statement(RouterContext& context, RouterTransaction& txn) {
  if (txn.state != RouterTransaction::State::kActive) {
    throw_aborted(txn);
  }
  std::vector<Doc> replies;
  for (const ShardPart& part : split_statement(context, txn)) {
    Doc reply = send_part(context.router, txn, part, context.db);
    if (!is_ok(reply)) {
      abort_participants(context.router, txn);  // the failing shard aborted already; so must the others
      return router_reply(reply);
    }
    note_cursor(txn, part.shard, reply);
    replies.push_back(std::move(reply));
  }
  if (replies.empty()) return ok_document();
  return merge_statement_replies(context.cmd, replies);
}

std::optional<Timestamp> prepare_timestamp(const Doc& reply) {
  auto field = find_field(reply.bson(), "prepareTimestamp");
  if (!field || !BSON_ITER_HOLDS_TIMESTAMP(&*field)) return std::nullopt;
  Timestamp ts;
  bson_iter_timestamp(&*field, &ts.secs, &ts.inc);
  return ts;
}

// Two-phase commit: every participant prepares, then commits at the greatest prepare time.
Doc commit_two_phase(Router& router, RouterTransaction& txn) {
  Builder prepare;
  BSON_APPEND_INT32(prepare.get(), "prepareTransaction", 1);
  Timestamp commit_ts;
  for (const std::string& shard : txn.participants) {
    Doc reply = send(router, shard, txn, prepare.doc(), false);
    auto ts = prepare_timestamp(reply);
    if (!is_ok(reply) || !ts) {
      abort_participants(router, txn);
      return router_reply(reply);
    }
    commit_ts = std::max(commit_ts, *ts);
  }
  Builder commit;
  BSON_APPEND_INT32(commit.get(), "commitTransaction", 1);
  BSON_APPEND_TIMESTAMP(commit.get(), "commitTimestamp", commit_ts.secs, commit_ts.inc);
  for (const std::string& shard : txn.participants) {
    Doc reply = send(router, shard, txn, commit.doc(), false);
    if (!is_ok(reply)) throw_reply(reply);  // prepared shards keep their locks until a retried commit
  }
  return ok_document();
}

Doc commit(RouterContext& context, RouterTransaction& txn) {
  if (txn.state == RouterTransaction::State::kCommitted) return ok_document();  // a retried commit
  if (txn.state == RouterTransaction::State::kAborted) {
    throw_aborted(txn);
  }
  Doc reply = ok_document();
  if (txn.participants.size() == 1) {
    reply = router_reply(send(context.router, txn.participants.front(), txn, forwardable(context.cmd), false));
  } else if (txn.participants.size() > 1) {
    reply = commit_two_phase(context.router, txn);
  }
  if (is_ok(reply)) txn.state = RouterTransaction::State::kCommitted;
  return reply;
}

Doc abort(RouterContext& context, RouterTransaction& txn) {
  if (txn.state == RouterTransaction::State::kCommitted) {
    throw CommandError(256, "TransactionCommitted", "Transaction " + std::to_string(txn.txn_number) + " has been committed.");
  }
  if (txn.participants.empty() || txn.state == RouterTransaction::State::kAborted) {
    throw_aborted(txn);
  }
  abort_participants(context.router, txn);
  return ok_document();
}

// The session's transaction the command names, started by startTransaction.
RouterTransaction& transaction_for(RouterContext& context, std::map<std::string, RouterTransaction>& sessions) {
  auto lsid = get_document(context.cmd, "lsid");
  auto session = lsid ? session_key(lsid->bson()) : std::nullopt;
  auto number = get_number(context.cmd, "txnNumber");
  if (!session || !number) throw CommandError(50768, "Location50768", "Transactions need a session id (lsid) and txnNumber");
  RouterTransaction& txn = sessions[*session];
  if (txn.txn_number > *number) {
    throw CommandError(225, "TransactionTooOld", "txnNumber " + std::to_string(*number) + " is less than last txnNumber " +
                                                     std::to_string(txn.txn_number) + " seen in session");
  }
  if (get_bool(context.cmd, "startTransaction", false) && txn.txn_number != *number) {
    txn = RouterTransaction{*lsid, *number, get_document(context.cmd, "readConcern"), {}, {}, {}};
  } else if (txn.txn_number != *number) {
    throw CommandError(251, "NoSuchTransaction", "Given transaction number " + std::to_string(*number) +
                                                     " does not match any in-progress transactions.");
  }
  return txn;
}

}  // namespace

Doc run_transaction_command(RouterContext& context) {
  std::string name = first_key(context.cmd);
  Doc reply;
  try {
    std::lock_guard lock(table().mutex);
    RouterTransaction& txn = transaction_for(context, table().sessions);
    if (name == "commitTransaction") {
      reply = commit(context, txn);
    } else if (name == "abortTransaction") {
      reply = abort(context, txn);
    } else {
      reply = run_statement(context, txn);
    }
  } catch (const CommandError& error) {
    reply = error_reply(error);
  }
  return with_transaction_labels(reply, context.cmd);
}

}  // namespace sandbox::mongos
