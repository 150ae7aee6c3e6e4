// $jsonSchema: MongoDB's subset of JSON Schema draft 4 (plus bsonType), compiled into a tree
// of checks. Internal to sandbox/query: the matcher parses the {$jsonSchema: ...} operator
// with parse_json_schema (json_schema.cpp); json_schema_keywords.cpp holds the keywords'
// checks.
//
// Unlike query operators, schema keywords never traverse arrays implicitly, and each keyword
// only constrains values of its own kind: `minimum` ignores strings, `required` ignores
// anything but objects; `bsonType`/`type` are what restrict kinds.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "query/match_tree.h"
#include "query/regex.h"
#include "query/value.h"

namespace sandbox {

// Compiles a $jsonSchema operand (an object). Throws CommandError for unknown, unsupported
// ($ref, format, ...) and malformed keywords, as MongoDB refuses them when parsing.
std::unique_ptr<MatchExpr> parse_json_schema(const bson_iter_t* schema);

namespace json_schema {

// What a (sub)schema is checked against: one value of the document, or the whole document
// at the top, which has no iterator of its own.
struct Subject {
  bson_type_t type;
  const bson_iter_t* it;  // the value; nullptr for the top-level document
  const std::uint8_t* data = nullptr;  // a document's or array's bytes
  std::uint32_t len = 0;
};
Subject subject_of(const bson_iter_t* it);
Subject subject_of_document(const bson_t* doc);

using Check = std::function<bool(const Subject&)>;

// One compiled schema object: the conjunction of its keywords' checks.
class Schema {
 public:
  void add(Check check) { checks_.push_back(std::move(check)); }
  bool matches(const Subject& subject) const;
  bool matches(const bson_iter_t* value) const;

 private:
  std::vector<Check> checks_;
};
using SchemaPtr = std::shared_ptr<const Schema>;

// A set of BSON types, "number" standing for every numeric type.
struct TypeSet {
  std::vector<bson_type_t> types;
  bool any_number = false;
};

// `additionalProperties` / `additionalItems`: a boolean or a schema.
struct Additional {
  bool allowed = true;
  SchemaPtr schema;  // set when given as a schema
};

struct PatternSchema {
  std::shared_ptr<const Regex> regex;
  SchemaPtr schema;
};

// The keywords' checks; each ignores values that are not of its kind.
Check type_check(TypeSet types);
Check enum_check(std::vector<Value> values);
Check number_check(Value limit, bool is_minimum, bool exclusive);  // minimum/maximum
Check multiple_of_check(long double divisor);
Check length_check(std::int64_t limit, bool is_minimum);  // minLength/maxLength, code points
Check pattern_check(std::shared_ptr<const Regex> regex);
Check required_check(std::vector<std::string> names);
Check property_count_check(std::int64_t limit, bool is_minimum);  // minProperties/maxProperties
Check properties_check(std::map<std::string, SchemaPtr> properties,
                       std::vector<PatternSchema> patterns, Additional additional);
Check dependency_check(std::string property, std::vector<std::string> names);  // array form
Check dependency_check(std::string property, SchemaPtr schema);                // schema form
Check items_check(SchemaPtr each);  // `items` as one schema
Check items_check(std::vector<SchemaPtr> positional, Additional additional);
Check item_count_check(std::int64_t limit, bool is_minimum);  // minItems/maxItems
Check unique_items_check();
Check all_of_check(std::vector<SchemaPtr> schemas);
Check any_of_check(std::vector<SchemaPtr> schemas);
Check one_of_check(std::vector<SchemaPtr> schemas);
Check not_check(SchemaPtr schema);

}  // namespace json_schema
}  // namespace sandbox
