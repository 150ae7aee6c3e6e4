#include "server/replication.h"

#include <chrono>
#include <random>

#include "server/commands.h"
#include "server/log.h"
#include "server/peer.h"
#include "server/wire.h"

namespace sandbox {
namespace {

using namespace std::chrono_literals;

constexpr auto kHeartbeatInterval = 500ms;
// Generous, so a member slowed by a loaded machine is not taken for dead.
constexpr auto kPeerTimeout = 3000ms;
constexpr std::int64_t kNoopIntervalMs = 10000;

std::int64_t random_election_timeout_ms() {
  static thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_int_distribution<std::int64_t>(4000, 6000)(generator);
}

int config_version(const Engine& engine) {
  if (!engine.repl().config) return 0;
  return static_cast<int>(get_number(engine.repl().config->bson(), "version").value_or(1));
}

// A member that learns of a newer term follows it; a primary of an older term steps down.
void observe_term(Engine& engine, std::int64_t term) {
  ReplState& repl = engine.repl();
  if (term <= repl.term) return;
  repl.term = term;
  if (engine.is_primary()) engine.become_secondary("saw newer term " + std::to_string(term));
  if (repl.primary_term < term) repl.primary.clear();
  engine.persist_repl_state();
}

void note_primary(Engine& engine, int member, std::int64_t term) {
  ReplState& repl = engine.repl();
  if (term < repl.term || member < 0 || member >= static_cast<int>(repl.hosts.size())) return;
  repl.primary = repl.hosts[static_cast<std::size_t>(member)];
  repl.primary_term = term;
  repl.last_primary_contact_ms = now_millis();
}

void note_committed(Engine& engine, const bson_t* doc) {
  if (auto committed = get_optime(doc, "committed"); committed && *committed > engine.repl().last_committed) {
    engine.repl().last_committed = std::min(*committed, engine.last_applied());
  }
}

// The fields both sides of a heartbeat send about themselves.
void append_self(bson_t* out, Engine& engine) {
  const ReplState& repl = engine.repl();
  BSON_APPEND_UTF8(out, "setName", engine.options().repl_set.c_str());
  BSON_APPEND_INT64(out, "term", repl.term);
  BSON_APPEND_INT32(out, "state", static_cast<int>(repl.state));
  BSON_APPEND_INT32(out, "fromId", repl.self_index);
  BSON_APPEND_INT32(out, "configVersion", config_version(engine));
  append_optime(out, "applied", engine.last_applied());
  append_optime(out, "committed", repl.last_committed);
}

void update_member(Engine& engine, int member, const bson_t* info) {
  ReplState& repl = engine.repl();
  if (member < 0 || member >= static_cast<int>(repl.members.size()) || member == repl.self_index) return;
  MemberProgress& progress = repl.members[static_cast<std::size_t>(member)];
  progress.healthy = true;
  progress.last_heard_ms = now_millis();
  progress.state = static_cast<MemberState>(get_number(info, "state").value_or(0));
  if (auto applied = get_optime(info, "applied"); applied && *applied > progress.applied) progress.applied = *applied;
  std::int64_t term = get_number(info, "term").value_or(0);
  observe_term(engine, term);
  if (progress.state == MemberState::kPrimary) {
    note_primary(engine, member, term);
  } else if (repl.primary == repl.hosts[static_cast<std::size_t>(member)]) {
    // The primary stepped down: stand for election soon (the timeout is still randomized).
    repl.primary.clear();
    repl.last_primary_contact_ms = now_millis() - 3000;
  }
  note_committed(engine, info);
  engine.recompute_commit_point();
}

void mark_unreachable(Engine& engine, std::size_t member) {
  ReplState& repl = engine.repl();
  MemberProgress& progress = repl.members[member];
  progress.healthy = false;
  progress.state = MemberState::kDown;
  if (repl.primary == repl.hosts[member]) repl.primary.clear();
}

// Runs a command on a peer, connecting first when needed. Returns nullopt on failure.
std::optional<Doc> ask(PeerConnection& peer, const std::string& host, const Doc& command) {
  try {
    if (!peer.connected() || peer.host() != host) {
      if (!peer.connect(host, 500ms)) return std::nullopt;
    }
    return peer.run(command, kPeerTimeout);
  } catch (const ProtocolError&) {
    return std::nullopt;
  }
}

}  // namespace

Doc handle_heartbeat(Engine& engine, const bson_t* cmd) {
  ReplState& repl = engine.repl();
  if (get_string(cmd, "replSetHeartbeat").value_or("") != engine.options().repl_set) {
    throw_error(93, "InvalidReplicaSetConfig", "replica set name does not match");
  }
  if (auto config = get_document(cmd, "config")) {
    int version = static_cast<int>(get_number(config->bson(), "version").value_or(1));
    if (!repl.config || version > config_version(engine)) {
      engine.set_config(std::move(*config));
      repl.last_primary_contact_ms = now_millis();
      log_line("adopted replica set config version " + std::to_string(version) + " from a heartbeat");
    }
  }
  if (repl.config) update_member(engine, static_cast<int>(get_number(cmd, "fromId").value_or(-1)), cmd);
  Builder out;
  append_self(out.get(), engine);
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc handle_vote_request(Engine& engine, const bson_t* cmd) {
  ReplState& repl = engine.repl();
  std::int64_t term = get_number(cmd, "term").value_or(0);
  int candidate = static_cast<int>(get_number(cmd, "candidateIndex").value_or(-1));
  OpTime candidate_applied = get_optime(cmd, "lastAppliedOpTime").value_or(OpTime{});
  observe_term(engine, term);
  std::string reason;
  if (term < repl.term) {
    reason = "candidate's term is lower than mine";
  } else if (repl.voted_term == term && repl.voted_for != candidate) {
    reason = "already voted for another candidate in this term";
  } else if (candidate_applied < engine.last_applied()) {
    reason = "candidate's data is staler than mine";
  } else if (engine.is_primary()) {
    reason = "I am the primary";
  }
  bool granted = reason.empty();
  if (granted) {
    repl.voted_term = term;
    repl.voted_for = candidate;
    repl.last_primary_contact_ms = now_millis();  // give the candidate time to win
    engine.persist_repl_state();
  }
  Builder out;
  BSON_APPEND_INT64(out.get(), "term", repl.term);
  BSON_APPEND_BOOL(out.get(), "voteGranted", granted);
  BSON_APPEND_UTF8(out.get(), "reason", reason.c_str());
  BSON_APPEND_DOUBLE(out.get(), "ok", 1.0);
  return out.doc();
}

Doc handle_update_position(Engine& engine, const bson_t* cmd) {
  ReplState& repl = engine.repl();
  if (auto optimes = get_document(cmd, "optimes")) {
    bson_iter_t iter;
    bson_iter_init(&iter, optimes->bson());
    while (bson_iter_next(&iter)) {
      Doc item = iter_document(&iter);
      auto member = get_number(item.bson(), "memberId").value_or(-1);
      auto applied = get_optime(item.bson(), "appliedOpTime");
      if (member < 0 || member >= static_cast<std::int64_t>(repl.members.size()) || !applied) continue;
      MemberProgress& progress = repl.members[static_cast<std::size_t>(member)];
      if (*applied > progress.applied) progress.applied = *applied;
      progress.healthy = true;
      progress.last_heard_ms = now_millis();
    }
  }
  engine.recompute_commit_point();
  engine.changed.notify_all();
  return ok_reply();
}

namespace {

struct Snapshot {
  bool ready = false;  // has a config that names this member, and other members
  std::vector<std::string> hosts;
  int self_index = -1;
  Doc heartbeat;       // the replSetHeartbeat command to send
};

Snapshot take_snapshot(Engine& engine) {
  std::lock_guard lock(engine.mutex);
  Snapshot snapshot;
  const ReplState& repl = engine.repl();
  if (!repl.config || repl.self_index < 0 || repl.hosts.size() < 2) return snapshot;
  snapshot.ready = true;
  snapshot.hosts = repl.hosts;
  snapshot.self_index = repl.self_index;
  Builder command;
  BSON_APPEND_UTF8(command.get(), "replSetHeartbeat", engine.options().repl_set.c_str());
  append_doc(command.get(), "config", repl.config->bson());
  append_self(command.get(), engine);
  snapshot.heartbeat = with_db(command.get(), "admin");
  return snapshot;
}

// One election attempt (REQUIRES: the lock is not held). Wins with a majority of votes.
void run_election(Engine& engine, std::vector<PeerConnection>& peers, const Snapshot& snapshot) {
  std::int64_t term;
  Doc request;
  {
    std::lock_guard lock(engine.mutex);
    ReplState& repl = engine.repl();
    term = repl.term + 1;
    repl.term = term;
    repl.voted_term = term;
    repl.voted_for = repl.self_index;
    repl.election_started_ms = now_millis();
    engine.persist_repl_state();
    Builder command;
    BSON_APPEND_INT32(command.get(), "replSetRequestVotes", 1);
    BSON_APPEND_UTF8(command.get(), "setName", engine.options().repl_set.c_str());
    BSON_APPEND_BOOL(command.get(), "dryRun", false);
    BSON_APPEND_INT64(command.get(), "term", term);
    BSON_APPEND_INT32(command.get(), "candidateIndex", repl.self_index);
    BSON_APPEND_INT32(command.get(), "configVersion", config_version(engine));
    append_optime(command.get(), "lastAppliedOpTime", engine.last_applied());
    request = with_db(command.get(), "admin");
  }
  log_line("starting an election for term " + std::to_string(term));
  int votes = 1;
  std::int64_t highest_term = term;
  for (std::size_t i = 0; i < snapshot.hosts.size(); ++i) {
    if (static_cast<int>(i) == snapshot.self_index) continue;
    auto reply = ask(peers[i], snapshot.hosts[i], request);
    if (!reply || !is_ok(*reply)) continue;
    if (get_bool(reply->bson(), "voteGranted", false)) ++votes;
    highest_term = std::max(highest_term, get_number(reply->bson(), "term").value_or(0));
  }
  std::lock_guard lock(engine.mutex);
  ReplState& repl = engine.repl();
  observe_term(engine, highest_term);
  bool won = votes > static_cast<int>(snapshot.hosts.size()) / 2;
  if (won && repl.term == term && engine.is_secondary()) {
    engine.become_primary(term);
  } else {
    log_line("election for term " + std::to_string(term) + " lost with " + std::to_string(votes) + " votes");
    repl.last_primary_contact_ms = now_millis();
  }
}

bool election_due(Engine& engine, std::int64_t timeout_ms) {
  std::lock_guard lock(engine.mutex);
  const ReplState& repl = engine.repl();
  std::int64_t now = now_millis();
  return engine.is_secondary() && repl.primary.empty() && now >= repl.step_down_until_ms &&
         now - repl.last_primary_contact_ms > timeout_ms;
}

// A primary that cannot reach a majority for this long steps down, so a partitioned old
// primary stops taking writes the rest of the set will not have.
constexpr std::int64_t kPrimaryIsolationMs = 10000;

void check_primary_reach(Engine& engine) {
  std::lock_guard lock(engine.mutex);
  ReplState& repl = engine.repl();
  if (!engine.is_primary() || repl.hosts.size() < 2) return;
  std::int64_t now = now_millis();
  int reachable = 1;
  for (std::size_t i = 0; i < repl.members.size(); ++i) {
    if (static_cast<int>(i) != repl.self_index && repl.members[i].healthy) ++reachable;
  }
  if (reachable > static_cast<int>(repl.hosts.size()) / 2) {
    repl.last_primary_contact_ms = now;
  } else if (now - repl.last_primary_contact_ms > kPrimaryIsolationMs) {
    engine.become_secondary("cannot see a majority of the set");
  }
}

}  // namespace

void Replication::heartbeat_loop() {
  std::vector<PeerConnection> peers;
  std::int64_t election_timeout_ms = random_election_timeout_ms();
  while (!stopping_) {
    Snapshot snapshot = take_snapshot(engine_);
    if (snapshot.ready) {
      if (peers.size() != snapshot.hosts.size()) peers = std::vector<PeerConnection>(snapshot.hosts.size());
      for (std::size_t i = 0; i < snapshot.hosts.size(); ++i) {
        if (static_cast<int>(i) == snapshot.self_index) continue;
        auto reply = ask(peers[i], snapshot.hosts[i], snapshot.heartbeat);
        std::lock_guard lock(engine_.mutex);
        if (engine_.repl().members.size() != snapshot.hosts.size()) break;  // config changed
        if (reply && is_ok(*reply)) {
          // Members gossip cluster time through heartbeats too, as mongod does: a member that
          // has not synced yet still knows the set's time, and drivers send it back to it.
          if (auto gossip = gossiped_cluster_time(reply->bson())) engine_.advance_cluster_time(*gossip);
          update_member(engine_, static_cast<int>(i), reply->bson());
        } else {
          mark_unreachable(engine_, i);
        }
      }
      check_primary_reach(engine_);
      if (election_due(engine_, election_timeout_ms)) {
        run_election(engine_, peers, snapshot);
        election_timeout_ms = random_election_timeout_ms();
      }
    }
    std::unique_lock lock(engine_.mutex);
    engine_.changed.wait_for(lock, kHeartbeatInterval, [this] { return stopping_.load(); });
  }
}

void Replication::noop_loop() {
  std::unique_lock lock(engine_.mutex);
  std::int64_t last_write_ms = now_millis();
  while (!stopping_) {
    engine_.changed.wait_for(lock, 1s, [this] { return stopping_.load(); });
    if (stopping_) return;
    if (!engine_.writes_oplog() || !engine_.is_primary()) continue;
    if (now_millis() - last_write_ms < kNoopIntervalMs) continue;
    Builder message;
    BSON_APPEND_UTF8(message.get(), "msg", "periodic noop");
    try {
      engine_.log_write({.op = 'n', .ns = "", .o = message.get()});
      engine_.commit();
    } catch (const std::exception& error) {
      log_line(std::string("periodic noop failed: ") + error.what());
    }
    last_write_ms = now_millis();
  }
}

void Replication::start() {
  threads_.emplace_back(&Replication::heartbeat_loop, this);
  threads_.emplace_back(&Replication::sync_loop, this);
  threads_.emplace_back(&Replication::noop_loop, this);
}

void Replication::stop() {
  stopping_ = true;
  engine_.changed.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace sandbox
