#include "oplog/replay.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "oplog/rules.h"
#include "storage/bson_stream.h"
#include "storage/hash.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;

class ClientCommandRunner : public CommandRunner {
 public:
  explicit ClientCommandRunner(mongo::Client& client) : client_(client) {}
  Bson run_command(const std::string& db, const Bson& command) override { return client_.command(db, command); }

 private:
  mongo::Client& client_;
};

// Rethrows the error being handled with `context` in front, keeping its code (and the server's).
[[noreturn]] void rethrow_with_context(const std::string& context) {
  try {
    throw;
  } catch (const ServerError& e) {
    throw ServerError(e.server_code(), e.code_name(), context + ": " + e.what());
  } catch (const Error& e) {
    throw Error(e.code(), context + ": " + e.what());
  }
}

// A copy of `document` with field `key` replaced by `value` (order kept).
Bson with_field(const Bson& document, std::string_view key, bool value) {
  BsonBuilder out;
  bson_iter_t iter;
  bson_iter_init(&iter, document.get());
  while (bson_iter_next(&iter)) {
    if (key == bson_iter_key(&iter)) {
      out.append(key, value);
    } else {
      out.append_iter(bson_iter_key(&iter), &iter);
    }
  }
  return out.build();
}

// A collection name from `ns` ("db.a.b" -> "a.b").
std::string collection_of(const std::string& ns) { return ns.substr(ns.find('.') + 1); }

bool holds_only_command_name(const Bson& command) { return bson_count_keys(command.get()) == 1; }

}  // namespace

OplogReplayer::OplogReplayer(mongo::Client& target, ReplayOptions options)
    : owned_runner_(std::make_unique<ClientCommandRunner>(target)),
      runner_(*owned_runner_),
      options_(std::move(options)) {}

OplogReplayer::OplogReplayer(CommandRunner& runner, ReplayOptions options)
    : runner_(runner), options_(std::move(options)) {}

void OplogReplayer::check_order(const OplogEntry& entry) {
  if (previous_ts_ && entry.ts <= *previous_ts_) {
    throw Error(ErrorCode::kCorruptData, "oplog entries out of order: ts " + entry.ts.to_string() +
                                             " follows ts " + previous_ts_->to_string());
  }
  previous_ts_ = entry.ts;
}

void OplogReplayer::apply(std::span<const std::uint8_t> bytes) {
  OplogEntry entry = parse_entry(bytes);
  check_order(entry);
  if (options_.up_to && entry.ts > *options_.up_to) reached_end_ = true;
  if (reached_end_) return;
  const mongo::Timestamp ts = entry.ts;
  apply_entry(std::move(entry));
  result_.last_applied = ts;
}

// A top-level entry: transactions are buffered until they commit, everything else is applied.
void OplogReplayer::apply_entry(OplogEntry entry) {
  if (is_skipped_op_type(entry.op)) {
    ++result_.skipped;
    return;
  }
  const TransactionRole role = transaction_role(entry);
  switch (role) {
    case TransactionRole::kNone:
      apply_operation(std::move(entry));
      return;
    case TransactionRole::kPartial:
      transactions_.add(entry);
      return;
    case TransactionRole::kAbort:
      transactions_.abort(entry);
      return;
    case TransactionRole::kCommitWithOps:
    case TransactionRole::kCommitCommand:
      flush_batch();
      for (OplogEntry& op : transactions_.commit(entry, role)) apply_operation(std::move(op));
      flush_batch();
      return;
  }
}

// One operation outside any transaction (or committed by one): filtered, then sent.
void OplogReplayer::apply_operation(OplogEntry op) {
  if (op.op == "c" && op.command_name() == "applyOps") {
    for (OplogEntry& nested : nested_ops(op)) apply_operation(std::move(nested));
    return;
  }
  if (is_skipped_op_type(op.op)) {
    ++result_.skipped;
    return;
  }
  if (op.op != "i" && op.op != "u" && op.op != "d" && op.op != "c") {
    throw Error(ErrorCode::kCorruptData, "oplog entry at " + op.describe() + " has unknown op type \"" + op.op + "\"");
  }
  const std::string target = target_namespace(op);
  if (is_ignored_namespace(target) || (options_.include_namespace && !options_.include_namespace(target))) {
    ++result_.skipped;
    return;
  }
  if (op.op == "c") {
    apply_command(std::move(op));
  } else {
    send(std::move(op));
  }
}

// Commands: skipped, deferred, rewritten or sent as they are (see replay.h).
void OplogReplayer::apply_command(OplogEntry op) {
  const std::string name = op.command_name();
  const std::string ns = target_namespace(op);
  if (is_skipped_command(name)) {
    ++result_.skipped;
    return;
  }
  if (!is_known_command(name)) {
    throw Error(ErrorCode::kUnsupportedVersion, "oplog entry at " + op.describe() + " holds command \"" + name +
                                                    "\", which this version of shardsafe cannot replay");
  }
  if (name == "importCollection" || name == "commitTransaction" || name == "abortTransaction") {
    throw Error(ErrorCode::kCorruptData, "oplog entry at " + op.describe() + " holds command \"" + name +
                                             "\" outside a replayable context (importCollection copies data files "
                                             "the oplog does not hold; transaction commands need lsid and txnNumber)");
  }
  if (name == "createIndexes") {
    indexes_.add(ns, index_spec_from_create_indexes(op.o));
    ++result_.applied;
    return;
  }
  if (name == "commitIndexBuild") {
    for (const Bson& spec : BsonView(op.o).documents("indexes")) indexes_.add(ns, spec);
    ++result_.applied;
    return;
  }
  if (name == "dropIndexes" || name == "deleteIndexes" || name == "dropIndex" || name == "deleteIndex") {
    std::optional<Bson> remaining = indexes_.drop_indexes(ns, op.o);
    if (!remaining) {
      ++result_.applied;
      return;
    }
    op.o = std::move(*remaining);
  } else if (name == "collMod") {
    op.o = without_fields(op.o, {"noPadding", "usePowerOf2Sizes"});
    const auto index_change = BsonView(op.o).document("index");
    if (index_change && indexes_.modify_index(ns, *index_change)) op.o = without_fields(op.o, {"index"});
    if (holds_only_command_name(op.o)) {
      ++result_.applied;
      return;
    }
  } else if (name == "create") {
    op.o = without_fields(op.o, {"recordIdsReplicated"});
  } else if (name == "drop") {
    indexes_.drop_collection(ns);
  } else if (name == "dropDatabase") {
    indexes_.drop_database(op.db());
  } else if (name == "renameCollection") {
    indexes_.rename_collection(ns, BsonView(op.o).string("to").value_or(""));
    // Without UUIDs on the target, a dropTarget naming the dropped collection's UUID means "true".
    bson_iter_t drop_target;
    if (!options_.preserve_uuid && BsonView(op.o).find("dropTarget", &drop_target) &&
        BSON_ITER_HOLDS_BINARY(&drop_target)) {
      op.o = with_field(op.o, "dropTarget", true);
    }
  }
  send(std::move(op));
}

// CRUD joins the batch; a command goes alone, after the batch before it.
void OplogReplayer::send(OplogEntry op) {
  mongo::Bson encoded = encode_for_apply_ops(op, options_.preserve_uuid);
  if (op.op == "c") {
    flush_batch();
    send_alone(op, encoded);
    return;
  }
  if (batch_.size() >= kMaxBatchOps || batch_bytes_ + encoded.bytes().size() > kMaxBatchBytes) flush_batch();
  batch_bytes_ += encoded.bytes().size();
  batch_.push_back(std::move(op));
  batch_encoded_.push_back(std::move(encoded));
}

void OplogReplayer::send_alone(const OplogEntry& op, const Bson& encoded) {
  try {
    runner_.run_command("admin", BsonBuilder().append_array("applyOps", {encoded}).build());
  } catch (const Error&) {
    rethrow_with_context("replaying oplog entry at " + op.describe());
  }
  ++result_.applied;
}

void OplogReplayer::flush_batch() {
  if (batch_.empty()) return;
  std::vector<OplogEntry> entries = std::move(batch_);
  std::vector<Bson> encoded = std::move(batch_encoded_);
  batch_.clear();
  batch_encoded_.clear();
  batch_bytes_ = 0;
  try {
    runner_.run_command("admin", BsonBuilder().append_array("applyOps", encoded).build());
    result_.applied += entries.size();
    return;
  } catch (const Error& error) {
    spdlog::debug("a batch of {} oplog entries failed ({}): replaying them one at a time", entries.size(), error.what());
  }
  for (std::size_t i = 0; i < entries.size(); ++i) send_alone(entries[i], encoded[i]);
}

void OplogReplayer::build_deferred_indexes() {
  for (const auto& [ns, specs] : indexes_.pending()) {
    if (specs.empty()) continue;
    const std::string db = ns.substr(0, ns.find('.'));
    const Bson command =
        BsonBuilder().append("createIndexes", collection_of(ns)).append_array("indexes", specs).build();
    try {
      runner_.run_command(db, command);
    } catch (const Error&) {
      rethrow_with_context("building the indexes the oplog created on \"" + ns + "\"");
    }
  }
}

ReplayResult OplogReplayer::finish() {
  flush_batch();
  build_deferred_indexes();
  return result_;
}

ReplayResult replay_oplog(storage::Source& entries, mongo::Client& target, const ReplayOptions& options) {
  storage::BsonStreamReader reader(entries, "oplog");
  OplogReplayer replayer(target, options);
  while (!replayer.reached_end()) {
    const auto entry = reader.next();
    if (!entry) break;
    replayer.apply(*entry);
  }
  return replayer.finish();
}

ReplayResult replay_oplog_chain(const std::vector<OplogSegment>& segments, CommandRunner& target, const ReplayOptions& options) {
  OplogChainReader reader(segments);
  OplogReplayer replayer(target, options);
  while (!replayer.reached_end()) {
    const auto entry = reader.next();
    if (!entry) break;
    replayer.apply(*entry);
  }
  return replayer.finish();
}

ReplayResult replay_oplog_chain(const std::vector<OplogSegment>& segments, mongo::Client& target, const ReplayOptions& options) {
  ClientCommandRunner runner(target);
  return replay_oplog_chain(segments, runner, options);
}

}  // namespace shardsafe::oplog
