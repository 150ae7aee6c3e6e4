// $jsonSchema through the Matcher: each keyword's semantics as MongoDB documents them, and
// the schemas MongoDB refuses when parsing.
#include <string>

#include "query_test_helpers.h"

namespace sandbox::testing {
namespace {

// Whether `doc` satisfies the schema `schema` (JSON of the $jsonSchema operand).
bool valid(const std::string& schema, const std::string& doc) {
  return matches(R"({"$jsonSchema": )" + schema + "}", doc);
}

// The error code parsing the schema raises (0 when it parses).
int schema_error(const std::string& schema, std::string* message = nullptr) {
  return error_code([&] { Matcher(J(R"({"$jsonSchema": )" + schema + "}").bson()); }, message);
}

TEST(QueryJsonSchema, EmptySchemaAcceptsEverything) {
  EXPECT_TRUE(valid("{}", "{}"));
  EXPECT_TRUE(valid("{}", R"({"a": [1, {"b": null}]})"));
}

TEST(QueryJsonSchema, BsonTypeNamesAndNumberAlias) {
  std::string schema = R"({"properties": {"a": {"bsonType": "int"}}})";
  EXPECT_TRUE(valid(schema, R"({"a": {"$numberInt": "1"}})"));
  EXPECT_FALSE(valid(schema, R"({"a": {"$numberLong": "1"}})"));
  EXPECT_FALSE(valid(schema, R"({"a": 1.5})"));
  EXPECT_TRUE(valid(schema, R"({"b": "missing a is fine"})"));
  std::string numbers = R"({"properties": {"a": {"bsonType": "number"}}})";
  for (const char* n : {R"({"$numberInt": "1"})", R"({"$numberLong": "1"})", "1.5", R"({"$numberDecimal": "1"})"}) {
    EXPECT_TRUE(valid(numbers, std::string(R"({"a": )") + n + "}")) << n;
  }
  EXPECT_FALSE(valid(numbers, R"({"a": "1"})"));
  std::string several = R"({"properties": {"a": {"bsonType": ["string", "null", "objectId"]}}})";
  EXPECT_TRUE(valid(several, R"({"a": null})"));
  EXPECT_TRUE(valid(several, R"({"a": {"$oid": "5f0000000000000000000000"}})"));
  EXPECT_FALSE(valid(several, R"({"a": true})"));
  EXPECT_TRUE(valid(R"({"properties": {"d": {"bsonType": "date"}}})", R"({"d": {"$date": 0}})"));
  EXPECT_TRUE(valid(R"({"properties": {"t": {"bsonType": "timestamp"}}})", R"({"t": {"$timestamp": {"t": 1, "i": 2}}})"));
  EXPECT_TRUE(valid(R"({"properties": {"b": {"bsonType": "binData"}}})",
                    R"({"b": {"$binary": {"base64": "AA==", "subType": "00"}}})"));
  EXPECT_TRUE(valid(R"({"properties": {"r": {"bsonType": "regex"}}})",
                    R"({"r": {"$regularExpression": {"pattern": "x", "options": ""}}})"));
  EXPECT_TRUE(valid(R"({"properties": {"b": {"bsonType": "bool"}}})", R"({"b": false})"));
  EXPECT_FALSE(valid(R"({"bsonType": "array"})", "{}"));  // the top level is an object
  EXPECT_TRUE(valid(R"({"bsonType": "object"})", "{}"));
}

TEST(QueryJsonSchema, JsonTypeNames) {
  std::string schema = R"({"properties": {"a": {"type": ["boolean", "array"]}}})";
  EXPECT_TRUE(valid(schema, R"({"a": true})"));
  EXPECT_TRUE(valid(schema, R"({"a": []})"));
  EXPECT_FALSE(valid(schema, R"({"a": {}})"));
  EXPECT_TRUE(valid(R"({"properties": {"a": {"type": "number"}}})", R"({"a": {"$numberLong": "7"}})"));
  EXPECT_TRUE(valid(R"({"properties": {"a": {"type": "object"}}})", R"({"a": {"b": 1}})"));
  EXPECT_FALSE(valid(R"({"properties": {"a": {"type": "string"}}})", R"({"a": 1})"));
}

TEST(QueryJsonSchema, RequiredAndPropertiesDoNotTraverseArrays) {
  std::string schema = R"({"required": ["a", "b"], "properties": {"a": {"minimum": 5}}})";
  EXPECT_TRUE(valid(schema, R"({"a": 5, "b": null})"));
  EXPECT_FALSE(valid(schema, R"({"a": 5})"));
  EXPECT_FALSE(valid(schema, R"({"a": 4, "b": 1})"));
  EXPECT_TRUE(valid(schema, R"({"a": [1, 2], "b": 1})"));   // minimum ignores arrays
  EXPECT_TRUE(valid(schema, R"({"a": "text", "b": 1})"));  // and strings
  std::string nested = R"({"properties": {"a": {"required": ["x"], "properties": {"x": {"bsonType": "string"}}}}})";
  EXPECT_TRUE(valid(nested, R"({"a": {"x": "s"}})"));
  EXPECT_FALSE(valid(nested, R"({"a": {"x": 1}})"));
  EXPECT_FALSE(valid(nested, R"({"a": {"y": 1}})"));
  EXPECT_TRUE(valid(nested, R"({"a": [{"y": 1}]})"));  // required ignores non-objects
}

TEST(QueryJsonSchema, AdditionalAndPatternProperties) {
  std::string closed = R"({"properties": {"_id": {}, "a": {}}, "additionalProperties": false})";
  EXPECT_TRUE(valid(closed, R"({"_id": 1, "a": 2})"));
  EXPECT_FALSE(valid(closed, R"({"_id": 1, "b": 2})"));
  std::string patterned = R"({"patternProperties": {"^s_": {"bsonType": "string"}},
                              "additionalProperties": {"bsonType": "int"}})";
  EXPECT_TRUE(valid(patterned, R"({"s_name": "x", "n": {"$numberInt": "1"}})"));
  EXPECT_FALSE(valid(patterned, R"({"s_name": 1})"));
  EXPECT_FALSE(valid(patterned, R"({"n": "x"})"));
  // A property named by `properties` and matching a pattern must satisfy both.
  std::string both = R"({"properties": {"s_a": {"minLength": 2}}, "patternProperties": {"^s_": {"maxLength": 3}}})";
  EXPECT_TRUE(valid(both, R"({"s_a": "abc"})"));
  EXPECT_FALSE(valid(both, R"({"s_a": "a"})"));
  EXPECT_FALSE(valid(both, R"({"s_a": "abcd"})"));
}

TEST(QueryJsonSchema, NumericBounds) {
  std::string schema = R"({"properties": {"n": {"minimum": 1, "maximum": 10, "exclusiveMaximum": true}}})";
  EXPECT_TRUE(valid(schema, R"({"n": 1})"));
  EXPECT_TRUE(valid(schema, R"({"n": 9.99})"));
  EXPECT_FALSE(valid(schema, R"({"n": 10})"));
  EXPECT_FALSE(valid(schema, R"({"n": 0.5})"));
  EXPECT_FALSE(valid(schema, R"({"n": {"$numberDouble": "NaN"}})"));  // NaN is below every number
  std::string exclusive = R"({"properties": {"n": {"minimum": 1, "exclusiveMinimum": true}}})";
  EXPECT_FALSE(valid(exclusive, R"({"n": {"$numberLong": "1"}})"));
  EXPECT_TRUE(valid(exclusive, R"({"n": {"$numberDecimal": "1.5"}})"));
  std::string multiple = R"({"properties": {"n": {"multipleOf": 2.5}}})";
  EXPECT_TRUE(valid(multiple, R"({"n": 7.5})"));
  EXPECT_FALSE(valid(multiple, R"({"n": 7})"));
}

TEST(QueryJsonSchema, StringLengthInCodePointsAndPattern) {
  std::string schema = R"({"properties": {"s": {"minLength": 2, "maxLength": 3, "pattern": "^[a-zé]+$"}}})";
  EXPECT_TRUE(valid(schema, R"({"s": "ab"})"));
  EXPECT_TRUE(valid(schema, R"({"s": "ééé"})"));  // six bytes, three characters
  EXPECT_FALSE(valid(schema, R"({"s": "a"})"));
  EXPECT_FALSE(valid(schema, R"({"s": "abcd"})"));
  EXPECT_FALSE(valid(schema, R"({"s": "AB"})"));
  EXPECT_TRUE(valid(schema, R"({"s": 12345})"));  // string keywords ignore numbers
}

TEST(QueryJsonSchema, EnumComparesNumbersByValueAndDocumentsUnordered) {
  std::string schema = R"({"properties": {"e": {"enum": [1, "x", {"a": 1, "b": 2}, [1, 2], null]}}})";
  EXPECT_TRUE(valid(schema, R"({"e": {"$numberLong": "1"}})"));
  EXPECT_TRUE(valid(schema, R"({"e": "x"})"));
  EXPECT_TRUE(valid(schema, R"({"e": {"b": 2, "a": 1}})"));
  EXPECT_TRUE(valid(schema, R"({"e": [1, 2]})"));
  EXPECT_TRUE(valid(schema, R"({"e": null})"));
  EXPECT_FALSE(valid(schema, R"({"e": [2, 1]})"));
  EXPECT_FALSE(valid(schema, R"({"e": "y"})"));
  EXPECT_FALSE(valid(schema, R"({"e": {"a": 1}})"));
  EXPECT_TRUE(valid(R"({"enum": [{"_id": 1}]})", R"({"_id": 1})"));  // the whole document
  EXPECT_FALSE(valid(R"({"enum": [{"_id": 1}]})", R"({"_id": 2})"));
}

TEST(QueryJsonSchema, ItemsAdditionalItemsCountsAndUniqueness) {
  std::string each = R"({"properties": {"a": {"items": {"bsonType": "int"}, "minItems": 1, "maxItems": 2}}})";
  EXPECT_TRUE(valid(each, R"({"a": [{"$numberInt": "1"}]})"));
  EXPECT_FALSE(valid(each, R"({"a": []})"));
  EXPECT_FALSE(valid(each, R"({"a": [1.5]})"));
  EXPECT_FALSE(valid(each, R"({"a": [{"$numberInt": "1"}, {"$numberInt": "2"}, {"$numberInt": "3"}]})"));
  std::string tuple = R"({"properties": {"a": {"items": [{"bsonType": "string"}, {"bsonType": "bool"}],
                                               "additionalItems": false}}})";
  EXPECT_TRUE(valid(tuple, R"({"a": ["x", true]})"));
  EXPECT_TRUE(valid(tuple, R"({"a": ["x"]})"));
  EXPECT_FALSE(valid(tuple, R"({"a": [true, "x"]})"));
  EXPECT_FALSE(valid(tuple, R"({"a": ["x", true, 3]})"));
  std::string extra_schema = R"({"properties": {"a": {"items": [{}], "additionalItems": {"bsonType": "string"}}}})";
  EXPECT_TRUE(valid(extra_schema, R"({"a": [1, "y", "z"]})"));
  EXPECT_FALSE(valid(extra_schema, R"({"a": [1, 2]})"));
  // additionalItems means nothing when items is a single schema.
  EXPECT_TRUE(valid(R"({"properties": {"a": {"items": {}, "additionalItems": false}}})", R"({"a": [1, 2]})"));
  std::string unique = R"({"properties": {"a": {"uniqueItems": true}}})";
  EXPECT_TRUE(valid(unique, R"({"a": [1, "1", {"x": 1}]})"));
  EXPECT_FALSE(valid(unique, R"({"a": [1, 1.0]})"));
  EXPECT_FALSE(valid(unique, R"({"a": [{"x": 1, "y": 2}, {"y": 2, "x": 1}]})"));
  EXPECT_TRUE(valid(R"({"properties": {"a": {"uniqueItems": false}}})", R"({"a": [1, 1]})"));
}

TEST(QueryJsonSchema, PropertyCountsAndDependencies) {
  EXPECT_TRUE(valid(R"({"minProperties": 2, "maxProperties": 3})", R"({"a": 1, "b": 2})"));
  EXPECT_FALSE(valid(R"({"minProperties": 2})", R"({"a": 1})"));
  EXPECT_FALSE(valid(R"({"maxProperties": 1})", R"({"a": 1, "b": 2})"));
  std::string deps = R"({"dependencies": {"card": ["billing"], "vip": {"required": ["level"]}}})";
  EXPECT_TRUE(valid(deps, R"({"other": 1})"));
  EXPECT_TRUE(valid(deps, R"({"card": 1, "billing": 2})"));
  EXPECT_FALSE(valid(deps, R"({"card": 1})"));
  EXPECT_FALSE(valid(deps, R"({"vip": true})"));
  EXPECT_TRUE(valid(deps, R"({"vip": true, "level": 3})"));
}

TEST(QueryJsonSchema, LogicalKeywords) {
  std::string any = R"({"properties": {"a": {"anyOf": [{"bsonType": "string"}, {"minimum": 10}]}}})";
  EXPECT_TRUE(valid(any, R"({"a": "s"})"));
  EXPECT_TRUE(valid(any, R"({"a": 11})"));
  EXPECT_FALSE(valid(any, R"({"a": 1})"));
  std::string one = R"({"properties": {"a": {"oneOf": [{"minimum": 5}, {"maximum": 10}]}}})";
  EXPECT_TRUE(valid(one, R"({"a": 11})"));
  EXPECT_TRUE(valid(one, R"({"a": 1})"));
  EXPECT_FALSE(valid(one, R"({"a": 7})"));  // both match
  std::string all = R"({"allOf": [{"required": ["a"]}, {"required": ["b"]}]})";
  EXPECT_TRUE(valid(all, R"({"a": 1, "b": 1})"));
  EXPECT_FALSE(valid(all, R"({"a": 1})"));
  std::string negated = R"({"not": {"required": ["secret"]}, "title": "t", "description": "d"})";
  EXPECT_TRUE(valid(negated, R"({"a": 1})"));
  EXPECT_FALSE(valid(negated, R"({"secret": 1})"));
}

TEST(QueryJsonSchema, CombinesWithOtherFilterClauses) {
  std::string filter = R"({"$jsonSchema": {"required": ["a"]}, "b": {"$gt": 1}})";
  EXPECT_TRUE(matches(filter, R"({"a": 0, "b": 2})"));
  EXPECT_FALSE(matches(filter, R"({"a": 0, "b": 1})"));
  EXPECT_FALSE(matches(filter, R"({"b": 2})"));
  EXPECT_TRUE(matches(R"({"$or": [{"$jsonSchema": {"required": ["a"]}}, {"b": 1}]})", R"({"b": 1})"));
  EXPECT_TRUE(matches(R"({"$nor": [{"$jsonSchema": {"required": ["a"]}}]})", R"({"b": 1})"));
}

TEST(QueryJsonSchema, RefusedSchemas) {
  std::string message;
  EXPECT_EQ(schema_error(R"({"$$ref": "#/definitions/x"})", &message), 9);
  EXPECT_EQ(message, "$jsonSchema keyword '$ref' is not currently supported");
  EXPECT_EQ(schema_error(R"({"format": "email"})"), 9);
  EXPECT_EQ(schema_error(R"({"bogus": 1})", &message), 9);
  EXPECT_EQ(message, "Unknown $jsonSchema keyword: bogus");
  EXPECT_EQ(schema_error(R"({"properties": {"a": {"nope": 1}}})"), 9);  // nested keywords too
  EXPECT_EQ(schema_error(R"({"type": "object", "bsonType": "object"})"), 9);
  EXPECT_EQ(schema_error(R"({"type": "integer"})"), 2);
  EXPECT_EQ(schema_error(R"({"bsonType": "text"})"), 2);
  EXPECT_EQ(schema_error(R"({"required": []})"), 9);
  EXPECT_EQ(schema_error(R"({"required": ["a", "a"]})"), 9);
  EXPECT_EQ(schema_error(R"({"required": "a"})"), 14);
  EXPECT_EQ(schema_error(R"({"minLength": -1})"), 9);
  EXPECT_EQ(schema_error(R"({"minimum": "1"})"), 14);
  EXPECT_EQ(schema_error(R"({"exclusiveMinimum": true})"), 9);  // without minimum
  EXPECT_EQ(schema_error(R"({"multipleOf": 0})"), 9);
  EXPECT_EQ(schema_error(R"({"enum": []})"), 9);
  EXPECT_EQ(schema_error(R"({"anyOf": [1]})"), 14);
  EXPECT_EQ(schema_error(R"({"properties": {"a": 1}})"), 14);
  EXPECT_EQ(schema_error(R"({"additionalProperties": 1})"), 14);
  EXPECT_EQ(schema_error(R"({"description": 1})"), 14);
  EXPECT_EQ(schema_error("1"), 14);
  EXPECT_EQ(schema_error(R"({"pattern": "("})"), 51091);
}

}  // namespace
}  // namespace sandbox::testing
