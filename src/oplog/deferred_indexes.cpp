#include "oplog/deferred_indexes.h"

#include <algorithm>
#include <cstring>

#include "oplog/entry.h"

namespace shardsafe::oplog {
namespace {

using mongo::Bson;
using mongo::BsonBuilder;
using mongo::BsonView;

bool same_document(const Bson& a, const bson_t* b) { return bson_equal(a.get(), b); }

// Whether `spec` is the index `index` designates: by name (a string) or key pattern (a document).
bool designates(const Bson& spec, const bson_iter_t& index) {
  const BsonView view(spec);
  if (BSON_ITER_HOLDS_UTF8(&index)) return view.string("name") == std::string(bson_iter_utf8(&index, nullptr));
  if (!BSON_ITER_HOLDS_DOCUMENT(&index)) return false;
  const auto key = view.document("key");
  std::uint32_t length = 0;
  const std::uint8_t* data = nullptr;
  bson_iter_document(&index, &length, &data);
  bson_t pattern;
  return key && bson_init_static(&pattern, data, length) && same_document(*key, &pattern);
}

// `spec` with every field of `change` except the selectors (name, keyPattern) set on it.
Bson with_changes(const Bson& spec, const Bson& change) {
  BsonBuilder out;
  bson_iter_t iter;
  const BsonView changes(change);
  bson_iter_init(&iter, spec.get());
  while (bson_iter_next(&iter)) {
    const std::string key = bson_iter_key(&iter);
    bson_iter_t replacement;
    out.append_iter(key, changes.find(key, &replacement) ? &replacement : &iter);
  }
  bson_iter_init(&iter, change.get());
  while (bson_iter_next(&iter)) {
    const std::string key = bson_iter_key(&iter);
    if (key != "name" && key != "keyPattern" && !BsonView(spec).has(key)) out.append_iter(key, &iter);
  }
  return out.build();
}

}  // namespace

Bson index_spec_from_create_indexes(const Bson& command) {
  return without_fields(command, {"createIndexes", "ns"});
}

void DeferredIndexes::add(const std::string& ns, const Bson& spec) {
  auto& specs = specs_[ns];
  const auto name = BsonView(spec).string("name");
  std::erase_if(specs, [&](const Bson& existing) { return name && BsonView(existing).string("name") == name; });
  specs.push_back(spec);
}

void DeferredIndexes::drop_collection(const std::string& ns) { specs_.erase(ns); }

void DeferredIndexes::drop_database(const std::string& db) {
  std::erase_if(specs_, [&](const auto& entry) { return entry.first.starts_with(db + "."); });
}

void DeferredIndexes::rename_collection(const std::string& from, const std::string& to) {
  specs_.erase(to);
  const auto found = specs_.find(from);
  if (found == specs_.end()) return;
  specs_[to] = std::move(found->second);
  specs_.erase(from);
}

Bson* DeferredIndexes::find(const std::string& ns, const bson_iter_t& index) {
  const auto found = specs_.find(ns);
  if (found == specs_.end()) return nullptr;
  const auto spec = std::find_if(found->second.begin(), found->second.end(),
                                 [&](const Bson& candidate) { return designates(candidate, index); });
  return spec == found->second.end() ? nullptr : &*spec;
}

bool DeferredIndexes::remove(const std::string& ns, const bson_iter_t& index) {
  const auto found = specs_.find(ns);
  if (found == specs_.end()) return false;
  return std::erase_if(found->second, [&](const Bson& spec) { return designates(spec, index); }) > 0;
}

std::optional<Bson> DeferredIndexes::drop_indexes(const std::string& ns, const Bson& command) {
  bson_iter_t index;
  if (!BsonView(command).find("index", &index)) return command;  // malformed: let the server say so
  if (BSON_ITER_HOLDS_UTF8(&index) && std::strcmp(bson_iter_utf8(&index, nullptr), "*") == 0) {
    specs_.erase(ns);
    return command;
  }
  if (!BSON_ITER_HOLDS_ARRAY(&index)) {
    if (remove(ns, index)) return std::nullopt;
    return command;
  }
  std::vector<std::string> still_to_drop;
  bson_iter_t names;
  bson_iter_recurse(&index, &names);
  while (bson_iter_next(&names)) {
    if (!remove(ns, names) && BSON_ITER_HOLDS_UTF8(&names)) still_to_drop.emplace_back(bson_iter_utf8(&names, nullptr));
  }
  if (still_to_drop.empty()) return std::nullopt;
  BsonBuilder out;
  bson_iter_t field;
  bson_iter_init(&field, command.get());
  while (bson_iter_next(&field)) {
    const std::string key = bson_iter_key(&field);
    if (key == "index") {
      out.append_array("index", still_to_drop);
    } else {
      out.append_iter(key, &field);
    }
  }
  return out.build();
}

bool DeferredIndexes::modify_index(const std::string& ns, const Bson& change) {
  bson_iter_t selector;
  const BsonView view(change);
  if (!view.find("name", &selector) && !view.find("keyPattern", &selector)) return false;
  Bson* spec = find(ns, selector);
  if (spec == nullptr) return false;
  *spec = with_changes(*spec, change);
  return true;
}

}  // namespace shardsafe::oplog
