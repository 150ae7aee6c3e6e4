// The checks of $jsonSchema keywords (see json_schema.h). Each one first asks whether the
// value is of the keyword's kind and passes values that are not: JSON Schema constrains
// kinds only through `type`/`bsonType`.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "query/json_schema.h"
#include "query/query.h"

namespace sandbox::json_schema {
namespace {

bool equal_values(const bson_iter_t* a, const bson_iter_t* b);

// Documents compare regardless of field order, arrays element by element: MongoDB compares
// `enum` members and `uniqueItems` elements with field order ignored.
bool equal_containers(const std::uint8_t* a, std::uint32_t a_len, const std::uint8_t* b,
                      std::uint32_t b_len, bool arrays) {
  bson_t a_doc, b_doc;
  bson_init_static(&a_doc, a, a_len);
  bson_init_static(&b_doc, b, b_len);
  if (bson_count_keys(&a_doc) != bson_count_keys(&b_doc)) return false;
  bson_iter_t left, right;
  bson_iter_init(&left, &a_doc);
  bson_iter_init(&right, &b_doc);
  while (bson_iter_next(&left)) {
    if (arrays) {
      bson_iter_next(&right);
    } else if (!find_field(&b_doc, bson_iter_key(&left), &right)) {
      return false;
    }
    if (!equal_values(&left, &right)) return false;
  }
  return true;
}

bool equal_values(const bson_iter_t* a, const bson_iter_t* b) {
  bool a_doc = BSON_ITER_HOLDS_DOCUMENT(a), a_array = BSON_ITER_HOLDS_ARRAY(a);
  if ((a_doc || a_array) && bson_iter_type(a) == bson_iter_type(b)) {
    Subject left = subject_of(a), right = subject_of(b);
    return equal_containers(left.data, left.len, right.data, right.len, a_array);
  }
  return compare_values(a, b) == 0;
}

bool subject_equals(const Subject& subject, const bson_iter_t* value) {
  if (subject.it != nullptr) return equal_values(subject.it, value);
  if (!BSON_ITER_HOLDS_DOCUMENT(value)) return false;
  Subject other = subject_of(value);
  return equal_containers(subject.data, subject.len, other.data, other.len, false);
}

bool is_container(const Subject& subject, bson_type_t type) {
  return subject.type == type && subject.data != nullptr;
}

// Calls fn(child) for each element of a document or array subject, stopping at the first
// false; returns whether all passed.
template <typename Fn>
bool every_child(const Subject& subject, Fn fn) {
  bson_iter_t child;
  if (!bson_iter_init_from_data(&child, subject.data, subject.len)) return false;
  while (bson_iter_next(&child)) {
    if (!fn(&child)) return false;
  }
  return true;
}

std::int64_t child_count(const Subject& subject) {
  std::int64_t n = 0;
  every_child(subject, [&](const bson_iter_t*) { return ++n > 0; });
  return n;
}

bool within(std::int64_t count, std::int64_t limit, bool is_minimum) {
  return is_minimum ? count >= limit : count <= limit;
}

// Characters, not bytes: a UTF-8 code point has exactly one byte outside 0x80..0xBF.
std::int64_t code_points(const char* text, std::uint32_t len) {
  return std::count_if(text, text + len, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool has_field(const Subject& subject, const std::string& name) {
  bson_iter_t it;
  return bson_iter_init_from_data(&it, subject.data, subject.len) && bson_iter_find_w_len(&it, name.data(), static_cast<int>(name.size()));
}

bool matches_additional(const Additional& additional, const bson_iter_t* value) {
  if (!additional.allowed) return false;
  return additional.schema == nullptr || additional.schema->matches(value);
}

}  // namespace

Subject subject_of(const bson_iter_t* it) {
  Subject subject{bson_iter_type(it), it};
  if (BSON_ITER_HOLDS_DOCUMENT(it)) bson_iter_document(it, &subject.len, &subject.data);
  if (BSON_ITER_HOLDS_ARRAY(it)) bson_iter_array(it, &subject.len, &subject.data);
  return subject;
}

Subject subject_of_document(const bson_t* doc) {
  return Subject{BSON_TYPE_DOCUMENT, nullptr, bson_get_data(doc), doc->len};
}

bool Schema::matches(const Subject& subject) const {
  return std::all_of(checks_.begin(), checks_.end(), [&](const Check& check) { return check(subject); });
}

bool Schema::matches(const bson_iter_t* value) const { return matches(subject_of(value)); }

Check type_check(TypeSet types) {
  return [types = std::move(types)](const Subject& s) {
    if (types.any_number && is_number(s.type)) return true;
    return std::find(types.types.begin(), types.types.end(), s.type) != types.types.end();
  };
}

Check enum_check(std::vector<Value> values) {
  return [values = std::move(values)](const Subject& s) {
    return std::any_of(values.begin(), values.end(), [&](const Value& v) {
      bson_iter_t it = v.iter();
      return subject_equals(s, &it);
    });
  };
}

Check number_check(Value limit, bool is_minimum, bool exclusive) {
  return [limit = std::move(limit), is_minimum, exclusive](const Subject& s) {
    if (!is_number(s.type)) return true;
    bson_iter_t bound = limit.iter();
    int order = compare_values(s.it, &bound);  // NaN sorts below every number, as in MongoDB
    if (is_minimum) return exclusive ? order > 0 : order >= 0;
    return exclusive ? order < 0 : order <= 0;
  };
}

Check multiple_of_check(long double divisor) {
  return [divisor](const Subject& s) {
    if (!is_number(s.type)) return true;
    return std::fmod(number_value(s.it), divisor) == 0;
  };
}

Check length_check(std::int64_t limit, bool is_minimum) {
  return [limit, is_minimum](const Subject& s) {
    if (s.type != BSON_TYPE_UTF8) return true;
    std::uint32_t len = 0;
    const char* text = bson_iter_utf8(s.it, &len);
    return within(code_points(text, len), limit, is_minimum);
  };
}

Check pattern_check(std::shared_ptr<const Regex> regex) {
  return [regex = std::move(regex)](const Subject& s) {
    if (s.type != BSON_TYPE_UTF8) return true;
    std::uint32_t len = 0;
    const char* text = bson_iter_utf8(s.it, &len);
    return regex->search(std::string_view(text, len));
  };
}

Check required_check(std::vector<std::string> names) {
  return [names = std::move(names)](const Subject& s) {
    if (!is_container(s, BSON_TYPE_DOCUMENT)) return true;
    return std::all_of(names.begin(), names.end(), [&](const std::string& name) { return has_field(s, name); });
  };
}

Check property_count_check(std::int64_t limit, bool is_minimum) {
  return [limit, is_minimum](const Subject& s) {
    return !is_container(s, BSON_TYPE_DOCUMENT) || within(child_count(s), limit, is_minimum);
  };
}

// properties, patternProperties and additionalProperties together, because a property is
// "additional" only when neither of the other two names it.
Check properties_check(std::map<std::string, SchemaPtr> properties, std::vector<PatternSchema> patterns,
                       Additional additional) {
  return [properties = std::move(properties), patterns = std::move(patterns),
          additional = std::move(additional)](const Subject& s) {
    if (!is_container(s, BSON_TYPE_DOCUMENT)) return true;
    return every_child(s, [&](const bson_iter_t* field) {
      std::string_view key(bson_iter_key(field), bson_iter_key_len(field));
      bool named = false;
      if (auto found = properties.find(std::string(key)); found != properties.end()) {
        named = true;
        if (!found->second->matches(field)) return false;
      }
      for (const PatternSchema& pattern : patterns) {
        if (!pattern.regex->search(key)) continue;
        named = true;
        if (!pattern.schema->matches(field)) return false;
      }
      return named || matches_additional(additional, field);
    });
  };
}

Check dependency_check(std::string property, std::vector<std::string> names) {
  return [property = std::move(property), names = std::move(names)](const Subject& s) {
    if (!is_container(s, BSON_TYPE_DOCUMENT) || !has_field(s, property)) return true;
    return std::all_of(names.begin(), names.end(), [&](const std::string& name) { return has_field(s, name); });
  };
}

Check dependency_check(std::string property, SchemaPtr schema) {
  return [property = std::move(property), schema = std::move(schema)](const Subject& s) {
    if (!is_container(s, BSON_TYPE_DOCUMENT) || !has_field(s, property)) return true;
    return schema->matches(s);
  };
}

Check items_check(SchemaPtr each) {
  return [each = std::move(each)](const Subject& s) {
    if (!is_container(s, BSON_TYPE_ARRAY)) return true;
    return every_child(s, [&](const bson_iter_t* item) { return each->matches(item); });
  };
}

Check items_check(std::vector<SchemaPtr> positional, Additional additional) {
  return [positional = std::move(positional), additional = std::move(additional)](const Subject& s) {
    if (!is_container(s, BSON_TYPE_ARRAY)) return true;
    std::size_t index = 0;
    return every_child(s, [&](const bson_iter_t* item) {
      std::size_t i = index++;
      return i < positional.size() ? positional[i]->matches(item) : matches_additional(additional, item);
    });
  };
}

Check item_count_check(std::int64_t limit, bool is_minimum) {
  return [limit, is_minimum](const Subject& s) {
    return !is_container(s, BSON_TYPE_ARRAY) || within(child_count(s), limit, is_minimum);
  };
}

Check unique_items_check() {
  return [](const Subject& s) {
    if (!is_container(s, BSON_TYPE_ARRAY)) return true;
    std::vector<Value> seen;
    return every_child(s, [&](const bson_iter_t* item) {
      bool repeated = std::any_of(seen.begin(), seen.end(), [&](const Value& earlier) {
        bson_iter_t it = earlier.iter();
        return equal_values(&it, item);
      });
      seen.push_back(Value::of(item));
      return !repeated;
    });
  };
}

Check all_of_check(std::vector<SchemaPtr> schemas) {
  return [schemas = std::move(schemas)](const Subject& s) {
    return std::all_of(schemas.begin(), schemas.end(), [&](const SchemaPtr& schema) { return schema->matches(s); });
  };
}

Check any_of_check(std::vector<SchemaPtr> schemas) {
  return [schemas = std::move(schemas)](const Subject& s) {
    return std::any_of(schemas.begin(), schemas.end(), [&](const SchemaPtr& schema) { return schema->matches(s); });
  };
}

Check one_of_check(std::vector<SchemaPtr> schemas) {
  return [schemas = std::move(schemas)](const Subject& s) {
    return std::count_if(schemas.begin(), schemas.end(), [&](const SchemaPtr& schema) { return schema->matches(s); }) == 1;
  };
}

Check not_check(SchemaPtr schema) {
  return [schema = std::move(schema)](const Subject& s) { return !schema->matches(s); };
}

}  // namespace sandbox::json_schema
