// The sandbox's query engine: pure functions over BSON documents, no I/O, no threads.
// Semantics follow MongoDB's documentation (comparison order, dotted paths through arrays,
// update operators, $v:2 oplog diffs). Errors are CommandError with MongoDB's code.
#pragma once

#include <bson/bson.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/document.h"

namespace sandbox {

// MongoDB's BSON comparison order across types (MinKey < null < numbers < string < object <
// array < binData < ObjectId < bool < date < timestamp < regex < MaxKey; numbers compare by
// value across int32/int64/double/decimal128). Returns <0, 0, >0.
int compare_values(const bson_iter_t* a, const bson_iter_t* b);

// A compiled filter: equality, $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $nor $not,
// $type, $size, $all, $elemMatch, $regex, $mod, $expr on dotted paths (arrays matched
// element-wise as MongoDB does), and $jsonSchema on the whole document (json_schema.h).
// Unknown operators throw BadValue ("unknown operator: $foo").
// Thread safety: a Matcher does not change after construction; matches() and id_equality()
// may be called from several threads at once.
class Matcher {
 public:
  explicit Matcher(const bson_t* filter);  // throws CommandError
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;
  bool matches(const bson_t* doc) const;
  // The value the filter pins `_id` to by plain equality, if it does ({_id: 5} or
  // {_id: {$eq: 5}}): lets the store look a document up instead of scanning.
  std::optional<Doc> id_equality() const;  // a {"_id": value} document

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sort order from a sort spec ({a: 1, "b.c": -1}); {$natural: ±1} is handled by the caller.
// Returns <0 when a sorts before b.
int compare_for_sort(const bson_t* a, const bson_t* b, const bson_t* sort_spec);

// Applies a find projection (inclusion or exclusion, dotted paths, _id rules, $slice,
// $elemMatch, computed fields; mixing inclusion and exclusion throws 31253/31254 like
// MongoDB). An empty or null projection returns the document unchanged.
Doc project(const bson_t* doc, const bson_t* projection);

// Update documents.
bool is_replacement_update(const bson_t* update);  // no top-level $-operators

struct UpdateOutcome {
  Doc document;  // the document after the update
  Doc oplog_o;   // the oplog entry's `o`: a {$v:2, diff:{...}} or the replacement document
  bool changed;  // false when the update was a no-op (no oplog entry is written then)
};

// Applies a replacement or operator update ($set $unset $inc $mul $min $max $rename $push
// (with $each $position $sort $slice) $addToSet $pop $pull $pullAll $currentDate $setOnInsert)
// to `doc`. `_id` may not change (error 66 ImmutableField). `is_insert` applies $setOnInsert
// (an upsert's new document). A replacement keeps (or takes) _id first.
UpdateOutcome apply_update(const bson_t* doc, const bson_t* update, bool is_insert);
// The same with the update command's `arrayFilters` (an array of filters naming the
// identifiers of "$[<id>]" paths; nullptr for none). "$[]" works in both forms; the plain
// positional "$" is not supported (BadValue).
UpdateOutcome apply_update(const bson_t* doc, const bson_t* update, bool is_insert,
                           const bson_t* array_filters);

// Applies a pipeline-style update (an array of $addFields/$set, $project, $unset,
// $replaceRoot/$replaceWith stages) to `doc`. `_id` may not change (66 ImmutableField); a
// result without _id keeps the original one. Other stages throw 72 InvalidOptions.
UpdateOutcome apply_pipeline_update(const bson_t* doc, const bson_t* pipeline);

// The document an upsert starts from: the filter's equality fields (dotted paths expanded,
// $and searched, _id first). Two conditions on one path throw 54 NotSingleValueField.
Doc upsert_seed(const bson_t* filter);

// Applies an oplog `u` entry's `o` to `doc`, as a secondary or applyOps does: a replacement,
// a {$v:2, diff} document (applied as MongoDB's applier does, so replaying on a newer
// document is tolerated), or a pre-5.0 {$set, $unset} document.
Doc apply_oplog_update(const bson_t* doc, const bson_t* oplog_o);

// Runs an aggregation pipeline over `input`: $match, $group (with $sum, $avg, $min, $max,
// $first, $last, $push, $addToSet, $count accumulators; _id an expression such as null, 1,
// "$field" or an object of them), $count, $sort, $skip, $limit, $project, $unset,
// $addFields/$set, $replaceRoot/$replaceWith, $unwind. Unsupported stages throw error 40324
// ("Unrecognized pipeline stage name: '$foo'").
std::vector<Doc> run_pipeline(std::vector<Doc> input, const bson_t* pipeline);

}  // namespace sandbox
