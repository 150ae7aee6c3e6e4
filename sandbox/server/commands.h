// Command dispatch: the table of commands, the checks every command gets (primary-only
// writes, secondaryOk reads, unknown names), write concern, and the handler signature.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/cluster_time.h"
#include "server/engine.h"
#include "server/wire.h"

namespace sandbox {

struct ConnectionInfo {
  std::int64_t id = 0;
  bool client_offered_zlib = false;
};

struct CommandContext {
  Engine& engine;
  const Request& request;
  const bson_t* cmd;                    // the command document
  const std::string& db;                // the database it runs on
  std::unique_lock<std::mutex>& lock;   // holds engine.mutex; handlers may wait on it
  ConnectionInfo& connection;
  ReadConcern read_concern = {};        // parsed (and waited for) before a kRead handler runs
};

enum class CommandKind {
  kAny,    // runs on any member in any state (hello, ping, replSet*, ...)
  kRead,   // on a secondary only with secondaryOk; 13435 otherwise
  kWrite,  // primary only; 10107 NotWritablePrimary otherwise; honours writeConcern
};

using Handler = Doc (*)(CommandContext&);

struct CommandSpec {
  std::string_view name;
  Handler handler;
  CommandKind kind;
};

// Runs one request and returns the reply document (never throws: errors become ok:0 replies).
Doc run_command(Engine& engine, const Request& request, ConnectionInfo& connection);

// Command groups, each defined in its own commands_*.cpp.
void add_admin_commands(std::vector<CommandSpec>& table);
void add_read_commands(std::vector<CommandSpec>& table);
void add_write_commands(std::vector<CommandSpec>& table);
void add_ddl_commands(std::vector<CommandSpec>& table);
void add_catalog_commands(std::vector<CommandSpec>& table);
void add_repl_commands(std::vector<CommandSpec>& table);
void add_auth_commands(std::vector<CommandSpec>& table);  // commands_auth.cpp
void add_transaction_commands(std::vector<CommandSpec>& table);  // commands_txn.cpp

// Transactions (commands_txn.cpp). A statement is a command with `autocommit` other than
// commitTransaction/abortTransaction/prepareTransaction; `run` executes it against the
// transaction's snapshot once the session's transaction is started or found.
using StatementRunner = Doc (*)(const CommandSpec&, CommandContext&);
bool is_transaction_statement(const bson_t* cmd);
Doc run_transaction_statement(const CommandSpec& spec, CommandContext& context, StatementRunner run);
// The errorLabels drivers act on in transactions: TransientTransactionError (retry the whole
// transaction), UnknownTransactionCommitResult (retry the commit).
Doc with_transaction_labels(const Doc& reply, const bson_t* cmd);

// Shared helpers for handlers.
Doc ok_reply();
// Errors after which a retry may succeed (not primary, network, shutdown...).
bool is_retryable_code(std::int64_t code);
// `reply` with `label` added to its errorLabels.
Doc with_error_label(const Doc& reply, const char* label);
// The collection name a command names as its first value (e.g. {find: "c"}); throws
// 73 InvalidNamespace when it is not a non-empty string.
std::string command_collection(const CommandContext& context);
// {cursor:{id, ns, firstBatch|nextBatch:[...]}, ok:1}: takes up to batch_size (0 = no limit)
// documents from cursor.results, at most kMaxBatchBytes; closes the cursor when exhausted.
Doc cursor_reply(Engine& engine, Cursor& cursor, std::int64_t batch_size, bool first_batch);
// A cursor reply for results that need no cursor (all fit, or single batch).
Doc cursor_reply_for(Engine& engine, std::string ns, std::deque<Record> results,
                     std::int64_t batch_size, bool single_batch);

}  // namespace sandbox
