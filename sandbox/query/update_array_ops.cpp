// Array update operators: $push (with $each, $position, $sort, $slice), $addToSet (with
// $each), $pull, $pullAll, $pop. The caller checked the target is an array and renumbers it.
#include <algorithm>
#include <functional>

#include "query/match_tree.h"
#include "query/query.h"
#include "query/update_ops.h"

namespace sandbox {
namespace {

// The values to add: $each's elements, or the operand itself.
std::vector<Node> values_to_add(const UpdateOp& op, bson_t* modifiers_out_spec = nullptr) {
  std::vector<Node> values;
  if (BSON_ITER_HOLDS_DOCUMENT(&op.arg)) {
    bson_t spec;
    init_static_from_iter(&op.arg, &spec);
    bson_iter_t each;
    if (find_field(&spec, "$each", &each)) {
      if (!BSON_ITER_HOLDS_ARRAY(&each)) {
        throw_bad_value(
            "The argument to $each in " + op.op +
            " must be an array but it was of type: " + type_name(bson_iter_type(&each)));
      }
      bson_iter_t child;
      bson_iter_recurse(&each, &child);
      while (bson_iter_next(&child)) values.push_back(Node::from_iter(&child));
      if (modifiers_out_spec) bson_copy_to(&spec, modifiers_out_spec);
      return values;
    }
  }
  values.push_back(Node::from_iter(&op.arg));
  return values;
}

int compare_nodes(const Node& a, const Node& b) {
  Value va = a.to_value(), vb = b.to_value();
  bson_iter_t ia = va.iter(), ib = vb.iter();
  return compare_values(&ia, &ib);
}

void sort_elements(std::vector<Field>& elements, const bson_iter_t* sort) {
  if (BSON_ITER_HOLDS_DOCUMENT(sort)) {
    bson_t spec;
    init_static_from_iter(sort, &spec);
    stable_sort_aligned(elements, [&](const Field& a, const Field& b) {
      Doc da = a.value.is_document() ? a.value.to_doc() : Doc::empty();
      Doc db = b.value.is_document() ? b.value.to_doc() : Doc::empty();
      return compare_for_sort(da.bson(), db.bson(), &spec) < 0;
    });
    return;
  }
  auto direction = integral_value(sort);
  if (!direction || (*direction != 1 && *direction != -1)) {
    throw_bad_value("The $sort element value must be either 1 or -1");
  }
  stable_sort_aligned(elements, [&](const Field& a, const Field& b) {
    int c = compare_nodes(a.value, b.value);
    return *direction > 0 ? c < 0 : c > 0;
  });
}

void slice_elements(std::vector<Field>& elements, std::int64_t n) {
  auto size = static_cast<std::int64_t>(elements.size());
  if (n >= 0 && n < size) elements.resize(static_cast<std::size_t>(n));
  if (n < 0 && -n < size)
    elements.erase(elements.begin(), elements.end() - static_cast<std::ptrdiff_t>(-n));
}

}  // namespace

void apply_push(Node& array, const UpdateOp& op) {
  ScopedBson modifiers;
  std::vector<Node> values = values_to_add(op, modifiers.get());
  bson_iter_t it;
  std::optional<std::int64_t> position, slice;
  std::optional<bson_iter_t> sort;
  bson_iter_init(&it, modifiers.get());
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    if (key == "$each") continue;
    if (key == "$position" || key == "$slice") {
      auto v = integral_value(&it);
      if (!v) throw_bad_value("The value for " + key + " must be an integer value");
      (key == "$position" ? position : slice) = *v;
    } else if (key == "$sort") {
      sort = it;
    } else {
      throw_bad_value("Unrecognized clause in $push: " + key);
    }
  }
  auto size = static_cast<std::int64_t>(array.children.size());
  std::int64_t at = size;
  if (position)
    at = *position >= 0 ? std::min(*position, size) : std::max<std::int64_t>(0, size + *position);
  std::vector<Field> added;
  for (Node& v : values) added.push_back(Field{"", std::move(v)});
  array.children.insert(array.children.begin() + at, std::make_move_iterator(added.begin()),
                        std::make_move_iterator(added.end()));
  if (sort) sort_elements(array.children, &*sort);
  if (slice) slice_elements(array.children, *slice);
}

void apply_add_to_set(Node& array, const UpdateOp& op) {
  for (Node& v : values_to_add(op)) {
    bool present = std::any_of(array.children.begin(), array.children.end(),
                               [&](const Field& f) { return compare_nodes(f.value, v) == 0; });
    if (!present) array.append("", std::move(v));
  }
}

void apply_pop(Node& array, const UpdateOp& op) {
  auto direction = integral_value(&op.arg);
  if (!direction || (*direction != 1 && *direction != -1)) {
    throw_failed_to_parse("$pop expects 1 or -1, found: " + value_to_string(&op.arg));
  }
  if (array.children.empty()) return;
  if (*direction > 0)
    array.children.pop_back();
  else
    array.children.erase(array.children.begin());
}

void apply_pull(Node& array, const UpdateOp& op) {
  std::function<bool(const Node&)> remove;
  Predicates predicates;
  std::unique_ptr<MatchExpr> doc_filter;
  std::vector<Node> listed;
  if (op.op == "$pullAll") {
    if (!BSON_ITER_HOLDS_ARRAY(&op.arg))
      throw_bad_value("$pullAll requires an array argument but was given a " +
                      type_name(bson_iter_type(&op.arg)));
    bson_iter_t child;
    bson_iter_recurse(&op.arg, &child);
    while (bson_iter_next(&child)) listed.push_back(Node::from_iter(&child));
    remove = [&](const Node& n) {
      return std::any_of(listed.begin(), listed.end(),
                         [&](const Node& l) { return compare_nodes(n, l) == 0; });
    };
  } else if (is_operator_object(&op.arg) || BSON_ITER_HOLDS_REGEX(&op.arg)) {
    // {$pull: {a: {$gte: 6}}} tests each element as a value.
    predicates = parse_field_spec(&op.arg);
    remove = [&](const Node& n) {
      Value v = n.to_value();
      bson_iter_t it = v.iter();
      return all_match(predicates, values_of(&it));
    };
  } else if (BSON_ITER_HOLDS_DOCUMENT(&op.arg)) {
    // {$pull: {a: {b: 1}}} removes document elements the filter matches.
    bson_t filter;
    init_static_from_iter(&op.arg, &filter);
    doc_filter = parse_filter(&filter);
    remove = [&](const Node& n) {
      return n.is_document() && doc_filter->matches(n.to_doc().bson());
    };
  } else {
    Node wanted = Node::from_iter(&op.arg);
    remove = [wanted](const Node& n) { return compare_nodes(n, wanted) == 0; };
  }
  std::erase_if(array.children, [&](const Field& f) { return remove(f.value); });
}

}  // namespace sandbox
