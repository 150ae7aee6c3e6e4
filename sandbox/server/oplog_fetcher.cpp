// The secondary side of replication (Replication::sync_loop): initial sync by cloning the
// primary, then tailing its oplog and applying entries in order, reporting progress back.
#include <chrono>
#include <functional>
#include <thread>

#include "server/log.h"
#include "server/peer.h"
#include "server/replication.h"
#include "server/wire.h"

namespace sandbox {
namespace {

using namespace std::chrono_literals;

constexpr auto kFetchTimeout = 10s;

class SyncError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Doc checked(PeerConnection& source, const Doc& command) {
  Doc reply = source.run(command, kFetchTimeout);
  if (!is_ok(reply)) throw SyncError("sync source refused " + first_key(command.bson()) + ": " + json(reply.bson()));
  return reply;
}

// Every document of a cursor-returning command, following getMore until the cursor ends.
void drain_cursor(PeerConnection& source, const std::string& db, const Doc& command,
                  const std::function<void(const Doc&)>& each) {
  Doc reply = checked(source, command);
  bool first = true;
  while (true) {
    auto cursor = get_document(reply.bson(), "cursor");
    if (!cursor) throw SyncError("reply without a cursor");
    auto batch = get_document(cursor->bson(), first ? "firstBatch" : "nextBatch");
    bson_iter_t iter;
    if (batch && bson_iter_init(&iter, batch->bson())) {
      while (bson_iter_next(&iter)) {
        each(iter_document(&iter));
      }
    }
    std::int64_t id = get_number(cursor->bson(), "id").value_or(0);
    if (id == 0) return;
    std::string ns = get_string(cursor->bson(), "ns").value_or("");
    Builder more;
    BSON_APPEND_INT64(more.get(), "getMore", id);
    BSON_APPEND_UTF8(more.get(), "collection", ns.substr(ns.find('.') + 1).c_str());
    reply = checked(source, with_db(more.get(), db.c_str()));
    first = false;
  }
}

Doc newest_oplog_entry(PeerConnection& source) {
  Builder find;
  BSON_APPEND_UTF8(find.get(), "find", "oplog.rs");
  bson_t sort;
  BSON_APPEND_DOCUMENT_BEGIN(find.get(), "sort", &sort);
  BSON_APPEND_INT32(&sort, "$natural", -1);
  bson_append_document_end(find.get(), &sort);
  BSON_APPEND_INT32(find.get(), "limit", 1);
  BSON_APPEND_BOOL(find.get(), "singleBatch", true);
  std::optional<Doc> newest;
  drain_cursor(source, "local", with_db(find.get(), "local"), [&](const Doc& doc) { newest = doc; });
  if (!newest) throw SyncError("sync source has an empty oplog");
  return *newest;
}

void clone_collection(PeerConnection& source, Catalog& cloned, const std::string& db, const bson_t* info) {
  std::string name = get_string(info, "name").value_or("");
  Doc options = get_document(info, "options").value_or(Doc::empty());
  Uuid uuid = new_uuid();
  if (auto meta = get_document(info, "info")) uuid = get_uuid(meta->bson(), "uuid").value_or(uuid);
  Collection& coll = cloned.create(db, name, uuid, options);
  if (coll.is_view()) return;
  Builder list_indexes;
  BSON_APPEND_UTF8(list_indexes.get(), "listIndexes", name.c_str());
  drain_cursor(source, db, with_db(list_indexes.get(), db.c_str()), [&](const Doc& spec) {
    if (get_string(spec.bson(), "name").value_or("") != "_id_") coll.create_index(spec.bson());
  });
  Builder find;
  BSON_APPEND_UTF8(find.get(), "find", name.c_str());
  BSON_APPEND_INT32(find.get(), "batchSize", 100000);
  drain_cursor(source, db, with_db(find.get(), db.c_str()), [&](const Doc& doc) { coll.insert(doc); });
}

void initial_sync(Engine& engine, PeerConnection& source) {
  log_line("initial sync from " + source.host());
  Doc start = newest_oplog_entry(source);
  Catalog cloned;
  Builder list_databases;
  BSON_APPEND_INT32(list_databases.get(), "listDatabases", 1);
  BSON_APPEND_BOOL(list_databases.get(), "nameOnly", true);
  Doc databases = checked(source, with_db(list_databases.get(), "admin"));
  auto list = get_document(databases.bson(), "databases").value_or(Doc::empty());
  bson_iter_t iter;
  bson_iter_init(&iter, list.bson());
  while (bson_iter_next(&iter)) {
    Doc entry = iter_document(&iter);
    std::string db = get_string(entry.bson(), "name").value_or("");
    if (db == "local" || db.empty()) continue;
    Builder list_collections;
    BSON_APPEND_INT32(list_collections.get(), "listCollections", 1);
    drain_cursor(source, db, with_db(list_collections.get(), db.c_str()),
                 [&](const Doc& info) { clone_collection(source, cloned, db, info.bson()); });
  }
  std::lock_guard lock(engine.mutex);
  engine.reset_to(std::move(cloned), start);
  log_line("initial sync done at " + json(start.bson()));
}

void report_position(Engine& engine, PeerConnection& source) {
  Builder command;
  {
    std::lock_guard lock(engine.mutex);
    BSON_APPEND_INT32(command.get(), "replSetUpdatePosition", 1);
    bson_t optimes, item;
    BSON_APPEND_ARRAY_BEGIN(command.get(), "optimes", &optimes);
    BSON_APPEND_DOCUMENT_BEGIN(&optimes, "0", &item);
    append_optime(&item, "appliedOpTime", engine.last_applied());
    append_optime(&item, "durableOpTime", engine.last_applied());
    BSON_APPEND_INT32(&item, "memberId", engine.repl().self_index);
    bson_append_document_end(&optimes, &item);
    bson_append_array_end(command.get(), &optimes);
  }
  checked(source, with_db(command.get(), "admin"));
}

// Applies a batch under the lock and journals it. Returns false when this member stopped
// being a secondary of `primary` meanwhile.
bool apply_batch(Engine& engine, const Doc& batch, const std::string& primary, Timestamp& last) {
  std::lock_guard lock(engine.mutex);
  if (!engine.is_secondary() || engine.repl().primary != primary) return false;
  bson_iter_t iter;
  bson_iter_init(&iter, batch.bson());
  while (bson_iter_next(&iter)) {
    Doc entry = iter_document(&iter);
    Timestamp ts = entry_timestamp(entry.bson());
    if (ts <= last) continue;  // the entry we already have, where the cursor starts
    try {
      engine.apply_replicated(entry.bson());
    } catch (const CommandError& error) {
      log_line("replication: entry not applied (" + std::string(error.what()) + "): " + json(entry.bson()));
    }
    last = ts;
  }
  engine.commit();
  return true;
}

// Tails the primary's oplog from `last` until the primary changes or the cursor fails.
void tail(Engine& engine, PeerConnection& source, const std::string& primary, Timestamp last,
          const std::atomic<bool>& stopping) {
  Builder find;
  BSON_APPEND_UTF8(find.get(), "find", "oplog.rs");
  bson_t filter, range;
  BSON_APPEND_DOCUMENT_BEGIN(find.get(), "filter", &filter);
  BSON_APPEND_DOCUMENT_BEGIN(&filter, "ts", &range);
  BSON_APPEND_TIMESTAMP(&range, "$gte", last.secs, last.inc);
  bson_append_document_end(&filter, &range);
  bson_append_document_end(find.get(), &filter);
  BSON_APPEND_BOOL(find.get(), "tailable", true);
  BSON_APPEND_BOOL(find.get(), "awaitData", true);
  Doc reply = checked(source, with_db(find.get(), "local"));
  auto cursor = get_document(reply.bson(), "cursor").value_or(Doc::empty());
  Doc batch = get_document(cursor.bson(), "firstBatch").value_or(Doc::empty());
  // The sync source must still hold our newest entry, or we missed entries: sync again.
  bson_iter_t first;
  if (!last.is_null() && (!bson_iter_init(&first, batch.bson()) || !bson_iter_next(&first) ||
                          entry_timestamp(iter_document(&first).bson()) != last)) {
    throw SyncError("our newest oplog entry is not in the sync source's oplog");
  }
  std::int64_t id = get_number(cursor.bson(), "id").value_or(0);
  while (!stopping) {
    if (!apply_batch(engine, batch, primary, last)) return;
    report_position(engine, source);
    if (id == 0) return;
    Builder more;
    BSON_APPEND_INT64(more.get(), "getMore", id);
    BSON_APPEND_UTF8(more.get(), "collection", "oplog.rs");
    BSON_APPEND_INT64(more.get(), "maxTimeMS", 500);
    reply = checked(source, with_db(more.get(), "local"));
    cursor = get_document(reply.bson(), "cursor").value_or(Doc::empty());
    batch = get_document(cursor.bson(), "nextBatch").value_or(Doc::empty());
    id = get_number(cursor.bson(), "id").value_or(0);
  }
}

}  // namespace

void Replication::sync_loop() {
  PeerConnection source;
  bool needs_full_sync = false;
  while (!stopping_) {
    std::string primary;
    Timestamp last;
    {
      std::unique_lock lock(engine_.mutex);
      const ReplState& repl = engine_.repl();
      if (repl.config && engine_.syncs_from_primary() && !repl.primary.empty() &&
          repl.primary != engine_.options().self_host()) {
        primary = repl.primary;
        last = engine_.last_applied().ts;
      } else {
        engine_.changed.wait_for(lock, 200ms);
        continue;
      }
    }
    try {
      if (!source.connected() || source.host() != primary) {
        if (!source.connect(primary, 500ms)) throw SyncError("cannot connect to " + primary);
      }
      if (last.is_null() || needs_full_sync) {
        initial_sync(engine_, source);
        needs_full_sync = false;
        continue;
      }
      tail(engine_, source, primary, last, stopping_);
    } catch (const SyncError& error) {
      log_line(std::string("replication from ") + primary + ": " + error.what());
      needs_full_sync = std::string(error.what()).find("not in the sync source") != std::string::npos;
      source.close();
      std::this_thread::sleep_for(500ms);
    } catch (const std::exception& error) {
      log_line(std::string("replication from ") + primary + " interrupted: " + error.what());
      source.close();
      std::this_thread::sleep_for(500ms);
    }
  }
}

}  // namespace sandbox
