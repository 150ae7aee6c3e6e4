#include "server/bson_util.h"

#include <chrono>
#include <random>

#include "query/value.h"

namespace sandbox {

Uuid new_uuid() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  Uuid uuid;
  for (std::size_t i = 0; i < uuid.size(); i += 8) {
    std::uint64_t bits = generator();
    for (std::size_t j = 0; j < 8; ++j) uuid[i + j] = static_cast<std::uint8_t>(bits >> (8 * j));
  }
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0f) | 0x40);  // version 4
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid;
}

std::optional<bson_iter_t> find_field(const bson_t* doc, std::string_view key) {
  bson_iter_t iter;
  if (!bson_iter_init_find_w_len(&iter, doc, key.data(), static_cast<int>(key.size()))) {
    return std::nullopt;
  }
  return iter;
}

void throw_error(int code, std::string_view code_name, const std::string& message) {
  throw CommandError(code, std::string(code_name), message);
}

void throw_wrong_type(const std::string& command, const std::string& field, const bson_iter_t* value,
                      const char* expected) {
  throw_error(14, "TypeMismatch", "BSON field '" + command + "." + field + "' is the wrong type '" +
                                      type_name(bson_iter_type(value)) + "', expected type '" + expected + "'");
}

[[noreturn]] static void throw_type_mismatch(std::string_view key, std::string_view wanted) {
  throw_error(14, "TypeMismatch",
              "BSON field '" + std::string(key) + "' is the wrong type, expected " +
                  std::string(wanted));
}

std::optional<std::string> get_string(const bson_t* doc, std::string_view key) {
  auto iter = find_field(doc, key);
  if (!iter) return std::nullopt;
  if (!BSON_ITER_HOLDS_UTF8(&*iter)) throw_type_mismatch(key, "string");
  std::uint32_t length = 0;
  const char* value = bson_iter_utf8(&*iter, &length);
  return std::string(value, length);
}

std::optional<std::int64_t> iter_number(const bson_iter_t* iter) {
  switch (bson_iter_type(iter)) {
    case BSON_TYPE_INT32: return bson_iter_int32(iter);
    case BSON_TYPE_INT64: return bson_iter_int64(iter);
    case BSON_TYPE_DOUBLE: return static_cast<std::int64_t>(bson_iter_double(iter));
    default: return std::nullopt;
  }
}

std::optional<std::int64_t> get_number(const bson_t* doc, std::string_view key) {
  auto iter = find_field(doc, key);
  if (!iter || BSON_ITER_HOLDS_NULL(&*iter)) return std::nullopt;
  auto value = iter_number(&*iter);
  if (!value) throw_type_mismatch(key, "number");
  return value;
}

bool iter_truthy(const bson_iter_t* iter) { return bson_iter_as_bool(iter); }

bool get_bool(const bson_t* doc, std::string_view key, bool fallback) {
  auto iter = find_field(doc, key);
  return iter ? iter_truthy(&*iter) : fallback;
}

Doc iter_document(const bson_iter_t* iter) {
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  if (BSON_ITER_HOLDS_ARRAY(iter)) {
    bson_iter_array(iter, &length, &data);
  } else {
    bson_iter_document(iter, &length, &data);
  }
  return Doc::from_bytes(data, length);
}

std::optional<Doc> get_document(const bson_t* doc, std::string_view key) {
  auto iter = find_field(doc, key);
  if (!iter || BSON_ITER_HOLDS_NULL(&*iter)) return std::nullopt;
  if (!BSON_ITER_HOLDS_DOCUMENT(&*iter) && !BSON_ITER_HOLDS_ARRAY(&*iter)) {
    throw_type_mismatch(key, "object");
  }
  return iter_document(&*iter);
}

std::optional<Uuid> get_uuid(const bson_t* doc, std::string_view key) {
  auto iter = find_field(doc, key);
  if (!iter || !BSON_ITER_HOLDS_BINARY(&*iter)) return std::nullopt;
  bson_subtype_t subtype;
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_binary(&*iter, &subtype, &length, &data);
  if (length != 16) return std::nullopt;
  Uuid uuid;
  std::copy(data, data + 16, uuid.begin());
  return uuid;
}

Doc single_value(std::string_view key, const bson_iter_t* iter) {
  Builder out;
  append_iter(out.get(), key, iter);
  return out.doc();
}

std::string first_key(const bson_t* doc) {
  bson_iter_t iter;
  if (bson_iter_init(&iter, doc) && bson_iter_next(&iter)) return bson_iter_key(&iter);
  return "";
}

void append_doc(bson_t* out, std::string_view key, const bson_t* value) {
  bson_append_document(out, key.data(), static_cast<int>(key.size()), value);
}

void append_array(bson_t* out, std::string_view key, const bson_t* value) {
  bson_append_array(out, key.data(), static_cast<int>(key.size()), value);
}

void append_uuid(bson_t* out, std::string_view key, const Uuid& uuid) {
  bson_append_binary(out, key.data(), static_cast<int>(key.size()), BSON_SUBTYPE_UUID,
                     uuid.data(), 16);
}

void append_iter(bson_t* out, std::string_view key, const bson_iter_t* value) {
  bson_append_iter(out, key.data(), static_cast<int>(key.size()), value);
}

std::string json(const bson_t* doc) {
  std::size_t length = 0;
  char* text = bson_as_relaxed_extended_json(doc, &length);
  if (text == nullptr) return "{}";
  std::string result(text, length);
  bson_free(text);
  return result;
}

Doc error_reply(int code, std::string_view code_name, std::string_view message) {
  Builder out;
  BSON_APPEND_DOUBLE(out.get(), "ok", 0.0);
  bson_append_utf8(out.get(), "errmsg", 6, message.data(), static_cast<int>(message.size()));
  BSON_APPEND_INT32(out.get(), "code", code);
  bson_append_utf8(out.get(), "codeName", 8, code_name.data(), static_cast<int>(code_name.size()));
  return out.doc();
}

Doc error_reply(const CommandError& error) {
  return error_reply(error.code(), error.code_name(), error.what());
}

void append_optime(bson_t* out, std::string_view key, const OpTime& optime) {
  bson_t child;
  bson_append_document_begin(out, key.data(), static_cast<int>(key.size()), &child);
  BSON_APPEND_TIMESTAMP(&child, "ts", optime.ts.secs, optime.ts.inc);
  BSON_APPEND_INT64(&child, "t", optime.term);
  bson_append_document_end(out, &child);
}

std::optional<OpTime> get_optime(const bson_t* doc, std::string_view key) {
  auto value = get_document(doc, key);
  if (!value) return std::nullopt;
  OpTime optime;
  if (auto ts = find_field(value->bson(), "ts"); ts && BSON_ITER_HOLDS_TIMESTAMP(&*ts)) {
    bson_iter_timestamp(&*ts, &optime.ts.secs, &optime.ts.inc);
  }
  if (auto term = find_field(value->bson(), "t")) optime.term = iter_number(&*term).value_or(-1);
  return optime;
}

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string timestamp_text(Timestamp ts) {
  return "Timestamp(" + std::to_string(ts.secs) + ", " + std::to_string(ts.inc) + ")";
}

}  // namespace sandbox
