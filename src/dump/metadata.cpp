#include "dump/metadata.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "storage/hash.h"

namespace shardsafe::dump {
namespace {

// Writes canonical Extended JSON v2 the way the Go driver's extJSONValueWriter does, so our
// metadata.json files are byte-identical to mongodump's.
class GoExtendedJsonWriter {
 public:
  std::string take() { return std::move(out_); }

  void document(const bson_t* document, bool is_array) {
    bson_iter_t iter;
    if (!bson_iter_init(&iter, document)) throw Error(ErrorCode::kCorruptData, "invalid BSON in metadata");
    out_.push_back(is_array ? '[' : '{');
    bool first = true;
    while (bson_iter_next(&iter)) {
      if (!first) out_.push_back(',');
      first = false;
      if (!is_array) {
        string(bson_iter_key(&iter), bson_iter_key_len(&iter));
        out_.push_back(':');
      }
      value(&iter);
    }
    out_.push_back(is_array ? ']' : '}');
  }

 private:
  void value(const bson_iter_t* iter);
  void nested(const bson_iter_t* iter, bool is_array);
  void wrapped(std::string_view type, std::string_view text) {  // {"$type":"text"}
    out_ += "{\"";
    out_ += type;
    out_ += "\":";
    string(text.data(), text.size());
    out_.push_back('}');
  }
  void string(const char* text, std::size_t length);
  void oid(const bson_oid_t* oid) {
    std::array<char, 25> hex{};
    bson_oid_to_string(oid, hex.data());
    wrapped("$oid", hex.data());
  }

  std::string out_;
};

// Go's strconv.FormatFloat(f, 'G', -1, 64), plus ".0" when that has neither '.' nor 'E'.
std::string go_format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // Shortest round-trip digits, from which both of Go's layouts are built.
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
  const std::string_view text(buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data()));
  const bool negative = text.front() == '-';
  const auto e = text.find('e');
  std::string digits;
  for (const char c : text.substr(negative ? 1 : 0, e - (negative ? 1 : 0))) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::stoi(std::string(text.substr(e + 1)));
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 6) {  // Go uses %E for shortest output outside [1e-4, 1e6)
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const std::string magnitude = std::to_string(std::abs(exponent));
    return out + (exponent < 0 ? "E-" : "E+") + (magnitude.size() < 2 ? "0" : "") + magnitude;
  }
  const int point = exponent + 1;  // digits before the decimal point
  const int count = static_cast<int>(digits.size());
  if (point <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (point >= count) {
    out += digits + std::string(static_cast<std::size_t>(point - count), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
  }
  return out;
}

// One UTF-8 sequence at `bytes` as Go's utf8.DecodeRuneInString sees it: the code point and
// its length, or length 0 when the bytes are not valid UTF-8 (overlong, surrogate, truncated).
std::pair<std::uint32_t, std::size_t> decode_utf8(const unsigned char* bytes, std::size_t available) {
  const unsigned char lead = bytes[0];
  std::size_t size = 0;
  std::uint32_t rune = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xC0 && lead < 0xE0) {
    size = 2, rune = lead & 0x1F, minimum = 0x80;
  } else if (lead >= 0xE0 && lead < 0xF0) {
    size = 3, rune = lead & 0x0F, minimum = 0x800;
  } else if (lead >= 0xF0 && lead < 0xF8) {
    size = 4, rune = lead & 0x07, minimum = 0x10000;
  } else {
    return {0, 0};
  }
  if (size > available) return {0, 0};
  for (std::size_t k = 1; k < size; ++k) {
    if ((bytes[k] & 0xC0) != 0x80) return {0, 0};
    rune = rune << 6 | (bytes[k] & 0x3F);
  }
  if (rune < minimum || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return {0, 0};
  return {rune, size};
}

// Go's writeStringWithEscapes without HTML escaping: '"', '\\', \n \r \t short, other control
// bytes as \u00xx, U+2028/U+2029 escaped, invalid UTF-8 replaced by \ufffd.
void GoExtendedJsonWriter::string(const char* text, std::size_t length) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out_.push_back('"');
  const auto* bytes = reinterpret_cast<const unsigned char*>(text);
  for (std::size_t i = 0; i < length;) {
    const unsigned char c = bytes[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_.push_back(kHex[c >> 4]);
            out_.push_back(kHex[c & 0xF]);
          } else {
            out_.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const auto [rune, size] = decode_utf8(bytes + i, length - i);
    if (size == 0) {
      out_ += "\\ufffd";
      ++i;
      continue;
    }
    if (rune == 0x2028 || rune == 0x2029) {
      out_ += rune == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out_.append(text + i, size);
    }
    i += size;
  }
  out_.push_back('"');
}

void GoExtendedJsonWriter::nested(const bson_iter_t* iter, bool is_array) {
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  if (is_array) {
    bson_iter_array(iter, &length, &data);
  } else {
    bson_iter_document(iter, &length, &data);
  }
  bson_t child;
  if (!bson_init_static(&child, data, length)) throw Error(ErrorCode::kCorruptData, "invalid BSON in metadata");
  document(&child, is_array);
}

void GoExtendedJsonWriter::value(const bson_iter_t* iter) {
  switch (bson_iter_type(iter)) {
    case BSON_TYPE_DOUBLE: wrapped("$numberDouble", go_format_double(bson_iter_double(iter))); break;
    case BSON_TYPE_UTF8: {
      std::uint32_t length = 0;
      const char* text = bson_iter_utf8(iter, &length);
      string(text, length);
      break;
    }
    case BSON_TYPE_DOCUMENT: nested(iter, false); break;
    case BSON_TYPE_ARRAY: nested(iter, true); break;
    case BSON_TYPE_BINARY: {
      bson_subtype_t subtype;
      std::uint32_t length = 0;
      const std::uint8_t* data = nullptr;
      bson_iter_binary(iter, &subtype, &length, &data);
      char subtype_hex[3];
      std::snprintf(subtype_hex, sizeof subtype_hex, "%02x", static_cast<unsigned>(subtype));
      out_ += "{\"$binary\":{\"base64\":\"" + storage::to_base64({data, length}) + "\",\"subType\":\"" +
              subtype_hex + "\"}}";
      break;
    }
    case BSON_TYPE_UNDEFINED: out_ += "{\"$undefined\":true}"; break;
    case BSON_TYPE_OID: oid(bson_iter_oid(iter)); break;
    case BSON_TYPE_BOOL: out_ += bson_iter_bool(iter) ? "true" : "false"; break;
    case BSON_TYPE_DATE_TIME:
      out_ += "{\"$date\":";
      wrapped("$numberLong", std::to_string(bson_iter_date_time(iter)));
      out_.push_back('}');
      break;
    case BSON_TYPE_NULL: out_ += "null"; break;
    case BSON_TYPE_REGEX: {
      const char* options = nullptr;
      const char* pattern = bson_iter_regex(iter, &options);
      std::string sorted_options(options ? options : "");
      std::sort(sorted_options.begin(), sorted_options.end());
      out_ += "{\"$regularExpression\":{\"pattern\":";
      string(pattern, std::strlen(pattern));
      out_ += ",\"options\":";
      string(sorted_options.data(), sorted_options.size());
      out_ += "}}";
      break;
    }
    case BSON_TYPE_DBPOINTER: {
      std::uint32_t length = 0;
      const char* collection = nullptr;
      const bson_oid_t* id = nullptr;
      bson_iter_dbpointer(iter, &length, &collection, &id);
      out_ += "{\"$dbPointer\":{\"$ref\":";
      string(collection, length);
      out_ += ",\"$id\":";
      oid(id);
      out_ += "}}";
      break;
    }
    case BSON_TYPE_CODE: {
      std::uint32_t length = 0;
      const char* code = bson_iter_code(iter, &length);
      wrapped("$code", std::string_view(code, length));
      break;
    }
    case BSON_TYPE_SYMBOL: {
      std::uint32_t length = 0;
      const char* symbol = bson_iter_symbol(iter, &length);
      wrapped("$symbol", std::string_view(symbol, length));
      break;
    }
    case BSON_TYPE_CODEWSCOPE: {
      std::uint32_t code_length = 0;
      std::uint32_t scope_length = 0;
      const std::uint8_t* scope_data = nullptr;
      const char* code = bson_iter_codewscope(iter, &code_length, &scope_length, &scope_data);
      bson_t scope;
      if (!bson_init_static(&scope, scope_data, scope_length)) {
        throw Error(ErrorCode::kCorruptData, "invalid BSON in metadata");
      }
      out_ += "{\"$code\":";
      string(code, code_length);
      out_ += ",\"$scope\":";
      document(&scope, false);
      out_.push_back('}');
      break;
    }
    case BSON_TYPE_INT32: wrapped("$numberInt", std::to_string(bson_iter_int32(iter))); break;
    case BSON_TYPE_TIMESTAMP: {
      std::uint32_t seconds = 0;
      std::uint32_t increment = 0;
      bson_iter_timestamp(iter, &seconds, &increment);
      out_ += "{\"$timestamp\":{\"t\":" + std::to_string(seconds) + ",\"i\":" + std::to_string(increment) + "}}";
      break;
    }
    case BSON_TYPE_INT64: wrapped("$numberLong", std::to_string(bson_iter_int64(iter))); break;
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t decimal;
      bson_iter_decimal128(iter, &decimal);
      std::array<char, BSON_DECIMAL128_STRING> text{};
      bson_decimal128_to_string(&decimal, text.data());
      wrapped("$numberDecimal", text.data());
      break;
    }
    case BSON_TYPE_MINKEY: out_ += "{\"$minKey\":1}"; break;
    case BSON_TYPE_MAXKEY: out_ += "{\"$maxKey\":1}"; break;
    default: throw Error(ErrorCode::kCorruptData, "unknown BSON type in metadata");
  }
}


[[noreturn]] void corrupt(std::string_view origin, const std::string& problem) {
  throw Error(ErrorCode::kCorruptData, "invalid metadata file \"" + std::string(origin) + "\": " + problem);
}

}  // namespace

std::string go_canonical_extended_json(const mongo::Bson& document) {
  GoExtendedJsonWriter writer;
  writer.document(document.get(), false);
  return writer.take();
}

std::string uuid_of_listing(const mongo::Bson& entry) { return mongo::BsonView(entry).uuid("info.uuid").value_or(""); }

CollectionMetadata metadata_from_list_collections(const mongo::Bson& entry, std::vector<mongo::Bson> indexes) {
  const mongo::BsonView view(entry);
  CollectionMetadata metadata;
  metadata.options = view.document("options").value_or(mongo::Bson());
  metadata.indexes = std::move(indexes);
  metadata.uuid = uuid_of_listing(entry);
  metadata.collection_name = view.string("name").value_or("");
  metadata.type = view.string("type").value_or("");
  return metadata;
}

std::string to_metadata_json(const CollectionMetadata& metadata) {
  mongo::BsonBuilder builder;
  if (!metadata.options.empty()) builder.append("options", metadata.options);
  builder.append_array("indexes", metadata.indexes);
  if (!metadata.uuid.empty()) builder.append("uuid", metadata.uuid);
  builder.append("collectionName", metadata.collection_name);
  if (!metadata.type.empty()) builder.append("type", metadata.type);
  return go_canonical_extended_json(builder.build());
}

CollectionMetadata parse_metadata_json(std::string_view json, std::string_view origin) {
  mongo::Bson document;
  try {
    document = mongo::Bson::from_json(json);
  } catch (const Error& error) {
    corrupt(origin, error.what());
  }
  const mongo::BsonView view(document);
  CollectionMetadata metadata;
  if (view.has("options")) {
    auto options = view.document("options");
    if (!options) corrupt(origin, "\"options\" is not a document");
    metadata.options = std::move(*options);
  }
  if (view.has("indexes")) {
    bson_iter_t iter;
    view.find("indexes", &iter);
    if (!BSON_ITER_HOLDS_ARRAY(&iter)) corrupt(origin, "\"indexes\" is not an array");
    metadata.indexes = view.documents("indexes");
  }
  for (const auto& [field, target] : {std::pair{"uuid", &metadata.uuid}, std::pair{"collectionName", &metadata.collection_name},
                                      std::pair{"type", &metadata.type}}) {
    if (!view.has(field)) continue;
    auto text = view.string(field);
    if (!text) corrupt(origin, "\"" + std::string(field) + "\" is not a string");
    *target = std::move(*text);
  }
  return metadata;
}

}  // namespace shardsafe::dump
