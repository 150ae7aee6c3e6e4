#include "query/document.h"

#include <cstring>

namespace sandbox {

Doc Doc::copy_of(const bson_t* bson) { return from_bytes(bson_get_data(bson), bson->len); }

Doc Doc::from_bytes(const std::uint8_t* data, std::size_t size) {
  Doc doc;
  doc.bytes_.assign(data, data + size);
  return doc;
}

Doc Doc::empty() {
  static constexpr std::uint8_t kEmpty[] = {5, 0, 0, 0, 0};
  return from_bytes(kEmpty, sizeof kEmpty);
}

const bson_t* Doc::bson() const {
  // bson_init_static only records the pointer and length: cheap enough to redo on every call,
  // and it keeps the view right after the Doc was moved or copied.
  if (!bson_init_static(&view_, bytes_.data(), bytes_.size())) {
    throw CommandError(9, "FailedToParse", "invalid BSON document");
  }
  return &view_;
}

void throw_bad_value(const std::string& message) { throw CommandError(2, "BadValue", message); }
void throw_failed_to_parse(const std::string& message) {
  throw CommandError(9, "FailedToParse", message);
}

}  // namespace sandbox
