// The $group stage. Internal to sandbox/query (pipeline.cpp).
#pragma once

#include <bson/bson.h>

#include <vector>

#include "query/document.h"

namespace sandbox {

// Groups `input` by the spec's _id expression and computes its accumulators ($sum, $avg,
// $min, $max, $first, $last, $push, $addToSet, $count). Groups come out in order of first
// appearance. throws CommandError with MongoDB's codes for malformed specs.
std::vector<Doc> run_group(const std::vector<Doc>& input, const bson_iter_t* spec);

}  // namespace sandbox
