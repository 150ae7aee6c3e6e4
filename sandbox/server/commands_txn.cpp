// Multi-document transactions on a replica-set member, as MongoDB 7.0 runs them: statements
// carry lsid, txnNumber and autocommit:false (the first also startTransaction:true) and see the
// transaction's snapshot (transactions.h); commitTransaction logs the writes as one applyOps
// entry, {op:"c", ns:"admin.$cmd", o:{applyOps:[...]}, lsid, txnNumber, prevOpTime:{ts:0, t:-1}}.
// A shard taking part in a cross-shard transaction is prepared first (prepareTransaction logs
// the applyOps with prepare:true, which applies nothing) and then committed with the router's
// commitTimestamp (a commitTransaction entry whose prevOpTime is the prepare entry's optime) or
// aborted (an abortTransaction entry).
#include <algorithm>
#include <string_view>

#include "server/commands.h"
#include "server/peer.h"

namespace sandbox {
namespace {

constexpr std::string_view kStatementCommands[] = {
    "find", "getMore", "killCursors", "insert", "update", "delete", "findAndModify",
    "aggregate", "count", "distinct", "create", "createIndexes"};

bool is_control_command(std::string_view name) {
  return name == "commitTransaction" || name == "abortTransaction" || name == "prepareTransaction";
}

struct TxnId {
  std::string session;
  std::int64_t txn_number = 0;
};

TxnId transaction_id(const bson_t* cmd) {
  auto lsid = get_document(cmd, "lsid");
  auto session = lsid ? session_key(lsid->bson()) : std::nullopt;
  auto number = get_number(cmd, "txnNumber");
  if (!session || !number) {
    throw_error(50768, "Location50768", "Transaction commands require a session id (lsid) and a txnNumber");
  }
  return {*session, *number};
}

std::string txn_text(std::int64_t number) { return "{ txnNumber: " + std::to_string(number) + " }"; }

[[noreturn]] void throw_no_such_transaction(std::int64_t number, const std::string& why) {
  throw_error(251, "NoSuchTransaction", "Transaction with " + txn_text(number) + " " + why);
}

void check_statement_allowed(const CommandContext& context, const std::string& name) {
  Engine& engine = context.engine;
  if (!engine.is_replica_set()) {
    throw_error(20, "IllegalOperation", "Transaction numbers are only allowed on a replica set member or mongos");
  }
  if (get_bool(context.cmd, "autocommit", true)) {
    throw_error(72, "InvalidOptions", "Specifying autocommit=true is not allowed.");
  }
  if (!engine.is_primary()) throw_error(10107, "NotWritablePrimary", "not primary");
  if (context.db == "admin" || context.db == "config" || context.db == "local") {
    throw_error(263, "OperationNotSupportedInTransaction",
                "Cannot run command against the '" + context.db + "' database in a transaction.");
  }
  if (std::find(std::begin(kStatementCommands), std::end(kStatementCommands), name) == std::end(kStatementCommands)) {
    throw_error(263, "OperationNotSupportedInTransaction", "Cannot run '" + name + "' in a multi-document transaction.");
  }
  // 7.0 creates indexes in a transaction only on a collection the transaction itself creates.
  if (name == "createIndexes" && engine.committed_catalog().find(context.db, command_collection(context))) {
    throw_error(263, "OperationNotSupportedInTransaction",
                "Cannot create new indexes on existing collection in a multi-document transaction.");
  }
}

Transaction& start_transaction(Engine& engine, const bson_t* cmd, const TxnId& id) {
  Transaction* current = engine.transactions().find(id.session);
  if (current && current->txn_number > id.txn_number) {
    throw_error(225, "TransactionTooOld",
                "Cannot start transaction " + std::to_string(id.txn_number) + " on session because a newer transaction " +
                    std::to_string(current->txn_number) + " has already started.");
  }
  if (current && current->txn_number == id.txn_number) {
    throw_error(251, "NoSuchTransaction",
                "Given transaction number " + std::to_string(id.txn_number) + " has already been used on this session");
  }
  if (current && current->state == TxnState::kPrepared) {
    throw_error(267, "PreparedTransactionInProgress", "cannot start a new transaction while one is prepared");
  }
  return engine.transactions().start(id.session, *get_document(cmd, "lsid"), id.txn_number, engine.committed_catalog());
}

// The session's transaction `id` names, for commit/abort/prepare; nullptr when it is unknown
// here (older ones are refused).
Transaction* named_transaction(Engine& engine, const TxnId& id) {
  Transaction* txn = engine.transactions().find(id.session);
  if (txn && txn->txn_number > id.txn_number) {
    throw_error(225, "TransactionTooOld", "txnNumber " + std::to_string(id.txn_number) + " is less than last txnNumber " +
                                              std::to_string(txn->txn_number) + " seen in session");
  }
  return txn && txn->txn_number == id.txn_number ? txn : nullptr;
}

// `txn` unless it already committed (256) or aborted (251).
Transaction& unfinished(Transaction& txn) {
  if (txn.state == TxnState::kAborted) throw_no_such_transaction(txn.txn_number, "has been aborted.");
  if (txn.state == TxnState::kCommitted) {
    throw_error(256, "TransactionCommitted", "Transaction " + std::to_string(txn.txn_number) + " has been committed.");
  }
  return txn;
}

// The in-progress transaction a statement continues.
Transaction& continued_transaction(Engine& engine, const bson_t* cmd, const TxnId& id) {
  if (find_field(cmd, "readConcern")) {
    throw_error(72, "InvalidOptions", "Only the first command in a transaction may specify a readConcern");
  }
  Transaction* txn = named_transaction(engine, id);
  if (txn == nullptr) {
    throw_error(251, "NoSuchTransaction", "Given transaction number " + std::to_string(id.txn_number) +
                                              " does not match any in-progress transactions.");
  }
  if (txn->state == TxnState::kPrepared) {
    throw_error(267, "PreparedTransactionInProgress", "Cannot run a statement in a prepared transaction");
  }
  return unfinished(*txn);
}

// A write conflict ends the statement, as on mongod, with a command error (not a writeErrors entry).
Doc surface_write_conflict(const Doc& reply) {
  auto errors = get_document(reply.bson(), "writeErrors");
  if (!errors) return reply;
  bson_iter_t iter;
  bson_iter_init(&iter, errors->bson());
  while (bson_iter_next(&iter)) {
    Doc error = iter_document(&iter);
    if (get_number(error.bson(), "code").value_or(0) == 112) {
      return error_reply(112, "WriteConflict", get_string(error.bson(), "errmsg").value_or("write conflict"));
    }
  }
  return reply;
}

struct ActiveTransaction {
  Engine& engine;
  ActiveTransaction(Engine& e, Transaction& txn) : engine(e) { engine.set_active_transaction(&txn); }
  ~ActiveTransaction() { engine.set_active_transaction(nullptr); }
  ActiveTransaction(const ActiveTransaction&) = delete;
  ActiveTransaction& operator=(const ActiveTransaction&) = delete;
};

// {prevOpTime, lsid, txnNumber}: the fields every transaction oplog entry carries.
void append_transaction_fields(bson_t* out, const Transaction& txn, const OpTime& prev) {
  append_doc(out, "lsid", txn.lsid.bson());
  BSON_APPEND_INT64(out, "txnNumber", txn.txn_number);
  append_optime(out, "prevOpTime", prev);
}

Doc log_transaction_entry(Engine& engine, const Transaction& txn, const bson_t* o, const OpTime& prev) {
  Builder extra;
  append_transaction_fields(extra.get(), txn, prev);
  return engine.log_write({.op = 'c', .ns = "admin.$cmd", .o = o, .extra = extra.get()}, nullptr,
                          ApplyMode::kIdempotent);
}

void append_ops(bson_t* out, const std::vector<Doc>& ops) {
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(out, "applyOps", &array);
  for (std::size_t i = 0; i < ops.size(); ++i) append_doc(&array, std::to_string(i), ops[i].bson());
  bson_append_array_end(out, &array);
}

const OpTime kNoPrevOpTime{-1, {}};

void commit_unprepared(Engine& engine, Transaction& txn) {
  std::vector<Doc> ops = std::move(txn.ops);
  engine.transactions().finish(txn, TxnState::kCommitted);
  if (ops.empty()) return;  // a read-only transaction logs nothing
  Builder o;
  append_ops(o.get(), ops);
  log_transaction_entry(engine, txn, o.get(), kNoPrevOpTime);
}

void commit_prepared(CommandContext& context, Transaction& txn) {
  auto commit_ts = find_field(context.cmd, "commitTimestamp");
  if (!commit_ts || !BSON_ITER_HOLDS_TIMESTAMP(&*commit_ts)) {
    throw_error(50, "InvalidOptions", "commitTransaction of a prepared transaction needs a commitTimestamp");
  }
  Builder o;
  BSON_APPEND_INT32(o.get(), "commitTransaction", 1);
  append_iter(o.get(), "commitTimestamp", &*commit_ts);
  log_transaction_entry(context.engine, txn, o.get(), txn.prepare_optime);
  context.engine.transactions().finish(txn, TxnState::kCommitted);
}

Doc commit_transaction(CommandContext& context) {
  TxnId id = transaction_id(context.cmd);
  Transaction* txn = named_transaction(context.engine, id);
  if (txn == nullptr) {
    // Committed before a failover: this member learnt it from the applyOps entry it replicated.
    if (context.engine.executed_statements(context.cmd)) return ok_reply();
    throw_no_such_transaction(id.txn_number, "does not exist on this member.");
  }
  switch (txn->state) {
    case TxnState::kCommitted: return ok_reply();  // a retried commit
    case TxnState::kAborted: throw_no_such_transaction(id.txn_number, "has been aborted.");
    case TxnState::kPrepared: commit_prepared(context, *txn); break;
    case TxnState::kInProgress: commit_unprepared(context.engine, *txn); break;
  }
  return ok_reply();
}

// The unfinished transaction the command names; NoSuchTransaction when there is none.
Transaction& unfinished_transaction(CommandContext& context) {
  TxnId id = transaction_id(context.cmd);
  Transaction* txn = named_transaction(context.engine, id);
  if (txn == nullptr) throw_no_such_transaction(id.txn_number, "has been aborted.");
  unfinished(*txn);
  return *txn;
}

Doc abort_transaction(CommandContext& context) {
  Transaction* txn = &unfinished_transaction(context);
  if (txn->state == TxnState::kPrepared) {
    Builder o;
    BSON_APPEND_INT32(o.get(), "abortTransaction", 1);
    log_transaction_entry(context.engine, *txn, o.get(), txn->prepare_optime);
  }
  context.engine.transactions().finish(*txn, TxnState::kAborted);
  return ok_reply();
}

Doc prepare_transaction(CommandContext& context) {
  Transaction* txn = &unfinished_transaction(context);
  if (txn->state == TxnState::kInProgress) {
    Builder o;
    append_ops(o.get(), txn->ops);
    BSON_APPEND_BOOL(o.get(), "prepare", true);
    Doc entry = log_transaction_entry(context.engine, *txn, o.get(), kNoPrevOpTime);
    txn->prepare_optime = entry_optime(entry.bson());
    txn->state = TxnState::kPrepared;
    txn->snapshot.reset();  // its writes are in the prepare entry; its locks stay until the outcome
  }
  Builder out;
  BSON_APPEND_TIMESTAMP(out.get(), "prepareTimestamp", txn->prepare_optime.ts.secs, txn->prepare_optime.ts.inc);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

bool has_error_code(const Doc& reply, std::initializer_list<std::int64_t> codes) {
  std::int64_t code = get_number(reply.bson(), "code").value_or(0);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

bool is_transaction_statement(const bson_t* cmd) {
  return find_field(cmd, "autocommit").has_value() && !is_control_command(first_key(cmd));
}

Doc run_transaction_statement(const CommandSpec& spec, CommandContext& context, StatementRunner run) {
  std::string name(spec.name);
  check_statement_allowed(context, name);
  Engine& engine = context.engine;
  engine.transactions().expire_idle(now_millis());
  TxnId id = transaction_id(context.cmd);
  Transaction& txn = get_bool(context.cmd, "startTransaction", false) ? start_transaction(engine, context.cmd, id)
                                                                       : continued_transaction(engine, context.cmd, id);
  Doc reply;
  {
    ActiveTransaction active(engine, txn);
    reply = surface_write_conflict(run(spec, context));
  }
  txn.last_used_ms = now_millis();
  // Any failed statement aborts the transaction, as on mongod.
  if (!is_ok(reply) || find_field(reply.bson(), "writeErrors")) engine.transactions().finish(txn, TxnState::kAborted);
  return reply;
}

Doc with_transaction_labels(const Doc& reply, const bson_t* cmd) {
  if (!find_field(cmd, "autocommit") || (is_ok(reply) && !find_field(reply.bson(), "writeConcernError"))) return reply;
  std::string name = first_key(cmd);
  bool ends = name == "commitTransaction" || name == "abortTransaction";
  bool concern_error = find_field(reply.bson(), "writeConcernError").has_value();
  std::int64_t code = get_number(reply.bson(), "code").value_or(0);
  bool transient = has_error_code(reply, {112, 24, 267}) ||
                   (ends ? code == 251 && !concern_error : code == 251 || is_retryable_code(code));
  bool unknown_commit = name == "commitTransaction" && (concern_error || is_retryable_code(code) || code == 50);
  if (transient) return with_error_label(reply, "TransientTransactionError");
  if (unknown_commit) return with_error_label(reply, "UnknownTransactionCommitResult");
  return reply;
}

void add_transaction_commands(std::vector<CommandSpec>& table) {
  table.push_back({"commitTransaction", commit_transaction, CommandKind::kWrite});
  table.push_back({"abortTransaction", abort_transaction, CommandKind::kWrite});
  table.push_back({"prepareTransaction", prepare_transaction, CommandKind::kWrite});
}

}  // namespace sandbox
