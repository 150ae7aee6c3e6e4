// Multi-document transactions in the oplog, buffered until they commit.
//
// A transaction's operations are spread over one or more applyOps entries (ns "admin.$cmd")
// that carry the session's lsid and txnNumber:
//   - small:    one {applyOps:[...]} entry; it commits implicitly;
//   - large:    {applyOps:[...], partialTxn:true} entries, then a last applyOps without
//               partialTxn that commits;
//   - prepared: the last applyOps has prepare:true; a later {commitTransaction:1} or
//               {abortTransaction:1} entry decides.
// Replay buffers operations per (lsid, txnNumber) and hands them out, in order, at the commit;
// an abort discards them. A transaction still open when replay stops was not committed at
// that point, so its operations are never applied.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "oplog/entry.h"

namespace shardsafe::oplog {

enum class TransactionRole {
  kNone,             // not part of a transaction (CRUD, DDL, retryable writes)
  kPartial,          // applyOps with partialTxn or prepare: buffer its operations
  kCommitWithOps,    // applyOps that commits: its operations plus the buffered ones
  kCommitCommand,    // commitTransaction of a prepared transaction
  kAbort,            // abortTransaction
};

TransactionRole transaction_role(const OplogEntry& entry);

class TransactionBuffer {
 public:
  // Buffers the operations of a kPartial entry.
  void add(const OplogEntry& entry);
  // The committed transaction's operations in oplog order: everything buffered for its session
  // plus, for kCommitWithOps, the entry's own. Forgets the transaction. Throws
  // Error(kCorruptData) for a commitTransaction whose operations were never seen (the range
  // starts after its prepare: replaying it would lose writes).
  std::vector<OplogEntry> commit(const OplogEntry& entry, TransactionRole role);
  // Forgets an aborted transaction.
  void abort(const OplogEntry& entry);
  // Transactions begun but not committed nor aborted.
  std::size_t open_transactions() const { return open_.size(); }

 private:
  // The raw bytes of the lsid document and the txnNumber identify a transaction.
  using Key = std::pair<std::string, std::int64_t>;
  static Key key_of(const OplogEntry& entry);

  std::map<Key, std::vector<OplogEntry>> open_;
};

// The operations inside an applyOps command, each with the carrying entry's ts, t and v.
std::vector<OplogEntry> nested_ops(const OplogEntry& apply_ops_entry);

}  // namespace shardsafe::oplog
