// The compiled form of a query filter. Internal to sandbox/query: the Matcher wraps it, and
// $pull / $elemMatch projection reuse it.
#pragma once

#include <bson/bson.h>

#include <memory>
#include <vector>

#include "query/paths.h"

namespace sandbox {

// A condition on a whole document ({a: 1}, {$or: [...]}).
class MatchExpr {
 public:
  virtual ~MatchExpr() = default;
  virtual bool matches(const bson_t* doc) const = 0;
};

// A condition on the values one path reaches ({$gt: 1}, equality, {$size: 2}).
class ValuePredicate {
 public:
  virtual ~ValuePredicate() = default;
  virtual bool matches(const std::vector<PathValue>& values) const = 0;
};
using Predicates = std::vector<std::unique_ptr<ValuePredicate>>;

// throws CommandError (BadValue) for unknown operators and malformed operands.
std::unique_ptr<MatchExpr> parse_filter(const bson_t* filter);

// The predicates for one field's spec: an operator object ({$gt: 1, $lt: 5}), a regex, or a
// value meaning equality.
Predicates parse_field_spec(const bson_iter_t* spec);

// true for a document whose first field name starts with '$' ({$gt: 1}).
bool is_operator_object(const bson_iter_t* it);

// The PathValues a single value presents to a predicate: itself, plus its elements if it is
// an array (as if a path had ended on it).
std::vector<PathValue> values_of(const bson_iter_t* it);

bool all_match(const Predicates& predicates, const std::vector<PathValue>& values);

// A field the filter pins by plain equality: {path: value} or {path: {$eq: value}}, at the top
// level or inside a top-level $and. Regexes are left out (they match, not equal).
struct Equality {
  std::string path;
  bson_iter_t value;  // points into the filter
};
// Appends the filter's equalities to `out`, in filter order.
void collect_equalities(const bson_t* filter, std::vector<Equality>& out);

}  // namespace sandbox
