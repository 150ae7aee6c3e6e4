#include "server/collection.h"

namespace sandbox {
namespace {

Doc key_value_doc(const Doc& pattern, const Doc& key) {
  Builder pairs;
  bson_iter_t names, values;
  bson_iter_init(&names, pattern.bson());
  bson_iter_init(&values, key.bson());
  while (bson_iter_next(&names) && bson_iter_next(&values)) {
    append_iter(pairs.get(), bson_iter_key(&names), &values);
  }
  return pairs.doc();
}

std::string key_value_message(const Doc& pattern, const Doc& key) {
  Doc pairs = key_value_doc(pattern, key);
  return json(pairs.bson());
}

}  // namespace

bool KeyLess::operator()(const Doc& a, const Doc& b) const {
  // Straight from the bytes: index lookups compare keys often, and Doc::bson() re-inits a view.
  bson_iter_t left, right;
  bson_iter_init_from_data(&left, a.data(), a.size());
  bson_iter_init_from_data(&right, b.data(), b.size());
  while (true) {
    bool has_left = bson_iter_next(&left);
    bool has_right = bson_iter_next(&right);
    if (!has_left || !has_right) return !has_left && has_right;
    int order = compare_values(&left, &right);
    if (order != 0) return order < 0;
  }
}

std::optional<Doc> Index::key_of(const bson_t* doc) const {
  if (partial && !partial->matches(doc)) return std::nullopt;
  Builder key_builder;
  bool any_present = false;
  bson_iter_t field;
  bson_iter_init(&field, key.bson());
  while (bson_iter_next(&field)) {
    bson_iter_t value;
    bson_iter_t root;
    bson_iter_init(&root, doc);
    if (bson_iter_find_descendant(&root, bson_iter_key(&field), &value)) {
      any_present = true;
      append_iter(key_builder.get(), "", &value);
    } else {
      BSON_APPEND_NULL(key_builder.get(), "");
    }
  }
  if (sparse && !any_present) return std::nullopt;
  return key_builder.doc();
}

Doc id_index_spec() {
  Builder spec;
  BSON_APPEND_INT32(spec.get(), "v", 2);
  bson_t key;
  BSON_APPEND_DOCUMENT_BEGIN(spec.get(), "key", &key);
  BSON_APPEND_INT32(&key, "_id", 1);
  bson_append_document_end(spec.get(), &key);
  BSON_APPEND_UTF8(spec.get(), "name", "_id_");
  return spec.doc();
}

Collection::Collection(std::string db, std::string name, Uuid uuid, Doc options)
    : db_(std::move(db)), name_(std::move(name)), uuid_(uuid), options_(std::move(options)) {
  if (get_bool(options_.bson(), "capped", false)) {
    capped_size_ = std::max<std::int64_t>(get_number(options_.bson(), "size").value_or(4096), 4096);
    capped_max_ = get_number(options_.bson(), "max").value_or(0);
  }
  // The oplog has no _id index (its entries have no _id), like a real server's.
  bool is_oplog = db_ == "local" && name_ == "oplog.rs";
  if (!is_view() && !is_oplog) {
    Doc spec = id_index_spec();
    create_index(spec.bson());
  }
}

void Collection::set_options(Doc options) {
  options_ = std::move(options);
  validator_compiled_ = false;
  validator_.reset();
}

const Matcher* Collection::validator() const {
  if (!validator_compiled_) {
    if (auto spec = get_document(options_.bson(), "validator")) validator_ = std::make_shared<const Matcher>(spec->bson());
    validator_compiled_ = true;
  }
  return validator_.get();
}

bool Collection::is_view() const { return find_field(options_.bson(), "viewOn").has_value(); }

std::int64_t Collection::index_size() const {
  // An estimate for statistics: 32 bytes per indexed document per index.
  return static_cast<std::int64_t>(indexes_.size() * records_.size() * 32);
}

void Collection::check_unique(const bson_t* doc, std::optional<std::int64_t> ignore) const {
  for (const Index& index : indexes_) {
    if (!index.unique) continue;
    auto key = index.key_of(doc);
    if (!key) continue;
    auto found = index.keys.find(*key);
    if (found == index.keys.end() || (ignore && found->second == *ignore)) continue;
    throw DuplicateKeyError("E11000 duplicate key error collection: " + ns() + " index: " +
                                index.name + " dup key: " + key_value_message(index.key, *key),
                            index.key, key_value_doc(index.key, *key));
  }
}

void Collection::index_add(std::int64_t record_id, const bson_t* doc) {
  for (Index& index : indexes_) {
    if (!index.unique) continue;
    if (auto key = index.key_of(doc)) index.keys.emplace(std::move(*key), record_id);
  }
}

void Collection::index_remove(std::int64_t record_id, const bson_t* doc) {
  for (Index& index : indexes_) {
    if (!index.unique) continue;
    auto key = index.key_of(doc);
    if (!key) continue;
    auto found = index.keys.find(*key);
    if (found != index.keys.end() && found->second == record_id) index.keys.erase(found);
  }
}

std::int64_t Collection::insert(Doc doc) {
  check_unique(doc.bson(), std::nullopt);
  std::int64_t record_id = next_record_id_++;
  index_add(record_id, doc.bson());
  data_size_ += static_cast<std::int64_t>(doc.size());
  records_.emplace(record_id, std::make_shared<const Doc>(std::move(doc)));
  enforce_capped_limits();
  return record_id;
}

void Collection::replace(std::int64_t record_id, Doc doc) {
  auto found = records_.find(record_id);
  if (found == records_.end()) return;
  check_unique(doc.bson(), record_id);
  Record old = found->second;
  index_remove(record_id, old->bson());
  index_add(record_id, doc.bson());
  data_size_ += static_cast<std::int64_t>(doc.size()) - static_cast<std::int64_t>(old->size());
  found->second = std::make_shared<const Doc>(std::move(doc));
}

void Collection::remove(std::int64_t record_id) {
  auto found = records_.find(record_id);
  if (found == records_.end()) return;
  index_remove(record_id, found->second->bson());
  data_size_ -= static_cast<std::int64_t>(found->second->size());
  records_.erase(found);
}

std::optional<std::int64_t> Collection::find_by_id(const Doc& id_key) const {
  if (indexes_.empty() || indexes_.front().name != "_id_") return std::nullopt;
  auto found = indexes_.front().keys.find(id_key);
  if (found == indexes_.front().keys.end()) return std::nullopt;
  return found->second;
}

void Collection::enforce_capped_limits() {
  if (!is_capped()) return;
  // The newest document always stays, even when it alone exceeds the size.
  while (records_.size() > 1 &&
         (data_size_ > capped_size_ ||
          (capped_max_ > 0 && static_cast<std::int64_t>(records_.size()) > capped_max_))) {
    remove(records_.begin()->first);
  }
}

bool Collection::create_index(const bson_t* spec) {
  Index index;
  index.spec = Doc::copy_of(spec);
  index.name = get_string(spec, "name").value_or("");
  auto key = get_document(spec, "key");
  if (!key || index.name.empty()) {
    throw_error(9, "FailedToParse", "index specification must have 'key' and 'name'");
  }
  index.key = std::move(*key);
  index.unique = get_bool(spec, "unique", false) || index.name == "_id_";
  index.sparse = get_bool(spec, "sparse", false);
  if (auto partial = get_document(spec, "partialFilterExpression")) {
    index.partial = std::make_shared<Matcher>(partial->bson());
  }
  for (const Index& existing : indexes_) {
    bool same_name = existing.name == index.name;
    bool same_key = existing.key == index.key;
    if (!same_name && !same_key) continue;
    if (same_name && same_key && existing.unique == index.unique &&
        existing.sparse == index.sparse) {
      return false;
    }
    if (same_name) {
      throw_error(86, "IndexKeySpecsConflict",
                  "An existing index has the same name as the requested index but different "
                  "options. Requested index: " + json(spec));
    }
    if (!existing.partial && !index.partial) {
      throw_error(85, "IndexOptionsConflict",
                  "An equivalent index already exists with a different name and options. "
                  "Requested index: " + json(spec));
    }
  }
  if (index.unique) {
    for (const auto& [record_id, record] : records_) {
      auto doc_key = index.key_of(record->bson());
      if (!doc_key) continue;
      if (!index.keys.emplace(std::move(*doc_key), record_id).second) {
        throw CommandError(11000, "DuplicateKey",
                           "E11000 duplicate key error collection: " + ns() + " index: " +
                               index.name);
      }
    }
  }
  indexes_.push_back(std::move(index));
  return true;
}

void Collection::drop_index(const std::string& name) {
  for (auto it = indexes_.begin(); it != indexes_.end(); ++it) {
    if (it->name != name) continue;
    if (name == "_id_") throw_error(72, "InvalidOptions", "cannot drop _id index");
    indexes_.erase(it);
    return;
  }
  throw_error(27, "IndexNotFound", "index not found with name [" + name + "]");
}

void Collection::drop_all_indexes() {
  if (indexes_.size() > 1) indexes_.erase(indexes_.begin() + 1, indexes_.end());
}

}  // namespace sandbox
