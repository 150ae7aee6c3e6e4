// compare_for_sort (MongoDB's array and missing-field rules) and find projections.
#include <algorithm>
#include <string>
#include <vector>

#include "query/value.h"
#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

// Sorts documents (given as JSON) by `spec` and returns their "n" fields in order.
std::vector<int> sorted_ids(const std::vector<std::string>& docs, const std::string& spec) {
  std::vector<Doc> parsed;
  for (const auto& d : docs) parsed.push_back(J(d));
  Doc s = J(spec);
  stable_sort_aligned(parsed, [&](const Doc& a, const Doc& b) {
    return compare_for_sort(a.bson(), b.bson(), s.bson()) < 0;
  });
  std::vector<int> ids;
  for (const Doc& d : parsed) {
    bson_iter_t it;
    bson_iter_init_find(&it, d.bson(), "n");
    ids.push_back(bson_iter_int32(&it));
  }
  return ids;
}

TEST(QuerySort, AscendingDescendingAndCompoundKeys) {
  std::vector<std::string> docs = {R"({"n": 1, "a": 2, "b": 1})", R"({"n": 2, "a": 1, "b": 5})",
                                   R"({"n": 3, "a": 2, "b": 0})"};
  EXPECT_EQ(sorted_ids(docs, R"({"a": 1})"), (std::vector<int>{2, 1, 3}));  // stable on ties
  EXPECT_EQ(sorted_ids(docs, R"({"a": -1})"), (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(sorted_ids(docs, R"({"a": 1, "b": 1})"), (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(sorted_ids(docs, R"({"a": -1, "b": -1})"), (std::vector<int>{1, 3, 2}));
}

TEST(QuerySort, MissingSortsAsNullBeforeNumbers) {
  std::vector<std::string> docs = {R"({"n": 1, "a": 5})", R"({"n": 2})", R"({"n": 3, "a": null})",
                                   R"({"n": 4, "a": "s"})"};
  EXPECT_EQ(sorted_ids(docs, R"({"a": 1})"), (std::vector<int>{2, 3, 1, 4}));
  EXPECT_EQ(sorted_ids(docs, R"({"a": -1})"), (std::vector<int>{4, 1, 2, 3}));
}

TEST(QuerySort, ArraysUseSmallestAscendingAndLargestDescending) {
  std::vector<std::string> docs = {R"({"n": 1, "a": [1, 10]})", R"({"n": 2, "a": 5})",
                                   R"({"n": 3, "a": [3, 4]})"};
  EXPECT_EQ(sorted_ids(docs, R"({"a": 1})"), (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(sorted_ids(docs, R"({"a": -1})"), (std::vector<int>{1, 2, 3}));
}

TEST(QuerySort, EmptyArraySortsBeforeNullAndDottedPathsReachIntoArrays) {
  std::vector<std::string> docs = {R"({"n": 1, "a": null})", R"({"n": 2, "a": []})",
                                   R"({"n": 3, "a": 0})"};
  EXPECT_EQ(sorted_ids(docs, R"({"a": 1})"), (std::vector<int>{2, 1, 3}));
  std::vector<std::string> nested = {R"({"n": 1, "a": [{"b": 7}, {"b": 2}]})",
                                     R"({"n": 2, "a": {"b": 3}})"};
  EXPECT_EQ(sorted_ids(nested, R"({"a.b": 1})"), (std::vector<int>{1, 2}));
  EXPECT_EQ(sorted_ids(nested, R"({"a.b": -1})"), (std::vector<int>{1, 2}));
}

TEST(QuerySort, RejectsBadDirections) {
  Doc a = J("{}"), spec = J(R"({"a": 2})");
  EXPECT_EQ(error_code([&] { compare_for_sort(a.bson(), a.bson(), spec.bson()); }), 15975);
  Doc text = J(R"({"a": "x"})");
  EXPECT_EQ(error_code([&] { compare_for_sort(a.bson(), a.bson(), text.bson()); }), 15974);
}

std::string projected(const std::string& doc, const std::string& projection) {
  Doc d = J(doc), p = J(projection);
  return canonical(project(d.bson(), p.bson()));
}

TEST(QueryProject, EmptyProjectionReturnsTheDocument) {
  EXPECT_EQ(projected(R"({"_id": 1, "a": 2})", "{}"), canonical(R"({"_id": 1, "a": 2})"));
  Doc d = J(R"({"a": 1})");
  EXPECT_EQ(project(d.bson(), nullptr), d);
}

TEST(QueryProject, InclusionKeepsIdUnlessExcludedAndKeepsDocumentOrder) {
  const char* doc = R"({"_id": 1, "a": 1, "b": 2, "c": 3})";
  EXPECT_EQ(projected(doc, R"({"c": 1, "a": 1})"), canonical(R"({"_id": 1, "a": 1, "c": 3})"));
  EXPECT_EQ(projected(doc, R"({"a": 1, "_id": 0})"), canonical(R"({"a": 1})"));
  EXPECT_EQ(projected(doc, R"({"a": true})"), canonical(R"({"_id": 1, "a": 1})"));
  EXPECT_EQ(projected(doc, R"({"_id": 1})"), canonical(R"({"_id": 1})"));
  EXPECT_EQ(projected(doc, R"({"zz": 1})"), canonical(R"({"_id": 1})"));
}

TEST(QueryProject, ExclusionDropsFields) {
  const char* doc = R"({"_id": 1, "a": 1, "b": 2})";
  EXPECT_EQ(projected(doc, R"({"a": 0})"), canonical(R"({"_id": 1, "b": 2})"));
  EXPECT_EQ(projected(doc, R"({"_id": 0})"), canonical(R"({"a": 1, "b": 2})"));
  EXPECT_EQ(projected(doc, R"({"_id": 0, "b": false})"), canonical(R"({"a": 1})"));
}

TEST(QueryProject, DottedPathsThroughDocumentsAndArrays) {
  const char* doc = R"({"_id": 1, "a": {"b": 1, "c": 2}, "l": [{"b": 1, "c": 2}, 5, {"c": 3}]})";
  EXPECT_EQ(projected(doc, R"({"a.b": 1, "_id": 0})"), canonical(R"({"a": {"b": 1}})"));
  EXPECT_EQ(projected(doc, R"({"l.b": 1, "_id": 0})"), canonical(R"({"l": [{"b": 1}, {}]})"));
  EXPECT_EQ(projected(doc, R"({"a.c": 0, "l.c": 0})"),
            canonical(R"({"_id": 1, "a": {"b": 1}, "l": [{"b": 1}, 5, {}]})"));
  EXPECT_EQ(projected(doc, R"({"a": {"c": 1}, "_id": 0})"), canonical(R"({"a": {"c": 2}})"));
}

TEST(QueryProject, MixingInclusionAndExclusionFails) {
  std::string message;
  EXPECT_EQ(error_code([] { projected("{}", R"({"a": 1, "b": 0})"); }, &message), 31254);
  EXPECT_EQ(message, "Cannot do exclusion on field b in inclusion projection");
  EXPECT_EQ(error_code([] { projected("{}", R"({"a": 0, "b": 1})"); }, &message), 31253);
  EXPECT_EQ(message, "Cannot do inclusion on field b in exclusion projection");
  EXPECT_EQ(error_code([] { projected("{}", R"({"a": 1, "a.b.c": 1})"); }, &message), 31249);
  EXPECT_EQ(message, "Path collision at a.b.c remaining portion b.c");
  EXPECT_EQ(error_code([] { projected("{}", R"({"a.b": 1, "a": 1})"); }, &message), 31250);
  EXPECT_EQ(message, "Path collision at a");
}

TEST(QueryProject, SliceElemMatchAndComputedFields) {
  const char* doc = R"({"_id": 1, "a": [1, 2, 3, 4], "r": [{"k": 1}, {"k": 2, "v": 9}], "x": 5})";
  EXPECT_EQ(projected(doc, R"({"a": {"$slice": 2}, "r": 0})"),
            canonical(R"({"_id": 1, "a": [1, 2], "x": 5})"));
  EXPECT_EQ(projected(doc, R"({"a": {"$slice": -1}, "_id": 0, "r": 0, "x": 0})"),
            canonical(R"({"a": [4]})"));
  EXPECT_EQ(projected(doc, R"({"a": {"$slice": [1, 2]}, "x": 1, "_id": 0})"),
            canonical(R"({"a": [2, 3], "x": 5})"));
  EXPECT_EQ(projected(doc, R"({"r": {"$elemMatch": {"k": 2}}, "_id": 0})"),
            canonical(R"({"r": [{"k": 2, "v": 9}]})"));
  EXPECT_EQ(projected(doc, R"({"y": "$x", "_id": 0})"), canonical(R"({"y": 5})"));
  EXPECT_EQ(projected(doc, R"({"x": 1, "lit": {"$literal": 1}})"),
            canonical(R"({"_id": 1, "x": 5, "lit": 1})"));
}

}  // namespace
}  // namespace sandbox::testing
