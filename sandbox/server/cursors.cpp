#include "server/cursors.h"

#include <random>

namespace sandbox {

Cursor& CursorRegistry::open(Cursor cursor) {
  // Random-looking ids, as a real server's: clients must not guess or depend on their order.
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::int64_t id = 0;
  do {
    id = static_cast<std::int64_t>(generator() & 0x3fffffffffffffffULL);
  } while (id == 0 || cursors_.contains(id));
  cursor.id = id;
  return cursors_.emplace(id, std::move(cursor)).first->second;
}

Cursor* CursorRegistry::find(std::int64_t id) {
  auto found = cursors_.find(id);
  return found == cursors_.end() ? nullptr : &found->second;
}

bool CursorRegistry::close(std::int64_t id) { return cursors_.erase(id) > 0; }

void CursorRegistry::close_namespace(const std::string& db, const std::string& coll) {
  std::erase_if(cursors_, [&](const auto& item) {
    return item.second.tailable && item.second.db == db && item.second.coll == coll;
  });
}

}  // namespace sandbox
