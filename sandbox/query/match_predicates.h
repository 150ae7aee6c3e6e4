// Factories for the value predicates of a filter; see match_tree.h. Each states how it treats
// arrays and missing fields, following MongoDB's query semantics.
#pragma once

#include <memory>
#include <vector>

#include "query/match_tree.h"
#include "query/regex.h"
#include "query/value.h"

namespace sandbox {

enum class CompareOp { kLt, kLte, kGt, kGte };

// Equality: some reached value equals `v` (an array equals as a whole or through an element);
// a null `v` also matches a missing field.
std::unique_ptr<ValuePredicate> make_equal(Value v);
// $lt/$lte/$gt/$gte: some reached value of the same canonical type compares as asked.
// Null operands: $lte/$gte null behave like equality with null; $lt/$gt null match nothing.
std::unique_ptr<ValuePredicate> make_compare(CompareOp op, Value v);
// $in: equality with any value, or a match of any regex.
std::unique_ptr<ValuePredicate> make_in(std::vector<Value> values,
                                        std::vector<std::shared_ptr<Regex>> regexes);
std::unique_ptr<ValuePredicate> make_exists(bool should_exist);
// $type: a reached value (array or element) has one of the types; "number" sets any_number.
std::unique_ptr<ValuePredicate> make_type(std::vector<bson_type_t> types, bool any_number);
// $size: a reached array (not an element) has exactly n elements.
std::unique_ptr<ValuePredicate> make_size(std::int64_t n);
// All predicates match (used for $all: each listed value must be matched).
std::unique_ptr<ValuePredicate> make_all(Predicates predicates);
// $elemMatch on values ({$gt: 1}): some element of a reached array satisfies all predicates.
std::unique_ptr<ValuePredicate> make_elem_match_value(Predicates predicates);
// $elemMatch on documents ({b: 1}): some document element of a reached array matches.
std::unique_ptr<ValuePredicate> make_elem_match_object(std::unique_ptr<MatchExpr> expr);
// $regex: a reached string matches, or a reached regex has the same pattern and options.
std::unique_ptr<ValuePredicate> make_regex(std::shared_ptr<Regex> regex);
// $mod: a reached number, truncated to an integer, has remainder r modulo d.
std::unique_ptr<ValuePredicate> make_mod(std::int64_t d, std::int64_t r);
// $not / $ne / $nin: the predicates do not all match.
std::unique_ptr<ValuePredicate> make_not(Predicates predicates);

}  // namespace sandbox
