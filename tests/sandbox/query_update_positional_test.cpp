// apply_update with $[] and $[<id>] (arrayFilters), and pipeline-style updates.
#include <string>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

// Applies the update with arrayFilters given as a JSON array ("" for none) and checks the
// oplog entry reproduces the result.
std::string updated(const std::string& doc, const std::string& update,
                    const std::string& filters = "") {
  Doc d = J(doc), u = J(update);
  const Doc array_filters = J_array(filters.empty() ? std::string("[]") : filters);
  UpdateOutcome out = apply_update(d.bson(), u.bson(), false, filters.empty() ? nullptr : array_filters.bson());
  if (out.changed) {
    EXPECT_EQ(apply_oplog_update(d.bson(), out.oplog_o.bson()), out.document);
  }
  return canonical(out.document);
}

TEST(QueryUpdatePositional, AllPositionalUpdatesEveryElement) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2, 3]})", R"({"$inc": {"a.$[]": 10}})"),
            canonical(R"({"_id": 1, "a": [11, 12, 13]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [{"b": 1}, {"b": 2}]})", R"({"$set": {"a.$[].c": 0}})"),
            canonical(R"({"_id": 1, "a": [{"b": 1, "c": 0}, {"b": 2, "c": 0}]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [[1], [2, 3]]})", R"({"$inc": {"a.$[].$[]": 1}})"),
            canonical(R"({"_id": 1, "a": [[2], [3, 4]]})"));
  EXPECT_EQ(error_code([] { updated(R"({"_id": 1})", R"({"$set": {"a.$[]": 1}})"); }), 2);
}

TEST(QueryUpdatePositional, FilteredPositionalUsesArrayFilters) {
  EXPECT_EQ(updated(R"({"_id": 1, "g": [95, 102, 90, 150]})", R"({"$set": {"g.$[x]": 100}})",
                    R"([{"x": {"$gte": 100}}])"),
            canonical(R"({"_id": 1, "g": [95, 100, 90, 100]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "g": [{"s": 1, "m": 0}, {"s": 9, "m": 0}]})",
                    R"({"$set": {"g.$[e].m": 1}})", R"([{"e.s": {"$gt": 5}}])"),
            canonical(R"({"_id": 1, "g": [{"s": 1, "m": 0}, {"s": 9, "m": 1}]})"));
  std::string message;
  EXPECT_EQ(error_code([] { updated(R"({"_id": 1, "a": [1]})", R"({"$set": {"a.$[x]": 1}})"); },
                       &message),
            2);
  EXPECT_EQ(message, "No array filter found for identifier 'x' in path 'a.$[x]'");
  EXPECT_EQ(error_code([] {
              updated(R"({"_id": 1, "a": [1]})", R"({"$set": {"a.0": 1}})", R"([{"x": 1}])");
            }),
            9);
  EXPECT_EQ(error_code([] {
              updated(R"({"_id": 1, "a": [1]})", R"({"$set": {"a.$[X]": 1}})", R"([{"X": 1}])");
            }),
            2);
  EXPECT_EQ(error_code([] { updated(R"({"_id": 1, "a": [1]})", R"({"$set": {"a.$": 1}})"); }), 2);
  EXPECT_EQ(
      error_code([] { updated(R"({"_id": 1, "a": [1]})", R"({"$rename": {"a.$[]": "b"}})"); }), 2);
}

std::string pipeline_updated(const std::string& doc, const std::string& pipeline,
                             bool* changed = nullptr) {
  Doc d = J(doc);
  const Doc stages = J_array(pipeline);
  UpdateOutcome out = apply_pipeline_update(d.bson(), stages.bson());
  if (out.changed) {
    EXPECT_EQ(apply_oplog_update(d.bson(), out.oplog_o.bson()), out.document);
  }
  if (changed) *changed = out.changed;
  return canonical(out.document);
}

TEST(QueryUpdatePipeline, StagesComputeTheNewDocument) {
  EXPECT_EQ(pipeline_updated(R"({"_id": 1, "a": 1})",
                             R"([{"$set": {"b": {"$add": ["$a", 1]}}}, {"$unset": "a"}])"),
            canonical(R"({"_id": 1, "b": 2})"));
  EXPECT_EQ(pipeline_updated(R"({"_id": 1, "in": {"x": 1}})", R"([{"$replaceWith": "$in"}])"),
            canonical(R"({"_id": 1, "x": 1})"));
  bool changed = true;
  pipeline_updated(R"({"_id": 1, "a": 1})", R"([{"$set": {"a": 1}}])", &changed);
  EXPECT_FALSE(changed);
  EXPECT_EQ(error_code([] { pipeline_updated(R"({"_id": 1})", R"([{"$set": {"_id": 2}}])"); }), 66);
  EXPECT_EQ(error_code([] { pipeline_updated(R"({"_id": 1})", R"([{"$group": {"_id": 1}}])"); }),
            72);
}

}  // namespace
}  // namespace sandbox::testing
