// Replays oplog entries onto a target replica set, with mongorestore --oplogReplay's rules.
//
// Entries are re-encoded as mongorestore does (see oplog/entry.h) and sent in `admin
// {applyOps:[...]}` batches: consecutive CRUD operations share one applyOps (up to
// kMaxBatchOps operations or kMaxBatchBytes), as one command per entry made replay ~100x
// slower than the server can apply. A command is sent alone, after the batch before it; a
// committed transaction's operations form batches of their own. A batch the server refuses is
// sent again one entry at a time (replay is idempotent), so the error names the entry that
// fails. What is skipped, buffered, rewritten or deferred:
//   - skipped: no-ops and legacy op types, "__mdb_internal*" and most config.* namespaces,
//     bookkeeping commands (see oplog/rules.h), namespaces `include_namespace` rejects;
//   - buffered: transactions, until they commit (see oplog/transactions.h);
//   - unwrapped: nested applyOps, whose operations are replayed one by one;
//   - rewritten: `ui` dropped unless preserve_uuid (renameCollection's dropTarget UUID becomes
//     true), create loses recordIdsReplicated, collMod loses noPadding/usePowerOf2Sizes;
//   - deferred: createIndexes and commitIndexBuild, built by finish() with createIndexes
//     (see oplog/deferred_indexes.h).
// Replay stops after `up_to`: an entry with a later ts is not applied, nor is a transaction
// that commits after it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mongo/bson.h"
#include "mongo/client.h"
#include "oplog/deferred_indexes.h"
#include "oplog/entry.h"
#include "oplog/chain_reader.h"
#include "oplog/transactions.h"
#include "storage/stream.h"

namespace shardsafe::oplog {

struct ReplayOptions {
  std::optional<mongo::Timestamp> up_to;  // inclusive; none: replay everything
  bool preserve_uuid = false;             // keep `ui` (the target's collections have the same UUIDs)
  // Decides per namespace ("db.coll", see oplog/rules.h target_namespace); none: everything.
  std::function<bool(const std::string& ns)> include_namespace;
};

// A batch stays well under the server's 16 MiB command limit and its applyOps op count.
inline constexpr std::size_t kMaxBatchOps = 1000;
inline constexpr std::size_t kMaxBatchBytes = 8u << 20;

struct ReplayResult {
  std::uint64_t applied = 0;  // operations sent to the target or deferred index builds
  std::uint64_t skipped = 0;  // entries and operations left out by the rules above
  mongo::Timestamp last_applied;  // ts of the last entry replayed (applied or skipped): the target is there
};

// Where replay sends its commands. The real one runs them on a mongo::Client; tests record them.
class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs `command` on database `db` and returns the reply. Throws ServerError on {ok:0}.
  virtual mongo::Bson run_command(const std::string& db, const mongo::Bson& command) = 0;
};

class OplogReplayer {
 public:
  // `target` (or `runner`) must outlive the replayer. Not thread-safe.
  OplogReplayer(mongo::Client& target, ReplayOptions options);
  OplogReplayer(CommandRunner& runner, ReplayOptions options);

  // Applies one raw entry. REQUIRES: entries in oplog order, not after finish().
  // Throws Error(kCorruptData) for bad BSON, a missing field, or a ts not after the previous
  // entry's; Error(kUnsupportedVersion) naming an unknown command; a server's error as a
  // ServerError whose message names the entry's ts and namespace.
  void apply(std::span<const std::uint8_t> entry);
  // True once an entry after `up_to` was seen: later entries would be ignored too.
  bool reached_end() const { return reached_end_; }
  // Sends the pending batch, builds the deferred indexes and returns the totals. Only then has
  // everything applied reached the target. REQUIRES: called once.
  ReplayResult finish();

 private:
  void apply_entry(OplogEntry entry);
  void apply_operation(OplogEntry op);
  void apply_command(OplogEntry op);
  void build_deferred_indexes();
  void send(OplogEntry op);
  void send_alone(const OplogEntry& op, const mongo::Bson& encoded);
  void flush_batch();
  void check_order(const OplogEntry& entry);

  std::unique_ptr<CommandRunner> owned_runner_;
  CommandRunner& runner_;
  ReplayOptions options_;
  TransactionBuffer transactions_;
  DeferredIndexes indexes_;
  std::vector<OplogEntry> batch_;  // CRUD operations not sent yet, with their encodings
  std::vector<mongo::Bson> batch_encoded_;
  std::size_t batch_bytes_ = 0;
  ReplayResult result_;
  std::optional<mongo::Timestamp> previous_ts_;
  bool reached_end_ = false;
};

// Reads raw entries from `entries` (concatenated BSON, as in mongodump's oplog.bson) and replays
// them onto `target` up to options.up_to; stops reading at the first entry after it.
ReplayResult replay_oplog(storage::Source& entries, mongo::Client& target, const ReplayOptions& options);

// Replays the chain of `segments` (oplog/chain_reader.h) onto `target` up to options.up_to.
ReplayResult replay_oplog_chain(const std::vector<OplogSegment>& segments, CommandRunner& target, const ReplayOptions& options);
ReplayResult replay_oplog_chain(const std::vector<OplogSegment>& segments, mongo::Client& target, const ReplayOptions& options);

}  // namespace shardsafe::oplog
