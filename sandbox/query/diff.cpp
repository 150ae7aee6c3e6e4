#include "query/diff.h"

#include <algorithm>
#include <cstdlib>
#include <map>
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
    if (!after.find(f.name))
      bson_append_bool(deletes.get(), f.name.data(), static_cast<int>(f.name.size()), false);
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
  if (after.children.size() != before.children.size()) {
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

// ---- applying: as MongoDB's document_diff_applier, which tolerates re-application to a
// newer document (a subdiff meeting a value of another type, or an index past the end of the
// array, yields null: a later oplog entry overwrites it). ----

[[noreturn]] void throw_bad_diff(int code, const std::string& message) {
  throw CommandError(code, "Location" + std::to_string(code), message);
}

bool is_array_diff(const bson_t* diff) {
  bson_iter_t it;
  return bson_iter_init(&it, diff) && bson_iter_next(&it) &&
         std::string_view(bson_iter_key(&it)) == "a";
}

struct ArrayModification {
  std::size_t index;
  bool is_update;  // u<i>; otherwise s<i>
  bson_iter_t value;
};

struct ArrayDiff {
  std::optional<std::size_t> new_size;
  std::vector<ArrayModification> modifications;  // ascending indexes
};

ArrayDiff parse_array_diff(const bson_t* diff) {
  ArrayDiff out;
  bson_iter_t it;
  bson_iter_init(&it, diff);
  if (!bson_iter_next(&it) || std::string_view(bson_iter_key(&it)) != "a" ||
      !BSON_ITER_HOLDS_BOOL(&it) || !bson_iter_bool(&it)) {
    throw_bad_diff(4770504, "Expected first field to be array header a: true");
  }
  while (bson_iter_next(&it)) {
    std::string_view key = bson_iter_key(&it);
    if (key == "l" && out.modifications.empty() && !out.new_size) {
      if (!BSON_ITER_HOLDS_INT32(&it) || bson_iter_int32(&it) < 0)
        throw_bad_diff(4770507, "Expected l section to be type int");
      out.new_size = static_cast<std::size_t>(bson_iter_int32(&it));
      continue;
    }
    if (key.size() < 2)
      throw_bad_diff(
          4770521,
          "expected field name to be at least two characters long, but found: " + std::string(key));
    if (!is_array_index(key.substr(1)))
      throw_bad_diff(4770512, "Expected integer but got " + std::string(key.substr(1)));
    auto index =
        static_cast<std::size_t>(std::strtoul(std::string(key.substr(1)).c_str(), nullptr, 10));
    if (!out.modifications.empty() && index <= out.modifications.back().index) {
      throw_failed_to_parse("oplog diff: array indexes must ascend, found " + std::string(key));
    }
    if (key[0] == 's' && !BSON_ITER_HOLDS_DOCUMENT(&it))
      throw_bad_diff(4770501, "expected sub diff at index " + std::string(key.substr(1)));
    if (key[0] != 'u' && key[0] != 's') {
      throw_bad_diff(4770502, "Expected either 'u' (update) or 's' (sub diff) at index " +
                                  std::string(key.substr(1)));
    }
    out.modifications.push_back(ArrayModification{index, key[0] == 'u', it});
  }
  return out;
}

void apply_array_diff(Node& array, const bson_t* diff);

// Applies the subdiff in `sub` to `target`, or turns `target` into null when its type does
// not fit the subdiff.
void apply_subdiff(Node& target, const bson_iter_t* sub) {
  bson_t subdiff;
  init_static_from_iter(sub, &subdiff);
  if (bson_empty(&subdiff)) throw_bad_diff(4770500, "Expected diff to be non-empty");
  bool array_diff = is_array_diff(&subdiff);
  if (array_diff && target.is_array()) {
    apply_array_diff(target, &subdiff);
  } else if (!array_diff && target.is_document()) {
    apply_document_diff(target, &subdiff);
  } else {
    target = Node::null();
  }
}

Node modified_element(const Node* before, const ArrayModification& modification) {
  if (modification.is_update) return Node::from_iter(&modification.value);
  if (!before) return Node::null();
  Node element = *before;
  apply_subdiff(element, &modification.value);
  return element;
}

void apply_array_diff(Node& array, const bson_t* diff) {
  ArrayDiff parsed = parse_array_diff(diff);
  std::vector<Field> result;
  auto next = parsed.modifications.begin();
  auto modification_at = [&](std::size_t index) {
    return next != parsed.modifications.end() && next->index == index;
  };
  std::size_t index = 0;
  for (; index < array.children.size() && (!parsed.new_size || index < *parsed.new_size); ++index) {
    const Node& before = array.children[index].value;
    result.push_back(
        Field{"", modification_at(index) ? modified_element(&before, *next++) : before});
  }
  for (; (parsed.new_size && index < *parsed.new_size) || next != parsed.modifications.end();
       ++index) {
    result.push_back(
        Field{"", modification_at(index) ? modified_element(nullptr, *next++) : Node::null()});
  }
  for (std::size_t i = 0; i < result.size(); ++i) result[i].name = std::to_string(i);
  array.children = std::move(result);
}

struct FieldModification {
  enum Kind { kDelete, kUpdate, kInsert, kSubDiff } kind;
  bson_iter_t value;
};

// A bson_iter_t in a struct of its own: libbson puts its 128-byte alignment on the typedef,
// which a template argument drops, so std::vector<bson_iter_t> allocated 16-byte aligned
// elements that were then accessed as 128-byte aligned (UBSan: misaligned reference binding).
// A struct member keeps the typedef's alignment, and the vector allocates for the struct's.
struct AppendedValue {
  bson_iter_t value;
};

struct DocumentDiff {
  std::map<std::string, FieldModification> by_field;
  std::vector<AppendedValue> appended;  // u then i entries, in order: appended unless updated in place
};

void add_modification(DocumentDiff& out, const std::string& name, FieldModification modification) {
  if (!out.by_field.emplace(name, modification).second)
    throw_bad_diff(4728000, "duplicate field name in diff: " + name);
}

void add_section(DocumentDiff& out, const bson_iter_t* section, FieldModification::Kind kind) {
  bson_iter_t child;
  bson_iter_recurse(section, &child);
  while (bson_iter_next(&child)) {
    add_modification(out, bson_iter_key(&child), FieldModification{kind, child});
    if (kind != FieldModification::kDelete) out.appended.push_back({child});
  }
}

// Sections must come in the order d, u, i, then s<field> entries.
DocumentDiff parse_document_diff(const bson_t* diff) {
  DocumentDiff out;
  bson_iter_t it;
  bson_iter_init(&it, diff);
  int previous = 0;
  bool any = false;
  while (bson_iter_next(&it)) {
    any = true;
    std::string_view key = bson_iter_key(&it);
    int order = key == "d"                          ? 1
                : key == "u"                        ? 2
                : key == "i"                        ? 3
                : (key.size() > 1 && key[0] == 's') ? 4
                                                    : 0;
    if (order == 0 || order < previous || (order == previous && order != 4)) {
      throw_bad_diff(4770503, "Unexpected section: " + std::string(key) + " in document diff");
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it))
      throw_bad_diff(4770507, "Expected " + std::string(key) + " section to be type object");
    previous = order;
    if (order == 4) {
      add_modification(out, std::string(key.substr(1)),
                       FieldModification{FieldModification::kSubDiff, it});
    } else {
      add_section(out, &it,
                  order == 1   ? FieldModification::kDelete
                  : order == 2 ? FieldModification::kUpdate
                               : FieldModification::kInsert);
    }
  }
  if (!any) throw_bad_diff(4770500, "Expected diff to be non-empty");
  return out;
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
  DocumentDiff parsed = parse_document_diff(diff);
  std::vector<Field> result;
  std::vector<std::string> updated_in_place;
  for (Field& f : doc.children) {
    auto found = parsed.by_field.find(f.name);
    if (found == parsed.by_field.end()) {
      result.push_back(std::move(f));
      continue;
    }
    const FieldModification& modification = found->second;
    switch (modification.kind) {
      case FieldModification::kDelete:
      case FieldModification::kInsert:
        break;  // an insert of an existing field moves it to the end
      case FieldModification::kUpdate:
        result.push_back(Field{f.name, Node::from_iter(&modification.value)});
        updated_in_place.push_back(f.name);
        break;
      case FieldModification::kSubDiff:
        apply_subdiff(f.value, &modification.value);
        result.push_back(std::move(f));
        break;
    }
  }
  for (const auto& [value] : parsed.appended) {
    std::string name = bson_iter_key(&value);
    if (std::find(updated_in_place.begin(), updated_in_place.end(), name) != updated_in_place.end())
      continue;
    result.push_back(Field{name, Node::from_iter(&value)});
  }
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
