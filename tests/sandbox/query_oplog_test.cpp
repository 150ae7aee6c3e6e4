// apply_oplog_update (replacement, $v:2 diffs, legacy $set/$unset), the round-trip property
// apply_oplog_update(doc, apply_update(doc, u).oplog_o) == apply_update(doc, u).document,
// and upsert_seed.
#include <string>
#include <utility>
#include <vector>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

std::string applied(const std::string& doc, const std::string& oplog_o) {
  Doc d = J(doc), o = J(oplog_o);
  return canonical(apply_oplog_update(d.bson(), o.bson()));
}

TEST(QueryOplog, AppliesDocumentDiffSections) {
  const char* doc = R"({"_id": 1, "a": 1, "b": 2, "c": 3})";
  EXPECT_EQ(applied(doc, R"({"$v": 2, "diff": {"u": {"b": 20}}})"),
            canonical(R"({"_id": 1, "a": 1, "b": 20, "c": 3})"));
  EXPECT_EQ(applied(doc, R"({"$v": 2, "diff": {"d": {"a": false}}})"),
            canonical(R"({"_id": 1, "b": 2, "c": 3})"));
  EXPECT_EQ(applied(doc, R"({"$v": 2, "diff": {"i": {"z": 9}}})"),
            canonical(R"({"_id": 1, "a": 1, "b": 2, "c": 3, "z": 9})"));
  // An insert of an existing field moves it to the end (how MongoDB encodes reordering).
  EXPECT_EQ(applied(doc, R"({"$v": 2, "diff": {"i": {"a": 5}}})"),
            canonical(R"({"_id": 1, "b": 2, "c": 3, "a": 5})"));
}

TEST(QueryOplog, AppliesNestedAndArrayDiffs) {
  const char* doc = R"({"_id": 1, "o": {"p": {"q": 1, "r": 2}}, "l": [1, {"k": 1}, 3, 4]})";
  EXPECT_EQ(
      applied(doc, R"({"$v": 2, "diff": {"so": {"sp": {"d": {"r": false}, "u": {"q": 7}}}}})"),
      canonical(R"({"_id": 1, "o": {"p": {"q": 7}}, "l": [1, {"k": 1}, 3, 4]})"));
  EXPECT_EQ(
      applied(doc, R"({"$v": 2, "diff": {"sl": {"a": true, "l": 2, "s1": {"u": {"k": 2}}}}})"),
      canonical(R"({"_id": 1, "o": {"p": {"q": 1, "r": 2}}, "l": [1, {"k": 2}]})"));
  EXPECT_EQ(
      applied(doc, R"({"$v": 2, "diff": {"sl": {"a": true, "u0": "x", "u5": 6}}})"),
      canonical(
          R"({"_id": 1, "o": {"p": {"q": 1, "r": 2}}, "l": ["x", {"k": 1}, 3, 4, null, 6]})"));
}

TEST(QueryOplog, AppliesLegacyAndReplacementForms) {
  const char* doc = R"({"_id": 1, "a": 1, "b": 2})";
  EXPECT_EQ(applied(doc, R"({"$set": {"a": 5, "c.d": 1}, "$unset": {"b": true}})"),
            canonical(R"({"_id": 1, "a": 5, "c": {"d": 1}})"));
  EXPECT_EQ(applied(doc, R"({"$v": 1, "$set": {"a": 6}})"),
            canonical(R"({"_id": 1, "a": 6, "b": 2})"));
  EXPECT_EQ(applied(doc, R"({"_id": 1, "x": 1})"), canonical(R"({"_id": 1, "x": 1})"));
}

TEST(QueryOplog, ReapplyingToANewerDocumentYieldsNullsLikeMongoDb) {
  // A subdiff meeting another type, or an array shorter than the diff expects, gives null:
  // a later oplog entry rewrites the value (idempotent replay).
  EXPECT_EQ(applied(R"({"_id": 1, "a": 5})", R"({"$v": 2, "diff": {"sa": {"u": {"b": 1}}}})"),
            canonical(R"({"_id": 1, "a": null})"));
  EXPECT_EQ(
      applied(R"({"_id": 1, "a": {"b": 1}})", R"({"$v": 2, "diff": {"sa": {"a": true, "u0": 1}}})"),
      canonical(R"({"_id": 1, "a": null})"));
  EXPECT_EQ(applied(R"({"_id": 1, "a": [1]})",
                    R"({"$v": 2, "diff": {"sa": {"a": true, "l": 3, "s2": {"u": {"b": 1}}}}})"),
            canonical(R"({"_id": 1, "a": [1, null, null]})"));
  // A field updated in place is not appended again; an update of a missing field appends it.
  EXPECT_EQ(applied(R"({"_id": 1, "a": 1})",
                    R"({"$v": 2, "diff": {"u": {"b": 2, "a": 3}, "i": {"c": 4}}})"),
            canonical(R"({"_id": 1, "a": 3, "b": 2, "c": 4})"));
}

TEST(QueryOplog, RejectsMalformedDiffs) {
  const char* doc = R"({"_id": 1, "a": {"b": 1}})";
  EXPECT_EQ(error_code([&] { applied(doc, R"({"$v": 2})"); }), 9);
  EXPECT_EQ(error_code([&] { applied(doc, R"({"$v": 2, "diff": {}})"); }), 4770500);
  EXPECT_EQ(error_code([&] { applied(doc, R"({"$v": 2, "diff": {"q": {}}})"); }), 4770503);
  EXPECT_EQ(
      error_code([&] { applied(doc, R"({"$v": 2, "diff": {"i": {"x": 1}, "u": {"y": 1}}})"); }),
      4770503);
  EXPECT_EQ(
      error_code([&] { applied(doc, R"({"$v": 2, "diff": {"u": {"a": 1}, "d": {"x": false}}})"); }),
      4770503);
  EXPECT_EQ(
      error_code([&] { applied(doc, R"({"$v": 2, "diff": {"u": {"a": 1}, "i": {"a": 2}}})"); }),
      4728000);
  EXPECT_EQ(error_code([&] { applied(doc, R"({"$v": 2, "diff": {"u": 5}})"); }), 4770507);
  EXPECT_EQ(error_code([&] {
              applied(R"({"l": [1]})", R"({"$v": 2, "diff": {"sl": {"a": true, "x0": 1}}})");
            }),
            4770502);
  EXPECT_EQ(error_code([&] {
              applied(R"({"l": [1]})", R"({"$v": 2, "diff": {"sl": {"a": true, "l": 1.5}}})");
            }),
            4770507);
  EXPECT_EQ(error_code([&] {
              applied(R"({"l": [1]})", R"({"$v": 2, "diff": {"sl": {"a": true, "uq": 1}}})");
            }),
            4770512);
}

// (document, update) pairs covering every operator, nesting, arrays and type changes.
const std::vector<std::pair<std::string, std::string>> kRoundTrips = {
    {R"({"_id": 1, "a": 1})", R"({"$set": {"a": 2}})"},
    {R"({"_id": 1, "a": 1})", R"({"$set": {"a": {"$numberLong": "1"}}})"},  // same value, new type
    {R"({"_id": 1, "a": 0.0})", R"({"$set": {"a": -0.0}})"},
    {R"({"_id": 1, "a": {"b": {"c": [1, 2, {"d": 1}]}}})",
     R"({"$set": {"a.b.c.2.d": 5, "a.b.e": 1}})"},
    {R"({"_id": 1, "a": {"b": 1}})", R"({"$set": {"a": [1]}})"},
    {R"({"_id": 1, "a": [1, 2, 3]})", R"({"$set": {"a": {"0": 1}}})"},
    {R"({"_id": 1, "a": [1, 2, 3]})", R"({"$set": {"a.5": 1}})"},
    {R"({"_id": 1, "a": [[1, 2], [3]]})", R"({"$set": {"a.1.0": 9}})"},
    {R"({"_id": 1, "a": 1, "b": 2, "c": 3})", R"({"$unset": {"b": 1}, "$set": {"d": 4, "c": 0}})"},
    {R"({"_id": 1, "z": 1})", R"({"$set": {"y": 1, "x": {"w": 1}}, "$inc": {"v": 1}})"},
    {R"({"_id": 1, "n": 5})", R"({"$inc": {"n": -5, "m": 1.5}, "$mul": {"k": 2}})"},
    {R"({"_id": 1, "n": 5})", R"({"$min": {"n": 1}, "$max": {"o": 1}})"},
    {R"({"_id": 1, "a": 1, "b": {"c": 1}})", R"({"$rename": {"a": "q", "b.c": "b.d"}})"},
    {R"({"_id": 1, "a": 1, "b": 2})", R"({"$rename": {"b": "a"}})"},
    {R"({"_id": 1, "l": [1, 2]})", R"({"$push": {"l": {"$each": [0, 9], "$sort": 1}}})"},
    {R"({"_id": 1, "l": [1, 2, 3, 4]})", R"({"$push": {"l": {"$each": [], "$slice": 2}}})"},
    {R"({"_id": 1, "l": [1, 2, 3, 4]})", R"({"$push": {"l": {"$each": [7], "$position": 0}}})"},
    {R"({"_id": 1})", R"({"$push": {"l": 1}, "$addToSet": {"s": {"$each": [1, 1, 2]}}})"},
    {R"({"_id": 1, "l": [1, 2, 3]})", R"({"$pop": {"l": -1}})"},
    {R"({"_id": 1, "l": [1, 2, 3, 2]})", R"({"$pull": {"l": 2}})"},
    {R"({"_id": 1, "l": [{"a": 1}, {"a": 2}], "m": [5, 6]})",
     R"({"$pull": {"l": {"a": 1}}, "$pullAll": {"m": [6]}})"},
    {R"({"_id": 1, "l": [{"a": [1, 2]}, 3]})", R"({"$push": {"l.0.a": 3}})"},
    {R"({"_id": 1, "a": {"b": 1, "c": 2}})", R"({"$unset": {"a.b": 1, "a.c": 1}})"},
    {R"({"_id": 1, "a": {"b": 1}})", R"({"$set": {"a.c": {"d": [1, {"e": 1}]}}})"},
    {R"({"_id": 1, "a": "x"})", R"({"$currentDate": {"a": true}})"},
    {R"({"_id": 1, "a": 1})", R"({"b": 2, "c": [1]})"},
    {R"({"_id": 1, "a": 1})", R"({})"},
};

TEST(QueryOplog, EveryUpdateRoundTripsThroughItsOplogEntry) {
  for (const auto& [doc, update] : kRoundTrips) {
    Doc d = J(doc), u = J(update);
    UpdateOutcome outcome = apply_update(d.bson(), u.bson(), false);
    ASSERT_TRUE(outcome.changed) << doc << " " << update;
    Doc replayed = apply_oplog_update(d.bson(), outcome.oplog_o.bson());
    EXPECT_EQ(replayed, outcome.document)  // byte for byte
        << doc << " " << update << "\n oplog " << canonical(outcome.oplog_o) << "\n want "
        << canonical(outcome.document) << "\n got  " << canonical(replayed);
  }
}

TEST(QueryOplog, UpsertSeedTakesEqualityFields) {
  auto seed = [](const std::string& filter) { return canonical(upsert_seed(J(filter).bson())); };
  EXPECT_EQ(seed(R"({"a": 1, "b.c": 2, "$and": [{"d": 3}]})"),
            canonical(R"({"a": 1, "b": {"c": 2}, "d": 3})"));
  EXPECT_EQ(seed(R"({"x": {"$eq": 5}, "y": {"$gt": 1}, "_id": 7})"),
            canonical(R"({"_id": 7, "x": 5})"));
  EXPECT_EQ(
      seed(R"({"$or": [{"a": 1}], "r": {"$regularExpression": {"pattern": "x", "options": ""}}})"),
      canonical("{}"));
  EXPECT_EQ(error_code([&] { seed(R"({"a": 1, "$and": [{"a": 2}]})"); }), 54);
  EXPECT_EQ(error_code([&] { seed(R"({"a": 1, "a.b": 2})"); }), 54);
}

}  // namespace
}  // namespace sandbox::testing
