// Matcher: MongoDB query semantics on dotted paths, arrays, nulls and every operator.
#include <string>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

TEST(QueryMatcher, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(matches("{}", R"({"a": 1})"));
  EXPECT_TRUE(matches("{}", "{}"));
}

TEST(QueryMatcher, ImplicitAndOfEqualities) {
  EXPECT_TRUE(matches(R"({"a": 1, "b": "x"})", R"({"a": 1, "b": "x", "c": 0})"));
  EXPECT_FALSE(matches(R"({"a": 1, "b": "x"})", R"({"a": 1, "b": "y"})"));
  EXPECT_TRUE(matches(R"({"a": 1})", R"({"a": 1.0})"));  // numbers by value
  EXPECT_FALSE(matches(R"({"a": 1})", R"({"a": "1"})"));
}

TEST(QueryMatcher, DottedPathsThroughDocumentsAndArrays) {
  EXPECT_TRUE(matches(R"({"a.b": 2})", R"({"a": {"b": 2}})"));
  EXPECT_TRUE(matches(R"({"a.b": 2})", R"({"a": [{"b": 1}, {"b": 2}]})"));
  EXPECT_FALSE(matches(R"({"a.b": 3})", R"({"a": [{"b": 1}, {"b": 2}]})"));
  EXPECT_TRUE(matches(R"({"a.b.c": 5})", R"({"a": [{"b": [{"c": 4}, {"c": 5}]}]})"));
  EXPECT_TRUE(matches(R"({"a.1": "y"})", R"({"a": ["x", "y"]})"));  // numeric part indexes
  EXPECT_FALSE(matches(R"({"a.0": "y"})", R"({"a": ["x", "y"]})"));
  EXPECT_TRUE(matches(R"({"a.0.b": 1})", R"({"a": [{"b": 1}]})"));
  EXPECT_FALSE(matches(R"({"a.b": 1})", R"({"a": 1})"));
}

TEST(QueryMatcher, EqualityWithArrays) {
  EXPECT_TRUE(matches(R"({"a": 2})", R"({"a": [1, 2, 3]})"));         // an element
  EXPECT_TRUE(matches(R"({"a": [1, 2]})", R"({"a": [1, 2]})"));       // the whole array
  EXPECT_FALSE(matches(R"({"a": [2, 1]})", R"({"a": [1, 2]})"));      // order matters
  EXPECT_TRUE(matches(R"({"a": [1, 2]})", R"({"a": [[1, 2], 3]})"));  // an element that is an array
  EXPECT_FALSE(matches(R"({"a": 1})", R"({"a": [[1, 2]]})"));  // no recursion into nested arrays
  EXPECT_TRUE(matches(R"({"a": {"b": 1}})", R"({"a": {"b": 1}})"));
  EXPECT_FALSE(
      matches(R"({"a": {"b": 1}})", R"({"a": {"b": 1, "c": 2}})"));  // whole document equality
}

TEST(QueryMatcher, NullMatchesNullAndMissing) {
  EXPECT_TRUE(matches(R"({"a": null})", R"({"a": null})"));
  EXPECT_TRUE(matches(R"({"a": null})", R"({"b": 1})"));
  EXPECT_FALSE(matches(R"({"a": null})", R"({"a": 0})"));
  EXPECT_TRUE(matches(R"({"a.b": null})", R"({"a": [{"b": 1}, {"c": 1}]})"));
  EXPECT_FALSE(matches(R"({"a.b": null})", R"({"a": [{"b": 1}]})"));
  EXPECT_TRUE(matches(R"({"a": {"$ne": null}})", R"({"a": 0})"));
  EXPECT_FALSE(matches(R"({"a": {"$ne": null}})", R"({"b": 0})"));
  EXPECT_TRUE(matches(R"({"a": {"$gte": null}})", R"({"b": 0})"));
  EXPECT_FALSE(matches(R"({"a": {"$gt": null}})", R"({"a": null})"));
  EXPECT_TRUE(matches(R"({"a": {"$in": [null, 5]}})", R"({})"));
}

TEST(QueryMatcher, ComparisonsAreTypeBracketed) {
  EXPECT_TRUE(matches(R"({"a": {"$gt": 5}})", R"({"a": 6})"));
  EXPECT_FALSE(matches(R"({"a": {"$gt": 5}})",
                       R"({"a": "x"})"));  // strings are above numbers, but bracketed
  EXPECT_FALSE(matches(R"({"a": {"$lt": "a"}})", R"({"a": 1})"));
  EXPECT_TRUE(matches(R"({"a": {"$gte": 5, "$lte": 5}})", R"({"a": 5.0})"));
  EXPECT_FALSE(matches(R"({"a": {"$lt": 5}})", R"({"a": 5})"));
  EXPECT_TRUE(matches(R"({"a": {"$lte": 5}})", R"({"a": {"$numberLong": "5"}})"));
  EXPECT_TRUE(matches(R"({"a": {"$gt": "abc"}})", R"({"a": "abd"})"));
  EXPECT_TRUE(matches(R"({"d": {"$lt": {"$date": "2021-01-01T00:00:00Z"}}})",
                      R"({"d": {"$date": "2020-01-01T00:00:00Z"}})"));
  EXPECT_FALSE(matches(R"({"a": {"$gt": 5}})", R"({})"));
  // MinKey and MaxKey bounds are not bracketed.
  EXPECT_TRUE(matches(R"({"a": {"$gt": {"$minKey": 1}}})", R"({"a": "x"})"));
  EXPECT_TRUE(matches(R"({"a": {"$lt": {"$maxKey": 1}}})", R"({"a": null})"));
  EXPECT_FALSE(matches(R"({"a": {"$gt": {"$maxKey": 1}}})", R"({"a": 1})"));
}

TEST(QueryMatcher, ComparisonsOnArraysMatchAnyElementEachSeparately) {
  EXPECT_TRUE(matches(R"({"a": {"$gt": 5}})", R"({"a": [1, 7]})"));
  // Each condition may be met by a different element (no $elemMatch).
  EXPECT_TRUE(matches(R"({"a": {"$gt": 5, "$lt": 3}})", R"({"a": [1, 7]})"));
  EXPECT_FALSE(matches(R"({"a": {"$elemMatch": {"$gt": 5, "$lt": 3}}})", R"({"a": [1, 7]})"));
  EXPECT_TRUE(matches(R"({"a": {"$elemMatch": {"$gt": 5, "$lt": 9}}})", R"({"a": [1, 7]})"));
  EXPECT_FALSE(matches(R"({"a": {"$elemMatch": {"$gt": 2}}})", R"({"a": [[3]]})"));
  EXPECT_TRUE(matches(R"({"a": {"$elemMatch": {"$size": 1}}})", R"({"a": [[3]]})"));
}

TEST(QueryMatcher, EqAndNe) {
  EXPECT_TRUE(matches(R"({"a": {"$eq": 1}})", R"({"a": [0, 1]})"));
  EXPECT_TRUE(matches(R"({"a": {"$ne": 1}})", R"({"a": 2})"));
  EXPECT_FALSE(matches(R"({"a": {"$ne": 1}})", R"({"a": [0, 1]})"));
  EXPECT_TRUE(matches(R"({"a": {"$ne": 1}})", R"({})"));
  // $eq with a regex compares regexes, it does not match strings.
  EXPECT_FALSE(matches(R"({"a": {"$eq": {"$regularExpression": {"pattern": "x", "options": ""}}}})",
                       R"({"a": "x"})"));
}

TEST(QueryMatcher, InAndNin) {
  EXPECT_TRUE(matches(R"({"a": {"$in": [1, 2]}})", R"({"a": 2})"));
  EXPECT_TRUE(matches(R"({"a": {"$in": [1, 2]}})", R"({"a": [5, 1]})"));
  EXPECT_FALSE(matches(R"({"a": {"$in": []}})", R"({"a": 1})"));
  EXPECT_TRUE(
      matches(R"({"a": {"$in": [{"$regularExpression": {"pattern": "^x", "options": ""}}]}})",
              R"({"a": "xy"})"));
  EXPECT_TRUE(matches(R"({"a": {"$nin": [1, 2]}})", R"({"a": 3})"));
  EXPECT_TRUE(matches(R"({"a": {"$nin": [1, 2]}})", R"({})"));
  EXPECT_FALSE(matches(R"({"a": {"$nin": [1, 2]}})", R"({"a": [3, 2]})"));
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$in": 1}})", "{}"); }), 2);
}

TEST(QueryMatcher, Exists) {
  EXPECT_TRUE(matches(R"({"a": {"$exists": true}})", R"({"a": null})"));
  EXPECT_FALSE(matches(R"({"a": {"$exists": true}})", R"({"b": 1})"));
  EXPECT_TRUE(matches(R"({"a": {"$exists": false}})", R"({"b": 1})"));
  EXPECT_TRUE(matches(R"({"a.b": {"$exists": true}})", R"({"a": [{"c": 1}, {"b": 2}]})"));
  EXPECT_FALSE(matches(R"({"a.b": {"$exists": true}})", R"({"a": [{"c": 1}]})"));
  EXPECT_TRUE(matches(R"({"a": {"$exists": 0}})", R"({})"));
}

TEST(QueryMatcher, LogicalOperators) {
  EXPECT_TRUE(matches(R"({"$and": [{"a": 1}, {"b": 2}]})", R"({"a": 1, "b": 2})"));
  EXPECT_FALSE(matches(R"({"$and": [{"a": 1}, {"b": 2}]})", R"({"a": 1, "b": 3})"));
  EXPECT_TRUE(matches(R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"b": 2})"));
  EXPECT_FALSE(matches(R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"b": 3})"));
  EXPECT_TRUE(matches(R"({"$nor": [{"a": 1}, {"b": 2}]})", R"({"b": 3})"));
  EXPECT_FALSE(matches(R"({"$nor": [{"a": 1}, {"b": 2}]})", R"({"a": 1})"));
  EXPECT_TRUE(matches(R"({"a": {"$not": {"$gt": 5}}})", R"({"a": 3})"));
  EXPECT_TRUE(matches(R"({"a": {"$not": {"$gt": 5}}})", R"({})"));
  EXPECT_FALSE(matches(R"({"a": {"$not": {"$gt": 5}}})", R"({"a": 6})"));
  EXPECT_TRUE(
      matches(R"({"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}})",
              R"({"a": "yx"})"));
  EXPECT_EQ(error_code([] { matches(R"({"$or": []})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"$and": {"a": 1}})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$not": 5}})", "{}"); }), 2);
}

TEST(QueryMatcher, TypeByNameNumberAndNumberAlias) {
  EXPECT_TRUE(matches(R"({"a": {"$$type": "string"}})", R"({"a": "x"})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": 2}})", R"({"a": "x"})"));
  EXPECT_FALSE(matches(R"({"a": {"$$type": "int"}})", R"({"a": 1.5})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": "long"}})", R"({"a": {"$numberLong": "1"}})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": "number"}})", R"({"a": {"$numberDecimal": "1"}})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": "array"}})", R"({"a": []})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": "int"}})", R"({"a": ["x", 1]})"));  // an element's type
  EXPECT_TRUE(matches(R"({"a": {"$$type": ["bool", "null"]}})", R"({"a": null})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": "minKey"}})", R"({"a": {"$minKey": 1}})"));
  EXPECT_TRUE(matches(R"({"a": {"$$type": -1}})", R"({"a": {"$minKey": 1}})"));
  EXPECT_FALSE(matches(R"({"a": {"$$type": "null"}})", R"({})"));
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$$type": "strin"}})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$$type": 99}})", "{}"); }), 2);
}

TEST(QueryMatcher, Size) {
  EXPECT_TRUE(matches(R"({"a": {"$size": 2}})", R"({"a": [1, [2, 3]]})"));
  EXPECT_FALSE(matches(R"({"a": {"$size": 2}})", R"({"a": [[1, 2]]})"));
  EXPECT_TRUE(matches(R"({"a": {"$size": 0}})", R"({"a": []})"));
  EXPECT_FALSE(matches(R"({"a": {"$size": 1}})", R"({"a": 1})"));
  EXPECT_TRUE(matches(R"({"a.b": {"$size": 1}})", R"({"a": [{"b": [1]}]})"));
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$size": 1.5}})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$size": "1"}})", "{}"); }), 2);
}

TEST(QueryMatcher, All) {
  EXPECT_TRUE(matches(R"({"a": {"$all": [1, 3]}})", R"({"a": [3, 2, 1]})"));
  EXPECT_FALSE(matches(R"({"a": {"$all": [1, 4]}})", R"({"a": [3, 2, 1]})"));
  EXPECT_TRUE(matches(R"({"a": {"$all": [1]}})", R"({"a": 1})"));
  EXPECT_FALSE(matches(R"({"a": {"$all": []}})", R"({"a": [1]})"));
  EXPECT_TRUE(matches(R"({"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"b": 2}}]}})",
                      R"({"a": [{"b": 2}, {"b": 1}]})"));
}

TEST(QueryMatcher, ElemMatchOnDocuments) {
  const char* doc = R"({"a": [{"b": 1, "c": 2}, {"b": 2, "c": 1}]})";
  EXPECT_TRUE(matches(R"({"a": {"$elemMatch": {"b": 1, "c": 2}}})", doc));
  EXPECT_FALSE(matches(R"({"a": {"$elemMatch": {"b": 1, "c": 1}}})", doc));
  EXPECT_TRUE(matches(R"({"a.b": 1, "a.c": 1})", doc));  // without $elemMatch: any element each
  EXPECT_TRUE(matches(R"({"a": {"$elemMatch": {"b": {"$gte": 2}, "c": {"$lt": 2}}}})", doc));
  EXPECT_FALSE(
      matches(R"({"a": {"$elemMatch": {"b": 1}}})", R"({"a": {"b": 1}})"));  // needs an array
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$elemMatch": 1}})", "{}"); }), 2);
}

TEST(QueryMatcher, Regex) {
  EXPECT_TRUE(matches(R"({"a": {"$regularExpression": {"pattern": "^ab", "options": ""}}})",
                      R"({"a": "abc"})"));
  EXPECT_FALSE(matches(R"({"a": {"$regularExpression": {"pattern": "^ab", "options": ""}}})",
                       R"({"a": "ABc"})"));
  EXPECT_TRUE(matches(R"({"a": {"$$regex": "^ab", "$$options": "i"}})", R"({"a": "ABc"})"));
  EXPECT_TRUE(matches(R"({"a": {"$$regex": "b"}})", R"({"a": ["x", "abc"]})"));
  EXPECT_FALSE(matches(R"({"a": {"$$regex": "1"}})", R"({"a": 1})"));  // only strings
  EXPECT_TRUE(matches(R"({"a": {"$$regex": "^b", "$$options": "m"}})", "{\"a\": \"a\\nb\"}"));
  EXPECT_FALSE(matches(R"({"a": {"$$regex": "^b"}})", "{\"a\": \"a\\nb\"}"));
  EXPECT_TRUE(matches(R"({"a": {"$$regex": "a.b", "$$options": "s"}})", "{\"a\": \"a\\nb\"}"));
  EXPECT_FALSE(matches(R"({"a": {"$$regex": "a.b"}})", "{\"a\": \"a\\nb\"}"));
  EXPECT_TRUE(
      matches(R"({"a": {"$$regex": "a b # comment", "$$options": "x"}})", R"({"a": "ab"})"));
  // A stored regex equal to the pattern matches too.
  EXPECT_TRUE(matches(R"({"a": {"$$regex": "x"}})",
                      R"({"a": {"$regularExpression": {"pattern": "x", "options": ""}}})"));
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$$regex": "("}})", "{}"); }), 51091);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$$options": "i"}})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$$regex": "x", "$$options": "q"}})", "{}"); }), 2);
}

TEST(QueryMatcher, Mod) {
  EXPECT_TRUE(matches(R"({"a": {"$mod": [4, 1]}})", R"({"a": 9})"));
  EXPECT_FALSE(matches(R"({"a": {"$mod": [4, 1]}})", R"({"a": 10})"));
  EXPECT_TRUE(matches(R"({"a": {"$mod": [4, 1]}})", R"({"a": 9.9})"));  // truncated
  EXPECT_TRUE(matches(R"({"a": {"$mod": [4, -1]}})", R"({"a": -9})"));
  EXPECT_FALSE(matches(R"({"a": {"$mod": [4, 1]}})", R"({"a": "9"})"));
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$mod": [0, 1]}})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$mod": [4]}})", "{}"); }), 2);
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$mod": 4}})", "{}"); }), 2);
}

TEST(QueryMatcher, UnknownOperatorsAreBadValue) {
  std::string message;
  EXPECT_EQ(error_code([] { matches(R"({"a": {"$foo": 1}})", "{}"); }, &message), 2);
  EXPECT_EQ(message, "unknown operator: $foo");
  EXPECT_EQ(error_code([] { matches(R"({"$foo": 1})", "{}"); }, &message), 2);
  EXPECT_EQ(message, "unknown top level operator: $foo");
  EXPECT_TRUE(matches(R"({"$comment": "why", "a": 1})", R"({"a": 1})"));
}

TEST(QueryMatcher, ExprComparesFieldsWithAggregationExpressions) {
  EXPECT_TRUE(matches(R"({"$expr": {"$gt": ["$a", "$b"]}})", R"({"a": 5, "b": 3})"));
  EXPECT_FALSE(matches(R"({"$expr": {"$gt": ["$a", "$b"]}})", R"({"a": 1, "b": 3})"));
  // Not type-bracketed: a string is greater than any number in BSON order.
  EXPECT_TRUE(matches(R"({"$expr": {"$gt": ["$a", 100]}})", R"({"a": "x"})"));
  EXPECT_TRUE(
      matches(R"({"$expr": {"$and": [{"$eq": ["$a", 1]}, {"$not": ["$z"]}]}})", R"({"a": 1})"));
  EXPECT_TRUE(matches(R"({"$expr": {"$in": ["$a", [1, 2]]}})", R"({"a": 2})"));
  EXPECT_FALSE(matches(R"({"$expr": "$missing"})", R"({"a": 2})"));
  EXPECT_EQ(error_code([] { matches(R"({"$expr": {"$nope": 1}})", "{}"); }), 168);
}

TEST(QueryMatcher, IdEqualityIsFoundForPlainAndEqFilters) {
  auto id_of = [](const std::string& filter) -> std::string {
    Doc f = J(filter);
    auto id = Matcher(f.bson()).id_equality();
    return id ? canonical(*id) : "none";
  };
  EXPECT_EQ(id_of(R"({"_id": 5})"), canonical(R"({"_id": 5})"));
  EXPECT_EQ(id_of(R"({"_id": {"$eq": "x"}, "a": 1})"), canonical(R"({"_id": "x"})"));
  EXPECT_EQ(id_of(R"({"$and": [{"a": 1}, {"_id": {"k": 1}}]})"), canonical(R"({"_id": {"k": 1}})"));
  EXPECT_EQ(id_of(R"({"_id": {"$gt": 5}})"), "none");
  EXPECT_EQ(id_of(R"({"_id": {"$eq": 5, "$ne": 6}})"), "none");
  EXPECT_EQ(id_of(R"({"a": 5})"), "none");
}

TEST(QueryMatcher, MatcherIsMovable) {
  Doc f = J(R"({"a": 1})");
  Matcher m(f.bson());
  Matcher moved = std::move(m);
  Doc d = J(R"({"a": 1})");
  EXPECT_TRUE(moved.matches(d.bson()));
}

}  // namespace
}  // namespace sandbox::testing
