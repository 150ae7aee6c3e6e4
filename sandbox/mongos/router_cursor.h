// Cursors the router hands to its clients. A RouterCursor merges the cursors it opened on
// shards: in sort order when the query sorts (each shard returns its part sorted, so a k-way
// merge suffices), one shard after another otherwise. Skip, limit and a deferred projection
// are applied here, after the merge, because only the router sees the whole result.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mongos/remote.h"

namespace sandbox::mongos {

struct MergeOptions {
  std::optional<Doc> sort;         // merge order; none: concatenate sources
  std::optional<Doc> projection;   // applied after the merge (when shards sort on hidden fields)
  std::int64_t skip = 0;
  std::int64_t limit = 0;          // 0: none
};

class RouterCursor {
 public:
  RouterCursor(std::string ns, std::vector<std::unique_ptr<RemoteCursor>> sources, MergeOptions options);
  // A cursor over results the router computed itself (aggregation stages run here).
  RouterCursor(std::string ns, std::vector<Doc> results);

  // The next document, or nullopt at the end. Throws CommandError when a shard fails.
  std::optional<Doc> next();
  const std::string& ns() const { return ns_; }

  std::mutex mutex;              // one getMore at a time
  std::int64_t last_used_ms = 0;

 private:
  std::optional<Doc> next_merged();

  std::string ns_;
  std::vector<std::unique_ptr<RemoteCursor>> sources_;
  std::size_t current_source_ = 0;
  std::deque<Doc> local_;
  MergeOptions options_;
  std::int64_t returned_ = 0;
};

class CursorManager {
 public:
  // Registers a cursor and returns its id (never 0).
  std::int64_t add(std::shared_ptr<RouterCursor> cursor);
  std::shared_ptr<RouterCursor> find(std::int64_t id);
  bool remove(std::int64_t id);
  std::size_t open_count();

 private:
  void reap_idle();  // REQUIRES: mutex_ held

  std::mutex mutex_;
  std::map<std::int64_t, std::shared_ptr<RouterCursor>> cursors_;
  std::int64_t next_id_ = 0;
};

// Builds {cursor:{id, ns, firstBatch|nextBatch}, ok:1} from up to `batch_size` documents
// (0: no count limit; the batch stops at 16 MB either way). An exhausted cursor is removed
// from `manager` and reported with id 0. `id` 0 means: not registered yet (register it when
// documents remain).
Doc cursor_batch_reply(CursorManager& manager, const std::shared_ptr<RouterCursor>& cursor, std::int64_t id,
                       std::int64_t batch_size, bool first_batch, bool single_batch = false);

}  // namespace sandbox::mongos
