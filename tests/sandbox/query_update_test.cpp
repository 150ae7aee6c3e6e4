// apply_update: every operator, MongoDB's field order rules, and its error codes.
#include <string>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

UpdateOutcome run(const std::string& doc, const std::string& update, bool is_insert = false) {
  Doc d = J(doc), u = J(update);
  UpdateOutcome outcome = apply_update(d.bson(), u.bson(), is_insert);
  // Every change must be reproducible from its oplog entry alone, as a secondary would.
  if (outcome.changed) {
    EXPECT_EQ(canonical(apply_oplog_update(d.bson(), outcome.oplog_o.bson())),
              canonical(outcome.document))
        << "oplog " << canonical(outcome.oplog_o);
  }
  return outcome;
}

std::string updated(const std::string& doc, const std::string& update, bool is_insert = false) {
  return canonical(run(doc, update, is_insert).document);
}

int update_error(const std::string& doc, const std::string& update,
                 std::string* message = nullptr) {
  return error_code([&] { run(doc, update); }, message);
}

TEST(QueryUpdate, SetKeepsFieldPositionAndAppendsNewFields) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1, "b": 2})", R"({"$set": {"a": 5}})"),
            canonical(R"({"_id": 1, "a": 5, "b": 2})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1})", R"({"$set": {"c": 3}})"),
            canonical(R"({"_id": 1, "a": 1, "c": 3})"));
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$set": {"x.y.z": 1}})"),
            canonical(R"({"_id": 1, "x": {"y": {"z": 1}}})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": {"b": 1, "c": 2}})", R"({"$set": {"a.b": 9}})"),
            canonical(R"({"_id": 1, "a": {"b": 9, "c": 2}})"));
}

TEST(QueryUpdate, NewFieldsAppendInLexicographicThenNumericOrder) {
  // MongoDB 5.0+: operators process fields in lexicographic order, numeric names numerically.
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$set": {"b": 1, "a": 1}, "$inc": {"c": 1}})"),
            canonical(R"({"_id": 1, "a": 1, "b": 1, "c": 1})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": {}})", R"({"$set": {"a.10": 1, "a.2": 1}})"),
            canonical(R"({"_id": 1, "a": {"2": 1, "10": 1}})"));
}

TEST(QueryUpdate, SetThroughArrays) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2]})", R"({"$set": {"a.1": 7}})"),
            canonical(R"({"_id": 1, "a": [1, 7]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1]})", R"({"$set": {"a.3": 7}})"),
            canonical(R"({"_id": 1, "a": [1, null, null, 7]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [{"b": 1}]})", R"({"$set": {"a.0.b": 2}})"),
            canonical(R"({"_id": 1, "a": [{"b": 2}]})"));
  EXPECT_EQ(update_error(R"({"_id": 1, "a": [1]})", R"({"$set": {"a.b": 1}})"), 28);
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 5})", R"({"$set": {"a.b": 1}})"), 28);
}

TEST(QueryUpdate, Unset) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1, "b": 2})", R"({"$unset": {"a": ""}})"),
            canonical(R"({"_id": 1, "b": 2})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": {"b": 1, "c": 1}})", R"({"$unset": {"a.b": 1}})"),
            canonical(R"({"_id": 1, "a": {"c": 1}})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2]})", R"({"$unset": {"a.0": 1}})"),
            canonical(R"({"_id": 1, "a": [null, 2]})"));
  UpdateOutcome noop = run(R"({"_id": 1})", R"({"$unset": {"zz": 1, "a.b": 1}})");
  EXPECT_FALSE(noop.changed);
  EXPECT_EQ(canonical(noop.document), canonical(R"({"_id": 1})"));
}

TEST(QueryUpdate, IncAndMulFollowNumericTypes) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1})", R"({"$inc": {"a": 2}})"),
            canonical(R"({"_id": 1, "a": 3})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1})", R"({"$inc": {"a": 0.5}})"),
            canonical(R"({"_id": 1, "a": 1.5})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 2147483647})", R"({"$inc": {"a": 1}})"),
            canonical(R"({"_id": 1, "a": {"$numberLong": "2147483648"}})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": {"$numberLong": "5"}})", R"({"$inc": {"a": 1}})"),
            canonical(R"({"_id": 1, "a": {"$numberLong": "6"}})"));
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$inc": {"a": {"$numberLong": "4"}}})"),
            canonical(R"({"_id": 1, "a": {"$numberLong": "4"}})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 3})", R"({"$mul": {"a": 4}})"),
            canonical(R"({"_id": 1, "a": 12})"));
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$mul": {"a": 4.5}})"),
            canonical(R"({"_id": 1, "a": 0.0})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": {"$numberDecimal": "1.5"}})", R"({"$inc": {"a": 1}})"),
            canonical(R"({"_id": 1, "a": {"$numberDecimal": "2.5"}})"));
}

TEST(QueryUpdate, IncErrors) {
  std::string message;
  EXPECT_EQ(update_error(R"({"_id": 1, "a": "x"})", R"({"$inc": {"a": 1}})", &message), 14);
  EXPECT_EQ(message,
            "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of "
            "non-numeric type string");
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 1})", R"({"$inc": {"a": "1"}})"), 14);
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 1})", R"({"$mul": {"a": null}})"), 14);
}

TEST(QueryUpdate, Int64OverflowIsAnErrorLikeMongoDb) {
  std::string message;
  EXPECT_EQ(update_error(R"({"_id": 1, "a": {"$numberLong": "9223372036854775807"}})",
                         R"({"$inc": {"a": 1}})", &message),
            2);
  EXPECT_EQ(message,
            "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) "
            "for document {_id: 1}");
  EXPECT_EQ(update_error(R"({"_id": "k", "a": {"$numberLong": "4611686018427387904"}})",
                         R"({"$mul": {"a": 4}})", &message),
            2);
  EXPECT_EQ(message,
            "Failed to apply $mul operations to current value ((NumberLong)4611686018427387904) "
            "for document {_id: \"k\"}");
}

TEST(QueryUpdate, MessagesQuoteValuesAsMongoDbDoes) {
  std::string message;
  update_error(R"({"_id": 1, "a": 5})", R"({"$set": {"a.b": 1}})", &message);
  EXPECT_EQ(message, "Cannot create field 'b' in element {a: 5}");
  update_error(R"({"_id": 1, "a": [1.5, {"x": "s"}]})", R"({"$set": {"a.b": 1}})", &message);
  EXPECT_EQ(message, "Cannot create field 'b' in element {a: [1.5, {x: \"s\"}]}");
  update_error(R"({"_id": 1})", R"({"$inc": {"a": "x"}})", &message);
  EXPECT_EQ(message, "Cannot increment with non-numeric argument: {a: \"x\"}");
  update_error(R"({"_id": 1})", R"({"$rename": {"a": 1.0}})", &message);
  EXPECT_EQ(message, "The 'to' field for $rename must be a string: a: 1.0");
  update_error(R"({"_id": {"$oid": "5f0000000000000000000001"}})", R"({"_id": 2})", &message);
  EXPECT_EQ(message,
            "After applying the update, the (immutable) field '_id' was found to have been altered "
            "to _id: 2");
  update_error(R"({"_id": {"$oid": "5f0000000000000000000001"}, "a": "x"})",
               R"({"$inc": {"a": 1}})", &message);
  EXPECT_EQ(message,
            "Cannot apply $inc to a value of non-numeric type. {_id: "
            "ObjectId('5f0000000000000000000001')} has the field 'a' of non-numeric type string");
}

TEST(QueryUpdate, MinMax) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": 5})", R"({"$min": {"a": 3}})"),
            canonical(R"({"_id": 1, "a": 3})"));
  EXPECT_FALSE(run(R"({"_id": 1, "a": 5})", R"({"$min": {"a": 8}})").changed);
  EXPECT_EQ(updated(R"({"_id": 1, "a": 5})", R"({"$max": {"a": 8}})"),
            canonical(R"({"_id": 1, "a": 8})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 5})", R"({"$max": {"a": "s"}})"),
            canonical(R"({"_id": 1, "a": "s"})"));  // cross-type order
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$min": {"a": 1}})"), canonical(R"({"_id": 1, "a": 1})"));
}

TEST(QueryUpdate, Rename) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1, "b": 2})", R"({"$rename": {"a": "z"}})"),
            canonical(R"({"_id": 1, "b": 2, "z": 1})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1, "b": 2})", R"({"$rename": {"a": "b"}})"),
            canonical(R"({"_id": 1, "b": 1})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": {"b": 1}})", R"({"$rename": {"a.b": "c.d"}})"),
            canonical(R"({"_id": 1, "a": {}, "c": {"d": 1}})"));
  EXPECT_FALSE(run(R"({"_id": 1})", R"({"$rename": {"a": "b"}})").changed);
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 1})", R"({"$rename": {"a": 5}})"), 2);
  EXPECT_EQ(update_error(R"({"_id": 1, "a": {"b": 1}})", R"({"$rename": {"a": "a.c"}})"), 2);
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 1})", R"({"$rename": {"a": "a"}})"), 2);
  EXPECT_EQ(update_error(R"({"_id": 1, "a": [{"b": 1}]})", R"({"$rename": {"a.0.b": "c"}})"), 2);
}

TEST(QueryUpdate, PushWithModifiers) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1]})", R"({"$push": {"a": 2}})"),
            canonical(R"({"_id": 1, "a": [1, 2]})"));
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$push": {"a": [2]}})"),
            canonical(R"({"_id": 1, "a": [[2]]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1]})", R"({"$push": {"a": {"$each": [2, 3]}}})"),
            canonical(R"({"_id": 1, "a": [1, 2, 3]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 4]})",
                    R"({"$push": {"a": {"$each": [2, 3], "$position": 1}}})"),
            canonical(R"({"_id": 1, "a": [1, 2, 3, 4]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [5, 1]})",
                    R"({"$push": {"a": {"$each": [3], "$sort": -1, "$slice": 2}}})"),
            canonical(R"({"_id": 1, "a": [5, 3]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [{"k": 2}, {"k": 1}]})",
                    R"({"$push": {"a": {"$each": [], "$sort": {"k": 1}}}})"),
            canonical(R"({"_id": 1, "a": [{"k": 1}, {"k": 2}]})"));
  EXPECT_EQ(
      updated(R"({"_id": 1, "a": [1, 2, 3]})", R"({"$push": {"a": {"$each": [4], "$slice": -2}}})"),
      canonical(R"({"_id": 1, "a": [3, 4]})"));
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 1})", R"({"$push": {"a": 2}})"), 2);
}

TEST(QueryUpdate, AddToSet) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2]})", R"({"$addToSet": {"a": 3}})"),
            canonical(R"({"_id": 1, "a": [1, 2, 3]})"));
  EXPECT_FALSE(run(R"({"_id": 1, "a": [1, 2]})", R"({"$addToSet": {"a": 2.0}})").changed);
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1]})", R"({"$addToSet": {"a": {"$each": [1, 5, 5]}}})"),
            canonical(R"({"_id": 1, "a": [1, 5]})"));
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$addToSet": {"a": "x"}})"),
            canonical(R"({"_id": 1, "a": ["x"]})"));
}

TEST(QueryUpdate, PopPullPullAll) {
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2, 3]})", R"({"$pop": {"a": 1}})"),
            canonical(R"({"_id": 1, "a": [1, 2]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2, 3]})", R"({"$pop": {"a": -1}})"),
            canonical(R"({"_id": 1, "a": [2, 3]})"));
  EXPECT_EQ(update_error(R"({"_id": 1, "a": 1})", R"({"$pop": {"a": 1}})"), 14);
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2, 1, 3]})", R"({"$pull": {"a": 1}})"),
            canonical(R"({"_id": 1, "a": [2, 3]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 5, 7]})", R"({"$pull": {"a": {"$gte": 5}}})"),
            canonical(R"({"_id": 1, "a": [1]})"));
  EXPECT_EQ(
      updated(R"({"_id": 1, "a": [{"k": 1, "v": 1}, {"k": 2}]})", R"({"$pull": {"a": {"k": 1}}})"),
      canonical(R"({"_id": 1, "a": [{"k": 2}]})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": [1, 2, 3, 2]})", R"({"$pullAll": {"a": [2, 3]}})"),
            canonical(R"({"_id": 1, "a": [1]})"));
}

TEST(QueryUpdate, CurrentDateAndSetOnInsert) {
  Doc d = J(R"({"_id": 1})"),
      u = J(R"({"$currentDate": {"d": true, "t": {"$$type": "timestamp"}}})");
  UpdateOutcome out = apply_update(d.bson(), u.bson(), false);
  bson_iter_t it;
  ASSERT_TRUE(bson_iter_init_find(&it, out.document.bson(), "d"));
  EXPECT_TRUE(BSON_ITER_HOLDS_DATE_TIME(&it));
  EXPECT_GT(bson_iter_date_time(&it), 1600000000000);
  ASSERT_TRUE(bson_iter_init_find(&it, out.document.bson(), "t"));
  EXPECT_TRUE(BSON_ITER_HOLDS_TIMESTAMP(&it));

  EXPECT_FALSE(run(R"({"_id": 1})", R"({"$setOnInsert": {"a": 1}})").changed);
  EXPECT_EQ(updated(R"({"_id": 1})", R"({"$setOnInsert": {"a": 1}})", true),
            canonical(R"({"_id": 1, "a": 1})"));
}

TEST(QueryUpdate, IdIsImmutable) {
  std::string message;
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": {"_id": 2}})", &message), 66);
  EXPECT_EQ(message,
            "Performing an update on the path '_id' would modify the immutable field '_id'");
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$unset": {"_id": 1}})"), 66);
  EXPECT_EQ(update_error(R"({"_id": {"a": 1}})", R"({"$set": {"_id.a": 2}})"), 66);
  EXPECT_FALSE(run(R"({"_id": 1})", R"({"$set": {"_id": 1}})").changed);
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"_id": 2, "a": 1})"), 66);
}

TEST(QueryUpdate, MalformedUpdatesAreRejected) {
  std::string message;
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": 5})", &message), 9);
  EXPECT_EQ(message.rfind("Modifiers operate on fields but we found type int instead.", 0), 0u)
      << message;
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$foo": {"a": 1}})", &message), 9);
  EXPECT_EQ(message.rfind("Unknown modifier: $foo.", 0), 0u) << message;
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": {"a": 1}, "b": 1})"), 9);
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": {"": 1}})"), 56);
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": {"a..b": 1}})"), 56);
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": {"a": 1}, "$inc": {"a": 1}})", &message), 40);
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"$set": {"a.b": 1, "a": 1}})"), 40);
  EXPECT_FALSE(run(R"({"_id": 1})", R"({"$set": {}})").changed);  // allowed since 5.0
}

TEST(QueryUpdate, ReplacementKeepsIdFirst) {
  EXPECT_TRUE(is_replacement_update(J(R"({"a": 1})").bson()));
  EXPECT_TRUE(is_replacement_update(J("{}").bson()));
  EXPECT_FALSE(is_replacement_update(J(R"({"$set": {"a": 1}})").bson()));
  UpdateOutcome out = run(R"({"_id": 1, "a": 1, "b": 1})", R"({"c": 2})");
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(canonical(out.document), canonical(R"({"_id": 1, "c": 2})"));
  EXPECT_EQ(canonical(out.oplog_o), canonical(R"({"_id": 1, "c": 2})"));
  EXPECT_EQ(updated(R"({"_id": 1, "a": 1})", R"({"c": 2, "_id": 1})"),
            canonical(R"({"_id": 1, "c": 2})"));
  EXPECT_FALSE(run(R"({"_id": 1, "a": 1})", R"({"a": 1})").changed);
  EXPECT_EQ(update_error(R"({"_id": 1})", R"({"a": 1, "$set": {"b": 1}})"), 52);
}

TEST(QueryUpdate, OplogEntryIsAV2DiffOfTheChange) {
  UpdateOutcome out = run(R"({"_id": 1, "a": 1, "b": {"c": 1, "d": 2}, "e": 3})",
                          R"({"$set": {"a": 2, "b.c": 5, "z": 1}, "$unset": {"e": 1}})");
  EXPECT_EQ(
      canonical(out.oplog_o),
      canonical(
          R"({"$v": 2, "diff": {"d": {"e": false}, "u": {"a": 2}, "i": {"z": 1}, "sb": {"u": {"c": 5}}}})"));
  UpdateOutcome pushed = run(R"({"_id": 1, "l": [1, 2]})", R"({"$push": {"l": 3}})");
  EXPECT_EQ(canonical(pushed.oplog_o),
            canonical(R"({"$v": 2, "diff": {"sl": {"a": true, "l": 3, "u2": 3}}})"));
  UpdateOutcome popped = run(R"({"_id": 1, "l": [1, 2, 3]})", R"({"$pop": {"l": 1}})");
  EXPECT_EQ(canonical(popped.oplog_o),
            canonical(R"({"$v": 2, "diff": {"sl": {"a": true, "l": 2}}})"));
}

}  // namespace
}  // namespace sandbox::testing
