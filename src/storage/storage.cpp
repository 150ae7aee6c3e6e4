#include "storage/storage.h"

namespace shardsafe::storage {

std::vector<ObjectInfo> list_all(Storage& storage, const std::string& prefix) {
  std::vector<ObjectInfo> all;
  std::string continuation;
  do {
    auto page = storage.list(prefix, continuation);
    all.insert(all.end(), std::make_move_iterator(page.objects.begin()),
               std::make_move_iterator(page.objects.end()));
    continuation = std::move(page.continuation);
  } while (!continuation.empty());
  return all;
}

void Storage::rename(const std::string& from, const std::string& to) {
  auto source = open(from);
  auto writer = create(to);
  pump(*source, *writer);
  writer->commit();
  remove({from});
}

}  // namespace shardsafe::storage
