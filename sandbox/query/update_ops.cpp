#include "query/update_ops.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "query/match_tree.h"
#include "query/query.h"

namespace sandbox {
namespace {

[[noreturn]] void throw_path_not_viable(const std::string& message) {
  throw CommandError(28, "PathNotViable", message);
}
[[noreturn]] void throw_type_mismatch(const std::string& message) {
  throw CommandError(14, "TypeMismatch", message);
}

std::string node_json(const std::string& name, const Node& node) {
  Value v = node.to_value();
  bson_iter_t it = v.iter();
  return "{" + element_to_string(name, &it) + "}";
}

std::size_t index_of(const std::string& part) {
  return static_cast<std::size_t>(std::strtoul(part.c_str(), nullptr, 10));
}

// The child `part` of a document or array, or nullptr.
Node* child_of(Node& parent, const std::string& part) {
  if (parent.is_document()) return parent.find(part);
  if (parent.is_array() && is_array_index(part)) {
    std::size_t i = index_of(part);
    return i < parent.children.size() ? &parent.children[i].value : nullptr;
  }
  return nullptr;
}

// Sets `part` of `parent`: a document field in place (or appended), or an array element
// (padding with nulls, as MongoDB does).
void set_child(Node& parent, const std::string& parent_name, const std::string& part, Node value) {
  if (parent.is_document()) {
    if (Node* existing = parent.find(part)) {
      *existing = std::move(value);
    } else {
      parent.append(part, std::move(value));
    }
    return;
  }
  if (!parent.is_array() || !is_array_index(part)) {
    throw_path_not_viable("Cannot create field '" + part + "' in element " +
                          node_json(parent_name, parent));
  }
  std::size_t i = index_of(part);
  while (parent.children.size() <= i)
    parent.append(std::to_string(parent.children.size()), Node::null());
  parent.children[i].value = std::move(value);
}

// The node holding the last path part, creating documents on the way when `create`.
// Returns nullptr when !create and the path does not exist.
Node* parent_of(Node& root, const std::vector<std::string>& parts, bool create) {
  Node* node = &root;
  std::string name = "";
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    Node* child = node->is_container() ? child_of(*node, parts[i]) : nullptr;
    if (!child) {
      if (!create) return nullptr;
      if (!node->is_container() || (node->is_array() && !is_array_index(parts[i]))) {
        throw_path_not_viable("Cannot create field '" + parts[i] + "' in element " +
                              node_json(name, *node));
      }
      set_child(*node, name, parts[i], Node::empty_document());
      child = child_of(*node, parts[i]);
    }
    name = parts[i];
    node = child;
  }
  if (create && !node->is_container()) {
    throw_path_not_viable("Cannot create field '" + parts.back() + "' in element " +
                          node_json(name, *node));
  }
  return node;
}

const std::string& parent_name(const std::vector<std::string>& parts) {
  static const std::string kRoot;
  return parts.size() >= 2 ? parts[parts.size() - 2] : kRoot;
}

void set_at(Node& root, const std::vector<std::string>& parts, Node value) {
  Node* parent = parent_of(root, parts, true);
  set_child(*parent, parent_name(parts), parts.back(), std::move(value));
}

Node* existing_at(Node& root, const std::vector<std::string>& parts) {
  Node* parent = parent_of(root, parts, false);
  if (!parent || !parent->is_container()) return nullptr;
  return child_of(*parent, parts.back());
}

// ---- numbers ----

enum class NumKind { kInt32, kInt64, kDouble, kDecimal };

NumKind kind_of(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_INT32:
      return NumKind::kInt32;
    case BSON_TYPE_INT64:
      return NumKind::kInt64;
    case BSON_TYPE_DECIMAL128:
      return NumKind::kDecimal;
    default:
      return NumKind::kDouble;
  }
}

// MongoDB's SafeNum rules: int32 op int32 stays int32 unless it overflows (then int64); an
// int64 overflow is an error (returns nullopt); a double makes a double; a decimal a decimal
// (computed here in long double precision: a documented approximation).
std::optional<Value> arithmetic(const bson_iter_t* a, const bson_iter_t* b, bool multiply) {
  NumKind ka = kind_of(bson_iter_type(a)), kb = kind_of(bson_iter_type(b));
  NumKind k = std::max(ka, kb);
  if (k == NumKind::kInt32 || k == NumKind::kInt64) {
    std::int64_t x = bson_iter_as_int64(a), y = bson_iter_as_int64(b), r = 0;
    bool overflow = multiply ? __builtin_mul_overflow(x, y, &r) : __builtin_add_overflow(x, y, &r);
    if (overflow) return std::nullopt;
    if (k == NumKind::kInt32 && r >= INT32_MIN && r <= INT32_MAX) {
      return Value::int32(static_cast<std::int32_t>(r));
    }
    return Value::int64(r);
  }
  long double x = number_value(a), y = number_value(b);
  long double r = multiply ? x * y : x + y;
  if (k == NumKind::kDecimal) return Value::decimal(r);
  return Value::dbl(static_cast<double>(r));
}

// SafeNum's debug form of a number: "(NumberLong)9223372036854775807".
std::string safe_num_string(const bson_iter_t* it) {
  static const char* const kNames[] = {"(NumberInt)", "(NumberLong)", "(NumberDouble)",
                                       "(NumberDecimal)"};
  std::string value = value_to_string(it);
  if (BSON_ITER_HOLDS_DECIMAL128(it)) value = value.substr(15, value.size() - 17);
  return kNames[static_cast<int>(kind_of(bson_iter_type(it)))] + value;
}

Value zero_like(const bson_iter_t* arg) {
  switch (kind_of(bson_iter_type(arg))) {
    case NumKind::kInt32:
      return Value::int32(0);
    case NumKind::kInt64:
      return Value::int64(0);
    case NumKind::kDecimal:
      return Value::decimal(0);
    case NumKind::kDouble:
      break;
  }
  return Value::dbl(0);
}

void apply_arithmetic(Node& root, const UpdateOp& op, const UpdateContext& ctx) {
  bool multiply = op.op == "$mul";
  if (!is_number(bson_iter_type(&op.arg))) {
    throw_type_mismatch(std::string("Cannot ") + (multiply ? "multiply" : "increment") +
                        " with non-numeric argument: " + "{" + element_to_string(op.path, &op.arg) +
                        "}");
  }
  Node* existing = existing_at(root, op.parts);
  if (!existing) {
    set_at(root, op.parts, Node::from_value(multiply ? zero_like(&op.arg) : Value::of(&op.arg)));
    return;
  }
  if (!is_number(existing->type)) {
    throw_type_mismatch("Cannot apply " + op.op + " to a value of non-numeric type. {" +
                        ctx.id_element + "} has the field '" + op.parts.back() +
                        "' of non-numeric type " + type_name(existing->type));
  }
  bson_iter_t current = existing->scalar.iter();
  auto result = arithmetic(&current, &op.arg, multiply);
  if (!result) {
    throw_bad_value("Failed to apply " + op.op + " operations to current value (" +
                    safe_num_string(&current) + ") for document {" + ctx.id_element + "}");
  }
  *existing = Node::from_value(*result);
}

void apply_min_max(Node& root, const UpdateOp& op) {
  Node* existing = existing_at(root, op.parts);
  if (!existing) {
    set_at(root, op.parts, Node::from_iter(&op.arg));
    return;
  }
  Value current = existing->to_value();
  bson_iter_t ci = current.iter();
  int c = compare_values(&op.arg, &ci);
  if (op.op == "$min" ? c < 0 : c > 0) *existing = Node::from_iter(&op.arg);
}

void apply_current_date(Node& root, const UpdateOp& op) {
  bool timestamp = false;
  if (BSON_ITER_HOLDS_DOCUMENT(&op.arg)) {
    bson_t spec;
    init_static_from_iter(&op.arg, &spec);
    bson_iter_t type;
    std::string name;
    if (find_field(&spec, "$type", &type) && BSON_ITER_HOLDS_UTF8(&type))
      name = bson_iter_utf8(&type, nullptr);
    if (name != "date" && name != "timestamp") {
      throw_bad_value(
          "The '$type' string field is required to be 'date' or 'timestamp': "
          "{$currentDate: {field : {$type: 'date'}}}");
    }
    timestamp = name == "timestamp";
  } else if (!BSON_ITER_HOLDS_BOOL(&op.arg)) {
    throw_bad_value(
        type_name(bson_iter_type(&op.arg)) +
        " is not valid type for $currentDate. "
        "Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).");
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  ScopedBson b;
  if (timestamp) {
    bson_append_timestamp(
        b.get(), "", 0,
        static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count()),
        1);
  } else {
    bson_append_date_time(b.get(), "", 0,
                          std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  }
  set_at(root, op.parts, Node::from_document(b.get()).children.front().value);
}

void check_rename_path(const std::string& path, const std::vector<std::string>& parts, Node& root,
                       bool source) {
  Node* node = &root;
  for (std::size_t i = 0; i + 1 < parts.size() && node; ++i) {
    node = node->is_container() ? child_of(*node, parts[i]) : nullptr;
    if (node && node->is_array()) {
      throw_bad_value(std::string("The ") + (source ? "source" : "destination") +
                      " field cannot be an array element, '" + path +
                      "' has an array along the way");
    }
  }
}

void apply_rename(Node& root, const UpdateOp& op) {
  check_rename_path(op.path, op.parts, root, true);
  Node* source = existing_at(root, op.parts);
  if (!source) return;
  Node moved = std::move(*source);
  parent_of(root, op.parts, false)->remove(op.parts.back());
  check_rename_path(op.target_path, op.target_parts, root, false);
  set_at(root, op.target_parts, std::move(moved));
}

void apply_unset(Node& root, const UpdateOp& op) {
  Node* parent = parent_of(root, op.parts, false);
  if (!parent || !parent->is_container()) return;
  if (parent->is_document()) {
    parent->remove(op.parts.back());
  } else if (Node* element = child_of(*parent, op.parts.back())) {
    *element = Node::null();  // $unset of an array element leaves a null in its place
  }
}

Node* array_at(Node& root, const UpdateOp& op, const UpdateContext& ctx, bool create) {
  Node* existing = existing_at(root, op.parts);
  if (!existing) {
    if (!create) return nullptr;
    Node array;
    array.type = BSON_TYPE_ARRAY;
    set_at(root, op.parts, std::move(array));
    return existing_at(root, op.parts);
  }
  if (!existing->is_array()) {
    throw_bad_value("The field '" + op.path + "' must be an array but is of type " +
                    type_name(existing->type) + " in document {" + ctx.id_element + "}");
  }
  return existing;
}

void renumber(Node& array) {
  for (std::size_t i = 0; i < array.children.size(); ++i)
    array.children[i].name = std::to_string(i);
}

}  // namespace

// Defined in update_array_ops.cpp.
void apply_push(Node& array, const UpdateOp& op);
void apply_add_to_set(Node& array, const UpdateOp& op);
void apply_pull(Node& array, const UpdateOp& op);
void apply_pop(Node& array, const UpdateOp& op);

bool is_known_update_operator(const std::string& op) {
  static const char* const kOps[] = {"$set",  "$unset",   "$inc",         "$mul",        "$min",
                                     "$max",  "$rename",  "$push",        "$addToSet",   "$pop",
                                     "$pull", "$pullAll", "$currentDate", "$setOnInsert"};
  return std::any_of(std::begin(kOps), std::end(kOps), [&](const char* k) { return op == k; });
}

void apply_operator(Node& root, const UpdateOp& op, const UpdateContext& ctx) {
  const std::string& o = op.op;
  if (o == "$set" || (o == "$setOnInsert" && ctx.is_insert)) {
    set_at(root, op.parts, Node::from_iter(&op.arg));
  } else if (o == "$setOnInsert") {
    return;
  } else if (o == "$unset") {
    apply_unset(root, op);
  } else if (o == "$inc" || o == "$mul") {
    apply_arithmetic(root, op, ctx);
  } else if (o == "$min" || o == "$max") {
    apply_min_max(root, op);
  } else if (o == "$currentDate") {
    apply_current_date(root, op);
  } else if (o == "$rename") {
    apply_rename(root, op);
  } else if (o == "$push" || o == "$addToSet") {
    Node* array = array_at(root, op, ctx, true);
    if (o == "$push")
      apply_push(*array, op);
    else
      apply_add_to_set(*array, op);
    renumber(*array);
  } else if (o == "$pull" || o == "$pullAll" || o == "$pop") {
    Node* existing = existing_at(root, op.parts);
    if (!existing) return;
    if (!existing->is_array()) {
      if (o == "$pop")
        throw_type_mismatch("Path '" + op.path + "' contains an element of non-array type '" +
                            type_name(existing->type) + "'");
      throw_bad_value("Cannot apply " + o + " to a non-array value");
    }
    if (o == "$pop")
      apply_pop(*existing, op);
    else
      apply_pull(*existing, op);
    renumber(*existing);
  }
}

}  // namespace sandbox
