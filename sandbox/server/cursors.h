// Open cursors of one member. A normal cursor holds its remaining results (a snapshot taken
// when the find or aggregate ran); a tailable cursor holds its position in a capped collection
// and its filter, and reads new documents on every getMore.
//
// Thread safety: none; used under the Engine's mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "query/query.h"
#include "server/collection.h"

namespace sandbox {

struct Cursor {
  std::int64_t id = 0;
  std::string ns;                  // reported in replies ("db.coll", "db.$cmd.listCollections")
  std::deque<Record> results;      // remaining results of a normal cursor
  std::int64_t remaining_limit = 0;  // tailable: documents still allowed by `limit` (0 = no limit)

  // Tailable cursors only.
  bool tailable = false;
  bool await_data = false;
  std::string db, coll;
  Uuid uuid{};
  std::shared_ptr<Matcher> filter;
  std::optional<Doc> projection;
  std::int64_t last_record_id = 0;  // the last record examined; must still exist on getMore
};

class CursorRegistry {
 public:
  Cursor& open(Cursor cursor);  // assigns a fresh non-zero id
  Cursor* find(std::int64_t id);
  bool close(std::int64_t id);  // false when unknown
  void close_namespace(const std::string& db, const std::string& coll);  // drop, rename

 private:
  std::map<std::int64_t, Cursor> cursors_;
};

// Maximum bytes of documents in one reply batch.
constexpr std::size_t kMaxBatchBytes = 16 * 1024 * 1024;
constexpr std::int64_t kDefaultFirstBatch = 101;

}  // namespace sandbox
