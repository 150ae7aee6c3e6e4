#include "mongo/bson.h"

#include <charconv>

#include "common/error.h"

namespace shardsafe::mongo {
namespace {

// libbson's JSON strings are bson_malloc'd; this owns one.
struct BsonString {
  char* text;
  ~BsonString() { bson_free(text); }
};

int key_length(std::string_view key) { return static_cast<int>(key.size()); }

}  // namespace

std::string Timestamp::to_string() const { return std::to_string(seconds) + "." + std::to_string(increment); }

Timestamp Timestamp::parse(std::string_view text) {
  const auto dot = text.find('.');
  Timestamp ts;
  const auto seconds_part = text.substr(0, dot);
  auto [end, ec] = std::from_chars(seconds_part.data(), seconds_part.data() + seconds_part.size(), ts.seconds);
  bool ok = ec == std::errc() && end == seconds_part.data() + seconds_part.size() && !seconds_part.empty();
  if (ok && dot != std::string_view::npos) {
    const auto inc_part = text.substr(dot + 1);
    auto [inc_end, inc_ec] = std::from_chars(inc_part.data(), inc_part.data() + inc_part.size(), ts.increment);
    ok = inc_ec == std::errc() && inc_end == inc_part.data() + inc_part.size() && !inc_part.empty();
  }
  if (!ok) {
    throw Error(ErrorCode::kInvalidArgument,
                "invalid timestamp \"" + std::string(text) + "\": expected <seconds>[.<increment>]");
  }
  return ts;
}

Bson::Bson() { bson_init(&doc_); }
Bson::~Bson() { bson_destroy(&doc_); }
Bson::Bson(const Bson& other) { bson_copy_to(&other.doc_, &doc_); }
Bson& Bson::operator=(const Bson& other) {
  if (this != &other) {
    bson_destroy(&doc_);
    bson_copy_to(&other.doc_, &doc_);
  }
  return *this;
}
Bson::Bson(Bson&& other) noexcept {
  // bson_steal leaves `other` destroyed; re-initialise it so its destructor stays valid.
  bson_steal(&doc_, &other.doc_);
  bson_init(&other.doc_);
}
Bson& Bson::operator=(Bson&& other) noexcept {
  if (this != &other) {
    bson_destroy(&doc_);
    bson_steal(&doc_, &other.doc_);
    bson_init(&other.doc_);
  }
  return *this;
}

Bson Bson::copy_of(const bson_t* document) {
  Bson out;
  bson_destroy(&out.doc_);
  bson_copy_to(document, &out.doc_);
  return out;
}

Bson Bson::from_bytes(std::span<const std::uint8_t> bytes) {
  bson_t view;
  if (bytes.size() < 5 || !bson_init_static(&view, bytes.data(), bytes.size()) ||
      !bson_validate(&view, BSON_VALIDATE_NONE, nullptr)) {
    throw Error(ErrorCode::kCorruptData, "invalid BSON document of " + std::to_string(bytes.size()) + " bytes");
  }
  return copy_of(&view);
}

Bson Bson::from_json(std::string_view json) {
  Bson out;
  bson_error_t error;
  bson_destroy(&out.doc_);
  if (!bson_init_from_json(&out.doc_, json.data(), static_cast<ssize_t>(json.size()), &error)) {
    bson_init(&out.doc_);
    throw Error(ErrorCode::kInvalidArgument, std::string("invalid extended JSON: ") + error.message);
  }
  return out;
}

Bson Bson::adopt(bson_t* initialised) {
  Bson out;
  bson_destroy(&out.doc_);
  bson_steal(&out.doc_, initialised);
  return out;
}

std::string Bson::canonical_json() const {
  BsonString json{bson_as_canonical_extended_json(&doc_, nullptr)};
  return json.text ? json.text : "";
}

std::string Bson::relaxed_json() const {
  BsonString json{bson_as_relaxed_extended_json(&doc_, nullptr)};
  return json.text ? json.text : "";
}

std::optional<std::string> BsonView::uuid(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter) || !BSON_ITER_HOLDS_BINARY(&iter)) return std::nullopt;
  bson_subtype_t subtype;
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(&iter, &subtype, &length, &data);
  if (subtype != BSON_SUBTYPE_UUID || length != 16) return std::nullopt;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::uint32_t i = 0; i < length; ++i) {
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 0xf];
  }
  return hex;
}

bool BsonView::find(std::string_view path, bson_iter_t* out) const {
  bson_iter_t iter;
  const std::string key(path);
  if (!bson_iter_init(&iter, doc_)) return false;
  if (key.find('.') == std::string::npos) {
    if (!bson_iter_find(&iter, key.c_str())) return false;
    *out = iter;
    return true;
  }
  return bson_iter_find_descendant(&iter, key.c_str(), out);
}

bool BsonView::has(std::string_view path) const {
  bson_iter_t iter;
  return find(path, &iter);
}

std::optional<std::string> BsonView::string(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter) || !BSON_ITER_HOLDS_UTF8(&iter)) return std::nullopt;
  std::uint32_t length = 0;
  const char* text = bson_iter_utf8(&iter, &length);
  return std::string(text, length);
}

std::optional<std::int64_t> BsonView::integer(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter)) return std::nullopt;
  switch (bson_iter_type(&iter)) {
    case BSON_TYPE_INT32:
      return bson_iter_int32(&iter);
    case BSON_TYPE_INT64:
      return bson_iter_int64(&iter);
    case BSON_TYPE_DOUBLE: {
      const double value = bson_iter_double(&iter);
      if (value != static_cast<double>(static_cast<std::int64_t>(value))) return std::nullopt;
      return static_cast<std::int64_t>(value);
    }
    default:
      return std::nullopt;
  }
}

std::optional<double> BsonView::number(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter) || !BSON_ITER_HOLDS_NUMBER(&iter)) return std::nullopt;
  return bson_iter_as_double(&iter);
}

std::optional<bool> BsonView::boolean(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter) || !BSON_ITER_HOLDS_BOOL(&iter)) return std::nullopt;
  return bson_iter_bool(&iter);
}

std::optional<Timestamp> BsonView::timestamp(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter) || !BSON_ITER_HOLDS_TIMESTAMP(&iter)) return std::nullopt;
  Timestamp ts;
  bson_iter_timestamp(&iter, &ts.seconds, &ts.increment);
  return ts;
}

std::optional<Bson> BsonView::document(std::string_view path) const {
  bson_iter_t iter;
  if (!find(path, &iter) || !(BSON_ITER_HOLDS_DOCUMENT(&iter) || BSON_ITER_HOLDS_ARRAY(&iter))) {
    return std::nullopt;
  }
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  if (BSON_ITER_HOLDS_DOCUMENT(&iter)) {
    bson_iter_document(&iter, &length, &data);
  } else {
    bson_iter_array(&iter, &length, &data);
  }
  return Bson::from_bytes({data, length});
}

std::vector<Bson> BsonView::documents(std::string_view path) const {
  std::vector<Bson> out;
  const auto array = document(path);
  if (!array) return out;
  bson_iter_t iter;
  bson_iter_init(&iter, array->get());
  while (bson_iter_next(&iter)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&iter)) continue;
    std::uint32_t length = 0;
    const std::uint8_t* data = nullptr;
    bson_iter_document(&iter, &length, &data);
    out.push_back(Bson::from_bytes({data, length}));
  }
  return out;
}

std::vector<std::string> BsonView::strings(std::string_view path) const {
  std::vector<std::string> out;
  const auto array = document(path);
  if (!array) return out;
  bson_iter_t iter;
  bson_iter_init(&iter, array->get());
  while (bson_iter_next(&iter)) {
    if (BSON_ITER_HOLDS_UTF8(&iter)) out.emplace_back(bson_iter_utf8(&iter, nullptr));
  }
  return out;
}

BsonBuilder& BsonBuilder::append(std::string_view key, std::string_view value) {
  bson_append_utf8(doc_.get(), key.data(), key_length(key), value.data(), static_cast<int>(value.size()));
  return *this;
}
BsonBuilder& BsonBuilder::append(std::string_view key, std::int32_t value) {
  bson_append_int32(doc_.get(), key.data(), key_length(key), value);
  return *this;
}
BsonBuilder& BsonBuilder::append(std::string_view key, std::int64_t value) {
  bson_append_int64(doc_.get(), key.data(), key_length(key), value);
  return *this;
}
BsonBuilder& BsonBuilder::append(std::string_view key, double value) {
  bson_append_double(doc_.get(), key.data(), key_length(key), value);
  return *this;
}
BsonBuilder& BsonBuilder::append(std::string_view key, bool value) {
  bson_append_bool(doc_.get(), key.data(), key_length(key), value);
  return *this;
}
BsonBuilder& BsonBuilder::append(std::string_view key, Timestamp value) {
  bson_append_timestamp(doc_.get(), key.data(), key_length(key), value.seconds, value.increment);
  return *this;
}
BsonBuilder& BsonBuilder::append(std::string_view key, const Bson& document) {
  bson_append_document(doc_.get(), key.data(), key_length(key), document.get());
  return *this;
}
BsonBuilder& BsonBuilder::append_array_document(std::string_view key, const Bson& elements) {
  bson_append_array(doc_.get(), key.data(), key_length(key), elements.get());
  return *this;
}
BsonBuilder& BsonBuilder::append_array(std::string_view key, const std::vector<Bson>& documents) {
  bson_t array;
  bson_append_array_begin(doc_.get(), key.data(), key_length(key), &array);
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const std::string index = std::to_string(i);
    bson_append_document(&array, index.c_str(), -1, documents[i].get());
  }
  bson_append_array_end(doc_.get(), &array);
  return *this;
}
BsonBuilder& BsonBuilder::append_array(std::string_view key, const std::vector<std::string>& strings) {
  bson_t array;
  bson_append_array_begin(doc_.get(), key.data(), key_length(key), &array);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const std::string index = std::to_string(i);
    bson_append_utf8(&array, index.c_str(), -1, strings[i].data(), static_cast<int>(strings[i].size()));
  }
  bson_append_array_end(doc_.get(), &array);
  return *this;
}
BsonBuilder& BsonBuilder::append_iter(std::string_view key, const bson_iter_t* value) {
  bson_append_iter(doc_.get(), key.data(), key_length(key), value);
  return *this;
}
BsonBuilder& BsonBuilder::append_date(std::string_view key, std::int64_t milliseconds_since_epoch) {
  bson_append_date_time(doc_.get(), key.data(), key_length(key), milliseconds_since_epoch);
  return *this;
}
BsonBuilder& BsonBuilder::append_uuid(std::string_view key, std::string_view hex) {
  std::uint8_t bytes[16];
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error(ErrorCode::kInvalidArgument, "invalid UUID \"" + std::string(hex) + "\": expected 32 hex digits");
  };
  if (hex.size() != 32) nibble('?');
  for (std::size_t i = 0; i < 16; ++i) bytes[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  bson_append_binary(doc_.get(), key.data(), key_length(key), BSON_SUBTYPE_UUID, bytes, sizeof bytes);
  return *this;
}

BsonBuilder& BsonBuilder::append_fields_of(const Bson& document) {
  bson_iter_t field;
  if (document.empty() || !bson_iter_init(&field, document.get())) return *this;
  while (bson_iter_next(&field)) append_iter(bson_iter_key(&field), &field);
  return *this;
}

BsonBuilder& BsonBuilder::append_null(std::string_view key) {
  bson_append_null(doc_.get(), key.data(), key_length(key));
  return *this;
}

}  // namespace shardsafe::mongo
