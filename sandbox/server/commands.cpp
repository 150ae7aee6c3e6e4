#include "server/commands.h"

#include <algorithm>
#include <chrono>

#include "server/log.h"

namespace sandbox {
namespace {

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = [] {
    std::vector<CommandSpec> all;
    add_admin_commands(all);
    add_read_commands(all);
    add_write_commands(all);
    add_ddl_commands(all);
    add_catalog_commands(all);
    add_repl_commands(all);
    add_auth_commands(all);
    add_transaction_commands(all);
    return all;
  }();
  return table;
}

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& spec : command_table()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// How many members (this one included) have applied `target`.
int members_at(Engine& engine, const OpTime& target) {
  ReplState& repl = engine.repl();
  if (repl.members.empty()) return 1;
  int count = 0;
  for (std::size_t i = 0; i < repl.members.size(); ++i) {
    OpTime applied = static_cast<int>(i) == repl.self_index ? engine.last_applied()
                                                            : repl.members[i].applied;
    if (applied >= target) ++count;
  }
  return count;
}

// Waits for {w: "majority" | n} (REQUIRES the lock). Returns a writeConcernError document
// when it cannot be satisfied in time, nothing otherwise.
std::optional<Doc> wait_for_write_concern(CommandContext& context) {
  auto concern = get_document(context.cmd, "writeConcern");
  Engine& engine = context.engine;
  if (!concern || !engine.writes_oplog()) return std::nullopt;
  int needed = 1;
  auto w = find_field(concern->bson(), "w");
  if (w && BSON_ITER_HOLDS_UTF8(&*w)) {
    needed = static_cast<int>(engine.repl().members.size() / 2 + 1);
  } else if (w) {
    needed = static_cast<int>(iter_number(&*w).value_or(1));
  }
  if (needed <= 1) return std::nullopt;
  std::int64_t timeout_ms = get_number(concern->bson(), "wtimeout").value_or(0);
  if (timeout_ms <= 0) timeout_ms = 60000;
  OpTime target = engine.last_applied();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (members_at(engine, target) < needed) {
    if (!engine.is_primary()) {
      return error_reply(189, "PrimarySteppedDown", "primary stepped down while waiting for replication");
    }
    if (engine.changed.wait_until(context.lock, deadline) == std::cv_status::timeout &&
        members_at(engine, target) < needed) {
      return error_reply(64, "WriteConcernFailed", "waiting for replication timed out");
    }
  }
  return std::nullopt;
}

Doc with_write_concern_error(const Doc& reply, const Doc& error) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, reply.bson());
  while (bson_iter_next(&iter)) append_iter(out.get(), bson_iter_key(&iter), &iter);
  Builder concern_error;
  bson_iter_init(&iter, error.bson());
  while (bson_iter_next(&iter)) {
    if (std::string_view(bson_iter_key(&iter)) != "ok") {
      append_iter(concern_error.get(), bson_iter_key(&iter), &iter);
    }
  }
  append_doc(out.get(), "writeConcernError", concern_error.get());
  return out.doc();
}

std::optional<Doc> check_member_state(Engine& engine, const CommandSpec& spec,
                                      const Request& request) {
  if (!engine.is_replica_set() || engine.is_primary() || request.db == "local") return std::nullopt;
  if (spec.kind == CommandKind::kWrite) {
    return error_reply(10107, "NotWritablePrimary", "not primary");
  }
  if (spec.kind == CommandKind::kRead && !request.secondary_ok) {
    return error_reply(13435, "NotPrimaryNoSecondaryOk", "not primary and secondaryOk=false");
  }
  if (spec.kind == CommandKind::kRead && !engine.is_secondary()) {
    return error_reply(13436, "NotPrimaryOrSecondary", "node is not in primary or recovering state");
  }
  return std::nullopt;
}

// What a read with this concern sees: the majority commit point or the last applied optime.
// It is also the reply's operationTime.
Timestamp visible_time(const Engine& engine, const ReadConcern& concern) {
  return concern.reads_majority_committed() ? engine.repl().last_committed.ts : engine.last_applied().ts;
}

// A primary that has not written up to afterClusterTime (it learnt the time by gossip) writes a
// no-op, as mongod does, so the read does not wait for an unrelated write.
void write_noop_up_to(Engine& engine, Timestamp cluster_time) {
  if (!engine.is_primary() || engine.last_applied().ts >= cluster_time) return;
  Builder note;
  BSON_APPEND_INT32(note.get(), "noop write for afterClusterTime read concern", 1);
  engine.log_write({.op = 'n', .ns = "", .o = note.get()});
  engine.commit();
}

// readConcern afterClusterTime (REQUIRES the lock): waits until what this member's reads see
// includes the time the client has seen, for maxTimeMS (else a minute), then 50 MaxTimeMSExpired.
void wait_for_cluster_time(CommandContext& context) {
  const ReadConcern& concern = context.read_concern;
  if (!concern.after_cluster_time) return;
  Engine& engine = context.engine;
  Timestamp target = *concern.after_cluster_time;
  if (target > engine.cluster_time()) {
    throw_error(72, "InvalidOptions",
                "readConcern afterClusterTime value must not be greater than the current clusterTime. Requested "
                "clusterTime: " + timestamp_text(target) + "; current clusterTime: " + timestamp_text(engine.cluster_time()));
  }
  write_noop_up_to(engine, target);
  std::int64_t timeout_ms = get_number(context.cmd, "maxTimeMS").value_or(0);
  if (timeout_ms <= 0) timeout_ms = 60000;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (visible_time(engine, concern) < target) {
    if (engine.changed.wait_until(context.lock, deadline) == std::cv_status::timeout &&
        visible_time(engine, concern) < target) {
      throw_error(50, "MaxTimeMSExpired", "operation exceeded time limit waiting for afterClusterTime " +
                                              timestamp_text(target));
    }
  }
}

Doc command_error_reply(const CommandError& error) {
  Builder out;
  Doc base = error_reply(error);
  bson_concat(out.get(), base.bson());
  error.append_details(out.get());
  return out.doc();
}

Doc run_handler(const CommandSpec& spec, CommandContext& context) {
  try {
    if (spec.kind == CommandKind::kRead) {
      context.read_concern = parse_read_concern(context.cmd);
      wait_for_cluster_time(context);
    }
    return spec.handler(context);
  } catch (const CommandError& error) {
    return command_error_reply(error);
  }
}

// Errors of the transaction's checks (no such transaction...) are replies too.
Doc run_handler_in_transaction(const CommandSpec& spec, CommandContext& context) {
  try {
    return run_transaction_statement(spec, context, run_handler);
  } catch (const CommandError& error) {
    return command_error_reply(error);
  }
}

// Drivers retry a write only when the server labels its failure RetryableWriteError (wire
// version >= 9), as real servers do for commands that carry a txnNumber; inside a transaction
// only its commit and abort are retried so.
Doc with_retry_label(const Doc& reply, const Request& request) {
  if (!find_field(request.command.bson(), "txnNumber") || is_transaction_statement(request.command.bson())) return reply;
  std::int64_t code = get_number(reply.bson(), "code").value_or(0);
  if (auto concern = get_document(reply.bson(), "writeConcernError")) {
    code = code != 0 ? code : get_number(concern->bson(), "code").value_or(0);
  }
  if (!is_retryable_code(code)) return reply;
  return with_error_label(reply, "RetryableWriteError");
}

Doc run_command_locked(Engine& engine, const Request& request, ConnectionInfo& connection,
                       std::unique_lock<std::mutex>& lock, std::optional<Timestamp>& operation_time);

// A retried insert/update/delete whose (lsid, txnNumber) already ran here or on the primary
// this member replicated from: the reply a real server gives, without running it again.
std::optional<Doc> already_executed(Engine& engine, const std::string& name, const bson_t* command) {
  if (name != "insert" && name != "update" && name != "delete") return std::nullopt;
  auto statements = engine.executed_statements(command);
  if (!statements) return std::nullopt;
  Builder out;
  BSON_APPEND_INT32(out.get(), "n", static_cast<std::int32_t>(*statements));
  if (name == "update") BSON_APPEND_INT32(out.get(), "nModified", static_cast<std::int32_t>(*statements));
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

}  // namespace

// Replica-set members gossip cluster time: a command's $clusterTime advances this member's
// clock before it runs, and every reply, errors included, says the member's cluster time and
// the operationTime a causally consistent session reads after next.
Doc run_command(Engine& engine, const Request& request, ConnectionInfo& connection) {
  std::unique_lock lock(engine.mutex);
  if (auto gossip = gossiped_cluster_time(request.command.bson())) engine.advance_cluster_time(*gossip);
  std::optional<Timestamp> operation_time;
  Doc reply = with_retry_label(run_command_locked(engine, request, connection, lock, operation_time), request);
  reply = with_transaction_labels(reply, request.command.bson());
  if (!engine.is_replica_set()) return reply;
  return with_logical_times(reply, engine.cluster_time(), operation_time.value_or(engine.last_applied().ts));
}

namespace {

// `operation_time` is set once the handler ran: for a write, the optime of its last oplog entry
// (or, having written none, the last applied one, as mongod answers no-op writes); for a read,
// what it saw.
Doc run_command_locked(Engine& engine, const Request& request, ConnectionInfo& connection,
                       std::unique_lock<std::mutex>& lock, std::optional<Timestamp>& operation_time) {
  std::string name = first_key(request.command.bson());
  if (name == "$legacyFind") {
    return error_reply(5739101, "Location5739101",
                       "OP_QUERY is no longer supported except for commands on $cmd");
  }
  const CommandSpec* spec = find_command(name);
  if (spec == nullptr) {
    return error_reply(59, "CommandNotFound", "no such command: '" + name + "'");
  }
  if (auto refused = check_member_state(engine, *spec, request)) return *refused;
  CommandContext context{engine, request, request.command.bson(), request.db, lock, connection};
  if (spec->kind == CommandKind::kWrite) {
    engine.changed.wait(lock, [&] { return engine.fsync_locks == 0; });
    if (auto refused = check_member_state(engine, *spec, request)) return *refused;
  }
  Doc reply;
  try {
    if (is_transaction_statement(context.cmd)) {
      reply = run_handler_in_transaction(*spec, context);
    } else {
      if (auto retried = already_executed(engine, name, request.command.bson())) return *retried;
      if (spec->kind == CommandKind::kWrite) engine.begin_session_write(request.command.bson());
      reply = run_handler(*spec, context);
    }
    engine.end_session_write();
    engine.commit();
    operation_time = visible_time(engine, context.read_concern);
  } catch (const std::exception& error) {
    // Storage failures (journal I/O) and bugs: the client gets an error, the member goes on.
    engine.end_session_write();
    log_line("command " + name + " failed: " + error.what());
    try {
      engine.commit();
    } catch (const std::exception&) {
    }
    return error_reply(1, "InternalError", error.what());
  }
  if (spec->kind == CommandKind::kWrite) {
    if (auto concern_error = wait_for_write_concern(context)) {
      return with_write_concern_error(reply, *concern_error);
    }
  }
  return reply;
}

}  // namespace

bool is_retryable_code(std::int64_t code) {
  static constexpr std::int64_t kCodes[] = {6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 134, 150};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

Doc with_error_label(const Doc& reply, const char* label) {
  Builder out;
  bson_iter_t iter;
  bson_iter_init(&iter, reply.bson());
  while (bson_iter_next(&iter)) {
    if (std::string_view(bson_iter_key(&iter)) != "errorLabels") append_iter(out.get(), bson_iter_key(&iter), &iter);
  }
  bson_t labels;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "errorLabels", &labels);
  int count = 0;
  bool present = false;
  if (auto existing = get_document(reply.bson(), "errorLabels")) {
    bson_iter_init(&iter, existing->bson());
    while (bson_iter_next(&iter)) {
      present = present || (BSON_ITER_HOLDS_UTF8(&iter) && std::string_view(bson_iter_utf8(&iter, nullptr)) == label);
      append_iter(&labels, std::to_string(count++), &iter);
    }
  }
  if (!present) BSON_APPEND_UTF8(&labels, std::to_string(count).c_str(), label);
  bson_append_array_end(out.get(), &labels);
  return out.doc();
}

Doc ok_reply() {
  Builder out;
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

std::string command_collection(const CommandContext& context) {
  bson_iter_t iter;
  if (!bson_iter_init(&iter, context.cmd) || !bson_iter_next(&iter) ||
      !BSON_ITER_HOLDS_UTF8(&iter) || bson_iter_utf8(&iter, nullptr)[0] == '\0') {
    throw_error(73, "InvalidNamespace",
                "collection name has invalid type or is empty for " + first_key(context.cmd));
  }
  std::string name = bson_iter_utf8(&iter, nullptr);
  validate_db_name(context.db);
  return name;
}

Doc cursor_reply(Engine& engine, Cursor& cursor, std::int64_t batch_size, bool first_batch) {
  Builder out;
  bson_t cursor_doc, batch;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "cursor", &cursor_doc);
  bson_append_array_begin(&cursor_doc, first_batch ? "firstBatch" : "nextBatch", -1, &batch);
  std::size_t bytes = 0;
  std::int64_t count = 0;
  char key_buffer[16];
  while (!cursor.results.empty() && (batch_size <= 0 || count < batch_size)) {
    const Record& record = cursor.results.front();
    if (count > 0 && bytes + record->size() > kMaxBatchBytes) break;
    const char* key = nullptr;
    std::size_t key_length = bson_uint32_to_string(static_cast<std::uint32_t>(count), &key,
                                                    key_buffer, sizeof key_buffer);
    bson_append_document(&batch, key, static_cast<int>(key_length), record->bson());
    bytes += record->size();
    ++count;
    cursor.results.pop_front();
  }
  bson_append_array_end(&cursor_doc, &batch);
  bool exhausted = cursor.results.empty() && !cursor.tailable;
  BSON_APPEND_INT64(&cursor_doc, "id", exhausted ? 0 : cursor.id);
  BSON_APPEND_UTF8(&cursor_doc, "ns", cursor.ns.c_str());
  bson_append_document_end(out.get(), &cursor_doc);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  if (exhausted && cursor.id != 0) engine.cursors().close(cursor.id);
  return out.doc();
}

Doc cursor_reply_for(Engine& engine, std::string ns, std::deque<Record> results,
                     std::int64_t batch_size, bool single_batch) {
  Cursor cursor;
  cursor.ns = std::move(ns);
  cursor.results = std::move(results);
  // A cursor that is not registered keeps id 0: the reply says "exhausted".
  if (single_batch) return cursor_reply(engine, cursor, batch_size, true);
  Cursor* stored = &cursor;
  std::size_t fits = 0;
  std::size_t bytes = 0;
  for (const Record& record : cursor.results) {
    if ((batch_size > 0 && static_cast<std::int64_t>(fits) >= batch_size) ||
        (fits > 0 && bytes + record->size() > kMaxBatchBytes)) {
      break;
    }
    bytes += record->size();
    ++fits;
  }
  if (fits < cursor.results.size()) stored = &engine.cursors().open(std::move(cursor));
  return cursor_reply(engine, *stored, batch_size, true);
}

}  // namespace sandbox
