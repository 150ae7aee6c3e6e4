#include "query/diff.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "query/query.h"

namespace sandbox {
namespace {

std::optional<Doc> document_diff(const Node& before, const Node& after);
std::optional<Doc> array_diff(const Node& before, const Node& after);

// A diff of two containers of one kind, or nullopt when the change is better written whole.
std::optional<Doc> container_diff(const Node& before, const Node& after) {
  if (before.is_document() && after.is_document()) return document_diff(before, after);
  if (before.is_array() && after.is_array()) return array_diff(before, after);
  return std::nullopt;
}

// True when `after` keeps the fields it shares with `before` in their old relative order and
// puts every new field after them: the only shapes d/u/i/s can reproduce exactly.
bool order_is_expressible(const Node& before, const Node& after) {
  std::size_t last_old_index = 0;
  bool seen_new = false;
  for (const Field& f : after.children) {
    auto it = std::find_if(before.children.begin(), before.children.end(),
                           [&](const Field& b) { return b.name == f.name; });
    if (it == before.children.end()) {
      seen_new = true;
      continue;
    }
    auto index = static_cast<std::size_t>(it - before.children.begin()) + 1;
    if (seen_new || index < last_old_index) return false;
    last_old_index = index;
  }
  return true;
}

void append_doc(bson_t* out, const std::string& key, const Doc& doc) {
  bson_append_document(out, key.data(), static_cast<int>(key.size()), doc.bson());
}

std::optional<Doc> document_diff(const Node& before, const Node& after) {
  if (!order_is_expressible(before, after)) return std::nullopt;
  ScopedBson deletes, updates, inserts;
  std::vector<std::pair<std::string, Doc>> subdiffs;
  for (const Field& f : before.children) {
    if (!after.find(f.name)) bson_append_bool(deletes.get(), f.name.data(), static_cast<int>(f.name.size()), false);
  }
  for (const Field& f : after.children) {
    const Node* old = before.find(f.name);
    if (!old) {
      f.value.append_to(inserts.get(), f.name);
    } else if (!(*old == f.value)) {
      if (auto sub = container_diff(*old, f.value)) {
        subdiffs.emplace_back("s" + f.name, std::move(*sub));
      } else {
        f.value.append_to(updates.get(), f.name);
      }
    }
  }
  ScopedBson diff;
  if (!bson_empty(deletes.get())) bson_append_document(diff.get(), "d", 1, deletes.get());
  if (!bson_empty(updates.get())) bson_append_document(diff.get(), "u", 1, updates.get());
  if (!bson_empty(inserts.get())) bson_append_document(diff.get(), "i", 1, inserts.get());
  for (const auto& [key, sub] : subdiffs) append_doc(diff.get(), key, sub);
  return diff.to_doc();
}

std::optional<Doc> array_diff(const Node& before, const Node& after) {
  ScopedBson diff;
  bson_append_bool(diff.get(), "a", 1, true);
  if (after.children.size() < before.children.size()) {
    bson_append_int32(diff.get(), "l", 1, static_cast<std::int32_t>(after.children.size()));
  }
  for (std::size_t i = 0; i < after.children.size(); ++i) {
    const Node& now = after.children[i].value;
    if (i < before.children.size()) {
      const Node& old = before.children[i].value;
      if (old == now) continue;
      if (auto sub = container_diff(old, now)) {
        append_doc(diff.get(), "s" + std::to_string(i), *sub);
        continue;
      }
    }
    now.append_to(diff.get(), "u" + std::to_string(i));
  }
  return diff.to_doc();
}

// ---- applying ----

void apply_array_diff(Node& array, const bson_t* diff);

void apply_subdiff(Node& target, const bson_iter_t* sub) {
  if (!BSON_ITER_HOLDS_DOCUMENT(sub)) throw_failed_to_parse("oplog diff: a subdiff must be a document");
  bson_t subdiff;
  init_static_from_iter(sub, &subdiff);
  bson_iter_t marker;
  bool is_array_diff = find_field(&subdiff, "a", &marker) && BSON_ITER_HOLDS_BOOL(&marker) && bson_iter_bool(&marker);
  if (is_array_diff && target.is_array()) {
    apply_array_diff(target, &subdiff);
  } else if (!is_array_diff && target.is_document()) {
    apply_document_diff(target, &subdiff);
  } else {
    throw_failed_to_parse("oplog diff: subdiff kind does not match the field's type " + type_name(target.type));
  }
}

void set_element(Node& array, std::size_t index, Node value) {
  while (array.children.size() <= index) array.append(std::to_string(array.children.size()), Node::null());
  array.children[index].value = std::move(value);
}

std::size_t index_from_key(const char* key) {
  if (!is_array_index(key + 1)) throw_failed_to_parse(std::string("oplog diff: bad array diff key '") + key + "'");
  return static_cast<std::size_t>(std::strtoul(key + 1, nullptr, 10));
}

void apply_array_diff(Node& array, const bson_t* diff) {
  bson_iter_t it;
  bson_iter_init(&it, diff);
  while (bson_iter_next(&it)) {
    const char* key = bson_iter_key(&it);
    if (std::string_view(key) == "a") continue;
    if (std::string_view(key) == "l") {
      auto n = integral_value(&it);
      if (!n || *n < 0) throw_failed_to_parse("oplog diff: bad array length");
      auto size = static_cast<std::size_t>(*n);
      if (size < array.children.size()) array.children.resize(size);
      while (array.children.size() < size) array.append(std::to_string(array.children.size()), Node::null());
    } else if (key[0] == 'u') {
      set_element(array, index_from_key(key), Node::from_iter(&it));
    } else if (key[0] == 's') {
      std::size_t index = index_from_key(key);
      if (index >= array.children.size()) throw_failed_to_parse("oplog diff: subdiff past the end of an array");
      apply_subdiff(array.children[index].value, &it);
    } else {
      throw_failed_to_parse(std::string("oplog diff: unknown array diff key '") + key + "'");
    }
  }
}

// Sections are kept as iterators: a bson_t made by bson_init_static must not be copied (it
// points into itself).
struct DocumentDiffSections {
  std::optional<bson_iter_t> deletes, updates, inserts;
  std::vector<bson_iter_t> subdiffs;  // keys "s<field>"
};

DocumentDiffSections parse_sections(const bson_t* diff) {
  DocumentDiffSections sections;
  bson_iter_t it;
  bson_iter_init(&it, diff);
  while (bson_iter_next(&it)) {
    std::string_view key = bson_iter_key(&it);
    if (key == "d" || key == "u" || key == "i") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) throw_failed_to_parse("oplog diff: section " + std::string(key) + " must be a document");
      (key == "d" ? sections.deletes : key == "u" ? sections.updates : sections.inserts) = it;
    } else if (key.size() > 1 && key[0] == 's') {
      sections.subdiffs.push_back(it);
    } else {
      throw_failed_to_parse("oplog diff: unsupported section '" + std::string(key) + "'");
    }
  }
  return sections;
}

bool section_has(const std::optional<bson_iter_t>& section, const std::string& name, bson_iter_t* out) {
  if (!section) return false;
  bson_t doc;
  init_static_from_iter(&*section, &doc);
  return find_field(&doc, name, out);
}

}  // namespace

Doc make_oplog_update(const Node& before, const Node& after) {
  auto diff = document_diff(before, after);
  if (!diff) return after.to_doc();
  ScopedBson o;
  bson_append_int32(o.get(), "$v", 2, 2);
  append_doc(o.get(), "diff", *diff);
  return o.to_doc();
}

void apply_document_diff(Node& doc, const bson_t* diff) {
  DocumentDiffSections sections = parse_sections(diff);
  std::vector<Field> result;
  for (Field& f : doc.children) {
    bson_iter_t found;
    if (section_has(sections.deletes, f.name, &found) || section_has(sections.inserts, f.name, &found)) continue;
    if (section_has(sections.updates, f.name, &found)) {
      result.push_back(Field{f.name, Node::from_iter(&found)});
      continue;
    }
    for (const bson_iter_t& sub : sections.subdiffs) {
      if (f.name == bson_iter_key(&sub) + 1) apply_subdiff(f.value, &sub);
    }
    result.push_back(std::move(f));
  }
  auto append_new = [&](const std::optional<bson_iter_t>& section) {
    if (!section) return;
    bson_iter_t it;
    bson_iter_recurse(&*section, &it);
    while (bson_iter_next(&it)) {
      std::string name = bson_iter_key(&it);
      bool present = std::any_of(result.begin(), result.end(), [&](const Field& r) { return r.name == name; });
      if (!present) result.push_back(Field{name, Node::from_iter(&it)});
    }
  };
  append_new(sections.updates);  // u of a field that was not there appends it
  append_new(sections.inserts);
  doc.children = std::move(result);
}

Doc apply_oplog_update(const bson_t* doc, const bson_t* oplog_o) {
  Node root = Node::from_document(doc);
  bson_iter_t version, diff;
  bool has_version = find_field(oplog_o, "$v", &version);
  if (has_version && integral_value(&version) == 2) {
    if (!find_field(oplog_o, "diff", &diff) || !BSON_ITER_HOLDS_DOCUMENT(&diff)) {
      throw_failed_to_parse("a $v:2 oplog update needs a 'diff' document");
    }
    bson_t d;
    init_static_from_iter(&diff, &d);
    apply_document_diff(root, &d);
    return root.to_doc();
  }
  if (has_version || !is_replacement_update(oplog_o)) {
    // Pre-5.0 form: {$v: 1?, $set: {...}, $unset: {...}}.
    ScopedBson operators;
    bson_copy_to_excluding_noinit(oplog_o, operators.get(), "$v", nullptr);
    apply_operator_update(root, operators.get(), false, nullptr);
    return root.to_doc();
  }
  return apply_update(doc, oplog_o, false).document;
}

}  // namespace sandbox
