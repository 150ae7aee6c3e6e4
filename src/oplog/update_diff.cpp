#include "oplog/update_diff.h"

#include <map>
#include <optional>
#include <set>
#include <string>

#include "common/error.h"
#include "common/numbers.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;

// A field's value as its own document {"v": value}, so values of any type can be kept and
// appended later under another key.
Bson capture(const bson_iter_t* value) { return BsonBuilder().append_iter("v", value).build(); }

void append_captured(BsonBuilder& out, std::string_view key, const Bson& captured) {
  bson_iter_t value;
  bson_iter_init_find(&value, captured.get(), "v");
  out.append_iter(key, &value);
}

struct DocumentDiff {
  std::set<std::string> deleted;
  std::map<std::string, Bson> updated, inserted, sub_diffs;
  std::vector<std::string> inserted_order;
};

Bson embedded(const bson_iter_t* value) {
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  if (BSON_ITER_HOLDS_DOCUMENT(value)) {
    bson_iter_document(value, &length, &data);
  } else {
    bson_iter_array(value, &length, &data);
  }
  return Bson::from_bytes({data, length});
}

DocumentDiff parse_document_diff(const Bson& diff) {
  DocumentDiff parsed;
  bson_iter_t part;
  bson_iter_init(&part, diff.get());
  while (bson_iter_next(&part)) {
    const std::string key = bson_iter_key(&part);
    const bool is_document = BSON_ITER_HOLDS_DOCUMENT(&part);
    if ((key == "d" || key == "u" || key == "i") && is_document) {
      const Bson fields = embedded(&part);
      bson_iter_t field;
      bson_iter_init(&field, fields.get());
      while (bson_iter_next(&field)) {
        const std::string name = bson_iter_key(&field);
        if (key == "d") parsed.deleted.insert(name);
        if (key == "u") parsed.updated.emplace(name, capture(&field));
        if (key == "i") {
          parsed.inserted.emplace(name, capture(&field));
          parsed.inserted_order.push_back(name);
        }
      }
    } else if (key.size() > 1 && key[0] == 's' && is_document) {
      parsed.sub_diffs.emplace(key.substr(1), embedded(&part));
    } else {
      throw Error(ErrorCode::kUnsupportedVersion, "unknown part \"" + key + "\" in a $v:2 update diff");
    }
  }
  return parsed;
}

Bson apply_array_diff(const Bson& array, const Bson& diff);

void append_with_sub_diff(BsonBuilder& out, const std::string& key, const bson_iter_t* value, const Bson& sub_diff) {
  if (BSON_ITER_HOLDS_DOCUMENT(value)) {
    out.append(key, apply_update_diff(embedded(value), sub_diff));
  } else if (BSON_ITER_HOLDS_ARRAY(value)) {
    out.append_array_document(key, apply_array_diff(embedded(value), sub_diff));
  } else {
    throw Error(ErrorCode::kCorruptData, "a $v:2 update diff changes inside field \"" + key + "\", which is neither a document nor an array");
  }
}

Bson apply_array_diff(const Bson& array, const Bson& diff) {
  std::optional<std::uint64_t> length;
  std::map<std::uint64_t, Bson> updated, sub_diffs;
  bson_iter_t part;
  bson_iter_init(&part, diff.get());
  while (bson_iter_next(&part)) {
    const std::string key = bson_iter_key(&part);
    const auto index = key.size() > 1 ? parse_uint64(std::string_view(key).substr(1)) : std::nullopt;
    if (key == "a") continue;
    if (key == "l" && (BSON_ITER_HOLDS_INT32(&part) || BSON_ITER_HOLDS_INT64(&part))) {
      length = static_cast<std::uint64_t>(bson_iter_as_int64(&part));
    } else if (key[0] == 'u' && index) {
      updated.emplace(*index, capture(&part));
    } else if (key[0] == 's' && index && BSON_ITER_HOLDS_DOCUMENT(&part)) {
      sub_diffs.emplace(*index, embedded(&part));
    } else {
      throw Error(ErrorCode::kUnsupportedVersion, "unknown part \"" + key + "\" in a $v:2 array diff");
    }
  }
  std::vector<Bson> elements;  // each captured as {"v": value}
  bson_iter_t element;
  bson_iter_init(&element, array.get());
  while (bson_iter_next(&element)) elements.push_back(capture(&element));
  for (const auto& [index, value] : updated) {
    if (index >= elements.size()) elements.resize(index + 1, BsonBuilder().append_null("v").build());
    elements[index] = value;
  }
  if (length) elements.resize(*length, BsonBuilder().append_null("v").build());
  BsonBuilder out;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const std::string key = std::to_string(i);
    const auto sub = sub_diffs.find(i);
    if (sub == sub_diffs.end()) {
      append_captured(out, key, elements[i]);
      continue;
    }
    bson_iter_t value;
    bson_iter_init_find(&value, elements[i].get(), "v");
    BsonBuilder wrapped;
    append_with_sub_diff(wrapped, "v", &value, sub->second);
    append_captured(out, key, wrapped.build());
  }
  return out.build();
}

}  // namespace

Bson apply_update_diff(const Bson& document, const Bson& diff) {
  const DocumentDiff parsed = parse_document_diff(diff);
  BsonBuilder out;
  std::set<std::string> seen;
  bson_iter_t field;
  bson_iter_init(&field, document.get());
  while (bson_iter_next(&field)) {
    const std::string key = bson_iter_key(&field);
    seen.insert(key);
    if (parsed.deleted.contains(key)) continue;
    if (const auto updated = parsed.updated.find(key); updated != parsed.updated.end()) {
      append_captured(out, key, updated->second);
    } else if (const auto sub = parsed.sub_diffs.find(key); sub != parsed.sub_diffs.end()) {
      append_with_sub_diff(out, key, &field, sub->second);
    } else {
      out.append_iter(key, &field);
    }
  }
  for (const auto& [key, value] : parsed.updated) {
    if (!seen.contains(key)) append_captured(out, key, value);
  }
  for (const auto& key : parsed.inserted_order) append_captured(out, key, parsed.inserted.at(key));
  return out.build();
}

}  // namespace shardsafe::oplog
