#include "server/engine.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "server/log.h"

namespace sandbox {
namespace {

constexpr std::int64_t kDefaultOplogMb = 64;

}  // namespace

const char* state_name(MemberState state) {
  switch (state) {
    case MemberState::kStartup: return "STARTUP";
    case MemberState::kPrimary: return "PRIMARY";
    case MemberState::kSecondary: return "SECONDARY";
    case MemberState::kRecovering: return "RECOVERING";
    case MemberState::kStartup2: return "STARTUP2";
    case MemberState::kDown: return "(not reachable/healthy)";
    case MemberState::kRemoved: return "REMOVED";
  }
  return "UNKNOWN";
}

Engine::Engine(ServerOptions options)
    : options_(std::move(options)), journal_(options_.dbpath) {
  repl_.start_ms = now_millis();
  // A restarted member first listens for a primary's heartbeats before it runs for election.
  repl_.last_primary_contact_ms = repl_.start_ms;
}

std::int64_t Engine::oplog_size_bytes() const {
  std::int64_t mb = options_.oplog_size_mb > 0 ? options_.oplog_size_mb : kDefaultOplogMb;
  return mb * 1024 * 1024;
}

void Engine::open() {
  std::filesystem::create_directories(options_.dbpath);
  load_repl_state();
  journal_.load(catalog_, [this](const Doc& entry_doc, const Doc* post_image) {
    const bson_t* entry = entry_doc.bson();
    note_session(entry);
    try {
      apply_entry(catalog_, entry, ApplyMode::kIdempotent, post_image);
    } catch (const CommandError& error) {
      log_line("journal replay: entry not applied: " + std::string(error.what()));
    }
    auto ns = get_string(entry, "ns").value_or("");
    if (writes_oplog() && is_replicated_namespace(ns)) append_to_oplog(entry_doc);
  });
  if (writes_oplog()) {
    ensure_oplog(catalog_, oplog_size_bytes());
    const auto& records = catalog_.require(kOplogDb, kOplogColl).records();
    if (!records.empty()) {
      last_applied_ = entry_optime(records.rbegin()->second->bson());
      clock_.observe(last_applied_.ts);
    }
    // A one-member set needs no election: it is primary again as soon as it is back.
    settle_startup_state();
    if (repl_.hosts.size() == 1 && repl_.self_index == 0) become_primary(repl_.term + 1);
  }
}

void Engine::append_to_oplog(const Doc& entry) {
  ensure_oplog(catalog_, oplog_size_bytes()).insert(entry);
  last_applied_ = entry_optime(entry.bson());
}

namespace {

Doc with_session_fields(const Doc& entry, const Doc& lsid, std::int64_t txn_number, std::int32_t stmt_id) {
  Builder out;
  bson_concat(out.get(), entry.bson());
  append_doc(out.get(), "lsid", lsid.bson());
  BSON_APPEND_INT64(out.get(), "txnNumber", txn_number);
  BSON_APPEND_INT32(out.get(), "stmtId", stmt_id);
  return out.doc();
}

}  // namespace

void Engine::begin_session_write(const bson_t* command) {
  auto lsid = get_document(command, "lsid");
  auto txn_number = get_number(command, "txnNumber");
  if (!lsid || !txn_number || !session_key(lsid->bson())) return;
  session_ = ActiveSession{std::move(*lsid), *txn_number, 0};
}

std::optional<std::int64_t> Engine::executed_statements(const bson_t* command) const {
  auto lsid = get_document(command, "lsid");
  auto txn_number = get_number(command, "txnNumber");
  if (!lsid || !txn_number) return std::nullopt;
  auto key = session_key(lsid->bson());
  if (!key) return std::nullopt;
  auto found = session_writes_.find(*key);
  if (found == session_writes_.end() || found->second.txn_number != *txn_number) return std::nullopt;
  return found->second.statements;
}

void Engine::note_session(const bson_t* entry) {
  auto lsid = get_document(entry, "lsid");
  auto txn_number = get_number(entry, "txnNumber");
  if (!lsid || !txn_number) return;
  auto key = session_key(lsid->bson());
  if (!key) return;
  SessionWrite& write = session_writes_[*key];
  if (*txn_number > write.txn_number) write = SessionWrite{*txn_number, 0};
  if (*txn_number == write.txn_number) ++write.statements;
}

Doc Engine::log_write(const EntryFields& fields, const Doc* post_image, ApplyMode mode) {
  if (active_transaction_ != nullptr) return transactions_.record(*active_transaction_, fields, catalog_, post_image);
  transactions_.check_unlocked(fields);
  Doc entry = make_entry(fields, clock_.next(), repl_.term);
  if (session_ && fields.op != 'c' && fields.op != 'n') {
    entry = with_session_fields(entry, session_->lsid, session_->txn_number, session_->next_stmt_id++);
  }
  apply_entry(catalog_, entry.bson(), mode, post_image);
  note_session(entry.bson());
  if (writes_oplog() && is_replicated_namespace(fields.ns)) append_to_oplog(entry);
  journal_.append(entry, post_image);
  dirty_ = true;
  return entry;
}

void Engine::apply_replicated(const bson_t* entry) {
  Doc copy = Doc::copy_of(entry);
  apply_entry(catalog_, entry, ApplyMode::kIdempotent);
  note_session(entry);
  if (writes_oplog() && is_replicated_namespace(get_string(entry, "ns").value_or(""))) {
    append_to_oplog(copy);
  }
  clock_.observe(entry_timestamp(entry));
  journal_.append(copy, nullptr);
  dirty_ = true;
}

void Engine::commit() {
  if (!dirty_) return;
  journal_.sync();
  dirty_ = false;
  if (repl_.self_index >= 0) {
    repl_.members[static_cast<std::size_t>(repl_.self_index)].applied = last_applied_;
  }
  recompute_commit_point();
  if (journal_.wants_checkpoint()) journal_.checkpoint(catalog_);
  changed.notify_all();
}

void Engine::reset_to(Catalog cloned, const Doc& start_entry) {
  catalog_ = std::move(cloned);
  catalog_.drop_database(kOplogDb);
  cursors_ = CursorRegistry{};
  ensure_oplog(catalog_, oplog_size_bytes());
  append_to_oplog(start_entry);
  clock_.observe(last_applied_.ts);
  settle_startup_state();
  checkpoint();
  changed.notify_all();
}

void Engine::checkpoint() {
  journal_.sync();
  journal_.checkpoint(catalog_);
}

void Engine::recompute_commit_point() {
  if (repl_.members.empty()) {
    repl_.last_committed = last_applied_;
    return;
  }
  std::vector<OpTime> applied;
  for (std::size_t i = 0; i < repl_.members.size(); ++i) {
    applied.push_back(static_cast<int>(i) == repl_.self_index ? last_applied_
                                                              : repl_.members[i].applied);
  }
  std::sort(applied.begin(), applied.end(), std::greater<>());
  OpTime majority = applied[applied.size() / 2];
  if (majority > repl_.last_committed) {
    repl_.last_committed = majority;
    changed.notify_all();
  }
}

void Engine::set_config(Doc config, bool create_oplog) {
  repl_.config = std::move(config);
  repl_.hosts.clear();
  repl_.self_index = -1;
  auto members = get_document(repl_.config->bson(), "members");
  bson_iter_t iter;
  if (members && bson_iter_init(&iter, members->bson())) {
    while (bson_iter_next(&iter)) {
      Doc member = iter_document(&iter);
      std::string host = get_string(member.bson(), "host").value_or("");
      if (host == options_.self_host() || host == "localhost:" + std::to_string(options_.port)) {
        repl_.self_index = static_cast<int>(repl_.hosts.size());
      }
      repl_.hosts.push_back(host);
    }
  }
  repl_.members.assign(repl_.hosts.size(), MemberProgress{});
  if (create_oplog) ensure_oplog(catalog_, oplog_size_bytes());
  settle_startup_state();
  persist_repl_state();
  changed.notify_all();
}

void Engine::settle_startup_state() {
  if (!repl_.config || (repl_.state != MemberState::kStartup && repl_.state != MemberState::kStartup2)) return;
  repl_.state = last_applied_.ts.is_null() ? MemberState::kStartup2 : MemberState::kSecondary;
}

void Engine::initiate(Doc config) {
  set_config(std::move(config));
  if (repl_.self_index < 0) return;  // the command refuses such a config
  Builder message;
  BSON_APPEND_UTF8(message.get(), "msg", "initiating set");
  log_write({.op = 'n', .ns = "", .o = message.get()});
  commit();
  settle_startup_state();
}

void Engine::become_primary(std::int64_t term) {
  repl_.term = term;
  repl_.state = MemberState::kPrimary;
  repl_.primary = options_.self_host();
  repl_.primary_term = term;
  persist_repl_state();
  // A new primary writes a no-op first, as real servers do, so its term shows in the oplog.
  Builder message;
  BSON_APPEND_UTF8(message.get(), "msg", "new primary");
  log_write({.op = 'n', .ns = "", .o = message.get()});
  commit();
  log_line("became PRIMARY in term " + std::to_string(term));
}

void Engine::become_secondary(const std::string& reason) {
  if (repl_.state == MemberState::kPrimary) log_line("stepping down: " + reason);
  repl_.state = MemberState::kSecondary;
  if (repl_.primary == options_.self_host()) repl_.primary.clear();
  // Waiters for write concern or awaitData must notice that this member is no longer primary.
  changed.notify_all();
}

void Engine::persist_repl_state() {
  Builder state;
  if (repl_.config) append_doc(state.get(), "config", repl_.config->bson());
  BSON_APPEND_INT64(state.get(), "term", repl_.term);
  BSON_APPEND_INT64(state.get(), "votedTerm", repl_.voted_term);
  BSON_APPEND_INT32(state.get(), "votedFor", repl_.voted_for);
  std::filesystem::path temp = options_.dbpath / "replset.bson.tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bson_get_data(state.get())), state.get()->len);
    out.flush();
  }
  std::filesystem::rename(temp, options_.dbpath / "replset.bson");
}

void Engine::load_repl_state() {
  std::ifstream in(options_.dbpath / "replset.bson", std::ios::binary);
  if (!in) return;
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  bson_t state;
  if (bytes.size() < 5 || !bson_init_static(&state, bytes.data(), bytes.size())) return;
  repl_.term = get_number(&state, "term").value_or(0);
  repl_.voted_term = get_number(&state, "votedTerm").value_or(0);
  repl_.voted_for = static_cast<int>(get_number(&state, "votedFor").value_or(-1));
  if (auto config = get_document(&state, "config")) set_config(std::move(*config), false);
}

}  // namespace sandbox
