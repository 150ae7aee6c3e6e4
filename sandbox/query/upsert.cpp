// upsert_seed: the document an upsert inserts before applying its update, built from the
// filter's equality conditions as MongoDB does ({a: 1, "b.c": 2, $and: [{d: 3}]} ->
// {a: 1, b: {c: 2}, d: 3}; paths applied in update order; _id first).
#include <string>
#include <vector>

#include "query/diff.h"
#include "query/match_tree.h"
#include "query/query.h"

namespace sandbox {
namespace {

void check_single_values(const std::vector<Equality>& equalities) {
  for (std::size_t i = 0; i < equalities.size(); ++i) {
    for (std::size_t j = i + 1; j < equalities.size(); ++j) {
      const std::string& a = equalities[i].path;
      const std::string& b = equalities[j].path;
      if (a == b) {
        throw CommandError(54, "NotSingleValueField",
                           "cannot infer query fields to set, path '" + a + "' is matched twice");
      }
      auto prefix_of = [](const std::string& p, const std::string& q) {
        return q.rfind(p + ".", 0) == 0;
      };
      if (prefix_of(a, b) || prefix_of(b, a)) {
        throw CommandError(
            54, "NotSingleValueField",
            "cannot infer query fields to set, both paths '" + a + "' and '" + b + "' are matched");
      }
    }
  }
}

}  // namespace

Doc upsert_seed(const bson_t* filter) {
  std::vector<Equality> equalities;
  collect_equalities(filter, equalities);
  check_single_values(equalities);
  ScopedBson set, update;
  for (const Equality& e : equalities) {
    bson_append_iter(set.get(), e.path.data(), static_cast<int>(e.path.size()), &e.value);
  }
  bson_append_document(update.get(), "$set", 4, set.get());
  Node root;
  apply_operator_update(root, update.get(), true, nullptr);
  if (Node* id = root.find("_id")) {
    Node moved = std::move(*id);
    root.remove("_id");
    root.children.insert(root.children.begin(), Field{"_id", std::move(moved)});
  }
  return root.to_doc();
}

}  // namespace sandbox
