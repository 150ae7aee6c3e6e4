#include "storage/storage.h"

#include "common/error.h"

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

std::string read_object(Storage& storage, const std::string& key, std::size_t limit) {
  auto source = storage.open(key);
  std::string text;
  std::vector<std::uint8_t> chunk(64 << 10);
  while (const std::size_t n = source->read(chunk)) {
    if (text.size() + n > limit) {
      throw Error(ErrorCode::kCorruptData, "object \"" + key + "\" is larger than " + std::to_string(limit) + " bytes");
    }
    text.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
  return text;
}

void write_object(Storage& storage, const std::string& key, std::string_view text) {
  auto writer = storage.create(key);
  writer->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  writer->commit();
}

void Storage::rename(const std::string& from, const std::string& to) {
  auto source = open(from);
  auto writer = create(to);
  pump(*source, *writer);
  writer->commit();
  remove({from});
}

}  // namespace shardsafe::storage
