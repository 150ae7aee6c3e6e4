// run_pipeline: stages and $group accumulators, including the countDocuments pipeline the
// drivers send.
#include <string>
#include <vector>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

std::vector<Doc> docs(const std::vector<std::string>& json) {
  std::vector<Doc> out;
  for (const auto& j : json) out.push_back(J(j));
  return out;
}

// The pipeline's output as canonical JSON documents.
std::vector<std::string> run(const std::vector<std::string>& input, const std::string& pipeline) {
  const Doc stages = J_array(pipeline);
  std::vector<std::string> out;
  for (const Doc& d : run_pipeline(docs(input), stages.bson())) out.push_back(canonical(d));
  return out;
}

std::vector<std::string> expect(const std::vector<std::string>& json) {
  std::vector<std::string> out;
  for (const auto& j : json) out.push_back(canonical(j));
  return out;
}

const std::vector<std::string> kPeople = {
    R"({"_id": 1, "city": "a", "age": 30, "tags": ["x", "y"]})",
    R"({"_id": 2, "city": "b", "age": 20, "tags": []})",
    R"({"_id": 3, "city": "a", "age": 40.5})",
    R"({"_id": 4, "city": "c", "age": "unknown"})",
};

TEST(QueryPipeline, CountDocumentsPipelineFromTheDrivers) {
  EXPECT_EQ(
      run(kPeople, R"([{"$match": {"city": "a"}}, {"$group": {"_id": 1, "n": {"$sum": 1}}}])"),
      expect({R"({"_id": 1, "n": 2})"}));
  // Over no documents it returns nothing (the driver then reports 0).
  EXPECT_TRUE(
      run(kPeople, R"([{"$match": {"city": "zz"}}, {"$group": {"_id": 1, "n": {"$sum": 1}}}])")
          .empty());
  EXPECT_EQ(
      run(kPeople,
          R"([{"$match": {}}, {"$skip": 1}, {"$limit": 2}, {"$group": {"_id": 1, "n": {"$sum": 1}}}])"),
      expect({R"({"_id": 1, "n": 2})"}));
}

TEST(QueryPipeline, GroupByFieldWithAccumulators) {
  EXPECT_EQ(
      run(kPeople, R"([{"$group": {"_id": "$city", "n": {"$sum": 1}, "total": {"$sum": "$age"},
                                          "avg": {"$avg": "$age"}, "lo": {"$min": "$age"}, "hi": {"$max": "$age"},
                                          "first": {"$first": "$_id"}, "last": {"$last": "$_id"},
                                          "ids": {"$push": "$_id"}, "c": {"$count": {}}}}])"),
      expect(
          {R"({"_id": "a", "n": 2, "total": 70.5, "avg": 35.25, "lo": 30, "hi": 40.5, "first": 1, "last": 3, "ids": [1, 3], "c": 2})",
           R"({"_id": "b", "n": 1, "total": 20, "avg": 20.0, "lo": 20, "hi": 20, "first": 2, "last": 2, "ids": [2], "c": 1})",
           R"({"_id": "c", "n": 1, "total": 0, "avg": null, "lo": "unknown", "hi": "unknown", "first": 4, "last": 4, "ids": [4], "c": 1})"}));
}

TEST(QueryPipeline, GroupByNullCompoundKeysAndAddToSet) {
  EXPECT_EQ(run(kPeople, R"([{"$group": {"_id": null, "cities": {"$addToSet": "$city"}}}])"),
            expect({R"({"_id": null, "cities": ["a", "b", "c"]})"}));
  EXPECT_EQ(run({R"({"a": 1, "b": 1})", R"({"a": 1.0, "b": 1})", R"({"a": 2})"},
                R"([{"$group": {"_id": {"x": "$a", "y": "$b"}, "n": {"$sum": 1}}}])"),
            expect({R"({"_id": {"x": 1, "y": 1}, "n": 2})", R"({"_id": {"x": 2}, "n": 1})"}));
  // A missing group key is null.
  EXPECT_EQ(run({R"({"a": 1})", R"({})"}, R"([{"$group": {"_id": "$b", "n": {"$sum": 1}}}])"),
            expect({R"({"_id": null, "n": 2})"}));
}

TEST(QueryPipeline, SumTypes) {
  EXPECT_EQ(run({R"({"v": 2147483647})", R"({"v": 1})"},
                R"([{"$group": {"_id": null, "s": {"$sum": "$v"}}}])"),
            expect({R"({"_id": null, "s": {"$numberLong": "2147483648"}})"}));
  EXPECT_EQ(run({R"({"v": {"$numberLong": "1"}})"},
                R"([{"$group": {"_id": null, "s": {"$sum": "$v"}}}])"),
            expect({R"({"_id": null, "s": {"$numberLong": "1"}})"}));
}

TEST(QueryPipeline, DecimalsSumAndAverageAsDecimals) {
  EXPECT_EQ(
      run({R"({"v": {"$numberDecimal": "1.5"}})", R"({"v": 2})"},
          R"([{"$group": {"_id": null, "s": {"$sum": "$v"}, "a": {"$avg": "$v"}}}])"),
      expect(
          {R"({"_id": null, "s": {"$numberDecimal": "3.5"}, "a": {"$numberDecimal": "1.75"}})"}));
}

TEST(QueryPipeline, CountSortSkipLimitProject) {
  EXPECT_EQ(run(kPeople, R"([{"$match": {"age": {"$$type": "number"}}}, {"$count": "n"}])"),
            expect({R"({"n": 3})"}));
  EXPECT_TRUE(run(kPeople, R"([{"$match": {"x": 1}}, {"$count": "n"}])").empty());
  EXPECT_EQ(
      run(kPeople,
          R"([{"$sort": {"age": -1}}, {"$skip": 1}, {"$limit": 2}, {"$project": {"_id": 1}}])"),
      expect({R"({"_id": 3})", R"({"_id": 1})"}));
  EXPECT_EQ(
      run(kPeople,
          R"([{"$match": {"_id": 1}}, {"$project": {"city": 1, "_id": 0, "older": {"$add": ["$age", 1]}}}])"),
      expect({R"({"city": "a", "older": 31})"}));
}

TEST(QueryPipeline, UnwindAddFieldsUnsetReplaceRoot) {
  EXPECT_EQ(run(kPeople, R"([{"$unwind": "$tags"}, {"$project": {"tags": 1}}])"),
            expect({R"({"_id": 1, "tags": "x"})", R"({"_id": 1, "tags": "y"})"}));
  EXPECT_EQ(run({R"({"_id": 1, "a": 1})"},
                R"([{"$addFields": {"b": "$a", "a": 5, "c.d": 1}}, {"$unset": "_id"}])"),
            expect({R"({"a": 5, "b": 1, "c": {"d": 1}})"}));
  EXPECT_EQ(run({R"({"_id": 1, "in": {"x": 1}})"}, R"([{"$replaceRoot": {"newRoot": "$in"}}])"),
            expect({R"({"x": 1})"}));
}

TEST(QueryPipeline, ErrorsCarryMongoDbCodes) {
  std::string message;
  EXPECT_EQ(error_code([] { run({}, R"([{"$foo": {}}])"); }, &message), 40324);
  EXPECT_EQ(message, "Unrecognized pipeline stage name: '$foo'");
  EXPECT_EQ(error_code([] { run({}, R"([{"$match": {}, "$limit": 1}])"); }), 40323);
  EXPECT_EQ(error_code([] { run({}, R"([{"$group": {"n": {"$sum": 1}}}])"); }), 15955);
  EXPECT_EQ(error_code([] { run({"{}"}, R"([{"$group": {"_id": 1, "n": {"$median": 1}}}])"); }),
            15952);
  EXPECT_EQ(error_code([] { run({}, R"([{"$limit": 0}])"); }), 15958);
  EXPECT_EQ(error_code([] { run({}, R"([{"$skip": -1}])"); }), 15956);
  EXPECT_EQ(error_code([] { run({}, R"([{"$match": {"a": {"$bad": 1}}}])"); }), 2);
}

}  // namespace
}  // namespace sandbox::testing
