// apply_update: parses an update document, checks it as MongoDB does (unknown modifiers,
// conflicting paths, immutable _id), applies the operations in MongoDB 5.0's order (field
// names lexicographically, numeric names numerically), and describes the change as a $v:2
// oplog diff.
#include <algorithm>
#include <cstdlib>

#include "query/diff.h"
#include "query/positional.h"
#include "query/query.h"
#include "query/update_ops.h"

namespace sandbox {
namespace {

// "_id: 1" for messages ("no id" when the document has none, as MongoDB says).
std::string id_element(const Node& root) {
  const Node* id = root.find("_id");
  if (!id) return "no id";
  Value v = id->to_value();
  bson_iter_t it = v.iter();
  return element_to_string("_id", &it);
}

std::vector<std::string> checked_parts(const std::string& path) {
  if (path.empty()) throw CommandError(56, "EmptyFieldName", "An empty update path is not valid.");
  auto parts = split_path(path);
  for (const std::string& part : parts) {
    if (part.empty()) {
      throw CommandError(
          56, "EmptyFieldName",
          "The update path '" + path + "' contains an empty field name, which is not allowed.");
    }
    if (part == "$") {
      throw_bad_value("The positional operator did not find the match needed from the query.");
    }
    if (part[0] == '$' && !is_positional_part(part)) {
      throw_bad_value("The dollar ($) prefixed field '" + part + "' in '" + path +
                      "' is not valid for storage.");
    }
  }
  return parts;
}

bool is_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::vector<UpdateOp> parse_operations(const bson_t* update) {
  std::vector<UpdateOp> ops;
  bson_iter_t it;
  bson_iter_init(&it, update);
  while (bson_iter_next(&it)) {
    std::string op = bson_iter_key(&it);
    if (!is_known_update_operator(op)) {
      throw_failed_to_parse(
          "Unknown modifier: " + op +
          ". Expected a valid update modifier or pipeline-style update specified as an array");
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
      throw_failed_to_parse("Modifiers operate on fields but we found type " +
                            type_name(bson_iter_type(&it)) +
                            " instead. For example: {$mod: {<field>: ...}} not " + "{" +
                            element_to_string(op, &it) + "}");
    }
    bson_iter_t field;
    bson_iter_recurse(&it, &field);
    while (bson_iter_next(&field)) {
      UpdateOp u{.op = op, .path = bson_iter_key(&field), .parts = {}, .arg = field};
      u.parts = checked_parts(u.path);
      if (op == "$rename") {
        if (!BSON_ITER_HOLDS_UTF8(&field)) {
          throw_bad_value("The 'to' field for $rename must be a string: " +
                          element_to_string(u.path, &field));
        }
        u.target_path = bson_iter_utf8(&field, nullptr);
        if (u.target_path == u.path) {
          throw_bad_value("The source and target field for $rename must differ: " +
                          element_to_string(u.path, &field));
        }
        u.target_parts = checked_parts(u.target_path);
        if (is_prefix(u.parts, u.target_parts) || is_prefix(u.target_parts, u.parts)) {
          throw_bad_value("The source and target field for $rename must not be on the same path: " +
                          element_to_string(u.path, &field));
        }
        auto dynamic = [](const std::vector<std::string>& parts) {
          return std::any_of(parts.begin(), parts.end(), is_positional_part);
        };
        if (dynamic(u.parts) || dynamic(u.target_parts)) {
          throw_bad_value("The source and target field for $rename may not be dynamic: " +
                          element_to_string(u.path, &field));
        }
      }
      ops.push_back(std::move(u));
    }
  }
  return ops;
}

// Two operations may not touch the same path or a path and its prefix.
void check_conflicts(const std::vector<UpdateOp>& ops) {
  std::vector<const std::vector<std::string>*> paths;
  for (const UpdateOp& op : ops) {
    paths.push_back(&op.parts);
    if (op.op == "$rename") paths.push_back(&op.target_parts);
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    for (std::size_t j = i + 1; j < paths.size(); ++j) {
      const auto& a = *paths[i];
      const auto& b = *paths[j];
      if (is_prefix(a, b) || is_prefix(b, a)) {
        const auto& shorter = a.size() <= b.size() ? a : b;
        throw CommandError(40, "ConflictingUpdateOperators",
                           "Updating the path '" + join_path(b, b.size()) +
                               "' would create a conflict at '" +
                               join_path(shorter, shorter.size()) + "'");
      }
    }
  }
}

// MongoDB 5.0+: string names in lexicographic order, numeric names in numeric order.
bool part_less(const std::string& a, const std::string& b) {
  if (is_array_index(a) && is_array_index(b))
    return std::strtoul(a.c_str(), nullptr, 10) < std::strtoul(b.c_str(), nullptr, 10);
  return a < b;
}

bool path_less(const UpdateOp& x, const UpdateOp& y) {
  return std::lexicographical_compare(x.parts.begin(), x.parts.end(), y.parts.begin(),
                                      y.parts.end(), part_less);
}

void check_id_unchanged(const Node& before, const Node& after) {
  const Node* old_id = before.find("_id");
  if (!old_id) return;
  const Node* new_id = after.find("_id");
  if (!new_id || !(*new_id == *old_id)) {
    throw CommandError(
        66, "ImmutableField",
        "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
}

Node apply_replacement(const Node& before, const bson_t* replacement) {
  Node after = Node::from_document(replacement);
  for (const Field& f : after.children) {
    if (!f.name.empty() && f.name[0] == '$') {
      throw CommandError(
          52, "DollarPrefixedFieldName",
          "The dollar ($) prefixed field '" + f.name + "' in '" + f.name +
              "' is not allowed in the context of an update's replacement document.");
    }
  }
  const Node* old_id = before.find("_id");
  Node* new_id = after.find("_id");
  if (old_id && new_id && !(*new_id == *old_id)) {
    Value v = new_id->to_value();
    bson_iter_t it = v.iter();
    throw CommandError(66, "ImmutableField",
                       "After applying the update, the (immutable) field '_id' was found to have "
                       "been altered to " +
                           element_to_string("_id", &it));
  }
  // _id leads the document: the original one when the replacement leaves it out.
  Node id = new_id ? *new_id : (old_id ? *old_id : Node{});
  if (new_id || old_id) {
    after.remove("_id");
    after.children.insert(after.children.begin(), Field{"_id", std::move(id)});
  }
  return after;
}

void check_pipeline_update_stages(const bson_t* pipeline) {
  static const std::vector<std::string> kAllowed = {"$addFields", "$set",         "$project",
                                                    "$unset",     "$replaceRoot", "$replaceWith"};
  bson_iter_t stage;
  bson_iter_init(&stage, pipeline);
  while (bson_iter_next(&stage)) {
    bson_iter_t op;
    if (!BSON_ITER_HOLDS_DOCUMENT(&stage) || !bson_iter_recurse(&stage, &op) ||
        !bson_iter_next(&op))
      continue;
    std::string name = bson_iter_key(&op);
    if (std::find(kAllowed.begin(), kAllowed.end(), name) == kAllowed.end()) {
      throw CommandError(72, "InvalidOptions",
                         name + " is not allowed to be used within an update");
    }
  }
}

}  // namespace

void apply_operator_update(Node& root, const bson_t* update, bool is_insert,
                           const bson_t* array_filters) {
  std::vector<UpdateOp> ops = parse_operations(update);
  check_conflicts(ops);
  ArrayFilters filters(array_filters);
  for (const UpdateOp& op : ops) filters.check_path(op.path, op.parts);
  filters.check_all_used();
  stable_sort_aligned(ops, path_less);
  UpdateContext ctx{.id_element = id_element(root), .is_insert = is_insert};
  for (const UpdateOp& op : ops) {
    if (std::none_of(op.parts.begin(), op.parts.end(), is_positional_part)) {
      apply_operator(root, op, ctx);
      continue;
    }
    // Expanded against the document as it is now: earlier operations may have changed it.
    for (std::vector<std::string>& parts : filters.expand(root, op.parts)) {
      UpdateOp concrete = op;
      concrete.path = join_path(parts, parts.size());
      concrete.parts = std::move(parts);
      apply_operator(root, concrete, ctx);
    }
  }
}

bool is_replacement_update(const bson_t* update) {
  bson_iter_t it;
  if (!bson_iter_init(&it, update) || !bson_iter_next(&it)) return true;  // {} replaces
  return bson_iter_key(&it)[0] != '$';
}

UpdateOutcome apply_update(const bson_t* doc, const bson_t* update, bool is_insert) {
  return apply_update(doc, update, is_insert, nullptr);
}

UpdateOutcome apply_update(const bson_t* doc, const bson_t* update, bool is_insert,
                           const bson_t* array_filters) {
  Node before = Node::from_document(doc);
  Doc original = Doc::copy_of(doc);
  if (is_replacement_update(update)) {
    Doc replaced = apply_replacement(before, update).to_doc();
    bool changed = !(replaced == original);
    return UpdateOutcome{replaced, replaced, changed};
  }
  Node after = before;
  apply_operator_update(after, update, is_insert, array_filters);
  check_id_unchanged(before, after);
  Doc updated = after.to_doc();
  bool changed = !(updated == original);
  Doc oplog = changed ? make_oplog_update(before, after) : Doc::empty();
  return UpdateOutcome{updated, oplog, changed};
}

}  // namespace sandbox

namespace sandbox {

UpdateOutcome apply_pipeline_update(const bson_t* doc, const bson_t* pipeline) {
  check_pipeline_update_stages(pipeline);
  Doc original = Doc::copy_of(doc);
  std::vector<Doc> result = run_pipeline({original}, pipeline);
  Node before = Node::from_document(doc);
  Node after = Node::from_document(result.at(0).bson());
  const Node* old_id = before.find("_id");
  if (old_id && !after.find("_id"))
    after.children.insert(after.children.begin(), Field{"_id", *old_id});
  check_id_unchanged(before, after);
  Doc updated = after.to_doc();
  bool changed = !(updated == original);
  Doc oplog = changed ? make_oplog_update(before, after) : Doc::empty();
  return UpdateOutcome{updated, oplog, changed};
}

}  // namespace sandbox
