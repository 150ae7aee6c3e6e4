// run_pipeline: aggregation stages over an in-memory list of documents.
#include <algorithm>
#include <string>

#include "query/expression.h"
#include "query/group.h"
#include "query/query.h"
#include "query/tree.h"
#include "query/value.h"

namespace sandbox {
namespace {

[[noreturn]] void throw_location(int code, const std::string& message) {
  throw CommandError(code, "Location" + std::to_string(code), message);
}

using Docs = std::vector<Doc>;

Docs stage_match(Docs input, const bson_iter_t* arg) {
  if (!BSON_ITER_HOLDS_DOCUMENT(arg))
    throw_location(15959, "the match filter must be an expression in an object");
  bson_t filter;
  init_static_from_iter(arg, &filter);
  Matcher matcher(&filter);
  std::erase_if(input, [&](const Doc& d) { return !matcher.matches(d.bson()); });
  return input;
}

Docs stage_count(const Docs& input, const bson_iter_t* arg) {
  if (!BSON_ITER_HOLDS_UTF8(arg))
    throw_location(40156, "the count field must be a non-empty string");
  std::string name = bson_iter_utf8(arg, nullptr);
  if (name.empty()) throw_location(40157, "the count field must be a non-empty string");
  if (name[0] == '$') throw_location(40158, "the count field cannot be a $-prefixed path");
  if (name.find('.') != std::string::npos)
    throw_location(40160, "the count field cannot contain '.'");
  if (input.empty()) return {};  // $count over nothing outputs no document
  ScopedBson out;
  bson_append_int32(out.get(), name.data(), static_cast<int>(name.size()),
                    static_cast<std::int32_t>(input.size()));
  return {out.to_doc()};
}

Docs stage_sort(Docs input, const bson_iter_t* arg) {
  if (!BSON_ITER_HOLDS_DOCUMENT(arg))
    throw_location(15973, "the $sort key specification must be an object");
  bson_t spec;
  init_static_from_iter(arg, &spec);
  if (bson_empty(&spec)) throw_location(15976, "$sort stage must have at least one sort key");
  stable_sort_aligned(input, [&](const Doc& a, const Doc& b) {
    return compare_for_sort(a.bson(), b.bson(), &spec) < 0;
  });
  return input;
}

std::int64_t non_negative_integer(const bson_iter_t* arg, const std::string& stage, int code) {
  auto n = integral_value(arg);
  if (!n)
    throw_location(code, "invalid argument to " + stage + " stage: Expected an integer: " + "{" +
                             element_to_string(stage, arg) + "}");
  if (*n < 0)
    throw_location(code, "invalid argument to " + stage +
                             " stage: Expected a non-negative number in: " + "{" +
                             element_to_string(stage, arg) + "}");
  return *n;
}

Docs stage_skip(Docs input, const bson_iter_t* arg) {
  auto n = static_cast<std::size_t>(non_negative_integer(arg, "$skip", 15956));
  input.erase(input.begin(),
              input.begin() + static_cast<std::ptrdiff_t>(std::min(n, input.size())));
  return input;
}

Docs stage_limit(Docs input, const bson_iter_t* arg) {
  auto n = non_negative_integer(arg, "$limit", 15958);
  if (n == 0) throw_location(15958, "the limit must be positive");
  if (static_cast<std::size_t>(n) < input.size()) input.resize(static_cast<std::size_t>(n));
  return input;
}

Docs stage_project(Docs input, const bson_iter_t* arg) {
  if (!BSON_ITER_HOLDS_DOCUMENT(arg))
    throw_location(15969, "$project specification must be an object");
  bson_t spec;
  init_static_from_iter(arg, &spec);
  if (bson_empty(&spec))
    throw_location(51272, "projection specification must have at least one field");
  for (Doc& d : input) d = project(d.bson(), &spec);
  return input;
}

Docs stage_unset(Docs input, const bson_iter_t* arg) {
  // {$unset: "a"} or {$unset: ["a", "b.c"]} is an exclusion projection.
  ScopedBson spec;
  auto add = [&](const bson_iter_t* name) {
    if (!BSON_ITER_HOLDS_UTF8(name))
      throw_location(
          31120, "$unset specification must be a string or an array containing only string values");
    bson_append_int32(spec.get(), bson_iter_utf8(name, nullptr), -1, 0);
  };
  if (BSON_ITER_HOLDS_ARRAY(arg)) {
    bson_iter_t child;
    bson_iter_recurse(arg, &child);
    while (bson_iter_next(&child)) add(&child);
  } else {
    add(arg);
  }
  for (Doc& d : input) d = project(d.bson(), spec.get());
  return input;
}

// $addFields / $set: each field's expression is evaluated and set at its (dotted) path;
// existing fields are replaced in place, new ones appended.
Docs stage_add_fields(Docs input, const bson_iter_t* arg) {
  if (!BSON_ITER_HOLDS_DOCUMENT(arg))
    throw_location(40272, "$addFields specification stage must be an object");
  for (Doc& d : input) {
    Node root = Node::from_document(d.bson());
    bson_iter_t field;
    bson_iter_recurse(arg, &field);
    while (bson_iter_next(&field)) {
      auto v = evaluate(&field, d.bson());
      if (!v) continue;
      auto parts = split_path(bson_iter_key(&field));
      Node* node = &root;
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        Node* child = node->find(parts[i]);
        if (!child || !child->is_document()) {
          if (child) node->remove(parts[i]);
          child = &node->append(parts[i], Node::empty_document());
        }
        node = child;
      }
      if (Node* existing = node->find(parts.back()))
        *existing = Node::from_value(*v);
      else
        node->append(parts.back(), Node::from_value(*v));
    }
    d = root.to_doc();
  }
  return input;
}

Docs stage_replace_root(Docs input, const bson_iter_t* arg, bool with) {
  bson_iter_t expr = *arg;
  if (!with) {
    bson_t spec;
    if (!init_static_from_iter(arg, &spec) || !find_field(&spec, "newRoot", &expr)) {
      throw_location(40231, "no newRoot specified for the $replaceRoot stage");
    }
  }
  for (Doc& d : input) {
    auto v = evaluate(&expr, d.bson());
    bson_iter_t vi;
    if (!v || (vi = v->iter(), !BSON_ITER_HOLDS_DOCUMENT(&vi))) {
      throw_location(40228, "'newRoot' expression must evaluate to an object");
    }
    bson_t root;
    init_static_from_iter(&vi, &root);
    d = Doc::copy_of(&root);
  }
  return input;
}

Docs stage_unwind(const Docs& input, const bson_iter_t* arg) {
  std::string path;
  bool keep_empty = false;
  if (BSON_ITER_HOLDS_UTF8(arg)) {
    path = bson_iter_utf8(arg, nullptr);
  } else if (BSON_ITER_HOLDS_DOCUMENT(arg)) {
    bson_t spec;
    init_static_from_iter(arg, &spec);
    bson_iter_t it;
    if (find_field(&spec, "path", &it) && BSON_ITER_HOLDS_UTF8(&it))
      path = bson_iter_utf8(&it, nullptr);
    if (find_field(&spec, "preserveNullAndEmptyArrays", &it)) keep_empty = bson_iter_as_bool(&it);
  }
  if (path.size() < 2 || path[0] != '$')
    throw_location(28818, "path option to $unwind stage should be prefixed with a '$': " + path);
  auto parts = split_path(path.substr(1));
  Docs out;
  for (const Doc& d : input) {
    auto v = field_path_value(d.bson(), path.substr(1));
    bson_iter_t vi;
    bool is_array = v && (vi = v->iter(), BSON_ITER_HOLDS_ARRAY(&vi));
    if (!is_array) {
      bool nullish = !v || v->type() == BSON_TYPE_NULL;
      if (!nullish || keep_empty) out.push_back(d);
      continue;
    }
    bson_iter_t element;
    bson_iter_recurse(&vi, &element);
    bool any = false;
    while (bson_iter_next(&element)) {
      any = true;
      Node root = Node::from_document(d.bson());
      Node* node = &root;
      for (std::size_t i = 0; i + 1 < parts.size() && node; ++i) node = node->find(parts[i]);
      if (node) {
        if (Node* target = node->find(parts.back())) *target = Node::from_iter(&element);
      }
      out.push_back(root.to_doc());
    }
    if (!any && keep_empty) {
      Node root = Node::from_document(d.bson());
      Node* node = &root;
      for (std::size_t i = 0; i + 1 < parts.size() && node; ++i) node = node->find(parts[i]);
      if (node) node->remove(parts.back());
      out.push_back(root.to_doc());
    }
  }
  return out;
}

Docs run_stage(Docs input, const std::string& name, const bson_iter_t* arg) {
  if (name == "$match") return stage_match(std::move(input), arg);
  if (name == "$group") return run_group(input, arg);
  if (name == "$count") return stage_count(input, arg);
  if (name == "$sort") return stage_sort(std::move(input), arg);
  if (name == "$skip") return stage_skip(std::move(input), arg);
  if (name == "$limit") return stage_limit(std::move(input), arg);
  if (name == "$project") return stage_project(std::move(input), arg);
  if (name == "$unset") return stage_unset(std::move(input), arg);
  if (name == "$addFields" || name == "$set") return stage_add_fields(std::move(input), arg);
  if (name == "$replaceRoot" || name == "$replaceWith")
    return stage_replace_root(std::move(input), arg, name == "$replaceWith");
  if (name == "$unwind") return stage_unwind(input, arg);
  throw_location(40324, "Unrecognized pipeline stage name: '" + name + "'");
}

}  // namespace

std::vector<Doc> run_pipeline(std::vector<Doc> input, const bson_t* pipeline) {
  bson_iter_t stage;
  if (!bson_iter_init(&stage, pipeline)) throw_failed_to_parse("invalid pipeline");
  while (bson_iter_next(&stage)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&stage)) {
      throw CommandError(14, "TypeMismatch",
                         "Each element of the 'pipeline' array must be an object");
    }
    bson_t spec;
    init_static_from_iter(&stage, &spec);
    if (bson_count_keys(&spec) != 1) {
      throw_location(40323,
                     "A pipeline stage specification object must contain exactly one field.");
    }
    bson_iter_t op;
    bson_iter_init(&op, &spec);
    bson_iter_next(&op);
    input = run_stage(std::move(input), bson_iter_key(&op), &op);
  }
  return input;
}

}  // namespace sandbox
