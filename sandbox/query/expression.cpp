#include "query/expression.h"

#include <cctype>
#include <string>
#include <vector>

#include "query/query.h"

namespace sandbox {
namespace {

std::optional<Value> path_in_value(const bson_iter_t* value, const std::vector<std::string>& parts,
                                   std::size_t next);

std::optional<Value> path_in_document(const bson_t* doc, const std::vector<std::string>& parts,
                                      std::size_t next) {
  bson_iter_t field;
  if (!find_field(doc, parts[next], &field)) return std::nullopt;
  return path_in_value(&field, parts, next + 1);
}

std::optional<Value> path_in_value(const bson_iter_t* value, const std::vector<std::string>& parts,
                                   std::size_t next) {
  if (next == parts.size()) return Value::of(value);
  if (BSON_ITER_HOLDS_DOCUMENT(value)) {
    bson_t sub;
    init_static_from_iter(value, &sub);
    return path_in_document(&sub, parts, next);
  }
  if (!BSON_ITER_HOLDS_ARRAY(value)) return std::nullopt;
  // "$a.b" over an array of documents is the array of their b values (absent ones skipped).
  ScopedBson out;
  bson_t array;
  bson_append_array_begin(out.get(), "", 0, &array);
  bson_iter_t child;
  bson_iter_recurse(value, &child);
  std::uint32_t index = 0;
  while (bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&child) && !BSON_ITER_HOLDS_ARRAY(&child)) continue;
    auto element = path_in_value(&child, parts, next);
    if (!element) continue;
    bson_iter_t ei = element->iter();
    std::string key = std::to_string(index++);
    bson_append_iter(&array, key.c_str(), static_cast<int>(key.size()), &ei);
  }
  bson_append_array_end(out.get(), &array);
  bson_iter_t result;
  bson_iter_init(&result, out.get());
  bson_iter_next(&result);
  return Value::of(&result);
}

Value value_of_container(ScopedBson& holder) {
  bson_iter_t it;
  bson_iter_init(&it, holder.get());
  bson_iter_next(&it);
  return Value::of(&it);
}

Value evaluate_object(const bson_iter_t* expr, const bson_t* root) {
  ScopedBson out;
  bson_t child_doc;
  bson_append_document_begin(out.get(), "", 0, &child_doc);
  bson_iter_t child;
  bson_iter_recurse(expr, &child);
  while (bson_iter_next(&child)) {
    auto v = evaluate(&child, root);
    if (!v) continue;
    bson_iter_t vi = v->iter();
    bson_append_iter(&child_doc, bson_iter_key(&child), static_cast<int>(bson_iter_key_len(&child)),
                     &vi);
  }
  bson_append_document_end(out.get(), &child_doc);
  return value_of_container(out);
}

std::vector<std::optional<Value>> evaluate_args(const bson_iter_t* args, const bson_t* root) {
  std::vector<std::optional<Value>> out;
  if (!BSON_ITER_HOLDS_ARRAY(args)) {
    out.push_back(evaluate(args, root));
    return out;
  }
  bson_iter_t child;
  bson_iter_recurse(args, &child);
  while (bson_iter_next(&child)) out.push_back(evaluate(&child, root));
  return out;
}

Value evaluate_array(const bson_iter_t* expr, const bson_t* root) {
  ScopedBson out;
  bson_t array;
  bson_append_array_begin(out.get(), "", 0, &array);
  std::uint32_t index = 0;
  for (auto& v : evaluate_args(expr, root)) {
    std::string key = std::to_string(index++);
    Value element = v ? *v : Value::null();
    bson_iter_t ei = element.iter();
    bson_append_iter(&array, key.c_str(), static_cast<int>(key.size()), &ei);
  }
  bson_append_array_end(out.get(), &array);
  return value_of_container(out);
}

bool is_nullish(const std::optional<Value>& v) {
  return !v || v->type() == BSON_TYPE_NULL || v->type() == BSON_TYPE_UNDEFINED;
}

// $add/$subtract/$multiply over numbers: int32 results widen to int64, then double, as
// MongoDB does; null or missing operands make the result null.
Value arithmetic(const std::string& op, const std::vector<std::optional<Value>>& args) {
  if (op == "$subtract" && args.size() != 2) {
    throw CommandError(16020, "Location16020", "Expression $subtract takes exactly 2 arguments.");
  }
  bool all_int = true;
  long double acc = (op == "$multiply") ? 1 : 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (is_nullish(args[i])) return Value::null();
    bson_iter_t it = args[i]->iter();
    if (!is_number(bson_iter_type(&it))) {
      throw CommandError(
          14, "TypeMismatch",
          op + " only supports numeric types, not " + type_name(bson_iter_type(&it)));
    }
    all_int = all_int && (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it));
    long double x = number_value(&it);
    if (op == "$multiply")
      acc *= x;
    else if (op == "$subtract" && i == 1)
      acc -= x;
    else
      acc += x;
  }
  if (all_int && acc >= -2147483648.0L && acc <= 2147483647.0L)
    return Value::int32(static_cast<std::int32_t>(acc));
  if (all_int && acc >= -9.2e18L && acc <= 9.2e18L)
    return Value::int64(static_cast<std::int64_t>(acc));
  return Value::dbl(static_cast<double>(acc));
}

std::string string_arg(const std::optional<Value>& v, const std::string& op) {
  if (is_nullish(v)) return "";
  bson_iter_t it = v->iter();
  if (!BSON_ITER_HOLDS_UTF8(&it)) {
    throw CommandError(16702, "Location16702",
                       op + " only supports strings, not " + type_name(bson_iter_type(&it)));
  }
  return bson_iter_utf8(&it, nullptr);
}

Value string_value(const std::string& s) {
  ScopedBson b;
  bson_append_utf8(b.get(), "", 0, s.data(), static_cast<int>(s.size()));
  return value_of_container(b);
}

// Comparison of two expression values in BSON order; a missing value sorts below null.
int compare_optional(const std::optional<Value>& a, const std::optional<Value>& b) {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  bson_iter_t ia = a->iter(), ib = b->iter();
  return compare_values(&ia, &ib);
}

std::optional<Value> comparison(const std::string& op,
                                const std::vector<std::optional<Value>>& args) {
  if (args.size() != 2) {
    throw CommandError(16020, "Location16020", "Expression " + op + " takes exactly 2 arguments.");
  }
  int c = compare_optional(args[0], args[1]);
  if (op == "$cmp") return Value::int32(c < 0 ? -1 : (c > 0 ? 1 : 0));
  bool result = op == "$eq"    ? c == 0
                : op == "$ne"  ? c != 0
                : op == "$gt"  ? c > 0
                : op == "$gte" ? c >= 0
                : op == "$lt"  ? c < 0
                               : c <= 0;
  return Value::boolean(result);
}

bool is_comparison(const std::string& op) {
  return op == "$eq" || op == "$ne" || op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte" ||
         op == "$cmp";
}

std::optional<Value> logical(const std::string& op, const std::vector<std::optional<Value>>& args) {
  if (op == "$not") {
    if (args.size() != 1)
      throw CommandError(16020, "Location16020", "Expression $not takes exactly 1 arguments.");
    return Value::boolean(!is_truthy(args[0]));
  }
  bool is_and = op == "$and";
  for (const auto& v : args) {
    if (is_truthy(v) != is_and) return Value::boolean(!is_and);
  }
  return Value::boolean(is_and);
}

std::optional<Value> in_array(const std::vector<std::optional<Value>>& args) {
  bson_iter_t array;
  if (args.size() != 2 || !args[1] || (array = args[1]->iter(), !BSON_ITER_HOLDS_ARRAY(&array))) {
    throw CommandError(40081, "Location40081", "$in requires an array as a second argument");
  }
  bson_iter_t element;
  bson_iter_recurse(&array, &element);
  while (bson_iter_next(&element)) {
    if (compare_optional(args[0], Value::of(&element)) == 0) return Value::boolean(true);
  }
  return Value::boolean(false);
}

std::optional<Value> evaluate_operator(const std::string& op, const bson_iter_t* arg,
                                       const bson_t* root) {
  if (op == "$literal") return Value::of(arg);
  auto args = evaluate_args(arg, root);
  if (op == "$add" || op == "$subtract" || op == "$multiply") return arithmetic(op, args);
  if (is_comparison(op)) return comparison(op, args);
  if (op == "$and" || op == "$or" || op == "$not") return logical(op, args);
  if (op == "$in") return in_array(args);
  if (op == "$ifNull") {
    for (auto& v : args) {
      if (!is_nullish(v)) return v;
    }
    return args.empty() ? std::nullopt : args.back();
  }
  if (op == "$concat") {
    std::string out;
    for (auto& v : args) {
      if (is_nullish(v)) return Value::null();
      out += string_arg(v, op);
    }
    return string_value(out);
  }
  if (op == "$toLower" || op == "$toUpper") {
    std::string s = args.empty() ? "" : string_arg(args[0], op);
    for (char& c : s)
      c = static_cast<char>(op == "$toLower" ? std::tolower(static_cast<unsigned char>(c))
                                             : std::toupper(static_cast<unsigned char>(c)));
    return string_value(s);
  }
  if (op == "$size") {
    bson_iter_t it;
    if (args.size() == 1 && args[0] && (it = args[0]->iter(), BSON_ITER_HOLDS_ARRAY(&it))) {
      bson_t array;
      init_static_from_iter(&it, &array);
      return Value::int32(static_cast<std::int32_t>(bson_count_keys(&array)));
    }
    throw CommandError(17124, "Location17124", "The argument to $size must be an array");
  }
  throw CommandError(168, "InvalidPipelineOperator", "Unrecognized expression '" + op + "'");
}

}  // namespace

bool is_truthy(const std::optional<Value>& v) {
  if (is_nullish(v)) return false;
  bson_iter_t it = v->iter();
  if (BSON_ITER_HOLDS_BOOL(&it)) return bson_iter_bool(&it);
  if (is_number(bson_iter_type(&it))) return number_value(&it) != 0;
  return true;
}

std::optional<Value> field_path_value(const bson_t* root, const std::string& path) {
  return path_in_document(root, split_path(path), 0);
}

std::optional<Value> evaluate(const bson_iter_t* expr, const bson_t* root) {
  if (BSON_ITER_HOLDS_UTF8(expr)) {
    std::string s = bson_iter_utf8(expr, nullptr);
    if (s == "$$ROOT" || s == "$$CURRENT") return Value::from_doc(Doc::copy_of(root));
    if (s.rfind("$$ROOT.", 0) == 0 || s.rfind("$$CURRENT.", 0) == 0) {
      return field_path_value(root, s.substr(s.find('.') + 1));
    }
    if (s.rfind("$$", 0) == 0) {
      throw CommandError(17276, "Location17276", "Use of undefined variable: " + s.substr(2));
    }
    if (!s.empty() && s[0] == '$') return field_path_value(root, s.substr(1));
    return Value::of(expr);
  }
  if (BSON_ITER_HOLDS_DOCUMENT(expr)) {
    bson_iter_t first;
    bson_iter_recurse(expr, &first);
    if (bson_iter_next(&first) && bson_iter_key(&first)[0] == '$') {
      return evaluate_operator(bson_iter_key(&first), &first, root);
    }
    return evaluate_object(expr, root);
  }
  if (BSON_ITER_HOLDS_ARRAY(expr)) return evaluate_array(expr, root);
  return Value::of(expr);
}

}  // namespace sandbox
