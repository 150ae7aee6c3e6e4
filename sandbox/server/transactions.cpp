#include "server/transactions.h"

#include "server/apply.h"

namespace sandbox {
namespace {

constexpr std::int64_t kLifetimeLimitMs = 60 * 1000;

// The _id key document of the document an i/u/d write targets.
std::optional<Doc> target_id(const EntryFields& fields) {
  const bson_t* holder = fields.op == 'u' ? fields.o2 : fields.o;
  if ((fields.op != 'i' && fields.op != 'u' && fields.op != 'd') || holder == nullptr ||
      !find_field(holder, "_id")) {
    return std::nullopt;
  }
  return id_key_of(holder);
}

std::string document_key(const std::string& ns, const Doc& id) {
  return ns + '\0' + std::string(reinterpret_cast<const char*>(bson_get_data(id.bson())), id.bson()->len);
}

// The stored record of a document (nullptr when absent). Records are immutable and replaced on
// every write, so the same pointer in the snapshot and the live catalog means "unchanged".
Record record_of(const Catalog& catalog, const std::string& ns, const Doc& id) {
  Namespace name = parse_namespace(ns);
  const Collection* coll = catalog.find(name.db, name.coll);
  if (coll == nullptr) return nullptr;
  auto record_id = coll->find_by_id(id);
  return record_id ? coll->records().at(*record_id) : nullptr;
}

}  // namespace

void throw_write_conflict() {
  throw_error(112, "WriteConflict",
              "Write conflict during plan execution and yielding is disabled. :: Please retry your operation or "
              "multi-document transaction.");
}

std::optional<std::string> session_key(const bson_t* lsid) {
  auto id = find_field(lsid, "id");
  if (!id || !BSON_ITER_HOLDS_BINARY(&*id)) return std::nullopt;
  bson_subtype_t subtype;
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(&*id, &subtype, &length, &data);
  return std::string(reinterpret_cast<const char*>(data), length);
}

Transaction* TransactionTable::find(const std::string& session) {
  auto found = sessions_.find(session);
  return found == sessions_.end() ? nullptr : &found->second;
}

Transaction& TransactionTable::start(const std::string& session, Doc lsid, std::int64_t txn_number,
                                     const Catalog& committed) {
  if (Transaction* previous = find(session)) finish(*previous, TxnState::kAborted);
  Transaction& txn = sessions_[session];
  txn = Transaction{};
  txn.session = session;
  txn.lsid = std::move(lsid);
  txn.txn_number = txn_number;
  txn.snapshot = std::make_unique<Catalog>(committed.snapshot());
  txn.last_used_ms = now_millis();
  return txn;
}

void TransactionTable::finish(Transaction& txn, TxnState state) {
  for (const std::string& key : txn.locked) locks_.erase(key);
  txn.locked.clear();
  txn.snapshot.reset();
  txn.ops.clear();
  txn.state = state;
}

Doc TransactionTable::record(Transaction& txn, const EntryFields& fields, const Catalog& committed,
                             const Doc* post_image) {
  if (auto id = target_id(fields)) {
    std::string key = document_key(fields.ns, *id);
    if (!txn.locked.contains(key)) {
      auto owner = locks_.find(key);
      bool held_by_other = owner != locks_.end() && owner->second != txn.session;
      if (held_by_other || record_of(*txn.snapshot, fields.ns, *id) != record_of(committed, fields.ns, *id)) {
        throw_write_conflict();
      }
      locks_[key] = txn.session;
      txn.locked.insert(key);
    }
  }
  Doc op = make_inner_op(fields);
  apply_entry(*txn.snapshot, op.bson(), ApplyMode::kStrict, post_image);
  txn.ops.push_back(op);
  return op;
}

void TransactionTable::check_unlocked(const EntryFields& fields) const {
  if (locks_.empty()) return;
  auto id = target_id(fields);
  if (id && locks_.contains(document_key(fields.ns, *id))) throw_write_conflict();
}

void TransactionTable::expire_idle(std::int64_t now_ms) {
  for (auto& [session, txn] : sessions_) {
    if (txn.state == TxnState::kInProgress && now_ms - txn.last_used_ms > kLifetimeLimitMs) {
      finish(txn, TxnState::kAborted);
    }
  }
}

}  // namespace sandbox
