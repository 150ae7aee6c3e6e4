// Multi-document transactions on a replica-set primary: each open transaction reads and writes
// a private snapshot of the catalog and remembers its writes as the operations applyOps will
// hold; commit logs them as one oplog entry (see commands_txn.cpp).
//
// Conflicts: a transaction locks every document it writes. A second transaction writing a
// locked document, or a document that changed since the first transaction's snapshot, gets
// 112 WriteConflict (so no write is lost and nothing becomes visible mid-transaction). A write
// outside transactions to a locked document also gets 112 here, where mongod would make it
// wait for the transaction to end.
//
// Thread safety: none; the Engine's mutex guards the table.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/catalog.h"
#include "server/oplog.h"

namespace sandbox {

enum class TxnState { kInProgress, kPrepared, kCommitted, kAborted };

struct Transaction {
  std::string session;  // session_key of lsid
  Doc lsid;
  std::int64_t txn_number = 0;
  TxnState state = TxnState::kInProgress;
  std::unique_ptr<Catalog> snapshot;  // what its statements see; freed once it is prepared or ends
  std::vector<Doc> ops;               // its writes, {op, ns, ui, o, o2} as applyOps holds them
  std::set<std::string> locked;       // document keys it holds
  std::int64_t last_used_ms = 0;
  OpTime prepare_optime;              // of its prepare entry, once prepared
};

// The key of a session: its lsid's `id` bytes, if it has a binary id.
std::optional<std::string> session_key(const bson_t* lsid);

class TransactionTable {
 public:
  // The session's newest transaction, if any.
  Transaction* find(const std::string& session);
  // Starts transaction `txn_number` on the session (replacing an older, ended one) with a
  // snapshot of `committed`.
  Transaction& start(const std::string& session, Doc lsid, std::int64_t txn_number, const Catalog& committed);
  // Ends it: frees its snapshot and releases its document locks.
  void finish(Transaction& txn, TxnState state);
  // Takes the locks of one write of `txn`, applies it to the snapshot and records it; throws
  // 112 WriteConflict (aborting nothing: the caller aborts) on a conflict.
  Doc record(Transaction& txn, const EntryFields& fields, const Catalog& committed, const Doc* post_image);
  // For writes outside transactions: 112 WriteConflict when an open transaction holds the document.
  void check_unlocked(const EntryFields& fields) const;
  // Aborts unprepared transactions idle for longer than transactionLifetimeLimitSeconds (60 s).
  void expire_idle(std::int64_t now_ms);

 private:
  std::map<std::string, Transaction> sessions_;
  std::map<std::string, std::string> locks_;  // document key -> session holding it
};

[[noreturn]] void throw_write_conflict();

}  // namespace sandbox
