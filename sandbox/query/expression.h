// Aggregation expressions, the subset the sandbox needs: field paths ("$a.b", "$$ROOT",
// "$$CURRENT"), literals, {$literal: v}, objects and arrays of expressions, and a few
// operators ($add, $subtract, $multiply, $concat, $toLower, $toUpper, $size, $ifNull,
// comparisons $eq $ne $gt $gte $lt $lte $cmp over the full BSON order, $and $or $not, $in).
// Unknown operators throw error 168 InvalidPipelineOperator.
#pragma once

#include <bson/bson.h>

#include <optional>

#include "query/value.h"

namespace sandbox {

// The expression's value against `root`; nullopt when it evaluates to "missing" (a field
// path to an absent field).
std::optional<Value> evaluate(const bson_iter_t* expr, const bson_t* root);

// Aggregation truthiness: false, null, undefined, missing and zero are false.
bool is_truthy(const std::optional<Value>& v);

// Values along a field path as aggregation sees them: through an array, the path's values in
// every element, collected into an array.
std::optional<Value> field_path_value(const bson_t* root, const std::string& path);

}  // namespace sandbox
