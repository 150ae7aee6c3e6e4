// Replica set commands: replSetInitiate, replSetGetStatus, replSetGetConfig, replSetStepDown,
// the members' internal replSetHeartbeat / replSetRequestVotes / replSetUpdatePosition, and
// applyOps, appendOplogNote, fsync, fsyncUnlock.
#include "server/commands.h"
#include "server/log.h"
#include "server/replication.h"

namespace sandbox {
namespace {

void require_replica_set(const Engine& engine) {
  if (!engine.is_replica_set()) throw_error(76, "NoReplicationEnabled", "not running with --replSet");
}

void require_config(const Engine& engine) {
  require_replica_set(engine);
  if (!engine.repl().config) {
    throw_error(94, "NotYetInitialized", "no replset config has been received");
  }
}

// The config to initiate with: the given one (with version 1 added when missing) or a
// one-member config naming this member.
Doc initiate_config(CommandContext& context) {
  const std::string& set = context.engine.options().repl_set;
  auto given = get_document(context.cmd, "replSetInitiate");
  Builder config;
  if (!given || bson_empty(given->bson())) {
    BSON_APPEND_UTF8(config.get(), "_id", set.c_str());
    BSON_APPEND_INT32(config.get(), "version", 1);
    bson_t members, member;
    BSON_APPEND_ARRAY_BEGIN(config.get(), "members", &members);
    BSON_APPEND_DOCUMENT_BEGIN(&members, "0", &member);
    BSON_APPEND_INT32(&member, "_id", 0);
    BSON_APPEND_UTF8(&member, "host", context.engine.options().self_host().c_str());
    bson_append_document_end(&members, &member);
    bson_append_array_end(config.get(), &members);
    return config.doc();
  }
  if (get_string(given->bson(), "_id").value_or("") != set) {
    throw_error(93, "InvalidReplicaSetConfig",
                "Attempting to initiate a replica set with name " + get_string(given->bson(), "_id").value_or("") +
                    ", but command line reports " + set + "; rejecting");
  }
  bson_concat(config.get(), given->bson());
  if (!find_field(given->bson(), "version")) BSON_APPEND_INT32(config.get(), "version", 1);
  auto members = get_document(given->bson(), "members");
  if (!members || bson_empty(members->bson())) throw_error(93, "InvalidReplicaSetConfig", "replica set config needs members");
  return config.doc();
}

Doc repl_set_initiate(CommandContext& context) {
  Engine& engine = context.engine;
  require_replica_set(engine);
  if (engine.repl().config) throw_error(23, "AlreadyInitialized", "already initialized");
  Doc config = initiate_config(context);
  engine.initiate(config);
  if (engine.repl().self_index < 0) {
    throw_error(93, "InvalidReplicaSetConfig",
                "No host described in new configuration with {version: 1, term: 0} for replica set " +
                    engine.options().repl_set + " maps to this node");
  }
  log_line("replica set initiated: " + json(config.bson()));
  // A one-member set elects itself at once; larger sets elect through the election thread.
  if (engine.repl().hosts.size() == 1) {
    engine.become_primary(engine.repl().term + 1);
  } else {
    engine.repl().last_primary_contact_ms = 0;  // the initiator stands for election at once
  }
  return ok_reply();
}

void append_member_status(bson_t* members, Engine& engine, std::size_t i) {
  const ReplState& repl = engine.repl();
  bool self = static_cast<int>(i) == repl.self_index;
  const MemberProgress& progress = repl.members[i];
  MemberState state = self ? repl.state : (progress.healthy ? progress.state : MemberState::kDown);
  OpTime optime = self ? engine.last_applied() : progress.applied;
  bson_t member;
  BSON_APPEND_DOCUMENT_BEGIN(members, std::to_string(i).c_str(), &member);
  BSON_APPEND_INT32(&member, "_id", static_cast<int>(i));
  BSON_APPEND_UTF8(&member, "name", repl.hosts[i].c_str());
  BSON_APPEND_DOUBLE(&member, "health", self || progress.healthy ? 1.0 : 0.0);
  BSON_APPEND_INT32(&member, "state", static_cast<int>(state));
  BSON_APPEND_UTF8(&member, "stateStr", state_name(state));
  BSON_APPEND_INT64(&member, "uptime", self ? (now_millis() - repl.start_ms) / 1000 : 0);
  append_optime(&member, "optime", optime);
  BSON_APPEND_DATE_TIME(&member, "optimeDate", static_cast<std::int64_t>(optime.ts.secs) * 1000);
  if (!self) BSON_APPEND_DATE_TIME(&member, "lastHeartbeat", progress.last_heard_ms);
  if (self) BSON_APPEND_BOOL(&member, "self", true);
  bson_append_document_end(members, &member);
}

Doc repl_set_get_status(CommandContext& context) {
  Engine& engine = context.engine;
  require_config(engine);
  const ReplState& repl = engine.repl();
  auto majority = static_cast<int>(repl.hosts.size() / 2 + 1);
  Builder out;
  BSON_APPEND_UTF8(out.get(), "set", engine.options().repl_set.c_str());
  BSON_APPEND_DATE_TIME(out.get(), "date", now_millis());
  BSON_APPEND_INT32(out.get(), "myState", static_cast<int>(repl.state));
  BSON_APPEND_INT64(out.get(), "term", repl.term);
  BSON_APPEND_INT64(out.get(), "heartbeatIntervalMillis", 2000);
  BSON_APPEND_INT32(out.get(), "majorityVoteCount", majority);
  BSON_APPEND_INT32(out.get(), "writeMajorityCount", majority);
  BSON_APPEND_INT32(out.get(), "votingMembersCount", static_cast<int>(repl.hosts.size()));
  BSON_APPEND_INT32(out.get(), "writableVotingMembersCount", static_cast<int>(repl.hosts.size()));
  bson_t optimes;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "optimes", &optimes);
  append_optime(&optimes, "lastCommittedOpTime", repl.last_committed);
  append_optime(&optimes, "readConcernMajorityOpTime", repl.last_committed);
  append_optime(&optimes, "appliedOpTime", engine.last_applied());
  append_optime(&optimes, "durableOpTime", engine.last_applied());
  bson_append_document_end(out.get(), &optimes);
  bson_t members;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "members", &members);
  for (std::size_t i = 0; i < repl.hosts.size(); ++i) append_member_status(&members, engine, i);
  bson_append_array_end(out.get(), &members);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc repl_set_get_config(CommandContext& context) {
  require_config(context.engine);
  Builder out;
  append_doc(out.get(), "config", context.engine.repl().config->bson());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

bool has_caught_up_secondary(Engine& engine) {
  const ReplState& repl = engine.repl();
  for (std::size_t i = 0; i < repl.members.size(); ++i) {
    const MemberProgress& member = repl.members[i];
    if (static_cast<int>(i) != repl.self_index && member.healthy && member.state == MemberState::kSecondary &&
        member.applied >= engine.last_applied()) {
      return true;
    }
  }
  return false;
}

// As mongod: unless `force`, waits up to secondaryCatchUpPeriodSecs (10) for a SECONDARY that
// has applied everything this primary has, and stays primary with 262 ExceededTimeLimit when
// none has; a step-down that left no member able to take over would leave the set read-only.
Doc repl_set_step_down(CommandContext& context) {
  Engine& engine = context.engine;
  require_config(engine);
  if (!engine.is_primary()) throw_error(189, "PrimarySteppedDown", "not primary so can't step down");
  std::int64_t seconds = get_number(context.cmd, "replSetStepDown").value_or(60);
  if (!get_bool(context.cmd, "force", false)) {
    const auto catch_up = std::chrono::seconds(get_number(context.cmd, "secondaryCatchUpPeriodSecs").value_or(10));
    if (!engine.changed.wait_for(context.lock, catch_up, [&] { return !engine.is_primary() || has_caught_up_secondary(engine); })) {
      throw_error(262, "ExceededTimeLimit", "No electable secondaries caught up as of " + timestamp_text(engine.last_applied().ts) +
                                                ". Please use the replSetStepDown command with the argument {force: true} "
                                                "to force node to step down.");
    }
    if (!engine.is_primary()) throw_error(189, "PrimarySteppedDown", "not primary so can't step down");
  }
  engine.repl().step_down_until_ms = now_millis() + seconds * 1000;
  engine.become_secondary("replSetStepDown");
  return ok_reply();
}

Doc applied_ops_reply(int applied, const Builder& results) {
  Builder out;
  BSON_APPEND_INT32(out.get(), "applied", applied);
  append_array(out.get(), "results", results.get());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

// Applies each operation (idempotently, like oplog application) and logs it as a new entry
// of this member's oplog. `t` may be null or absent: the new entry gets this member's term.
Doc apply_ops(CommandContext& context) {
  auto ops = get_document(context.cmd, "applyOps");
  if (!ops) throw_error(14, "TypeMismatch", "applyOps must be an array");
  Builder results;
  int applied = 0;
  bson_iter_t iter;
  bson_iter_init(&iter, ops->bson());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) throw_error(14, "TypeMismatch", "applyOps entries must be documents");
    Doc op = iter_document(&iter);
    auto op_type = get_string(op.bson(), "op").value_or("");
    auto ns = get_string(op.bson(), "ns").value_or("");
    auto o = get_document(op.bson(), "o");
    if (op_type.size() != 1 || std::string("iudcn").find(op_type[0]) == std::string::npos || !o) {
      throw_error(2, "BadValue", "invalid applyOps entry: " + json(op.bson()));
    }
    auto o2 = get_document(op.bson(), "o2");
    EntryFields fields{.op = op_type[0], .ns = ns, .ui = get_uuid(op.bson(), "ui"), .o = o->bson(),
                       .o2 = o2 ? o2->bson() : nullptr};
    context.engine.log_write(fields, nullptr, ApplyMode::kIdempotent);
    BSON_APPEND_BOOL(results.get(), std::to_string(applied).c_str(), true);
    ++applied;
  }
  return applied_ops_reply(applied, results);
}

Doc append_oplog_note(CommandContext& context) {
  require_config(context.engine);
  if (!context.engine.is_primary()) throw_error(10107, "NotWritablePrimary", "not primary");
  auto data = get_document(context.cmd, "data");
  if (!data) throw_error(40414, "Location40414", "BSON field 'appendOplogNote.data' is missing but a required field");
  context.engine.log_write({.op = 'n', .ns = "", .o = data->bson()});
  return ok_reply();
}

Doc fsync(CommandContext& context) {
  Engine& engine = context.engine;
  engine.checkpoint();
  Builder out;
  if (get_bool(context.cmd, "lock", false)) {
    ++engine.fsync_locks;
    BSON_APPEND_UTF8(out.get(), "info", "now locked against writes, use db.fsyncUnlock() to unlock");
    BSON_APPEND_INT64(out.get(), "lockCount", engine.fsync_locks);
  } else {
    BSON_APPEND_INT32(out.get(), "numFiles", 1);
  }
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc fsync_unlock(CommandContext& context) {
  Engine& engine = context.engine;
  if (engine.fsync_locks == 0) throw_error(125, "CommandFailed", "fsyncUnlock called when not locked");
  --engine.fsync_locks;
  engine.changed.notify_all();
  Builder out;
  BSON_APPEND_UTF8(out.get(), "info", engine.fsync_locks == 0 ? "fsyncUnlock completed" : "fsyncUnlock: still locked");
  BSON_APPEND_INT64(out.get(), "lockCount", engine.fsync_locks);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc heartbeat(CommandContext& context) {
  require_replica_set(context.engine);
  return handle_heartbeat(context.engine, context.cmd);
}

Doc request_votes(CommandContext& context) {
  require_config(context.engine);
  return handle_vote_request(context.engine, context.cmd);
}

Doc update_position(CommandContext& context) {
  require_config(context.engine);
  return handle_update_position(context.engine, context.cmd);
}

}  // namespace

void add_repl_commands(std::vector<CommandSpec>& table) {
  table.insert(table.end(), {
      {"replSetInitiate", repl_set_initiate, CommandKind::kAny},
      {"replSetGetStatus", repl_set_get_status, CommandKind::kAny},
      {"replSetGetConfig", repl_set_get_config, CommandKind::kAny},
      {"replSetStepDown", repl_set_step_down, CommandKind::kAny},
      {"replSetHeartbeat", heartbeat, CommandKind::kAny},
      {"replSetRequestVotes", request_votes, CommandKind::kAny},
      {"replSetUpdatePosition", update_position, CommandKind::kAny},
      {"applyOps", apply_ops, CommandKind::kWrite},
      {"appendOplogNote", append_oplog_note, CommandKind::kAny},
      {"fsync", fsync, CommandKind::kAny},
      {"fsyncUnlock", fsync_unlock, CommandKind::kAny},
  });
}

}  // namespace sandbox
