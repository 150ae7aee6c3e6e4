#include "oplog/transactions.h"

#include "common/error.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonView;

bool in_session_transaction(const OplogEntry& entry) {
  const BsonView view(entry.original);
  return entry.op == "c" && view.has("lsid") && view.has("txnNumber");
}

}  // namespace

TransactionRole transaction_role(const OplogEntry& entry) {
  if (!in_session_transaction(entry)) return TransactionRole::kNone;
  const std::string name = entry.command_name();
  const BsonView o(entry.o);
  if (name == "applyOps") {
    const bool open = o.boolean("partialTxn").value_or(false) || o.boolean("prepare").value_or(false);
    return open ? TransactionRole::kPartial : TransactionRole::kCommitWithOps;
  }
  if (name == "commitTransaction") return TransactionRole::kCommitCommand;
  if (name == "abortTransaction") return TransactionRole::kAbort;
  return TransactionRole::kNone;
}

std::vector<OplogEntry> nested_ops(const OplogEntry& apply_ops_entry) {
  bson_iter_t iter;
  if (!BsonView(apply_ops_entry.o).find("applyOps", &iter) || !BSON_ITER_HOLDS_ARRAY(&iter)) {
    throw Error(ErrorCode::kCorruptData, "applyOps entry at " + apply_ops_entry.describe() +
                                             " has no array of operations");
  }
  std::vector<OplogEntry> ops;
  for (const Bson& op : BsonView(apply_ops_entry.o).documents("applyOps")) {
    ops.push_back(parse_nested_op(op, apply_ops_entry));
  }
  return ops;
}

TransactionBuffer::Key TransactionBuffer::key_of(const OplogEntry& entry) {
  const BsonView view(entry.original);
  const auto lsid = view.document("lsid");
  const auto bytes = lsid ? lsid->bytes() : std::span<const std::uint8_t>{};
  return {std::string(bytes.begin(), bytes.end()), view.integer("txnNumber").value_or(0)};
}

void TransactionBuffer::add(const OplogEntry& entry) {
  auto& ops = open_[key_of(entry)];
  for (OplogEntry& op : nested_ops(entry)) ops.push_back(std::move(op));
}

std::vector<OplogEntry> TransactionBuffer::commit(const OplogEntry& entry, TransactionRole role) {
  const auto found = open_.find(key_of(entry));
  if (found == open_.end() && role == TransactionRole::kCommitCommand) {
    throw Error(ErrorCode::kCorruptData,
                "commitTransaction at " + entry.describe() +
                    " commits a prepared transaction whose operations are not in this oplog range");
  }
  std::vector<OplogEntry> ops;
  if (found != open_.end()) {
    ops = std::move(found->second);
    open_.erase(found);
  }
  if (role == TransactionRole::kCommitWithOps) {
    for (OplogEntry& op : nested_ops(entry)) ops.push_back(std::move(op));
  }
  return ops;
}

void TransactionBuffer::abort(const OplogEntry& entry) { open_.erase(key_of(entry)); }

}  // namespace shardsafe::oplog
