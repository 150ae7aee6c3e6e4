#include "mongos/router_cursor.h"

#include <random>

#include "query/query.h"
#include "server/bson_util.h"

namespace sandbox::mongos {
namespace {

constexpr std::size_t kMaxBatchBytes = 16 * 1024 * 1024;
constexpr std::int64_t kIdleCursorMs = 10 * 60 * 1000;  // cursorTimeoutMillis, as in MongoDB

}  // namespace

RouterCursor::RouterCursor(std::string ns, std::vector<std::unique_ptr<RemoteCursor>> sources, MergeOptions options)
    : ns_(std::move(ns)), sources_(std::move(sources)), options_(std::move(options)) {}

RouterCursor::RouterCursor(std::string ns, std::vector<Doc> results)
    : ns_(std::move(ns)), local_(std::make_move_iterator(results.begin()), std::make_move_iterator(results.end())) {}

std::optional<Doc> RouterCursor::next_merged() {
  if (!local_.empty()) {
    Doc doc = std::move(local_.front());
    local_.pop_front();
    return doc;
  }
  if (options_.sort) {
    RemoteCursor* best = nullptr;
    for (auto& source : sources_) {
      const Doc* head = source->peek();
      if (head && (!best || compare_for_sort(head->bson(), best->peek()->bson(), options_.sort->bson()) < 0)) {
        best = source.get();
      }
    }
    if (!best) return std::nullopt;
    return *best->next();
  }
  while (current_source_ < sources_.size()) {
    if (const Doc* doc = sources_[current_source_]->next()) return *doc;
    ++current_source_;
  }
  return std::nullopt;
}

std::optional<Doc> RouterCursor::next() {
  while (options_.skip > 0) {
    if (!next_merged()) return std::nullopt;
    --options_.skip;
  }
  if (options_.limit > 0 && returned_ >= options_.limit) return std::nullopt;
  auto doc = next_merged();
  if (!doc) return std::nullopt;
  ++returned_;
  if (options_.projection) return project(doc->bson(), options_.projection->bson());
  return doc;
}

std::int64_t CursorManager::add(std::shared_ptr<RouterCursor> cursor) {
  std::lock_guard lock(mutex_);
  reap_idle();
  if (next_id_ == 0) {
    // Random start so ids of a restarted router do not repeat the previous one's.
    std::random_device seed;
    next_id_ = static_cast<std::int64_t>((static_cast<std::uint64_t>(seed()) << 20) | 1);
  }
  std::int64_t id = next_id_++;
  cursor->last_used_ms = now_millis();
  cursors_[id] = std::move(cursor);
  return id;
}

std::shared_ptr<RouterCursor> CursorManager::find(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto found = cursors_.find(id);
  if (found == cursors_.end()) return nullptr;
  found->second->last_used_ms = now_millis();
  return found->second;
}

bool CursorManager::remove(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return cursors_.erase(id) > 0;
}

std::size_t CursorManager::open_count() {
  std::lock_guard lock(mutex_);
  return cursors_.size();
}

void CursorManager::reap_idle() {
  std::int64_t now = now_millis();
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    it = now - it->second->last_used_ms > kIdleCursorMs ? cursors_.erase(it) : std::next(it);
  }
}

Doc cursor_batch_reply(CursorManager& manager, const std::shared_ptr<RouterCursor>& cursor, std::int64_t id,
                       std::int64_t batch_size, bool first_batch, bool single_batch) {
  Builder batch;
  std::size_t bytes = 0;
  std::int64_t count = 0;
  bool exhausted = false;
  while (batch_size <= 0 || count < batch_size) {
    if (bytes >= kMaxBatchBytes) break;
    auto doc = cursor->next();
    if (!doc) {
      exhausted = true;
      break;
    }
    BSON_APPEND_DOCUMENT(batch.get(), std::to_string(count).c_str(), doc->bson());
    bytes += doc->size();
    ++count;
  }
  if (exhausted || single_batch) {
    if (id != 0) manager.remove(id);
    id = 0;
  } else if (id == 0) {
    id = manager.add(cursor);
  }
  Builder reply;
  bson_t inner;
  BSON_APPEND_DOCUMENT_BEGIN(reply.get(), "cursor", &inner);
  BSON_APPEND_INT64(&inner, "id", id);
  BSON_APPEND_UTF8(&inner, "ns", cursor->ns().c_str());
  BSON_APPEND_ARRAY(&inner, first_batch ? "firstBatch" : "nextBatch", batch.get());
  bson_append_document_end(reply.get(), &inner);
  BSON_APPEND_DOUBLE(reply.get(), "ok", 1.0);
  return reply.doc();
}

}  // namespace sandbox::mongos
