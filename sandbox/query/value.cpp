#include "query/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sandbox {

Value Value::of(const bson_iter_t* it) {
  ScopedBson b;
  bson_append_iter(b.get(), "", 0, it);
  return Value(b.to_doc());
}
Value Value::null() {
  ScopedBson b;
  bson_append_null(b.get(), "", 0);
  return Value(b.to_doc());
}
Value Value::int32(std::int32_t v) {
  ScopedBson b;
  bson_append_int32(b.get(), "", 0, v);
  return Value(b.to_doc());
}
Value Value::int64(std::int64_t v) {
  ScopedBson b;
  bson_append_int64(b.get(), "", 0, v);
  return Value(b.to_doc());
}
Value Value::decimal(long double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.18Lg", v);
  bson_decimal128_t dec;
  bson_decimal128_from_string(text, &dec);
  ScopedBson b;
  bson_append_decimal128(b.get(), "", 0, &dec);
  return Value(b.to_doc());
}
Value Value::boolean(bool v) {
  ScopedBson b;
  bson_append_bool(b.get(), "", 0, v);
  return Value(b.to_doc());
}
Value Value::dbl(double v) {
  ScopedBson b;
  bson_append_double(b.get(), "", 0, v);
  return Value(b.to_doc());
}
Value Value::from_doc(const Doc& doc) {
  // `doc` here is the value itself: wrap it as {"": doc}.
  ScopedBson b;
  bson_append_document(b.get(), "", 0, doc.bson());
  return Value(b.to_doc());
}

bson_iter_t Value::iter() const {
  // Straight from the bytes, not through Doc::bson(): that refreshes a cached view, and a
  // Value inside a Matcher may be read by several threads at once.
  bson_iter_t it;
  bson_iter_init_from_data(&it, holder_.data(), holder_.size());
  bson_iter_next(&it);
  return it;
}

bson_type_t Value::type() const {
  bson_iter_t it = iter();
  return bson_iter_type(&it);
}

bool init_static_from_iter(const bson_iter_t* it, bson_t* out) {
  const std::uint8_t* data = nullptr;
  std::uint32_t len = 0;
  if (BSON_ITER_HOLDS_DOCUMENT(it)) {
    bson_iter_document(it, &len, &data);
  } else if (BSON_ITER_HOLDS_ARRAY(it)) {
    bson_iter_array(it, &len, &data);
  } else {
    return false;
  }
  return bson_init_static(out, data, len);
}

bool find_field(const bson_t* doc, std::string_view key, bson_iter_t* out) {
  bson_iter_t it;
  if (!bson_iter_init(&it, doc)) return false;
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it), bson_iter_key_len(&it)) == key) {
      *out = it;
      return true;
    }
  }
  return false;
}

bool is_number(bson_type_t t) {
  return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE ||
         t == BSON_TYPE_DECIMAL128;
}

long double number_value(const bson_iter_t* it) {
  switch (bson_iter_type(it)) {
    case BSON_TYPE_INT32:
      return bson_iter_int32(it);
    case BSON_TYPE_INT64:
      return static_cast<long double>(bson_iter_int64(it));
    case BSON_TYPE_DOUBLE:
      return bson_iter_double(it);
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t dec;
      bson_iter_decimal128(it, &dec);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, text);
      if (std::strcmp(text, "NaN") == 0) return std::nanl("");
      if (std::strcmp(text, "Infinity") == 0) return HUGE_VALL;
      if (std::strcmp(text, "-Infinity") == 0) return -HUGE_VALL;
      return std::strtold(text, nullptr);
    }
    default:
      return 0;
  }
}

std::optional<std::int64_t> integral_value(const bson_iter_t* it) {
  if (!is_number(bson_iter_type(it))) return std::nullopt;
  if (BSON_ITER_HOLDS_INT32(it)) return bson_iter_int32(it);
  if (BSON_ITER_HOLDS_INT64(it)) return bson_iter_int64(it);
  long double v = number_value(it);
  if (!std::isfinite(v) || std::trunc(v) != v) return std::nullopt;
  if (v < -9.2e18L || v > 9.2e18L) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

bool is_truthy_flag(const bson_iter_t* it) {
  if (BSON_ITER_HOLDS_BOOL(it)) return bson_iter_bool(it);
  if (is_number(bson_iter_type(it))) return number_value(it) != 0;
  return true;
}

namespace {
struct TypeNameEntry {
  bson_type_t type;
  const char* name;
};
constexpr TypeNameEntry kTypeNames[] = {
    {BSON_TYPE_DOUBLE, "double"},
    {BSON_TYPE_UTF8, "string"},
    {BSON_TYPE_DOCUMENT, "object"},
    {BSON_TYPE_ARRAY, "array"},
    {BSON_TYPE_BINARY, "binData"},
    {BSON_TYPE_UNDEFINED, "undefined"},
    {BSON_TYPE_OID, "objectId"},
    {BSON_TYPE_BOOL, "bool"},
    {BSON_TYPE_DATE_TIME, "date"},
    {BSON_TYPE_NULL, "null"},
    {BSON_TYPE_REGEX, "regex"},
    {BSON_TYPE_DBPOINTER, "dbPointer"},
    {BSON_TYPE_CODE, "javascript"},
    {BSON_TYPE_SYMBOL, "symbol"},
    {BSON_TYPE_CODEWSCOPE, "javascriptWithScope"},
    {BSON_TYPE_INT32, "int"},
    {BSON_TYPE_TIMESTAMP, "timestamp"},
    {BSON_TYPE_INT64, "long"},
    {BSON_TYPE_DECIMAL128, "decimal"},
    {BSON_TYPE_MINKEY, "minKey"},
    {BSON_TYPE_MAXKEY, "maxKey"},
};
}  // namespace

std::string type_name(bson_type_t t) {
  for (const auto& entry : kTypeNames) {
    if (entry.type == t) return entry.name;
  }
  return "unknown";
}

std::optional<bson_type_t> type_from_name(std::string_view name) {
  for (const auto& entry : kTypeNames) {
    if (name == entry.name) return entry.type;
  }
  return std::nullopt;
}

namespace {

std::string double_to_string(double v) {
  if (std::isnan(v)) return "nan.0";
  if (std::isinf(v)) return v > 0 ? "inf.0" : "-inf.0";
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  std::string out(text, ec == std::errc() ? end : text);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";  // MongoDB writes 1.0, not 1
  return out;
}

std::string hex(const std::uint8_t* data, std::size_t len) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

std::string container_to_string(const bson_iter_t* it, bool array) {
  std::string out = array ? "[" : "{";
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  bool first = true;
  while (bson_iter_next(&child)) {
    if (!first) out += ", ";
    first = false;
    if (!array) out += std::string(bson_iter_key(&child)) + ": ";
    out += value_to_string(&child);
  }
  return out + (array ? "]" : "}");
}

}  // namespace

std::string value_to_string(const bson_iter_t* it) {
  switch (bson_iter_type(it)) {
    case BSON_TYPE_DOUBLE:
      return double_to_string(bson_iter_double(it));
    case BSON_TYPE_INT32:
      return std::to_string(bson_iter_int32(it));
    case BSON_TYPE_INT64:
      return std::to_string(bson_iter_int64(it));
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t dec;
      bson_iter_decimal128(it, &dec);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, text);
      return std::string("NumberDecimal(\"") + text + "\")";
    }
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL:
    case BSON_TYPE_CODE: {
      std::uint32_t len = 0;
      const char* s = BSON_ITER_HOLDS_UTF8(it)     ? bson_iter_utf8(it, &len)
                      : BSON_ITER_HOLDS_SYMBOL(it) ? bson_iter_symbol(it, &len)
                                                   : bson_iter_code(it, &len);
      return "\"" + std::string(s, len) + "\"";
    }
    case BSON_TYPE_DOCUMENT:
      return container_to_string(it, false);
    case BSON_TYPE_ARRAY:
      return container_to_string(it, true);
    case BSON_TYPE_OID: {
      char text[25];
      bson_oid_to_string(bson_iter_oid(it), text);
      return std::string("ObjectId('") + text + "')";
    }
    case BSON_TYPE_BOOL:
      return bson_iter_bool(it) ? "true" : "false";
    case BSON_TYPE_DATE_TIME:
      return "new Date(" + std::to_string(bson_iter_date_time(it)) + ")";
    case BSON_TYPE_TIMESTAMP: {
      std::uint32_t t = 0, i = 0;
      bson_iter_timestamp(it, &t, &i);
      return "Timestamp(" + std::to_string(t) + ", " + std::to_string(i) + ")";
    }
    case BSON_TYPE_REGEX: {
      const char* options = nullptr;
      const char* pattern = bson_iter_regex(it, &options);
      return std::string("/") + pattern + "/" + options;
    }
    case BSON_TYPE_BINARY: {
      bson_subtype_t subtype;
      std::uint32_t len = 0;
      const std::uint8_t* data = nullptr;
      bson_iter_binary(it, &subtype, &len, &data);
      return "BinData(" + std::to_string(static_cast<int>(subtype)) + ", " + hex(data, len) + ")";
    }
    case BSON_TYPE_NULL:
      return "null";
    case BSON_TYPE_UNDEFINED:
      return "undefined";
    case BSON_TYPE_MINKEY:
      return "MinKey";
    case BSON_TYPE_MAXKEY:
      return "MaxKey";
    default:
      return type_name(bson_iter_type(it));
  }
}

std::string element_to_string(std::string_view key, const bson_iter_t* it) {
  return std::string(key) + ": " + value_to_string(it);
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) {
      parts.emplace_back(path.substr(start));
      return parts;
    }
    parts.emplace_back(path.substr(start, dot - start));
    start = dot + 1;
  }
}

bool is_array_index(std::string_view part) {
  if (part.empty() || part.size() > 9) return false;
  for (char c : part) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string join_path(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i) out += '.';
    out += parts[i];
  }
  return out;
}

}  // namespace sandbox
