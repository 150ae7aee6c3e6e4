// The state of one member: its catalog, oplog clock, journal, cursors and replica-set state,
// all guarded by one mutex. Commands, replication and elections lock `mutex`, act, and call
// commit() so every write is journalled (fsynced) before it is acknowledged.
//
// The write path: log_write() stamps an oplog entry, applies it through apply_entry (the same
// code secondaries, applyOps and journal replay use), appends it to local.oplog.rs when the
// namespace is replicated, and queues it for the journal. commit() makes the queue durable
// and wakes waiters (awaitData cursors, write concern, replication).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/apply.h"
#include "server/catalog.h"
#include "server/cursors.h"
#include "server/journal.h"
#include "server/oplog.h"
#include "server/transactions.h"

namespace sandbox {

struct ServerOptions {
  std::string bind_ip = "127.0.0.1";
  int port = 27017;
  std::filesystem::path dbpath;
  std::string repl_set;             // empty: standalone
  std::int64_t oplog_size_mb = 0;   // 0: the default (5% of nothing: 64 MB here)
  bool configsvr = false;
  bool shardsvr = false;
  std::string logpath;
  std::string self_host() const { return bind_ip + ":" + std::to_string(port); }
};

enum class MemberState : int {
  kStartup = 0,
  kPrimary = 1,
  kSecondary = 2,
  kRecovering = 3,
  kStartup2 = 5,
  kDown = 8,
  kRemoved = 10,
};
const char* state_name(MemberState state);

struct MemberProgress {
  OpTime applied;
  std::int64_t last_heard_ms = 0;  // when this member last answered or reported (0: never)
  bool healthy = false;
  MemberState state = MemberState::kDown;
};

struct ReplState {
  std::optional<Doc> config;     // the replica set config document ({_id, version, members})
  std::vector<std::string> hosts;
  int self_index = -1;
  MemberState state = MemberState::kStartup;
  std::int64_t term = 0;
  std::int64_t voted_term = 0;   // the term of this member's last vote
  int voted_for = -1;
  std::string primary;           // host of the primary this member believes in ("" if none)
  std::int64_t primary_term = -1;
  OpTime last_committed;         // majority-committed optime
  std::vector<MemberProgress> members;  // indexed like hosts
  std::int64_t step_down_until_ms = 0;  // replSetStepDown: no candidacy before this
  std::int64_t last_primary_contact_ms = 0;
  std::int64_t election_started_ms = 0;
  std::int64_t start_ms = 0;
};

class Engine {
 public:
  explicit Engine(ServerOptions options);

  // Loads persisted data (snapshot, journal, replica set config). Call once before serving.
  void open();

  std::mutex mutex;
  std::condition_variable changed;  // notified after every commit and state change

  // --- everything below REQUIRES `mutex` held ---
  const ServerOptions& options() const { return options_; }
  // What commands read and write: the active transaction's snapshot while a statement of a
  // transaction runs, the committed catalog otherwise.
  Catalog& catalog() { return active_transaction_ != nullptr ? *active_transaction_->snapshot : catalog_; }
  Catalog& committed_catalog() { return catalog_; }
  TransactionTable& transactions() { return transactions_; }
  // While set, log_write records writes in `txn` instead of logging them (nullptr: none).
  void set_active_transaction(Transaction* txn) { active_transaction_ = txn; }
  CursorRegistry& cursors() { return cursors_; }
  ReplState& repl() { return repl_; }
  const ReplState& repl() const { return repl_; }

  bool is_replica_set() const { return !options_.repl_set.empty(); }
  bool is_primary() const { return !is_replica_set() || repl_.state == MemberState::kPrimary; }
  bool is_secondary() const { return repl_.state == MemberState::kSecondary; }
  bool syncs_from_primary() const { return is_secondary() || repl_.state == MemberState::kStartup2; }
  bool writes_oplog() const { return is_replica_set() && repl_.config.has_value(); }
  std::int64_t oplog_size_bytes() const;

  // A primary's write: stamps, applies (strictly) and queues one oplog entry. Throws what
  // apply_entry throws; nothing is queued then. Inside a transaction statement the write goes
  // to the transaction instead (see TransactionTable::record) and the inner op is returned.
  Doc log_write(const EntryFields& fields, const Doc* post_image = nullptr,
                ApplyMode mode = ApplyMode::kStrict);
  // A secondary's (or applyOps') write of an entry that already has its ts and t.
  void apply_replicated(const bson_t* entry);
  // Journals queued entries (fdatasync) and notifies waiters. Idempotent.
  void commit();
  OpTime last_applied() const { return last_applied_; }
  int fsync_locks = 0;  // fsync {lock:true} count: writes wait while it is non-zero
  Timestamp next_timestamp() { return clock_.next(); }
  // The member's logical clock, sent to clients and nodes as $clusterTime. It is the oplog
  // clock, so a time gossiped to this member (advance_cluster_time) makes every later oplog
  // entry sort after it: what causal consistency needs. A standalone keeps no cluster time.
  Timestamp cluster_time() const { return is_replica_set() ? clock_.last() : Timestamp{}; }
  void advance_cluster_time(Timestamp seen) {
    if (is_replica_set()) clock_.observe(seen);
  }

  // Retryable writes. While a write command with lsid and txnNumber runs, its oplog entries
  // carry lsid, txnNumber and stmtId (as real servers write them); every member learns from
  // applied entries which (session, txnNumber) ran, so a retry that reaches a new primary after
  // a failover is answered without executing the write twice.
  void begin_session_write(const bson_t* command);
  void end_session_write() { session_.reset(); }
  // How many oplog entries the command's (lsid, txnNumber) already produced, if it ran.
  std::optional<std::int64_t> executed_statements(const bson_t* command) const;

  // Replica set configuration changes, persisted to replset.bson.
  // From replSetInitiate or a heartbeat; also creates local.oplog.rs unless loading.
  void set_config(Doc config, bool create_oplog = true);
  // replSetInitiate on this member: the config, then the "initiating set" no-op mongod writes,
  // so the initiator holds an optime (and a cluster time) before any election.
  void initiate(Doc config);
  void persist_repl_state();
  void recompute_commit_point();        // majority of members' applied optimes
  void become_primary(std::int64_t term);
  void become_secondary(const std::string& reason);
  // Initial sync: replaces all data with `cloned` (a copy of the sync source taken after
  // `start_entry` was its newest oplog entry), makes start_entry this member's oplog, and
  // checkpoints so the copy is durable.
  void reset_to(Catalog cloned, const Doc& start_entry);
  void checkpoint();                    // on shutdown; also when the journal grows

 private:
  // A member with a config but no data is in STARTUP2 (initial sync) until it holds an optime,
  // as mongod is: it is not a SECONDARY, so no client reads from it and no election counts on it.
  void settle_startup_state();
  void load_repl_state();
  void append_to_oplog(const Doc& entry);
  void note_session(const bson_t* entry);

  struct SessionWrite {
    std::int64_t txn_number = 0;
    std::int64_t statements = 0;
  };
  struct ActiveSession {
    Doc lsid;
    std::int64_t txn_number = 0;
    std::int32_t next_stmt_id = 0;
  };
  std::map<std::string, SessionWrite> session_writes_;  // keyed by the lsid's id bytes
  std::optional<ActiveSession> session_;
  TransactionTable transactions_;
  Transaction* active_transaction_ = nullptr;

  ServerOptions options_;
  Catalog catalog_;
  CursorRegistry cursors_;
  Journal journal_;
  OplogClock clock_;
  ReplState repl_;
  OpTime last_applied_;
  bool dirty_ = false;
};

}  // namespace sandbox
