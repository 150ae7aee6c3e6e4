// Parsing $jsonSchema into json_schema::Schema trees: keyword names, operand types and the
// keywords that only make sense together (see json_schema.h). Error codes are MongoDB's:
// 9 FailedToParse for unknown, unsupported, duplicate or conflicting keywords and bad
// values, 14 TypeMismatch for operands of the wrong BSON type.
#include "query/json_schema.h"

#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include "query/query.h"

namespace sandbox {
namespace {

using namespace json_schema;

[[noreturn]] void fail(const std::string& message) { throw_failed_to_parse(message); }
[[noreturn]] void type_mismatch(const std::string& message) { throw CommandError(14, "TypeMismatch", message); }

std::string keyword_name(std::string_view keyword) { return "$jsonSchema keyword '" + std::string(keyword) + "'"; }

// MongoDB 7.0's keywords; `encrypt`/`encryptMetadata` (queryable encryption) are refused as
// unsupported here.
const std::set<std::string_view> kSupported = {
    "additionalItems", "additionalProperties", "allOf", "anyOf", "bsonType", "dependencies",
    "description", "enum", "exclusiveMaximum", "exclusiveMinimum", "items", "maxItems",
    "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties",
    "minimum", "multipleOf", "not", "oneOf", "pattern", "patternProperties", "properties",
    "required", "title", "type", "uniqueItems"};
const std::set<std::string_view> kUnsupported = {"$ref", "$schema", "default", "definitions", "format",
                                                 "id", "encrypt", "encryptMetadata"};

SchemaPtr parse_schema(const bson_t* schema);

std::optional<bson_iter_t> keyword(const bson_t* schema, const char* name) {
  bson_iter_t it;
  if (!find_field(schema, name, &it)) return std::nullopt;
  return it;
}

void check_keyword_names(const bson_t* schema) {
  std::set<std::string> seen;
  bson_iter_t it;
  bson_iter_init(&it, schema);
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    if (kUnsupported.contains(key)) fail(keyword_name(key) + " is not currently supported");
    if (!kSupported.contains(key)) fail("Unknown $jsonSchema keyword: " + key);
    if (!seen.insert(key).second) fail("Duplicate $jsonSchema keyword: " + key);
  }
  if (seen.contains("type") && seen.contains("bsonType")) {
    fail("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
  }
}

SchemaPtr parse_subschema(std::string_view kw, const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_DOCUMENT(it)) type_mismatch(keyword_name(kw) + " must be an object");
  bson_t sub;
  init_static_from_iter(it, &sub);
  return parse_schema(&sub);
}

// Calls fn(element) for each element of an array operand that must not be empty.
template <typename Fn>
void each_element(std::string_view kw, const bson_iter_t* it, Fn fn) {
  if (!BSON_ITER_HOLDS_ARRAY(it)) type_mismatch(keyword_name(kw) + " must be an array");
  bson_iter_t element;
  bson_iter_recurse(it, &element);
  bool any = false;
  while (bson_iter_next(&element)) {
    any = true;
    fn(&element);
  }
  if (!any) fail(keyword_name(kw) + " cannot be an empty array");
}

std::vector<SchemaPtr> parse_schema_array(std::string_view kw, const bson_iter_t* it) {
  std::vector<SchemaPtr> schemas;
  each_element(kw, it, [&](const bson_iter_t* element) {
    if (!BSON_ITER_HOLDS_DOCUMENT(element)) type_mismatch(keyword_name(kw) + " must be an array of objects");
    schemas.push_back(parse_subschema(kw, element));
  });
  return schemas;
}

std::vector<std::string> parse_names(std::string_view kw, const bson_iter_t* it) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  each_element(kw, it, [&](const bson_iter_t* element) {
    if (!BSON_ITER_HOLDS_UTF8(element)) type_mismatch(keyword_name(kw) + " must be an array of strings");
    std::string name = bson_iter_utf8(element, nullptr);
    if (!seen.insert(name).second) fail(keyword_name(kw) + " array cannot contain duplicate values");
    names.push_back(std::move(name));
  });
  return names;
}

std::int64_t parse_count(std::string_view kw, const bson_iter_t* it) {
  if (!is_number(bson_iter_type(it))) type_mismatch(keyword_name(kw) + " must be a number");
  auto n = integral_value(it);
  if (!n || *n < 0) fail(keyword_name(kw) + " must be a non-negative integer");
  return *n;
}

bool parse_flag(std::string_view kw, const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_BOOL(it)) type_mismatch(keyword_name(kw) + " must be a boolean");
  return bson_iter_bool(it);
}

std::string parse_text(std::string_view kw, const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_UTF8(it)) type_mismatch(keyword_name(kw) + " must be a string");
  return bson_iter_utf8(it, nullptr);
}

void add_type(TypeSet& set, bool json_type, const std::string& name) {
  if (name == "number") {
    set.any_number = true;
  } else if (!json_type) {
    auto type = type_from_name(name);
    if (!type) throw_bad_value("Unknown type name alias: " + name);
    set.types.push_back(*type);
  } else if (name == "integer") {
    throw_bad_value("$jsonSchema type 'integer' is not currently supported.");
  } else if (name == "boolean") {
    set.types.push_back(BSON_TYPE_BOOL);
  } else if (name == "object" || name == "array" || name == "string" || name == "null") {
    set.types.push_back(*type_from_name(name));
  } else {
    throw_bad_value("Unknown $jsonSchema type: " + name);
  }
}

// `type` takes JSON's type names, `bsonType` BSON's aliases; both a name or an array of them.
TypeSet parse_types(std::string_view kw, const bson_iter_t* it) {
  TypeSet set;
  bool json_type = kw == "type";
  if (BSON_ITER_HOLDS_UTF8(it)) {
    add_type(set, json_type, bson_iter_utf8(it, nullptr));
    return set;
  }
  std::set<std::string> seen;
  each_element(kw, it, [&](const bson_iter_t* element) {
    std::string name = parse_text(kw, element);
    if (!seen.insert(name).second) fail(keyword_name(kw) + " has duplicate value: " + name);
    add_type(set, json_type, name);
  });
  return set;
}

Check parse_enum(const bson_iter_t* it) {
  std::vector<Value> values;
  each_element("enum", it, [&](const bson_iter_t* element) {
    for (const Value& earlier : values) {
      if (earlier.same_bytes(Value::of(element))) fail("$jsonSchema keyword 'enum' array cannot contain duplicate values");
    }
    values.push_back(Value::of(element));
  });
  return enum_check(std::move(values));
}

// minimum/maximum with their draft-4 boolean exclusiveMinimum/exclusiveMaximum.
Check parse_bound(const bson_t* schema, std::string_view kw, const bson_iter_t* it) {
  if (!is_number(bson_iter_type(it))) type_mismatch(keyword_name(kw) + " must be a number");
  bool is_minimum = kw == "minimum";
  auto exclusive = keyword(schema, is_minimum ? "exclusiveMinimum" : "exclusiveMaximum");
  return number_check(Value::of(it), is_minimum, exclusive && parse_flag(bson_iter_key(&*exclusive), &*exclusive));
}

void check_exclusive(const bson_t* schema, std::string_view kw, const bson_iter_t* it) {
  parse_flag(kw, it);
  std::string bound = kw == "exclusiveMinimum" ? "minimum" : "maximum";
  if (!keyword(schema, bound.c_str())) fail(keyword_name(bound) + " must be a present if " + std::string(kw) + " is present");
}

Check parse_multiple_of(const bson_iter_t* it) {
  if (!is_number(bson_iter_type(it))) type_mismatch("$jsonSchema keyword 'multipleOf' must be a number");
  long double divisor = number_value(it);
  if (!(divisor > 0) || std::isinf(divisor)) fail("$jsonSchema keyword 'multipleOf' must have a positive value");
  return multiple_of_check(divisor);
}

Check parse_dependency(const bson_iter_t* dependency) {
  std::string property = bson_iter_key(dependency);
  if (BSON_ITER_HOLDS_DOCUMENT(dependency)) return dependency_check(property, parse_subschema("dependencies", dependency));
  if (!BSON_ITER_HOLDS_ARRAY(dependency)) type_mismatch("property '" + property + "' in $jsonSchema keyword 'dependencies' must be either an object or an array");
  return dependency_check(property, parse_names("dependencies", dependency));
}

// One check per property named by `dependencies`.
void add_dependencies(Schema& schema, const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_DOCUMENT(it)) type_mismatch("$jsonSchema keyword 'dependencies' must be an object");
  bson_iter_t dependency;
  bson_iter_recurse(it, &dependency);
  while (bson_iter_next(&dependency)) schema.add(parse_dependency(&dependency));
}

Additional parse_additional(std::string_view kw, const bson_iter_t* it) {
  if (BSON_ITER_HOLDS_BOOL(it)) return Additional{bson_iter_bool(it), nullptr};
  if (!BSON_ITER_HOLDS_DOCUMENT(it)) type_mismatch(keyword_name(kw) + " must be either an object or a boolean");
  return Additional{true, parse_subschema(kw, it)};
}

// Schemas keyed by the names of an object operand (properties, patternProperties).
template <typename Fn>
void each_property_schema(std::string_view kw, const bson_iter_t* it, Fn fn) {
  if (!BSON_ITER_HOLDS_DOCUMENT(it)) type_mismatch(keyword_name(kw) + " must be an object");
  bson_iter_t property;
  bson_iter_recurse(it, &property);
  while (bson_iter_next(&property)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&property)) {
      type_mismatch("Nested schema for $jsonSchema property '" + std::string(bson_iter_key(&property)) + "' must be an object");
    }
    fn(bson_iter_key(&property), parse_subschema(kw, &property));
  }
}

std::optional<Check> parse_object_properties(const bson_t* schema) {
  auto properties = keyword(schema, "properties");
  auto patterns = keyword(schema, "patternProperties");
  auto additional = keyword(schema, "additionalProperties");
  if (!properties && !patterns && !additional) return std::nullopt;
  std::map<std::string, SchemaPtr> named;
  if (properties) each_property_schema("properties", &*properties, [&](std::string name, SchemaPtr sub) { named.emplace(std::move(name), std::move(sub)); });
  std::vector<PatternSchema> matched;
  if (patterns) {
    each_property_schema("patternProperties", &*patterns, [&](const std::string& regex, SchemaPtr sub) {
      matched.push_back({std::make_shared<const Regex>(regex, ""), std::move(sub)});
    });
  }
  Additional rest = additional ? parse_additional("additionalProperties", &*additional) : Additional{};
  return properties_check(std::move(named), std::move(matched), std::move(rest));
}

// `items` as one schema for every element, or as an array of positional schemas followed by
// `additionalItems` (which only means something in that second form).
std::optional<Check> parse_items(const bson_t* schema) {
  auto items = keyword(schema, "items");
  auto additional = keyword(schema, "additionalItems");
  Additional rest = additional ? parse_additional("additionalItems", &*additional) : Additional{};
  if (!items) return std::nullopt;
  if (BSON_ITER_HOLDS_DOCUMENT(&*items)) return items_check(parse_subschema("items", &*items));
  if (!BSON_ITER_HOLDS_ARRAY(&*items)) type_mismatch("$jsonSchema keyword 'items' must be an array or an object");
  std::vector<SchemaPtr> positional;
  bson_iter_t element;
  bson_iter_recurse(&*items, &element);
  while (bson_iter_next(&element)) positional.push_back(parse_subschema("items", &element));
  return items_check(std::move(positional), std::move(rest));
}

// The check of a keyword that stands alone; nullopt for the keywords parsed in groups
// (properties and items) and those that only annotate or qualify another.
std::optional<Check> parse_keyword(const bson_t* schema, std::string_view kw, const bson_iter_t* it) {
  if (kw == "type" || kw == "bsonType") return type_check(parse_types(kw, it));
  if (kw == "enum") return parse_enum(it);
  if (kw == "minimum" || kw == "maximum") return parse_bound(schema, kw, it);
  if (kw == "multipleOf") return parse_multiple_of(it);
  if (kw == "minLength" || kw == "maxLength") return length_check(parse_count(kw, it), kw == "minLength");
  if (kw == "pattern") return pattern_check(std::make_shared<const Regex>(parse_text(kw, it), ""));
  if (kw == "required") return required_check(parse_names(kw, it));
  if (kw == "minProperties" || kw == "maxProperties") return property_count_check(parse_count(kw, it), kw == "minProperties");
  if (kw == "minItems" || kw == "maxItems") return item_count_check(parse_count(kw, it), kw == "minItems");
  if (kw == "uniqueItems") return parse_flag(kw, it) ? std::optional<Check>(unique_items_check()) : std::nullopt;
  if (kw == "allOf") return all_of_check(parse_schema_array(kw, it));
  if (kw == "anyOf") return any_of_check(parse_schema_array(kw, it));
  if (kw == "oneOf") return one_of_check(parse_schema_array(kw, it));
  if (kw == "not") return not_check(parse_subschema(kw, it));
  if (kw == "exclusiveMinimum" || kw == "exclusiveMaximum") check_exclusive(schema, kw, it);
  if (kw == "title" || kw == "description") parse_text(kw, it);
  return std::nullopt;
}

SchemaPtr parse_schema(const bson_t* schema) {
  check_keyword_names(schema);
  auto out = std::make_shared<Schema>();
  bson_iter_t it;
  bson_iter_init(&it, schema);
  while (bson_iter_next(&it)) {
    std::string_view kw = bson_iter_key(&it);
    if (kw == "dependencies") {
      add_dependencies(*out, &it);
    } else if (auto check = parse_keyword(schema, kw, &it)) {
      out->add(std::move(*check));
    }
  }
  if (auto check = parse_object_properties(schema)) out->add(std::move(*check));
  if (auto check = parse_items(schema)) out->add(std::move(*check));
  return out;
}

// {$jsonSchema: ...} in a filter: the schema applied to the whole document.
class JsonSchemaExpr final : public MatchExpr {
 public:
  explicit JsonSchemaExpr(SchemaPtr schema) : schema_(std::move(schema)) {}
  bool matches(const bson_t* doc) const override { return schema_->matches(subject_of_document(doc)); }

 private:
  SchemaPtr schema_;
};

}  // namespace

std::unique_ptr<MatchExpr> parse_json_schema(const bson_iter_t* schema) {
  if (!BSON_ITER_HOLDS_DOCUMENT(schema)) type_mismatch("$jsonSchema must be an object");
  bson_t sub;
  init_static_from_iter(schema, &sub);
  return std::make_unique<JsonSchemaExpr>(parse_schema(&sub));
}

}  // namespace sandbox
