// Find projections: inclusion or exclusion of dotted paths, _id included by default,
// $slice and $elemMatch, and (MongoDB 4.4+) computed fields from aggregation expressions.
#include <algorithm>
#include <string>
#include <vector>

#include "query/expression.h"
#include "query/match_tree.h"
#include "query/query.h"
#include "query/value.h"

namespace sandbox {
namespace {

struct ProjChild;

// A field of the projection spec. Its children are ProjChild, not pair<string, ProjNode>: a
// pair of a type still being defined does not compile with clang (its default constructor's
// constraints need the complete type), and the sanitizer builds use clang.
struct ProjNode {
  enum Action { kNone, kInclude, kExclude, kComputed, kSlice, kElemMatch } action = kNone;
  std::optional<Value> expression;               // kComputed
  std::int64_t slice_skip = 0, slice_limit = 0;  // kSlice: skip may count from the end
  bool slice_has_skip = false;
  std::shared_ptr<MatchExpr> elem_match;  // kElemMatch on documents
  std::vector<ProjChild> children;        // spec order

  ProjNode* find(const std::string& name);
  const ProjNode* find(const std::string& name) const { return const_cast<ProjNode*>(this)->find(name); }
  bool has_computed() const;
};

struct ProjChild {
  std::string name;
  ProjNode node;
};

ProjNode* ProjNode::find(const std::string& name) {
  for (auto& [n, child] : children) {
    if (n == name) return &child;
  }
  return nullptr;
}

bool ProjNode::has_computed() const {
  if (action == kComputed) return true;
  for (const auto& [n, child] : children) {
    if (child.has_computed()) return true;
  }
  return false;
}

class Spec {
 public:
  explicit Spec(const bson_t* projection) {
    add_fields(projection, "");
    // A projection of _id alone follows _id's own choice.
    if (mode_ == Mode::kUndecided && id_included_) mode_ = Mode::kInclusion;
    if (!id_seen_ && inclusion()) {
      // _id is projected unless excluded explicitly.
      root_.children.insert(root_.children.begin(), ProjChild{"_id", ProjNode{ProjNode::kInclude}});
    }
  }
  bool inclusion() const { return mode_ == Mode::kInclusion; }
  const ProjNode& root() const { return root_; }

 private:
  enum class Mode { kUndecided, kInclusion, kExclusion };

  void add_fields(const bson_t* spec, const std::string& prefix) {
    bson_iter_t it;
    bson_iter_init(&it, spec);
    while (bson_iter_next(&it)) {
      std::string path = prefix + bson_iter_key(&it);
      if (BSON_ITER_HOLDS_DOCUMENT(&it) && !is_operator_object(&it)) {
        bson_t nested;
        init_static_from_iter(&it, &nested);
        if (bson_empty(&nested))
          throw CommandError(
              51270, "Location51270",
              "An empty sub-projection is not a valid value. Found empty object at path");
        add_fields(&nested, path + ".");
        continue;
      }
      add_field(path, &it);
    }
  }

  void add_field(const std::string& path, const bson_iter_t* it) {
    ProjNode leaf;
    if (BSON_ITER_HOLDS_BOOL(it) || is_number(bson_iter_type(it))) {
      leaf.action = is_truthy_flag(it) ? ProjNode::kInclude : ProjNode::kExclude;
    } else if (is_operator_object(it)) {
      parse_operator(path, it, leaf);
    } else {
      leaf.action = ProjNode::kComputed;
      leaf.expression = Value::of(it);
    }
    if (path == "_id") {
      id_seen_ = true;
      id_included_ = leaf.action == ProjNode::kInclude;
      if (leaf.action == ProjNode::kExclude || leaf.action == ProjNode::kInclude) {
        insert(path, std::move(leaf));
        return;
      }
    }
    decide_mode(path, leaf.action);
    insert(path, std::move(leaf));
  }

  void parse_operator(const std::string& path, const bson_iter_t* it, ProjNode& leaf) {
    bson_iter_t op;
    bson_iter_recurse(it, &op);
    bson_iter_next(&op);
    std::string name = bson_iter_key(&op);
    if (name == "$slice") {
      leaf.action = ProjNode::kSlice;
      parse_slice(&op, leaf);
    } else if (name == "$elemMatch") {
      if (path.find('.') != std::string::npos) {
        throw_bad_value("Cannot use $elemMatch projection on a nested field.");
      }
      if (!BSON_ITER_HOLDS_DOCUMENT(&op))
        throw_bad_value("elemMatch: Invalid argument, object required.");
      leaf.action = ProjNode::kElemMatch;
      bson_t sub;
      init_static_from_iter(&op, &sub);
      leaf.elem_match = parse_filter(&sub);
    } else if (name == "$meta") {
      throw_bad_value("$meta projections are not supported by the sandbox");
    } else {
      leaf.action = ProjNode::kComputed;
      leaf.expression = Value::of(it);
    }
  }

  static void parse_slice(const bson_iter_t* op, ProjNode& leaf) {
    if (BSON_ITER_HOLDS_ARRAY(op)) {
      bson_iter_t arg;
      bson_iter_recurse(op, &arg);
      std::vector<std::int64_t> args;
      while (bson_iter_next(&arg)) {
        auto v = integral_value(&arg);
        if (!v) throw_bad_value("$slice arguments must be integers");
        args.push_back(*v);
      }
      if (args.size() != 2) throw_bad_value("$slice array wrong size");
      if (args[1] <= 0) throw_bad_value("$slice limit must be positive");
      leaf.slice_has_skip = true;
      leaf.slice_skip = args[0];
      leaf.slice_limit = args[1];
      return;
    }
    auto v = integral_value(op);
    if (!v) throw_bad_value("$slice only supports numbers and [skip, limit] arrays");
    leaf.slice_limit = *v;
  }

  void decide_mode(const std::string& path, ProjNode::Action action) {
    // $elemMatch projects like an inclusion (other fields go), $slice like an exclusion.
    bool include = action == ProjNode::kInclude || action == ProjNode::kComputed ||
                   action == ProjNode::kElemMatch;
    bool exclude = action == ProjNode::kExclude;
    if (include && mode_ == Mode::kExclusion) {
      throw CommandError(31253, "Location31253",
                         "Cannot do inclusion on field " + path + " in exclusion projection");
    }
    if (exclude && mode_ == Mode::kInclusion) {
      throw CommandError(31254, "Location31254",
                         "Cannot do exclusion on field " + path + " in inclusion projection");
    }
    if (include) mode_ = Mode::kInclusion;
    if (exclude) mode_ = Mode::kExclusion;
  }

  void insert(const std::string& path, ProjNode leaf) {
    auto parts = split_path(path);
    ProjNode* node = &root_;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].empty() || parts[i][0] == '$') {
        throw_bad_value("projection path '" + path + "' is not valid");
      }
      ProjNode* child = node->find(parts[i]);
      bool last = i + 1 == parts.size();
      if (child && !last && child->action != ProjNode::kNone) {
        // "a" then "a.b": the new path runs through a projected field.
        throw CommandError(31249, "Location31249",
                           "Path collision at " + path + " remaining portion " +
                               path.substr(join_path(parts, i + 1).size() + 1));
      }
      if (child && last) {
        // "a.b" then "a" (or the same path twice).
        throw CommandError(31250, "Location31250", "Path collision at " + path);
      }
      if (!child) {
        node->children.push_back(ProjChild{parts[i], last ? std::move(leaf) : ProjNode{}});
        child = &node->children.back().node;
      }
      node = child;
    }
  }

  ProjNode root_;
  Mode mode_ = Mode::kUndecided;
  bool id_seen_ = false;
  bool id_included_ = false;
};

void append_value(bson_t* out, const std::string& key, const bson_iter_t* it) {
  bson_append_iter(out, key.data(), static_cast<int>(key.size()), it);
}

void append_slice(bson_t* out, const std::string& key, const bson_iter_t* it,
                  const ProjNode& node) {
  if (!BSON_ITER_HOLDS_ARRAY(it)) {
    append_value(out, key, it);
    return;
  }
  bson_t array_in;
  init_static_from_iter(it, &array_in);
  auto size = static_cast<std::int64_t>(bson_count_keys(&array_in));
  std::int64_t begin = 0, count = 0;
  if (node.slice_has_skip) {
    begin =
        node.slice_skip >= 0 ? node.slice_skip : std::max<std::int64_t>(0, size + node.slice_skip);
    count = node.slice_limit;
  } else if (node.slice_limit >= 0) {
    count = node.slice_limit;
  } else {
    begin = std::max<std::int64_t>(0, size + node.slice_limit);
    count = size - begin;
  }
  bson_t array_out;
  bson_append_array_begin(out, key.data(), static_cast<int>(key.size()), &array_out);
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  std::int64_t index = 0, written = 0;
  while (bson_iter_next(&child)) {
    if (index++ < begin || written >= count) continue;
    std::string k = std::to_string(written++);
    append_value(&array_out, k, &child);
  }
  bson_append_array_end(out, &array_out);
}

void append_elem_match(bson_t* out, const std::string& key, const bson_iter_t* it,
                       const ProjNode& node) {
  if (!BSON_ITER_HOLDS_ARRAY(it)) return;
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  while (bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&child)) continue;
    bson_t element;
    init_static_from_iter(&child, &element);
    if (!node.elem_match->matches(&element)) continue;
    bson_t array_out;
    bson_append_array_begin(out, key.data(), static_cast<int>(key.size()), &array_out);
    append_value(&array_out, "0", &child);
    bson_append_array_end(out, &array_out);
    return;
  }
}

void project_document(const bson_t* doc, const ProjNode& node, bool inclusion, const bson_t* root,
                      bson_t* out);

// A field whose spec has children: documents recurse, arrays apply the spec to each element.
void project_nested(const std::string& key, const bson_iter_t* it, const ProjNode& node,
                    bool inclusion, const bson_t* root, bson_t* out) {
  if (BSON_ITER_HOLDS_DOCUMENT(it)) {
    bson_t sub, child_out;
    init_static_from_iter(it, &sub);
    bson_append_document_begin(out, key.data(), static_cast<int>(key.size()), &child_out);
    project_document(&sub, node, inclusion, root, &child_out);
    bson_append_document_end(out, &child_out);
  } else if (BSON_ITER_HOLDS_ARRAY(it)) {
    bson_t array_out;
    bson_append_array_begin(out, key.data(), static_cast<int>(key.size()), &array_out);
    bson_iter_t child;
    bson_iter_recurse(it, &child);
    std::uint32_t index = 0;
    while (bson_iter_next(&child)) {
      std::string k = std::to_string(index);
      std::uint32_t before = array_out.len;
      project_nested(k, &child, node, inclusion, root, &array_out);
      if (array_out.len != before) ++index;
    }
    bson_append_array_end(out, &array_out);
  } else if (!inclusion) {
    append_value(out, key, it);  // exclusion keeps scalars; inclusion drops them
  }
}

void append_computed(const std::string& key, const ProjNode& node, const bson_t* root,
                     bson_t* out) {
  if (node.action == ProjNode::kComputed) {
    bson_iter_t expr = node.expression->iter();
    auto v = evaluate(&expr, root);
    if (!v) return;
    bson_iter_t vi = v->iter();
    append_value(out, key, &vi);
    return;
  }
  bson_t child_out;
  bson_append_document_begin(out, key.data(), static_cast<int>(key.size()), &child_out);
  for (const auto& [name, child] : node.children) {
    if (child.has_computed()) append_computed(name, child, root, &child_out);
  }
  bson_append_document_end(out, &child_out);
}

void project_document(const bson_t* doc, const ProjNode& node, bool inclusion, const bson_t* root,
                      bson_t* out) {
  std::vector<std::string> seen;
  bson_iter_t it;
  bson_iter_init(&it, doc);
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    const ProjNode* child = node.find(key);
    if (child) seen.push_back(key);
    if (!child) {
      if (!inclusion) append_value(out, key, &it);
      continue;
    }
    switch (child->action) {
      case ProjNode::kInclude:
        append_value(out, key, &it);
        break;
      case ProjNode::kExclude:
        break;
      case ProjNode::kComputed:
        break;  // appended below
      case ProjNode::kSlice:
        append_slice(out, key, &it, *child);
        break;
      case ProjNode::kElemMatch:
        append_elem_match(out, key, &it, *child);
        break;
      case ProjNode::kNone:
        project_nested(key, &it, *child, inclusion, root, out);
        break;
    }
  }
  // Computed fields come after the document's own fields, in spec order.
  for (const auto& [name, child] : node.children) {
    bool computed_here = child.action == ProjNode::kComputed;
    bool new_subtree = child.action == ProjNode::kNone && child.has_computed() &&
                       std::find(seen.begin(), seen.end(), name) == seen.end();
    if (computed_here || new_subtree) append_computed(name, child, root, out);
  }
}

}  // namespace

Doc project(const bson_t* doc, const bson_t* projection) {
  if (!projection || bson_empty(projection)) return Doc::copy_of(doc);
  Spec spec(projection);
  ScopedBson out;
  project_document(doc, spec.root(), spec.inclusion(), doc, out.get());
  return out.to_doc();
}

}  // namespace sandbox
